// run_tasks (kernels/tasks_on_cores.h): every task once, one state per thread, failures in task
// order.
#include "kernels/tasks_on_cores.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

namespace v4sim {
namespace {

TEST(RunTasks, EveryTaskOnceIntoItsSlot) {
  for (std::size_t threads : {1u, 2u, 4u}) {
    std::vector<int> runs(100, 0);
    std::vector<std::size_t> square(100, 0);
    run_tasks(
        100, threads, [] { return 0; },
        [&](std::size_t i, int&) {
          ++runs[i];
          square[i] = i * i;
        });
    for (std::size_t i = 0; i < 100; ++i) {
      EXPECT_EQ(runs[i], 1) << "task " << i << ", " << threads << " threads";
      EXPECT_EQ(square[i], i * i);
    }
  }
}

TEST(RunTasks, OneStatePerThreadForAllItsTasks) {
  // Each thread makes one state before its first task (a distinct counter) and counts its tasks
  // there: at most `threads` states, their counts adding up to the tasks.
  std::array<std::atomic<int>, 4> served{};
  std::atomic<std::size_t> states{0};
  run_tasks(
      50, 4, [&] { return &served[states++]; },
      [](std::size_t, std::atomic<int>* count) { ++*count; });
  EXPECT_GE(states.load(), 1u);
  EXPECT_LE(states.load(), 4u);
  int total = 0;
  for (const std::atomic<int>& c : served) total += c.load();
  EXPECT_EQ(total, 50);
}

TEST(RunTasks, FirstFailureInTaskOrderAfterAllTasksRan) {
  for (std::size_t threads : {1u, 2u}) {
    std::vector<int> runs(20, 0);
    try {
      run_tasks(
          20, threads, [] { return 0; },
          [&](std::size_t i, int&) {
            ++runs[i];
            if (i == 7 || i == 3 || i == 15) throw std::runtime_error("task " + std::to_string(i));
          });
      ADD_FAILURE() << "no exception";
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()), "task 3");
    }
    for (int r : runs) EXPECT_EQ(r, 1);
  }
}

TEST(RunTasks, NoTasksNoCalls) {
  int states = 0;
  run_tasks(
      0, 2,
      [&] {
        ++states;
        return 0;
      },
      [](std::size_t, int&) { FAIL() << "no task to run"; });
  EXPECT_EQ(states, 0);
}

TEST(RunTasks, NeverMoreThreadsThanTasks) {
  std::atomic<int> states{0};
  run_tasks(
      2, 8,
      [&] {
        ++states;
        return 0;
      },
      [](std::size_t, int&) {});
  EXPECT_LE(states.load(), 2);
}

TEST(RunTasks, ThreadsForStaysWithinTasksAndCores) {
  EXPECT_EQ(threads_for(1), 1u);
  EXPECT_GE(threads_for(1000), 1u);
  EXPECT_LE(threads_for(3), 3u);
  EXPECT_EQ(threads_for(0), 0u);
}

}  // namespace
}  // namespace v4sim
