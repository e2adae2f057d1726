// Serving simulation (kind serving_simulation): the scenario's arrivals through every model on
// every system (sim/simulate.h), at a base rate for the latency distributions and the occupancy
// over time, and at each rate of a sweep for SLO attainment against load.
//
// The deployment of a system: its default node count, colocated prefill and decode, DP attention
// with experts spread as wide as they go (tp=1, dp=ranks, pp=1), as `v4sim simulate` runs without
// --layout; the scenario's mtp_acceptance and kv_format; the simulation section's max_batch and
// prefix cache. Every run of a sweep replays the same requests (same seed, or the same trace
// rows) at a different rate, so the curves differ only by load.
//
// This header is the computation (a typed study); reports/studies/serving_simulation.h writes it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hardware/system.h"
#include "scenarios/scenario.h"
#include "sim/analytic.h"
#include "sim/infeasible.h"
#include "sim/simulate.h"

namespace v4sim {

/// Quantiles for the latency CDFs: the nearest-rank q-quantile for q = 0, 0.01, ..., 1 (q = 0 is
/// the smallest value).
inline constexpr int kCdfPoints = 101;

/// One run at one arrival rate, reduced to what the report shows.
struct SweepPoint {
  double rate_per_s = 0;
  double slo_attainment = 0;
  Summary ttft_s, tpot_s;
  double goodput_requests_per_s = 0;
  std::int64_t completed = 0, rejected = 0, preemptions = 0;
  double mean_running = 0;
};

/// One model on one system.
struct ServingRun {
  bool feasible = false;
  std::string reason;
  Infeasible why = Infeasible::none;
  int nodes = 0;
  std::int64_t devices = 0;
  std::string layout;
  /// The base-rate run without its per-request records (they are reduced to the quantiles).
  SimulationResult base;
  std::vector<double> ttft_quantiles_s, tpot_quantiles_s;  // kCdfPoints each
  std::vector<SweepPoint> sweep;                           // one per sweep rate
  /// The highest swept rate at which this and every lower swept rate meet the attainment target;
  /// 0 when the lowest does not.
  double highest_served_rate_per_s = 0;
};

struct ServingSimulationStudy {
  std::vector<PreparedModel> models;
  std::vector<SystemSpec> systems;
  std::vector<std::vector<ServingRun>> runs;  // [model][system]
  /// Trace arrivals: the requests used and their own mean rate (requests - 1 over the span from
  /// the first to the last arrival); 0 for synthetic arrivals.
  std::int64_t trace_requests = 0;
  double trace_rate_per_s = 0;
};

/// The nearest-rank quantiles (kCdfPoints) of `values`; empty for an empty sample.
std::vector<double> cdf_quantiles(std::vector<double> values);

/// Runs every (model, system) at the base rate and at each sweep rate.
ServingSimulationStudy study_serving_simulation(const Scenario& scenario,
                                                const ProgressFn& progress = {});

}  // namespace v4sim
