// Time of a collective over a system's topology graph: route every flow, add up the bytes each
// arc carries, and let the most loaded arc set the transfer time. No per-product formula: the
// same code times a ring, an NVSwitch node, CloudMatrix384's two-tier UB Clos or a scale-out
// cluster, because the difference is in the graph.
//
// Model (alpha-beta over the graph, one step):
//   * Routing: a flow between two devices of one scale-up domain uses only scale-up and
//     die-to-die links; other flows may use every link. Among the allowed links a flow follows
//     the minimum-hop paths and splits evenly over all of them (ECMP over shortest paths).
//   * transfer_s = max over arcs of bytes(arc) / usable bandwidth(arc): all flows of a step run
//     concurrently and the bottleneck arc is saturated for the whole step.
//   * latency_s = the largest sum of link latencies along any flow's path.
//   * A multi-step algorithm (ring) pays transfer + latency once per step.
// Not modelled: per-message software overheads, congestion beyond link sharing, in-network
// reduction. Reduce-scatter / all-gather try a bidirectional ring and a direct (all-pairs)
// algorithm and report the faster; all-reduce = reduce-scatter + all-gather.
#pragma once

#include <span>
#include <string>
#include <vector>

namespace v4sim {

struct Topology;  // hardware/topology.h (include it from .cpp files only)

struct Flow {
  int src = 0;  // rank
  int dst = 0;  // rank
  double bytes = 0;
};

struct CommTime {
  double total_s = 0;
  double transfer_s = 0;  // summed over steps
  double latency_s = 0;   // summed over steps
  int steps = 0;
  std::string algorithm;        // "direct", "ring", "direct+ring", ...
  std::string bottleneck;       // "n0.d3 -> n0.nvswitch.0 (scale_up)" of the slowest step
  double bottleneck_bytes = 0;  // bytes on that arc in that step
};

/// How a step routes each source's flows: `pruned` skips the vertices that lie on no shortest path
/// to one of its destinations, and takes a source's loads from its twin in another node when
/// exchanging the two nodes is a symmetry of the graph and of the demand (the twin's additions to
/// the arc loads, mapped); that gives the same loads, bit for bit, as routing every source over the
/// whole graph (`full`, kept as the reference the tests compare against).
enum class Routing { pruned, full };

/// One step's arc loads, before they are reduced to a time: what the tests compare arc by arc.
struct StepLoads {
  std::vector<double> arc_bytes;  // by arc id (Topology::graph's edge_index)
  double latency_s = 0;           // the largest sum of link latencies along any flow's path
  int routed_sources = 0;         // sources routed over the graph
  int replayed_sources = 0;       // sources whose loads were mapped from a twin (Routing::pruned)
};

/// One step: all flows at once. Ranks must be devices of the topology (InputError otherwise).
CommTime transfer_time(const Topology& topo, std::span<const Flow> flows,
                       Routing routing = Routing::pruned);

/// transfer_time's loads.
StepLoads transfer_loads(const Topology& topo, std::span<const Flow> flows,
                         Routing routing = Routing::pruned);

/// `bytes` from one rank to another (e.g. KV cache from a prefill to a decode instance).
CommTime point_to_point(const Topology& topo, int src, int dst, double bytes);

/// Every rank sends `bytes_per_pair` to every other rank.
CommTime all_to_all(const Topology& topo, std::span<const int> ranks, double bytes_per_pair,
                    Routing routing = Routing::pruned);

/// MoE dispatch / combine: rank i sends bytes_per_rank[i] in total, spread evenly over all
/// ranks (uniform expert routing); the share addressed to itself stays local.
CommTime moe_all_to_all(const Topology& topo, std::span<const int> ranks,
                        std::span<const double> bytes_per_rank, Routing routing = Routing::pruned);

/// moe_all_to_all's loads.
StepLoads moe_all_to_all_loads(const Topology& topo, std::span<const int> ranks,
                               std::span<const double> bytes_per_rank,
                               Routing routing = Routing::pruned);

/// Each rank holds `bytes_per_rank` of input and ends with its 1/n reduced share.
CommTime reduce_scatter(const Topology& topo, std::span<const int> ranks, double bytes_per_rank);
/// Each rank contributes `bytes_per_rank` and ends with all n contributions.
CommTime all_gather(const Topology& topo, std::span<const int> ranks, double bytes_per_rank);
/// Each rank holds `bytes` and ends with their sum: reduce-scatter then all-gather.
CommTime all_reduce(const Topology& topo, std::span<const int> ranks, double bytes);

/// Ranks 0 .. n-1 (the first n devices in node order).
std::vector<int> first_ranks(int n);

}  // namespace v4sim
