// Entry point of v4sim_kernel_bench; the benchmarks register themselves in bench_*.cpp.
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
