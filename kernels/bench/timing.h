// Timing of kernel calls on a shared machine.
//
// Each repetition is timed twice: by the calling thread's CPU clock (CLOCK_THREAD_CPUTIME_ID: the
// time the thread really ran, so other processes taking the two cores do not inflate it) and by
// the wall clock. On one thread, thread CPU time is the kernel's run time on one core; what other
// processes still change is the state of the shared caches and memory bus, which shows up as
// spread between repetitions (median / min). A kernel on several threads (kernels/parallel.h) is
// timed by the wall clock instead, since the calling thread's CPU time misses the other threads'
// work. The minimum is the figure of record.
//
// With an evictor in the policy (cache_eviction.h: `bench`, `calibrate` and `validate` outside
// the smoke mode) every repetition, the first included, is preceded by a read of a buffer larger
// than the last-level cache, outside both clocks: each repetition reads its data from DRAM, as one
// layer of a decode step does. The eviction's wall time counts against min_time_s, so a case
// takes about as long as without it (fewer repetitions of a short case).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "kernels/bench/cache_eviction.h"

namespace v4sim::bench {

/// Seconds of CPU time the calling thread has used.
double thread_cpu_seconds();
/// Monotonic wall-clock seconds.
double wall_seconds();

/// Repeat until at least min_reps runs AND min_time_s on the clock of record, or max_reps runs.
struct TimingPolicy {
  int min_reps = 3;
  int max_reps = 1000;
  double min_time_s = 0.5;
  bool wall_clock = false;  // the figure of record from the wall clock (multi-threaded kernels)
  std::shared_ptr<CacheEvictor> evictor;  // null: repetitions back to back (warm caches)
};

/// The policy's cache state in words, for reports: "cold: 384 MB read before each repetition"
/// or "warm: repetitions back to back".
std::string cache_note(const TimingPolicy& policy);

struct Timing {
  double min_s = 0;          // clock of record (thread CPU time, or wall), fastest repetition
  double median_s = 0;       // clock of record, median repetition
  double wall_min_s = 0;     // wall clock, fastest repetition
  double wall_median_s = 0;  // wall clock, median repetition
  int reps = 0;
  /// median / min - 1: how much the repetitions disagree (noise of a loaded machine).
  double spread() const { return min_s > 0 ? median_s / min_s - 1 : 0; }
};

/// Times `run` (no warm-up: callers run it once before, e.g. the counting run).
Timing time_repeated(const std::function<void()>& run, const TimingPolicy& policy);

}  // namespace v4sim::bench
