// Timing of single-threaded kernel calls on a shared machine.
//
// Each repetition is timed twice: by the calling thread's CPU clock (CLOCK_THREAD_CPUTIME_ID: the
// time the thread really ran, so other processes taking the two cores do not inflate it) and by
// the wall clock. The kernels are single-threaded, so thread CPU time is their run time on one
// core; what other processes still change is the state of the shared caches and memory bus, which
// shows up as spread between repetitions (median / min). The minimum is the figure of record.
#pragma once

#include <functional>

namespace v4sim::bench {

/// Seconds of CPU time the calling thread has used.
double thread_cpu_seconds();
/// Monotonic wall-clock seconds.
double wall_seconds();

/// Repeat until at least min_reps runs AND min_time_s of thread CPU time, or max_reps runs.
struct TimingPolicy {
  int min_reps = 3;
  int max_reps = 1000;
  double min_time_s = 0.5;
};

struct Timing {
  double min_s = 0;          // thread CPU time, fastest repetition (the figure of record)
  double median_s = 0;       // thread CPU time, median repetition
  double wall_min_s = 0;     // wall clock, fastest repetition
  double wall_median_s = 0;  // wall clock, median repetition
  int reps = 0;
  /// median / min - 1: how much the repetitions disagree (noise of a loaded machine).
  double spread() const { return min_s > 0 ? median_s / min_s - 1 : 0; }
};

/// Times `run` (no warm-up: callers run it once before, e.g. the counting run).
Timing time_repeated(const std::function<void()>& run, const TimingPolicy& policy);

}  // namespace v4sim::bench
