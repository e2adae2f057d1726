#include "sim/communication.h"

#include <algorithm>
#include <vector>

#include "hardware/collectives.h"
#include "hardware/perf_model.h"
#include "hardware/topology.h"

namespace v4sim {
namespace {

// Probe size for the linear fit: large enough that transfer dominates rounding, small enough
// to stay in double precision comfortably.
constexpr double kProbeBytes = 64.0 * 1024 * 1024;

CommLine fit(const CommTime& at_probe, const CommTime& at_double) {
  CommLine line;
  line.s_per_byte = (at_double.total_s - at_probe.total_s) / kProbeBytes;
  line.latency_s = at_probe.total_s - line.s_per_byte * kProbeBytes;
  if (line.latency_s < 0) line.latency_s = 0;
  line.bottleneck = at_probe.bottleneck;
  return line;
}

/// A one-step direct transfer at twice the bytes: every flow doubles, so every arc load doubles
/// exactly (binary floating point scales by 2 without rounding) and the same arc is the
/// bottleneck; only the transfer part changes. The same CommTime as routing the doubled flows,
/// at no cost (tests/hardware/collectives_test.cpp checks the doubling).
CommTime at_twice_the_bytes(CommTime t) {
  t.transfer_s *= 2;
  t.bottleneck_bytes *= 2;
  t.total_s = t.transfer_s + t.latency_s;
  return t;
}

CommLine moe_line(const Topology& topo, int group) {
  const std::vector<int> ranks = first_ranks(group);
  const std::vector<double> one(ranks.size(), kProbeBytes);
  const CommTime at_probe = moe_all_to_all(topo, ranks, one);
  return fit(at_probe, at_twice_the_bytes(at_probe));
}

CommLine all_gather_line(const Topology& topo, int group) {
  const std::vector<int> ranks = first_ranks(group);
  return fit(all_gather(topo, ranks, kProbeBytes), all_gather(topo, ranks, 2 * kProbeBytes));
}

CommLine reduce_scatter_line(const Topology& topo, int group) {
  const std::vector<int> ranks = first_ranks(group);
  return fit(reduce_scatter(topo, ranks, kProbeBytes),
             reduce_scatter(topo, ranks, 2 * kProbeBytes));
}

CommLine all_reduce_line(const Topology& topo, int tp) {
  const std::vector<int> ranks = first_ranks(tp);
  return fit(all_reduce(topo, ranks, kProbeBytes), all_reduce(topo, ranks, 2 * kProbeBytes));
}

CommLine hop_line(const Topology& topo, int stage) {
  const CommTime at_probe = point_to_point(topo, 0, stage, kProbeBytes);
  return fit(at_probe, at_twice_the_bytes(at_probe));
}

/// The group that exchanges MoE tokens: the stage's ranks, or the ep group when smaller.
int moe_group(const Layout& l) {
  return static_cast<int>(l.ep < l.devices_per_stage() ? l.ep : l.devices_per_stage());
}

}  // namespace

CommModel build_comm_model(const SystemSpec& system, int nodes, const Layout& layout,
                           MoeExchange exchange) {
  CommPlanner planner(system, nodes);
  return planner.model(layout, exchange);
}

CommPlanner::CommPlanner(const SystemSpec& system, int nodes) : system_(system), nodes_(nodes) {
  check_expansion(system, nodes);
}

const Topology& CommPlanner::topology(int ranks) {
  const int per_node = std::max(system_.devices_per_node, 1);
  const int fewest = std::clamp((std::max(ranks, 1) + per_node - 1) / per_node,
                                std::max(system_.min_nodes, 1), nodes_);
  if (auto it = topologies_.find(fewest); it != topologies_.end()) return *it->second;
  const int nodes = fewest < nodes_ && !routes_alike(fewest) ? nodes_ : fewest;
  std::shared_ptr<const Topology>& topo = topologies_[nodes];
  // `new T(prvalue)` constructs in place (guaranteed elision): the graph is never copied or
  // moved.
  if (!topo) topo.reset(new Topology(build_topology(expand(system_, nodes))));
  return *topologies_.emplace(fewest, topo).first->second;
}

bool CommPlanner::routes_alike(int nodes) {
  // What same_routes_with_more_nodes() weighs (distances among two nodes' vertices and the
  // fabric's, the longest route between devices of two nodes) is the same at every node count
  // from two up: a path through a third node has a copy through node 0. So two nodes answer for
  // every larger count, at the cost of a two-node graph.
  const int probe = std::max(std::min(nodes, 2), system_.min_nodes);
  auto it = routes_alike_.find(probe);
  if (it == routes_alike_.end())
    it = routes_alike_
             .emplace(probe, same_routes_with_more_nodes(build_topology(expand(system_, probe))))
             .first;
  return it->second;
}

struct CommPlanner::PerfModels {
  std::vector<std::pair<Accelerator, std::unique_ptr<PerfModel>>> by_device;
};

CommPlanner::~CommPlanner() = default;

const PerfModel& CommPlanner::perf(const Accelerator& device) {
  if (!perf_) perf_ = std::make_shared<PerfModels>();
  for (const auto& [d, model] : perf_->by_device)
    if (d == device) return *model;
  return *perf_->by_device.emplace_back(device, std::make_unique<PerfModel>(device)).second;
}

bool CommPlanner::share_tables(CommPlanner& other) {
  if (&other == this || !(other.system_.accelerator == system_.accelerator)) return false;
  other.perf();
  perf_ = other.perf_;
  return true;
}

CommLine CommPlanner::transfer(int src, int dst) {
  const CommTime at_probe = point_to_point(topology(std::max(src, dst) + 1), src, dst, kProbeBytes);
  return fit(at_probe, at_twice_the_bytes(at_probe));
}

CommModel CommPlanner::model(const Layout& layout, MoeExchange exchange) {
  CommModel m;
  const int group = moe_group(layout);
  if (group > 1 && exchange == MoeExchange::all_to_all) {
    auto it = all_to_all_.find(group);
    if (it == all_to_all_.end())
      it = all_to_all_.emplace(group, moe_line(topology(group), group)).first;
    m.moe_all_to_all = it->second;
  }
  if (group > 1 && exchange == MoeExchange::all_gather) {
    auto ag = all_gather_.find(group);
    if (ag == all_gather_.end())
      ag = all_gather_.emplace(group, all_gather_line(topology(group), group)).first;
    m.moe_all_gather = ag->second;
    auto rs = reduce_scatter_.find(group);
    if (rs == reduce_scatter_.end())
      rs = reduce_scatter_.emplace(group, reduce_scatter_line(topology(group), group)).first;
    m.moe_reduce_scatter = rs->second;
  }
  const int tp = static_cast<int>(layout.tp);
  if (tp > 1) {
    auto it = all_reduce_.find(tp);
    if (it == all_reduce_.end())
      it = all_reduce_.emplace(tp, all_reduce_line(topology(tp), tp)).first;
    m.tp_all_reduce = it->second;
  }
  if (layout.pp > 1) {
    const int stage = static_cast<int>(layout.devices_per_stage());
    auto it = hop_.find(stage);
    if (it == hop_.end()) it = hop_.emplace(stage, hop_line(topology(stage + 1), stage)).first;
    m.stage_hop = it->second;
  }
  return m;
}

}  // namespace v4sim
