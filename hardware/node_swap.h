// The symmetry of a system built from identical nodes: exchanging two nodes' vertices (the i-th
// vertex of one with the i-th of the other, in vertex order) is often an automorphism of the
// topology graph. hardware/collectives.cpp uses it to time a 384-rank all-to-all by routing the
// sources of one node and mapping their arc loads onto the other nodes' sources (see there for
// why the mapped loads are the same doubles). Include from .cpp files only (topology.h).
#pragma once

#include <utility>
#include <vector>

#include "hardware/topology.h"

namespace v4sim {

class NodeSwap {
 public:
  explicit NodeSwap(const Topology& topo);

  /// Sets the exchange of nodes `a` and `b` (a == b: the identity). False, and the identity set,
  /// when it is not an automorphism: nodes of different sizes, or an arc without an image of the
  /// same tier and latency between the images of its ends (parallel arcs pair up in order).
  bool set(int a, int b);

  /// Node of vertex v (-1 for a system-level switch) and its place among its node's vertices.
  int node_of(int v) const { return node_[v]; }
  int index_in_node(int v) const { return index_[v]; }

  /// Images under the exchange set last.
  int vertex(int v) const {
    if (a_ < 0) return v;
    return node_[v] == a_ ? members_[b_][index_[v]] : node_[v] == b_ ? members_[a_][index_[v]] : v;
  }
  int arc(int id) const { return arc_[id]; }
  /// The two nodes exchanged ({-1, -1} for the identity).
  std::pair<int, int> swapped() const { return {a_, b_}; }
  /// Whether v's out-arcs map, in their order, onto out-arcs of vertex(v) in their order.
  bool keeps_order(int v) const { return !reordered_[v]; }

 private:
  void clear();

  std::vector<int> node_, index_;
  std::vector<std::vector<int>> members_;  // each node's vertices, in vertex order
  // The graph's arcs as flat arrays (CSR order: a vertex's out-arcs are [first_[u], first_[u+1])).
  std::vector<std::size_t> first_;
  std::vector<int> target_;
  std::vector<double> latency_s_;
  std::vector<LinkTier> tier_;
  int a_ = -1, b_ = -1;
  int refused_a_ = -1, refused_b_ = -1;  // the last pair set() refused
  std::vector<int> arc_;                 // image of each arc: identity except changed_
  std::vector<int> changed_;             // arcs whose image is not themselves
  std::vector<int> taken_;               // arcs that are an image (used_ set)
  std::vector<char> reordered_;          // by vertex
  std::vector<int> touched_;             // vertices whose reordered_ / mark_ was set
  std::vector<char> mark_, used_;        // scratch: affected vertices; arcs taken as images
  std::vector<std::size_t> candidates_;  // scratch: the arcs of one vertex that may move
};

}  // namespace v4sim
