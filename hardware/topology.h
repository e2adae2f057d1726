// The system as a Boost.Graph: vertices are devices and switches, each full-duplex link is two
// arcs (one per direction) carrying that direction's bandwidth and latency. A compressed sparse
// row graph: an 8,192-device SuperPoD is built in a few allocations (an adjacency_list made one
// per arc), a vertex's out-arcs are contiguous, in the order of their links in the netlist, and
// an arc's edge_index is its dense id (loads live in vectors). Include only from .cpp files (it
// pulls in Boost.Graph); widely included headers use the forward declaration `struct Topology;`
// (hardware/collectives.h does).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include <boost/graph/compressed_sparse_row_graph.hpp>

#include "hardware/netlist.h"

namespace v4sim {

struct TopoVertex {
  std::string name;
  std::string group;  // "device" or the switch group
  int rank = -1;      // device index, -1 for a switch
  int node = -1;
};

struct TopoArc {
  double gb_per_s = 0;         // nominal, this direction
  double usable_gb_per_s = 0;  // gb_per_s x the tier's usable fraction
  double latency_s = 0;
  LinkTier tier = LinkTier::scale_up;
  int link = 0;  // index of the physical link in Netlist::links
};

using TopologyGraph = boost::compressed_sparse_row_graph<boost::directedS, TopoVertex, TopoArc>;

struct Topology {
  std::string name;
  int nodes = 0;
  int num_devices = 0;
  int num_links = 0;    // physical (full-duplex) links
  TopologyGraph graph;  // device rank r is vertex r
  /// Scale-up domain of each rank: the component of its scale_up / die_to_die links.
  std::vector<int> scale_up_domain;

  int num_vertices() const { return static_cast<int>(boost::num_vertices(graph)); }
};

Topology build_topology(const Netlist& net);

/// Whether `topo`, a system expanded at k nodes, routes between its devices exactly as the same
/// system does at any larger node count, so that a collective over the first k nodes' ranks may
/// be timed on the smaller graph (an 8,192-NPU SuperPoD's 256-rank expert group on 4 of its 128
/// cabinets). Routing splits flows over every shortest path (hardware/collectives.h), so the
/// question is whether a larger system offers new shortest paths. A new path must cross an added
/// node between two system-level vertices X and Y (fabric switches, the scale-out switch): the
/// nodes join nothing else, and each node is a copy of the others. Such a detour is at least
/// a(X) + T(X, Y) + a(Y) long, where a is the distance from the nearest device and T the shortest
/// way from X to Y through one node; when that exceeds the longest route between two devices
/// (per tier mode: scale-up only within a scale-up domain, every tier across domains), no
/// shortest route can take it, and distances are unchanged too, since a detour through an added
/// node has a copy through node 0. True when every such bound holds; false otherwise, which
/// keeps the whole system (a sufficient test, not a necessary one). Assumes the node copies and
/// fabric that expand() builds (hardware/system.h).
bool same_routes_with_more_nodes(const Topology& topo);

/// Counts and bandwidths for `v4sim topology`. Bandwidths are nominal GB/s per direction.
struct TopologySummary {
  int devices = 0;
  int switches = 0;
  int links = 0;
  int nodes = 0;
  int scale_up_domains = 0;
  int largest_scale_up_domain = 0;          // devices
  double scale_up_injection_gb_per_s = 0;   // per device (minimum over devices)
  double scale_out_injection_gb_per_s = 0;  // per device (minimum over devices)
  double die_to_die_gb_per_s = 0;           // per device (minimum over devices)
  /// Max flow from the first half of the ranks (node order) to the second half: the bisection
  /// of the natural split, exact for the symmetric topologies we ship. All links / scale-up only.
  double bisection_gb_per_s = 0;
  double scale_up_bisection_gb_per_s = 0;
  int max_scale_up_hops = 0;  // longest shortest scale-up path between two devices of a domain
};
TopologySummary summarize(const Topology& topo);

/// Graphviz (undirected, one edge per physical link, labelled with GB/s per direction).
void write_dot(const Topology& topo, std::ostream& out);

}  // namespace v4sim
