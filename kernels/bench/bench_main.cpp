// v4sim_kernel_bench: the kernel suite of `v4sim bench` (kernels/bench/suite.h) under Google
// Benchmark, one benchmark per suite case and by the case's name ("v4-pro-csa-core/1m"), so one
// case list drives both; plus the ISA micro-benchmarks of bench_isa.cpp (AVX-512 against the
// portable paths, which the suite does not compare).
//   --suite=smoke|quick|full   the case list of `v4sim bench --mode` (default quick)
// A benchmark prepares its case (not timed), runs it once counting, and fails unless the count
// equals cost(), as `v4sim bench` does; then it times runs. Counters: flop_per_s of cost() (what
// the kernel counts) and host_bytes_per_s of host_cost (the bytes the kernel moves on this host).
// Kernels run on one thread unless OMP_NUM_THREADS says otherwise (OMP_NUM_THREADS=2: both
// cores, same bits, kernels/parallel.h); every benchmark reports real time. As in `v4sim bench`,
// quick and full read a buffer larger than the last-level cache before each iteration, with the
// timer paused (cache_eviction.h): the case's data comes from DRAM.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "kernels/bench/suite.h"
#include "kernels/parallel.h"

namespace v4sim::bench {
namespace {

// Reads and removes every --suite=<mode>; false when one names no mode.
bool take_suite_mode(int& argc, char** argv, SuiteMode& mode) {
  constexpr std::string_view kFlag = "--suite=";
  bool ok = true;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (!arg.starts_with(kFlag)) {
      argv[kept++] = argv[i];
      continue;
    }
    bool known = false;
    for (SuiteMode m : {SuiteMode::smoke, SuiteMode::quick, SuiteMode::full})
      if (arg.substr(kFlag.size()) == to_string(m)) {
        mode = m;
        known = true;
      }
    ok = ok && known;
  }
  argc = kept;
  return ok;
}

void register_case(const SuiteCase& c, const std::shared_ptr<CacheEvictor>& evictor) {
  benchmark::RegisterBenchmark(
      c.name.c_str(),
      [c, evictor](benchmark::State& state) {
        const CaseRun run = c.prepare();
        Cost counted;
        run(&counted);
        if (!(counted == c.cost)) {
          state.SkipWithError("the counted work differs from cost()");
          return;
        }
        for (auto _ : state) {
          if (evictor) {
            state.PauseTiming();
            evictor->evict();
            state.ResumeTiming();
          }
          run(nullptr);
        }
        using benchmark::Counter;
        state.counters["flop_per_s"] =
            Counter(static_cast<double>(c.cost.total_flops()), Counter::kIsIterationInvariantRate);
        state.counters["host_bytes_per_s"] = Counter(static_cast<double>(c.host_cost.total_bytes()),
                                                     Counter::kIsIterationInvariantRate);
      })
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
}

}  // namespace
}  // namespace v4sim::bench

int main(int argc, char** argv) {
  using namespace v4sim::bench;
  const v4sim::KernelThreads threads(std::getenv("OMP_NUM_THREADS") ? v4sim::kernel_threads() : 1);
  SuiteMode mode = SuiteMode::quick;
  if (!take_suite_mode(argc, argv, mode)) {
    std::fprintf(stderr, "v4sim_kernel_bench: --suite takes smoke, quick or full\n");
    return 1;
  }
  const std::shared_ptr<CacheEvictor> evictor = suite_timing_policy(mode).evictor;
  for (const SuiteCase& c : suite_cases(mode)) register_case(c, evictor);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
