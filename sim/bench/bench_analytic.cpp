// How fast the analytic engine answers: one full evaluation (weights, KV cache, every op's cost) of a
// model at a context. The closed-form position sums make the time independent of the context length.
#include <benchmark/benchmark.h>

#include "models/model_loader.h"
#include "sim/analytic.h"

namespace {

void BM_Analyze(benchmark::State& state, const char* model, v4sim::Phase phase) {
  const v4sim::PreparedModel spec = v4sim::prepare(v4sim::load_model(model));
  const std::int64_t context = state.range(0);
  for (auto _ : state) {
    v4sim::AnalyticResult r = v4sim::analyze(spec, {context, phase, "deploy", false});
    benchmark::DoNotOptimize(r);
  }
  state.counters["evaluations_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

/// The same through a context sweep (sim/analytic.h ContextSweep), as `cost` and `compare` run a
/// context list: a decode's fixed ops are summed once, outside the loop.
void BM_AnalyzeSweep(benchmark::State& state, const char* model, v4sim::Phase phase) {
  const v4sim::PreparedModel spec = v4sim::prepare(v4sim::load_model(model));
  const v4sim::ContextSweep sweep = v4sim::compile_contexts(spec, {0, phase, "deploy", false});
  const std::int64_t context = state.range(0);
  for (auto _ : state) {
    v4sim::AnalyticResult r = v4sim::analyze(sweep, context);
    benchmark::DoNotOptimize(r);
  }
  state.counters["evaluations_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

constexpr std::int64_t k4K = 4096, k128K = 131072, k1M = 1048576;

BENCHMARK_CAPTURE(BM_Analyze, v4_pro_decode, "deepseek-v4-pro", v4sim::Phase::decode)
    ->Arg(k4K)
    ->Arg(k128K)
    ->Arg(k1M)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Analyze, v4_pro_prefill, "deepseek-v4-pro", v4sim::Phase::prefill)
    ->Arg(k4K)
    ->Arg(k128K)
    ->Arg(k1M)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Analyze, v32_decode, "deepseek-v3.2", v4sim::Phase::decode)
    ->Arg(k4K)
    ->Arg(k128K)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_AnalyzeSweep, v4_pro_decode, "deepseek-v4-pro", v4sim::Phase::decode)
    ->Arg(k4K)
    ->Arg(k128K)
    ->Arg(k1M)
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
