#include "hardware/node_swap.h"

#include <numeric>

namespace v4sim {

NodeSwap::NodeSwap(const Topology& topo) {
  const TopologyGraph& g = topo.graph;
  const int n = topo.num_vertices();
  const std::size_t arcs = boost::num_edges(g);
  node_.assign(n, -1);
  index_.assign(n, -1);
  for (int v = 0; v < n; ++v) {
    const int k = g[v].node;
    if (k < 0) continue;
    if (k >= static_cast<int>(members_.size())) members_.resize(k + 1);
    node_[v] = k;
    index_[v] = static_cast<int>(members_[k].size());
    members_[k].push_back(v);
  }
  first_.assign(n + 1, 0);
  target_.resize(arcs);
  latency_s_.resize(arcs);
  tier_.resize(arcs);
  for (auto [it, end] = boost::edges(g); it != end; ++it) {
    const auto id = boost::get(boost::edge_index, g, *it);
    target_[id] = static_cast<int>(boost::target(*it, g));
    latency_s_[id] = g[*it].latency_s;
    tier_[id] = g[*it].tier;
    ++first_[boost::source(*it, g) + 1];
  }
  std::partial_sum(first_.begin(), first_.end(), first_.begin());
  arc_.resize(arcs);
  std::iota(arc_.begin(), arc_.end(), 0);
  reordered_.assign(n, 0);
  mark_.assign(n, 0);
  used_.assign(arcs, 0);
}

void NodeSwap::clear() {
  for (int id : changed_) arc_[id] = id;
  changed_.clear();
  for (int id : taken_) used_[id] = 0;
  taken_.clear();
  for (int v : touched_) reordered_[v] = mark_[v] = 0;
  touched_.clear();
  a_ = b_ = -1;
}

bool NodeSwap::set(int a, int b) {
  if (a == a_ && b == b_) return true;
  clear();
  if (a == b) return true;
  // A node's sources come in a row and each asks for the same exchange: refuse again at once.
  if (a == refused_a_ && b == refused_b_) return false;
  refused_a_ = a;
  refused_b_ = b;
  const int nodes = static_cast<int>(members_.size());
  if (a < 0 || b < 0 || a >= nodes || b >= nodes || members_[a].size() != members_[b].size())
    return false;
  a_ = a;
  b_ = b;
  // Only the two nodes' vertices and their neighbours have arcs that move: any other arc joins
  // two fixed vertices.
  const auto touch = [&](int v) {
    if (mark_[v]) return;
    mark_[v] = 1;
    touched_.push_back(v);
  };
  for (int k : {a, b})
    for (int u : members_[k]) {
      touch(u);
      for (std::size_t e = first_[u]; e < first_[u + 1]; ++e) touch(target_[e]);
    }
  const auto moved = [&](int v) { return node_[v] == a || node_[v] == b; };
  for (std::size_t t = 0; t < touched_.size(); ++t) {
    const int u = touched_[t];
    const int w = vertex(u);
    if (first_[u + 1] - first_[u] != first_[w + 1] - first_[w]) {
      clear();
      return false;
    }
    // The arcs that may move: all of a moved vertex's, the arcs into the two nodes of a fixed
    // one (a fixed vertex's arcs between fixed vertices are their own images).
    candidates_.clear();
    for (std::size_t e = first_[u]; e < first_[u + 1]; ++e)
      if (moved(u) || moved(target_[e])) candidates_.push_back(e);
    const std::size_t shift = first_[w] - first_[u];  // 0 for a fixed vertex
    for (std::size_t c = 0; c < candidates_.size(); ++c) {
      const std::size_t e = candidates_[c];
      const int image_v = vertex(target_[e]);
      const auto fits = [&](std::size_t f) {
        return !used_[f] && target_[f] == image_v && tier_[f] == tier_[e] &&
               latency_s_[f] == latency_s_[e];
      };
      // Identical nodes list their arcs in the same order: try the same place first.
      std::size_t image = e + shift;
      if (!fits(image)) {
        image = first_[w + 1];
        for (std::size_t d = 0; d < candidates_.size(); ++d)
          if (fits(candidates_[d] + shift)) {
            image = candidates_[d] + shift;
            break;
          }
        if (image == first_[w + 1]) {
          clear();
          return false;
        }
      }
      used_[image] = 1;
      taken_.push_back(static_cast<int>(image));
      if (image != e) {
        arc_[e] = static_cast<int>(image);
        changed_.push_back(static_cast<int>(e));
      }
    }
    for (std::size_t e = first_[u] + 1; e < first_[u + 1]; ++e)
      if (arc_[e] < arc_[e - 1]) {
        reordered_[u] = 1;
        break;
      }
  }
  refused_a_ = refused_b_ = -1;
  return true;
}

}  // namespace v4sim
