// Sizing a fleet for a latency percentile by simulation (`v4sim plan --size-by-simulation`),
// instead of covering bursts with the demand's peak-to-average factor.
//
// Method, each part stated:
//  * A replica is one deployment of the system as `v4sim simulate` runs it without --layout: the
//    system's default node count, prefill and decode colocated, tp=1, dp=ranks, experts spread
//    as wide as they go; or the given layout on as many nodes as its ranks need. The demand's MTP
//    acceptance. (With tp=1 a prompt prefills on one rank: long prompts may need a tp layout.)
//  * Requests: a prompt of each context bucket's context_tokens, drawn with the bucket's share
//    (plan.h: shares are of requests); every answer has the same length, the demand's output to
//    input ratio times the mean prompt, so the simulated tokens keep the demand's split. A prompt
//    is shortened when prompt plus answer would pass the model's context.
//  * Arrivals: Poisson at the demand's mean request rate (input tokens per day over the mean
//    prompt, per second), or at the peak rate (times peak_to_average) when asked. A fleet of N
//    replicas behind a router that picks a replica at random sees a Poisson stream of rate / N at
//    each replica (the thinning of a Poisson process), so one replica is simulated at rate / N.
//  * The fleet is never smaller than the mean-load fleet: ceil(mean_load_devices / replica
//    ranks) replicas, at least one, where mean_load_devices comes from the caller (`plan`'s
//    average_devices: the ranks its instances keep busy on an average day). From there N grows
//    on a fixed grid (steps of ceil(mean-load replicas / 50)) until the simulated replica meets
//    every target at the percentile, up to `max_over_mean` times the mean-load fleet. The grid
//    and the simulated requests (seed) do not depend on the targets, so a looser target (a lower
//    percentile or a larger latency) is met at the same grid point or an earlier one: it never
//    needs more replicas.
//  * A rejected request (too long for an empty replica) never gets a token: any rejection misses
//    the target.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "hardware/system.h"
#include "sim/communication.h"
#include "sim/infeasible.h"
#include "sim/layout.h"
#include "sim/plan.h"
#include "sim/serving.h"

namespace v4sim {

struct SimulatedSizingOptions {
  double percentile = 0.99;  // q in (0, 1]: the nearest-rank q-quantile must meet each target
  std::optional<double> ttft_s, tpot_s;  // at least one
  std::int64_t requests = 2000;          // simulated per candidate fleet size
  std::uint64_t seed = 1;
  bool at_peak = false;  // arrivals at the peak rate instead of the mean rate
  std::int64_t max_batch = 256;
  double max_over_mean = 4;      // largest fleet tried, in multiples of the mean-load fleet
  std::optional<Layout> layout;  // of a replica; none: the default deployment (above)
};

struct SimulatedFleet {
  bool feasible = false;
  std::string reason;
  Infeasible why = Infeasible::none;
  int replica_nodes = 0;
  std::int64_t replica_devices = 0;
  std::string replica_layout;
  std::int64_t output_tokens_per_request = 0;
  double mean_input_tokens_per_request = 0;
  double request_rate_per_s = 0;                    // the whole fleet's simulated arrivals
  std::int64_t mean_load_replicas = 0;              // the lower bound
  std::int64_t replicas = 0;                        // chosen (when feasible) or the last tried
  std::int64_t devices = 0, units = 0;              // replicas x ranks, replicas x nodes
  double ttft_quantile_s = 0, tpot_quantile_s = 0;  // of the chosen (or last tried) size
  double slo_attainment = 0;                        // share within both targets, same run
  std::int64_t simulations = 0;
};

/// Sizes the fleet of `system` replicas for `demand` (module comment). InputError for options out
/// of range (percentile, no target, requests < 1, a layout needing more nodes than the system
/// takes); an infeasible replica or a target missed at
/// the largest size tried comes back with a reason.
SimulatedFleet size_fleet_by_simulation(const PreparedModel& model, const SystemSpec& system,
                                        const Demand& demand, double mean_load_devices,
                                        const SimulatedSizingOptions& options,
                                        CommPlanner& planner);

}  // namespace v4sim
