// Purchase planning: how many systems of each candidate serve a demand at its peak within the
// SLOs, what they cost to buy and run, and what a million tokens then costs.
//
// Method: for every context bucket of the demand mix, the optimizer finds the cheapest layout and
// batch meeting the TPOT target for decode (output tokens) and the TTFT target for prefill (input
// tokens, cache hits skipped). A day's work in device-seconds is the sum over buckets of
// tokens / (tokens per second per device); the fleet must carry the peak (average x peak-to-
// average), rounded up to whole systems. Prefill and decode time-share the same devices.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "hardware/system.h"
#include "sim/analytic.h"
#include "sim/economics.h"
#include "sim/infeasible.h"
#include "sim/serving.h"

namespace v4sim {

struct ContextShare {
  std::int64_t context_tokens = 0;
  double share = 0;  // of requests (and so of tokens, at equal request sizes)
};

struct Demand {
  std::string name;
  double input_tokens_per_day = 0;  // prompt tokens, cache hits included
  double output_tokens_per_day = 0;
  double cache_hit_rate = 0;  // share of input tokens served from the context cache
  double peak_to_average = 1;
  std::vector<ContextShare> contexts;
  std::optional<double> slo_tpot_s;
  std::optional<double> slo_ttft_s;
  double mtp_acceptance = 0;
};

struct BucketPlan {
  std::int64_t context_tokens = 0;
  double share = 0;
  bool feasible = false;
  std::string reason;
  Infeasible why = Infeasible::none;
  std::string decode_layout;
  std::int64_t decode_batch = 0;
  double decode_tokens_per_s_per_device = 0;
  double tpot_s = 0;
  std::string prefill_layout;
  double prefill_tokens_per_s_per_device = 0;
  double ttft_s = 0;
};

struct SystemPlan {
  std::string system;
  std::string display_name;
  bool feasible = false;
  std::string reason;  // the first failing bucket's, with its context
  Infeasible why = Infeasible::none;
  std::vector<BucketPlan> buckets;
  double average_devices = 0;  // devices busy on an average day
  double peak_devices = 0;
  std::int64_t units = 0;    // systems to buy
  std::int64_t devices = 0;  // ranks bought
  double capex_usd = 0;
  double annual_opex_usd = 0;         // power (x PUE) + hosting
  double annual_cost_usd = 0;         // capex / amortisation years + opex
  double usd_per_million_tokens = 0;  // annual cost / tokens served per year (input + output)
  double utilization = 0;             // average busy devices / devices bought
  double power_w = 0;
  double floor_m2 = 0;
};

/// The money side of a feasible plan, from its average_devices: peak devices, whole units, capex,
/// power, floor, annual opex and cost, $/M tokens and utilisation (what plan_purchase does after
/// sizing). Sizing does not depend on prices: at a fixed node count every layout of a system costs
/// the same per device-hour, so the cheapest point is the fastest one. A plan can therefore be
/// re-priced for other system prices or price assumptions without searching layouts again.
void price_plan(SystemPlan& plan, const SystemSpec& system, const Demand& demand,
                const PriceAssumptions& prices);

/// Plans every candidate and returns them ranked by annual cost (infeasible ones last, with the
/// reason). Throws InputError for a malformed demand.
std::vector<SystemPlan> plan_purchase(const PreparedModel& model, const Demand& demand,
                                      const std::vector<SystemSpec>& candidates,
                                      const PriceAssumptions& prices);

/// As above, with candidate i's communication models taken from planners[i] (built for that
/// system at its default node count) instead of a planner built per call. Plans of systems that
/// differ only in prices, peaks or efficiencies (sensitivity runs) share one topology, so reusing
/// the planners skips rebuilding its graph and re-timing its collectives.
std::vector<SystemPlan> plan_purchase(const PreparedModel& model, const Demand& demand,
                                      const std::vector<SystemSpec>& candidates,
                                      const PriceAssumptions& prices,
                                      std::span<CommPlanner* const> planners);

}  // namespace v4sim
