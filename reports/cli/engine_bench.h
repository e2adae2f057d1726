// `v4sim bench --engine`: how fast the engine itself is, by plain wall-clock timing on one core:
// analytic evaluations (cost, KV bytes and FLOPs of one model at one context), serving points (a
// decode batch priced on a prepared layout as a search does it: sweep_batches over 16 batches,
// set-up and time to first token once per sweep, no op table; measured tables included), whole
// predict calls (set-up, time to first token and op table every time) and one full device x
// layout x batch search (optimize), and one synthetic serving simulation of 500,000 requests
// (sim/simulate.h, step-time lookups included). Each rate is the median of 7 timed repetitions,
// each calling until 50 ms have passed, after 50 ms of untimed warm-up calls: the machine's other
// work then moves a single slow repetition, not the figure. The optimisation and the simulation
// run once.
#pragma once

#include <iosfwd>

#include <nlohmann/json.hpp>

namespace v4sim::cli {

struct EngineBench {
  double analytic_evaluations_per_s = 0;  // deepseek-v4-pro, decode at 128K
  double serving_points_per_s = 0;  // deepseek-v4-flash on hgx-h200, 8 ranks, batches 1..256, 32K
  double predict_calls_per_s = 0;   // the same at batch 64, one predict() each
  double optimize_s = 0;            // deepseek-v3.2 on hgx-h800, 128K, TPOT 50 ms, <= 256 ranks
  /// deepseek-v4-flash on hgx-h200, 8 ranks (dp 8), 500,000 Poisson requests (kSimulateSpec)
  double simulate_s = 0;
  double simulate_requests_per_min = 0;
};

EngineBench measure_engine();
nlohmann::ordered_json engine_json(const EngineBench& e);
void print_engine(std::ostream& out, const EngineBench& e);

}  // namespace v4sim::cli
