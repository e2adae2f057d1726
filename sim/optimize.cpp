#include "sim/optimize.h"

#include <algorithm>
#include <map>
#include <memory>

namespace v4sim {

std::vector<Layout> candidate_layouts(const ModelSpec& spec, std::int64_t devices) {
  std::vector<Layout> out;
  for (std::int64_t tp = 1; tp <= 16 && tp <= devices; tp *= 2) {
    if (devices % tp != 0 || spec.attention.num_heads % tp != 0) continue;
    for (std::int64_t pp = 1; pp <= 8 && tp * pp <= devices; pp *= 2) {
      if (devices % (tp * pp) != 0 || pp > spec.num_layers) continue;
      const std::int64_t dp = devices / (tp * pp);
      Layout l{tp, dp, pp, widest_ep(tp * dp, spec.moe.num_routed_experts)};
      if (layout_problem(l, devices, spec.num_layers, spec.moe.num_routed_experts,
                         spec.attention.num_heads)
              .empty())
        out.push_back(l);
    }
  }
  return out;
}

namespace {

bool meets_targets(const ServingResult& r, const Workload& workload) {
  return (!workload.slo_tpot_s || workload.phase != Phase::decode ||
          r.tpot_s <= *workload.slo_tpot_s) &&
         (!workload.slo_ttft_s || r.ttft_s <= *workload.slo_ttft_s);
}

/// Fills the frontier and the cheapest point meeting the SLOs from out.points.
void rank_points(OptimizeResult& out) {
  out.frontier.clear();
  out.cheapest.reset();
  // Pareto frontier: no other point is at least as good on both axes and better on one.
  auto user = [&](std::size_t i) {
    const ServingResult& r = out.points[i].result;
    return r.tokens_per_s_per_user > 0 ? r.tokens_per_s_per_user : 1.0 / r.ttft_s;
  };
  auto device = [&](std::size_t i) {
    return out.points[i].result.throughput_tokens_per_s_per_device;
  };
  for (std::size_t i = 0; i < out.points.size(); ++i) {
    bool dominated = false;
    for (std::size_t j = 0; j < out.points.size() && !dominated; ++j) {
      dominated = j != i && user(j) >= user(i) && device(j) >= device(i) &&
                  (user(j) > user(i) || device(j) > device(i));
    }
    if (!dominated) out.frontier.push_back(i);
  }
  std::sort(out.frontier.begin(), out.frontier.end(),
            [&](std::size_t a, std::size_t b) { return user(a) < user(b); });
  for (std::size_t i = 0; i < out.points.size(); ++i) {
    if (!out.points[i].meets_slo) continue;
    if (!out.cheapest ||
        out.points[i].usd_per_million_tokens < out.points[*out.cheapest].usd_per_million_tokens)
      out.cheapest = i;
  }
}

}  // namespace

OptimizeResult optimize(const PreparedModel& model, const SystemSpec& system, int nodes,
                        const ServingConfig& base, const Workload& workload, const DeviceHour& hour,
                        CommPlanner* planner, ModelCache* cache, PrefillMemo* memo) {
  OptimizeResult out;
  std::unique_ptr<CommPlanner> own;
  if (!planner) {
    own = std::make_unique<CommPlanner>(system, nodes);
    planner = own.get();
  }
  const std::int64_t devices =
      base.devices > 0 ? base.devices : system_totals(system, nodes).devices;
  Workload unconstrained = workload;  // SLOs are checked per point below, not used to prune
  unconstrained.slo_tpot_s.reset();
  unconstrained.slo_ttft_s.reset();
  unconstrained.batch = 0;
  for (const Layout& layout : candidate_layouts(model.spec, devices)) {
    ServingConfig config = base;
    config.layout = layout;
    config.op_timings = false;  // a search keeps each point's totals, not its op table
    ++out.layouts_tried;
    const std::int64_t max_batch =
        max_batch_that_fits(model, system, nodes, config, unconstrained, planner, cache);
    if (max_batch == 0) continue;
    // Decode: batches 1, 2, 4, ... and the largest that fits. Prefill throughput hardly depends on
    // the number of prompts in flight (long prompts are compute-bound) while TTFT grows with it:
    // one prompt and the most that fit bracket the trade-off.
    std::vector<std::int64_t> batches;
    if (workload.phase == Phase::decode) {
      for (std::int64_t b = 1; b < max_batch; b *= 2) batches.push_back(b);
    } else if (max_batch > 1) {
      batches.push_back(1);
    }
    batches.push_back(max_batch);
    for (ServingResult& r : sweep_batches(model, system, nodes, config, unconstrained, batches,
                                          planner, cache, memo)) {
      if (!r.feasible) continue;
      OptimizePoint p;
      p.usd_per_million_tokens =
          usd_per_million_tokens(hour.usd_per_hour, r.throughput_tokens_per_s_per_device);
      p.meets_slo = meets_targets(r, workload);
      p.result = std::move(r);
      out.points.push_back(std::move(p));
    }
  }
  rank_points(out);
  return out;
}

std::vector<std::int64_t> candidate_device_counts(const SystemSpec& system,
                                                  std::int64_t max_devices) {
  std::vector<std::int64_t> out;
  const std::int64_t per_node = system.devices_per_node;
  for (std::int64_t d = 1; d < per_node && d <= max_devices; d *= 2) out.push_back(d);
  for (std::int64_t n = std::max<std::int64_t>(1, system.min_nodes);
       n <= system.max_nodes && n * per_node <= max_devices; n *= 2)
    out.push_back(n * per_node);
  return out;
}

std::int64_t default_max_devices(const SystemSpec& system) {
  return std::max<std::int64_t>(256, system.devices_per_node);
}

DeploymentSearch search_deployments(const PreparedModel& model, const SystemSpec& system,
                                    const ServingConfig& base, const Workload& workload,
                                    const DeviceHour& hour, std::int64_t max_devices,
                                    PlannerCache* planners, ModelCache* cache, PrefillMemo* memo) {
  return search_deployments(model, system, base, workload, hour,
                            candidate_device_counts(system, max_devices), planners, cache, memo);
}

DeploymentSearch search_deployments(const PreparedModel& model, const SystemSpec& system,
                                    const ServingConfig& base, const Workload& workload,
                                    const DeviceHour& hour,
                                    const std::vector<std::int64_t>& device_counts,
                                    PlannerCache* planner_cache, ModelCache* cache,
                                    PrefillMemo* memo) {
  DeploymentSearch search;
  OptimizeResult& all = search.result;
  PlannerCache own;
  PlannerCache& planners = planner_cache ? *planner_cache : own;
  for (std::int64_t devices : device_counts) {
    const int nodes =
        static_cast<int>((devices + system.devices_per_node - 1) / system.devices_per_node);
    auto& planner = planners[nodes];
    if (!planner) {
      planner = std::make_unique<CommPlanner>(system, nodes);
      for (auto& [other_nodes, other] : planners)
        if (other && planner->share_tables(*other)) break;
    }
    ServingConfig config = base;
    config.devices = devices;
    config.prefill_devices = 0;
    search.device_counts.push_back(devices);
    OptimizeResult one =
        optimize(model, system, nodes, config, workload, hour, planner.get(), cache, memo);
    all.layouts_tried += one.layouts_tried;
    for (OptimizePoint& p : one.points) all.points.push_back(std::move(p));
  }
  apply_targets(search, workload);
  return search;
}

void apply_targets(DeploymentSearch& search, const Workload& workload) {
  OptimizeResult& all = search.result;
  for (OptimizePoint& p : all.points) p.meets_slo = meets_targets(p.result, workload);
  rank_points(all);
  search.nearest.reset();
  if (!all.cheapest) {
    const auto latency = [&](std::size_t i) {
      const ServingResult& r = all.points[i].result;
      return workload.phase == Phase::decode ? r.tpot_s : r.ttft_s;
    };
    for (std::size_t i = 0; i < all.points.size(); ++i)
      if (!search.nearest || latency(i) < latency(*search.nearest)) search.nearest = i;
  }
}

}  // namespace v4sim
