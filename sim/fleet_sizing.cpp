#include "sim/fleet_sizing.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "models/config/input_error.h"
#include "sim/layout.h"
#include "sim/percentiles.h"
#include "sim/simulate.h"
#include "sim/trace.h"

namespace v4sim {
namespace {

constexpr double kSecondsPerDay = 86400.0;

/// Requests at unit rate (mean gap 1 s, first at 0): every fleet size replays them scaled, so the
/// sizes differ only by load.
std::vector<Request> unit_rate_requests(const Demand& d, std::int64_t output_tokens,
                                        std::int64_t max_context, const SimulatedSizingOptions& o) {
  std::mt19937_64 rng(o.seed);
  auto uniform01 = [&] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  std::vector<Request> out;
  out.reserve(static_cast<std::size_t>(o.requests));
  double now = 0;
  for (std::int64_t i = 0; i < o.requests; ++i) {
    if (i > 0) now += -std::log1p(-uniform01());
    double u = uniform01(), acc = 0;
    std::int64_t prompt = d.contexts.back().context_tokens;
    for (const ContextShare& c : d.contexts) {
      acc += c.share;
      if (u < acc) {
        prompt = c.context_tokens;
        break;
      }
    }
    Request q;
    q.arrival_s = now;
    q.input_tokens = std::max<std::int64_t>(1, std::min(prompt, max_context - output_tokens));
    q.output_tokens = output_tokens;
    out.push_back(q);
  }
  return out;
}

struct Outcome {
  double ttft_q = 0, tpot_q = 0, attainment = 0;
  bool rejected = false;
};

Outcome quantiles(const SimulationResult& r, const SimulatedSizingOptions& o) {
  Outcome out;
  std::vector<double> ttft, tpot;
  std::int64_t good = 0;
  for (const RequestRecord& q : r.requests) {
    if (q.rejected) {
      out.rejected = true;
      continue;
    }
    ttft.push_back(q.ttft_s());
    if (q.output_tokens > 1) tpot.push_back(q.tpot_s());
    good += (!o.ttft_s || q.ttft_s() <= *o.ttft_s) && (!o.tpot_s || q.tpot_s() <= *o.tpot_s);
  }
  std::sort(ttft.begin(), ttft.end());
  std::sort(tpot.begin(), tpot.end());
  out.ttft_q = ttft.empty() ? 0 : quantile_sorted(ttft, o.percentile);
  out.tpot_q = tpot.empty() ? 0 : quantile_sorted(tpot, o.percentile);
  out.attainment =
      r.requests.empty() ? 0 : static_cast<double>(good) / static_cast<double>(r.requests.size());
  return out;
}

bool meets(const Outcome& x, const SimulatedSizingOptions& o) {
  return !x.rejected && (!o.ttft_s || x.ttft_q <= *o.ttft_s) &&
         (!o.tpot_s || x.tpot_q <= *o.tpot_s);
}

}  // namespace

SimulatedFleet size_fleet_by_simulation(const PreparedModel& model, const SystemSpec& system,
                                        const Demand& demand, double mean_load_devices,
                                        const SimulatedSizingOptions& o, CommPlanner& planner) {
  if (!(o.percentile > 0 && o.percentile <= 1))
    throw InputError("the simulated percentile must be in (0, 100]");
  if (!o.ttft_s && !o.tpot_s)
    throw InputError(
        "sizing by simulation needs a TTFT or a TPOT target (the demand's slo, or "
        "--slo-ttft-ms / --slo-tpot-ms)");
  if (o.requests < 1) throw InputError("the simulated requests must be at least 1");
  if (!(o.max_over_mean >= 1)) throw InputError("max_over_mean must be at least 1");
  if (demand.contexts.empty() || !(demand.input_tokens_per_day > 0))
    throw InputError("sizing by simulation needs input tokens and a context mix in the demand");
  if (!(mean_load_devices >= 0) || !std::isfinite(mean_load_devices))
    throw InputError("the mean-load devices must be a non-negative number");

  SimulatedFleet f;
  f.replica_nodes = system.default_nodes;
  f.replica_devices = static_cast<std::int64_t>(system.default_nodes) * system.devices_per_node;
  ServingConfig config;
  config.layout = dp_attention_layout(f.replica_devices, model.spec.moe.num_routed_experts);
  if (o.layout) {
    const std::int64_t ranks = o.layout->devices();
    const std::int64_t nodes = (ranks + system.devices_per_node - 1) / system.devices_per_node;
    if (ranks < 1 || nodes < system.min_nodes || nodes > system.max_nodes)
      throw InputError("replica layout " + to_string(*o.layout) + ": " + system.name + " takes " +
                       std::to_string(system.min_nodes) + " to " +
                       std::to_string(system.max_nodes) + " nodes of " +
                       std::to_string(system.devices_per_node) + " ranks");
    f.replica_nodes = static_cast<int>(nodes);
    f.replica_devices = ranks;
    config.layout = *o.layout;
    config.devices = ranks;
  }
  config.mtp_acceptance = demand.mtp_acceptance;
  f.replica_layout = to_string(config.layout);

  double mean_prompt = 0;
  for (const ContextShare& c : demand.contexts)
    mean_prompt += c.share * static_cast<double>(c.context_tokens);
  f.mean_input_tokens_per_request = mean_prompt;
  f.output_tokens_per_request = std::max<std::int64_t>(
      1, std::llround(demand.output_tokens_per_day / demand.input_tokens_per_day * mean_prompt));
  f.request_rate_per_s = demand.input_tokens_per_day / kSecondsPerDay / mean_prompt *
                         (o.at_peak ? demand.peak_to_average : 1.0);
  f.mean_load_replicas = std::max<std::int64_t>(
      1, static_cast<std::int64_t>(
             std::ceil(mean_load_devices / static_cast<double>(f.replica_devices) - 1e-9)));
  f.replicas = f.mean_load_replicas;

  if (f.output_tokens_per_request >= model.spec.max_context_tokens) {
    f.reason = "an answer of " + std::to_string(f.output_tokens_per_request) +
               " tokens leaves no room for a prompt in the model's context";
    f.why = Infeasible::beyond_max_context;
    return f;
  }
  const std::vector<Request> requests =
      unit_rate_requests(demand, f.output_tokens_per_request, model.spec.max_context_tokens, o);
  Workload longest;
  longest.batch = 1;
  for (const Request& q : requests)
    longest.context_tokens = std::max(longest.context_tokens, q.input_tokens + q.output_tokens);
  const ServingResult fit = predict(model, system, f.replica_nodes, config, longest, &planner);
  if (!fit.feasible) {
    f.reason = "a replica cannot hold the longest request: " + fit.reason;
    f.why = fit.why;
    return f;
  }

  SimulationConfig sim;
  sim.max_batch = o.max_batch;
  sim.slo_ttft_s = o.ttft_s;
  sim.slo_tpot_s = o.tpot_s;
  sim.timeline_interval_s = 1e9;  // one sample: only the percentiles are used
  const std::int64_t step = std::max<std::int64_t>(1, (f.mean_load_replicas + 49) / 50);
  const auto most = static_cast<std::int64_t>(
      std::floor(o.max_over_mean * static_cast<double>(f.mean_load_replicas)));
  Outcome x;
  for (std::int64_t n = f.mean_load_replicas; n <= most; n += step) {
    const double gap_scale = static_cast<double>(n) / f.request_rate_per_s;
    std::size_t next = 0;
    SimulationResult r;
    try {
      r = simulate(
          model, system, f.replica_nodes, config, sim,
          [&](Request& out) {
            if (next >= requests.size()) return false;
            out = requests[next++];
            out.arrival_s *= gap_scale;
            return true;
          },
          planner);
    } catch (const InputError& e) {
      f.reason = std::string("the replica cannot run: ") + e.what();
      f.why = Infeasible::memory;
      return f;
    }
    ++f.simulations;
    x = quantiles(r, o);
    f.replicas = n;
    f.ttft_quantile_s = x.ttft_q;
    f.tpot_quantile_s = x.tpot_q;
    f.slo_attainment = x.attainment;
    f.devices = n * f.replica_devices;
    // Replicas smaller than a node pack into it, as plan packs instances.
    f.units = f.replica_devices < system.devices_per_node
                  ? (f.devices + system.devices_per_node - 1) / system.devices_per_node
                  : n * f.replica_nodes;
    if (meets(x, o)) {
      f.feasible = true;
      return f;
    }
  }
  const bool ttft_missed = o.ttft_s && f.ttft_quantile_s > *o.ttft_s;
  const std::string what = x.rejected    ? "requests longer than a replica holds are rejected"
                           : ttft_missed ? "the TTFT target is missed"
                                         : "the TPOT target is missed";
  f.reason = what + " at " + std::to_string(f.replicas) +
             " replicas, the largest tried (max_over_mean x the mean-load fleet of " +
             std::to_string(f.mean_load_replicas) + ")";
  f.why = x.rejected    ? Infeasible::memory
          : ttft_missed ? Infeasible::ttft_slo
                        : Infeasible::tpot_slo;
  return f;
}

}  // namespace v4sim
