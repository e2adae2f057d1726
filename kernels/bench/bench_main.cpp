// Entry point of v4sim_kernel_bench; the benchmarks register themselves in bench_*.cpp.
// Kernels run on one thread unless OMP_NUM_THREADS says otherwise (OMP_NUM_THREADS=2: both
// cores, same bits, kernels/parallel.h); every benchmark reports real time.
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "kernels/parallel.h"

int main(int argc, char** argv) {
  const v4sim::KernelThreads threads(std::getenv("OMP_NUM_THREADS") ? v4sim::kernel_threads() : 1);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
