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
#pragma once

#include "scenarios/long_context.h"

namespace v4sim {

/// The monthly bill of `workload` at `price` (USD).
double monthly_bill(const ApiPrice& price, const ApiWorkload& workload);

/// Self-hosted USD per million tokens of each kind for one model, system and workload.
struct SelfHostedCost {
  bool feasible = false;
  std::string reason;
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

report::Report run_api_pricing(const Scenario& scenario, const ProgressFn& progress = {});

}  // namespace v4sim
