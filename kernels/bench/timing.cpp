#include "kernels/bench/timing.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <vector>

namespace v4sim::bench {
namespace {

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string cache_note(const TimingPolicy& policy) {
  if (!policy.evictor) return "warm: repetitions back to back";
  const auto mb = static_cast<long long>(policy.evictor->bytes() >> 20);
  return "cold: " + std::to_string(mb) + " MiB read before each repetition (untimed)";
}

Timing time_repeated(const std::function<void()>& run, const TimingPolicy& policy) {
  std::vector<double> cpu, wall;
  double total = 0;
  while (static_cast<int>(cpu.size()) < policy.max_reps &&
         (static_cast<int>(cpu.size()) < policy.min_reps || total < policy.min_time_s)) {
    if (policy.evictor) {
      const double e0 = wall_seconds();
      policy.evictor->evict();
      total += wall_seconds() - e0;
    }
    const double w0 = wall_seconds(), c0 = thread_cpu_seconds();
    run();
    const double c1 = thread_cpu_seconds(), w1 = wall_seconds();
    cpu.push_back(c1 - c0);
    wall.push_back(w1 - w0);
    total += policy.wall_clock ? w1 - w0 : c1 - c0;
  }
  Timing t;
  t.reps = static_cast<int>(cpu.size());
  if (cpu.empty()) return t;
  t.wall_min_s = *std::min_element(wall.begin(), wall.end());
  t.wall_median_s = median_of(wall);
  const std::vector<double>& record = policy.wall_clock ? wall : cpu;
  t.min_s = *std::min_element(record.begin(), record.end());
  t.median_s = median_of(record);
  return t;
}

}  // namespace v4sim::bench
