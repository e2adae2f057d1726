// How fast one serving point is priced: predict() of a decode batch on a prepared layout (measured
// tables included, loaded before timing), and a prefill of a long prompt in chunks.
#include <benchmark/benchmark.h>

#include <vector>

#include "hardware/system.h"
#include "models/model_loader.h"
#include "sim/analytic.h"
#include "sim/communication.h"
#include "sim/serving.h"

namespace {

void BM_Predict(benchmark::State& state, const char* model, const char* system,
                v4sim::Phase phase) {
  const v4sim::PreparedModel m = v4sim::prepare(v4sim::load_model(model));
  const v4sim::SystemSpec sys = v4sim::load_system(system);
  v4sim::CommPlanner planner(sys, 1);
  v4sim::ServingConfig config;
  config.layout = v4sim::Layout{1, 8, 1, 8};
  v4sim::Workload w;
  w.phase = phase;
  w.context_tokens = state.range(0);
  w.batch = phase == v4sim::Phase::decode ? 64 : 1;
  v4sim::predict(m, sys, 1, config, w, &planner);  // tables load on first use
  for (auto _ : state) {
    const v4sim::ServingResult r = v4sim::predict(m, sys, 1, config, w, &planner);
    benchmark::DoNotOptimize(r.step_s);
  }
  state.counters["points_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

/// Batches priced as a search prices them: sweep_batches of deepseek-v4-flash on one prepared
/// hgx-h200 layout (tp1 dp8 ep8), no op table; points per second over the whole sweep.
void sweep_points(benchmark::State& state, v4sim::Phase phase, std::int64_t context_tokens,
                  const std::vector<std::int64_t>& batches) {
  const v4sim::PreparedModel m = v4sim::prepare(v4sim::load_model("deepseek-v4-flash"));
  const v4sim::SystemSpec sys = v4sim::load_system("hgx-h200");
  v4sim::CommPlanner planner(sys, 1);
  v4sim::ServingConfig config;
  config.layout = v4sim::Layout{1, 8, 1, 8};
  config.op_timings = false;
  v4sim::Workload w;
  w.phase = phase;
  w.context_tokens = context_tokens;
  v4sim::sweep_batches(m, sys, 1, config, w, batches, &planner);
  for (auto _ : state) {
    const auto r = v4sim::sweep_batches(m, sys, 1, config, w, batches, &planner);
    benchmark::DoNotOptimize(r.back().step_s);
  }
  state.counters["points_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * static_cast<std::int64_t>(batches.size())),
      benchmark::Counter::kIsRate);
}

/// Decode at 32K, batches 16..256.
void BM_SweepPoint(benchmark::State& state) {
  std::vector<std::int64_t> batches;
  for (std::int64_t b = 16; b <= 256; b += 16) batches.push_back(b);
  sweep_points(state, v4sim::Phase::decode, 32768, batches);
}
BENCHMARK(BM_SweepPoint)->Unit(benchmark::kMicrosecond);

/// Prefill of 128K prompts in 16K chunks, 1..8 prompts per dp group (the compiled chunks reused
/// across batches).
void BM_SweepPrefillPoint(benchmark::State& state) {
  sweep_points(state, v4sim::Phase::prefill, 131072, {1, 2, 3, 4, 5, 6, 7, 8});
}
BENCHMARK(BM_SweepPrefillPoint)->Unit(benchmark::kMicrosecond);

BENCHMARK_CAPTURE(BM_Predict, v4_flash_h200_decode, "deepseek-v4-flash", "hgx-h200",
                  v4sim::Phase::decode)
    ->Arg(32768)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Predict, v4_flash_h200_prefill, "deepseek-v4-flash", "hgx-h200",
                  v4sim::Phase::prefill)
    ->Arg(32768)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
