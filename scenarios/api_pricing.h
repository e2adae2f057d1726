// API pricing (kind api_pricing): what published API price lists charge for a few monthly
// workloads, what the same tokens cost self-hosted on the scenario's systems, and the margin
// between the two.
//
// Definitions (stated in the report too):
//   monthly bill      requests x (input x (hit share x cache-hit price + miss share x miss price)
//                     + output x output price) / 1e6; a list without a cache-hit price bills hits
//                     at the miss price.
//   self-hosted $/M   on a fully loaded fleet, at the price basis's device-hour: output tokens at
//                     the cheapest decode point meeting the TPOT target at the request's mean
//                     context during the answer (input + output / 2); input tokens (cache miss)
//                     at the cheapest prefill point meeting the TTFT target for a prompt of the
//                     request's input length; cached input tokens skip the prefill and pay only
//                     for loading their KV from the off-accelerator context cache
//                     (sim/token_costs.h).
//   margin            API bill - self-hosted cost of the same tokens, on the system where that
//                     cost is lowest.
//
// This header is the computation (a typed study); reports/studies/api_pricing.h writes it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "hardware/system.h"
#include "scenarios/scenario.h"
#include "sim/analytic.h"
#include "sim/infeasible.h"

namespace v4sim {

/// The monthly bill of `workload` at `price` (USD).
double monthly_bill(const ApiPrice& price, const ApiWorkload& workload);

/// Self-hosted USD per million tokens of each kind for one model, system and workload.
struct SelfHostedCost {
  bool feasible = false;
  std::string reason;
  Infeasible why = Infeasible::none;
  int nodes = 0;
  std::int64_t devices = 0;
  double usd_per_device_hour = 0;
  std::string decode_layout;
  std::int64_t decode_batch = 0;
  double tpot_s = 0;
  std::string prefill_layout;
  double ttft_s = 0;
  double output_usd_per_m = 0;
  double input_usd_per_m = 0;         // cache miss
  double cached_input_usd_per_m = 0;  // cache hit
};

/// The self-hosted cost of `workload` for a month at `c` on a loaded fleet (USD).
double monthly_self_hosted(const SelfHostedCost& c, const ApiWorkload& workload);

/// The study: every model's self-hosted cost on every system for every workload.
struct ApiPricingStudy {
  std::vector<PreparedModel> models;
  std::vector<SystemSpec> systems;
  /// [model][system][workload]
  std::vector<std::vector<std::vector<SelfHostedCost>>> cost;

  /// Index of the model named `name`; InputError when it is not among the scenario's models.
  std::size_t model_index(const std::string& name) const;
  /// The system with the lowest loaded monthly cost of workload `w` (index `wi`) for model `i`,
  /// or -1 when none can serve it.
  int cheapest_system(std::size_t i, const ApiWorkload& w, std::size_t wi) const;
};

/// A dedicated deployment for one workload alone: the fewest whole units (at the size the
/// self-hosted cost used) that carry its average load, paid for 730 hours a month.
struct Dedicated {
  int system = -1;  // index into the study's systems; -1: none can serve it
  std::int64_t units = 0;
  std::int64_t devices = 0;
  double monthly_usd = 0;
  double utilization = 0;
};

/// The cheapest dedicated deployment of workload `w` (index `wi`) for model `i`.
Dedicated dedicated(const ApiPricingStudy& study, std::size_t i, const ApiWorkload& w,
                    std::size_t wi);

/// Loads the scenario's models and systems and prices every (model, system, workload).
ApiPricingStudy study_api_pricing(const Scenario& scenario, const ProgressFn& progress = {});

}  // namespace v4sim
