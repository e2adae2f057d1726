// Communication times the serving model needs, from the hardware's collectives over the system's
// topology graph. The graph model is alpha-beta (hardware/collectives.h): for a fixed set of flows
// the time is a latency plus bytes over the bottleneck arc's bandwidth, linear in the bytes. So
// each collective is timed once on the layout's groups and then scaled, which keeps a batch search
// cheap.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "hardware/system.h"
#include "sim/layout.h"
#include "sim/moe_exchange.h"

namespace v4sim {

struct CommLine {
  double latency_s = 0;
  double s_per_byte = 0;
  std::string bottleneck;
  double at(double bytes) const { return bytes > 0 ? latency_s + bytes * s_per_byte : 0.0; }
};

struct CommModel {
  CommLine moe_all_to_all;  // bytes each rank of a pipeline stage sends (dispatch or combine)
  /// MoeExchange::all_gather only: bytes each rank contributes (all-gather) or holds before the
  /// reduction (reduce-scatter), over the same group.
  CommLine moe_all_gather;
  CommLine moe_reduce_scatter;
  CommLine tp_all_reduce;  // bytes each rank of a tensor-parallel group holds
  CommLine stage_hop;      // bytes sent from one pipeline stage to the next
};

/// Times the layout's groups on `nodes` nodes of `system`: the MoE all-to-all over the first
/// pipeline stage's ranks (uniform routing, the ep group when ep < tp * dp), or its all-gather and
/// reduce-scatter with MoeExchange::all_gather, the all-reduce over the first tp ranks, and a hop
/// from rank 0 to the first rank of the next stage.
CommModel build_comm_model(const SystemSpec& system, int nodes, const Layout& layout,
                           MoeExchange exchange = MoeExchange::all_to_all);

struct Topology;  // hardware/topology.h
class PerfModel;  // hardware/perf_model.h

/// Builds the topology once and remembers each group's line, for searches that try many layouts
/// on one system (building CloudMatrix384's graph and timing a 256-rank all-to-all takes tens of
/// ms). A group is timed on the fewest nodes that hold its ranks when the routes there are the
/// whole system's (same_routes_with_more_nodes, hardware/topology.h): the same times, bit for
/// bit, without building an 8,192-NPU SuperPoD for a 256-rank expert group.
class CommPlanner {
 public:
  CommPlanner(const SystemSpec& system, int nodes);
  ~CommPlanner();
  CommPlanner(const CommPlanner&) = delete;
  CommPlanner& operator=(const CommPlanner&) = delete;
  CommModel model(const Layout& layout, MoeExchange exchange = MoeExchange::all_to_all);
  /// Point-to-point from rank `src` to rank `dst` (e.g. KV cache from a prefill to a decode rank).
  CommLine transfer(int src, int dst);
  /// The measured kernel tables of the system's accelerator (and its measured siblings), loaded
  /// on first use and kept for the planner's life.
  const PerfModel& perf() { return perf(system_.accelerator); }
  /// The same tables seen from `device`, a varied copy of the planner's accelerator (a
  /// sensitivity's peaks or efficiencies): a model of its own, built on first use and kept, so
  /// an op transferred from a sibling scales by the varied peaks. No variant changes a link, so
  /// the topology and the lines are the planner's.
  const PerfModel& perf(const Accelerator& device);
  /// Takes `other`'s measured-table models (their loaded tables and memoised lookups) when both
  /// planners are of the same accelerator, every field equal: a model depends on the device
  /// alone, not on the node count, so a search over sizes loads and looks up each table once.
  /// Returns whether it did; a planner of another (e.g. varied) device keeps its own.
  bool share_tables(CommPlanner& other);
  /// Ranks per node: a collective over more crosses the scale-out network.
  int devices_per_node() const { return system_.devices_per_node; }

 private:
  /// The topology to time collectives among ranks [0, ranks) on: the fewest nodes that hold them
  /// when that routes as the whole system does, else the whole system. Built on first use.
  const Topology& topology(int ranks);
  /// same_routes_with_more_nodes() for the system at `nodes` nodes, worked out once.
  bool routes_alike(int nodes);

  SystemSpec system_;
  int nodes_ = 1;
  std::map<int, std::shared_ptr<const Topology>> topologies_;  // by node count asked for
  std::map<int, bool> routes_alike_;                           // by node count checked
  struct PerfModels;                        // by device: the planner's own, then varied copies
  std::shared_ptr<PerfModels> perf_;        // shared by the planners of one device (share_tables)
  std::map<int, CommLine> all_to_all_;      // by group size
  std::map<int, CommLine> all_gather_;      // by group size
  std::map<int, CommLine> reduce_scatter_;  // by group size
  std::map<int, CommLine> all_reduce_;      // by tp
  std::map<int, CommLine> hop_;             // by stage size
};

}  // namespace v4sim
