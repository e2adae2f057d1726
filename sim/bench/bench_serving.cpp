// How fast one serving point is priced: predict() of a decode batch on a prepared layout (measured
// tables included, loaded before timing), and a prefill of a long prompt in chunks.
#include <benchmark/benchmark.h>

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

BENCHMARK_CAPTURE(BM_Predict, v4_flash_h200_decode, "deepseek-v4-flash", "hgx-h200",
                  v4sim::Phase::decode)
    ->Arg(32768)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Predict, v4_flash_h200_prefill, "deepseek-v4-flash", "hgx-h200",
                  v4sim::Phase::prefill)
    ->Arg(32768)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
