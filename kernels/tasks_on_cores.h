// Independent tasks of the engine (the candidate systems of a purchase plan, the charts of a
// report) on a few std::threads. Header-only and free of OpenMP, so sim/ and reports/ use it
// without the kernels' threading (kernels/parallel.h); the include floor puts it here, below both.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace v4sim {

/// Up to `tasks` threads, never more than the machine's cores (at least one).
inline std::size_t threads_for(std::size_t tasks) {
  return std::min<std::size_t>(tasks, std::max(1u, std::thread::hardware_concurrency()));
}

/// Calls body(i, state) once for every i in [0, tasks), on `threads` threads (the calling one
/// included; at least one, at most one per task), each taking the next task not yet started; each thread owns one state made by
/// make_state(), for all its tasks. A body that writes only task i's own slot gives the one-thread
/// result whatever the threads. The first exception in task order is rethrown after every task
/// has ended.
template <class MakeState, class Body>
void run_tasks(std::size_t tasks, std::size_t threads, MakeState make_state, Body body) {
  if (tasks == 0) return;
  threads = std::clamp<std::size_t>(threads, 1, tasks);
  std::vector<std::exception_ptr> failed(tasks);
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    auto state = make_state();
    for (std::size_t i = next++; i < tasks; i = next++) try {
        body(i, state);
      } catch (...) {
        failed[i] = std::current_exception();
      }
  };
  std::vector<std::thread> helpers;
  for (std::size_t t = 1; t < threads; ++t) helpers.emplace_back(work);
  work();
  for (std::thread& t : helpers) t.join();
  for (const std::exception_ptr& e : failed)
    if (e) std::rethrow_exception(e);
}

}  // namespace v4sim
