// Purchase planning: how many instances of which shape serve a demand at its peak within the
// SLOs, what the units they occupy cost to buy and run, and what a million tokens then costs.
//
// Method (issue 12): prefill and decode run disaggregated, on pools sized separately (xPyD). For
// every context bucket of the demand mix, the deployment search of `optimize`
// (sim/optimize.h search_deployments: slices of a node, then whole nodes joined over the
// scale-out network or the supernode fabric, up to `max_devices` ranks; every layout; batches)
// evaluates decode instances against the TPOT target (output tokens) and prefill instances
// against the TTFT target less the KV hand-over to the decode instance (input tokens, cache hits
// skipped). Of the instances meeting a target, the bucket takes the one that carries its peak
// load on the fewest ranks, whole instances counted (for a large demand the cheapest per token,
// as `optimize` reports; for a small one a smaller instance instead of one large one mostly
// idle). A bucket's peak load in busy ranks is tokens per second at peak
// (average x peak-to-average) over the instance's tokens per second per rank; buckets whose
// instances have the same phase and size share a pool, whose instance count is that load over
// the instance size, rounded up. Units are bought as sold (servers, racks or supernode
// cabinets): an instance of n nodes takes n whole nodes, and instances smaller than a node (a
// server's GPUs, trays of a rack, boards of a cabinet) share nodes whatever their pool, as
// disaggregated engines place prefill and decode instances side by side (pack_pools).
#pragma once

#include <map>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "hardware/system.h"
#include "sim/analytic.h"
#include "sim/economics.h"
#include "sim/infeasible.h"
#include "sim/optimize.h"
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
  std::string reason;  // when infeasible: the target missed and the nearest the search reached
  Infeasible why = Infeasible::none;  // the reason as a value
  std::int64_t decode_devices = 0;    // ranks of one decode instance
  std::string decode_layout;
  std::int64_t decode_batch = 0;
  double decode_tokens_per_s_per_device = 0;
  double tpot_s = 0;
  std::int64_t prefill_devices = 0;  // ranks of one prefill instance
  std::string prefill_layout;
  std::int64_t prefill_batch = 0;
  double prefill_tokens_per_s_per_device = 0;  // input tokens, cache hits included
  double ttft_s = 0;                           // prefill + KV hand-over
  double kv_transfer_s = 0;                    // one sequence's KV, prefill to decode instance
  double decode_peak_devices = 0;              // busy ranks at peak
  double prefill_peak_devices = 0;
  /// What the search reached without the targets (also set when feasible): whether any decode
  /// instance holds the model and one sequence, the fastest TPOT and TTFT of any fitting point
  /// (infinity when none fits), and the sizes searched up to.
  bool fits = false;
  double fastest_tpot_s = 0;
  double fastest_ttft_s = 0;
};

/// Instances of one phase and size, with the units they occupy.
struct PoolPlan {
  Phase phase = Phase::decode;
  std::int64_t instance_devices = 0;
  std::int64_t instances = 0;
  std::int64_t nodes = 0;   // units holding its instances (a node shared with other pools counts
                            // in each of them; the plan's `units` counts it once)
  double peak_devices = 0;  // busy ranks at peak
  std::vector<std::int64_t> contexts;  // context buckets the pool serves
};

struct SystemPlan {
  std::string system;
  std::string display_name;
  bool feasible = false;
  std::string reason;  // the first failing bucket's, with its context
  Infeasible why = Infeasible::none;
  std::vector<BucketPlan> buckets;
  std::vector<PoolPlan> pools;   // prefill pools first, then decode, by instance size
  std::int64_t max_devices = 0;  // largest instance the search considered
  double average_devices = 0;    // devices busy on an average day
  double peak_devices = 0;
  std::int64_t units = 0;            // nodes to buy (servers, racks or supernode cabinets)
  std::int64_t devices = 0;          // ranks bought
  std::int64_t prefill_devices = 0;  // of which in prefill pools
  std::int64_t decode_devices = 0;
  double capex_usd = 0;
  double annual_opex_usd = 0;         // power (x PUE) + hosting
  double annual_cost_usd = 0;         // capex / amortisation years + opex
  double usd_per_million_tokens = 0;  // annual cost / tokens served per year (input + output)
  double utilization = 0;             // average busy devices / devices bought
  double power_w = 0;
  double floor_m2 = 0;
};

/// The pools and the money side of a feasible plan, from its buckets: pools, whole units, capex,
/// power, floor, annual opex and cost, $/M tokens and utilisation (what plan_purchase does after
/// sizing). Sizing does not depend on prices: the search ranks points by tokens per second per
/// rank at one price per rank-hour, so the cheapest point is the fastest one. A plan can therefore
/// be re-priced for other system prices or price assumptions without searching again.
void price_plan(SystemPlan& plan, const SystemSpec& system, const Demand& demand,
                const PriceAssumptions& prices);

/// Sets each pool's `nodes` and returns the units all the pools occupy together, with nodes of
/// `per_node` ranks. An instance of per_node ranks or more takes whole nodes of its own (ranks
/// left in its last node stay unused); smaller instances are placed first fit, largest first, into
/// nodes shared by every pool. The search's slices are powers of two below a node, each dividing
/// the next, for which first fit decreasing is known to use the fewest nodes (Coffman, Garey and
/// Johnson, "Bin packing with divisible item sizes", J. Complexity 3, 1987).
std::int64_t pack_pools(std::span<PoolPlan> pools, std::int64_t per_node);

/// Plans every candidate and returns them ranked by annual cost (infeasible ones last, with the
/// reason). Throws InputError for a malformed demand.
std::vector<SystemPlan> plan_purchase(const PreparedModel& model, const Demand& demand,
                                      const std::vector<SystemSpec>& candidates,
                                      const PriceAssumptions& prices);

/// Deployment searches of one system by (model, context, phase): plans of the same demand on the
/// same system that differ only in their targets (e.g. without the TTFT target) re-rank them
/// instead of searching again (sim/optimize.h apply_targets).
using SearchMemo = std::map<std::tuple<std::string, std::int64_t, Phase>, DeploymentSearch>;

/// As above, with candidate i's communication models taken from planners[i] (by node count)
/// instead of models built per call. Plans of systems that differ only in prices, peaks or
/// efficiencies (sensitivity runs) share one topology, so reusing the planners skips rebuilding
/// its graphs and re-timing its collectives. `max_devices` 0: default_max_devices per system.
/// `searches` (optional, one per candidate) keeps and reuses the searches (SearchMemo).
/// `sizes_from` (optional, one per candidate, entries may be null): a feasible plan of the same
/// demand whose instance sizes the search keeps, re-choosing only layouts and batches (one size
/// instead of every size: sensitivity runs re-time a planned deployment on varied hardware).
/// `stop_at_infeasible`: a candidate's plan stops at its first infeasible context bucket, trying
/// first the buckets its `sizes_from` plan (if infeasible) failed on. Whether a plan is feasible
/// and every number of a feasible plan are unchanged (a bucket's plan does not depend on the
/// others); an infeasible plan then holds only the buckets planned, its reason one failing
/// bucket's (sensitivity runs, which report only whether a varied plan is feasible and its cost).
std::vector<SystemPlan> plan_purchase(
    const PreparedModel& model, const Demand& demand, const std::vector<SystemSpec>& candidates,
    const PriceAssumptions& prices, std::span<PlannerCache* const> planners,
    std::int64_t max_devices = 0, std::span<SearchMemo* const> searches = {},
    std::span<const SystemPlan* const> sizes_from = {}, bool stop_at_infeasible = false);

}  // namespace v4sim
