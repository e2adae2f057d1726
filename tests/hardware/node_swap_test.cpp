// NodeSwap: exchanging two nodes is accepted exactly when it is an automorphism, and its arc map
// sends every arc between the images of its ends, keeping tier and latency.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "hardware/node_swap.h"
#include "hardware/system.h"
#include "hardware/topology.h"

namespace v4sim {
namespace {

/// Three one-device nodes on a path: d0 - d1 - d2.
Topology path_of_three() {
  Netlist net;
  net.name = "path";
  net.nodes = 3;
  for (int k = 0; k < 3; ++k) {
    std::string name("d");
    name.append(std::to_string(k));
    net.add_device(name, k);
  }
  net.links.push_back({0, 1, 100, 1.0, 1e-6, LinkTier::scale_up, "l"});
  net.links.push_back({1, 2, 100, 1.0, 1e-6, LinkTier::scale_up, "l"});
  return build_topology(net);
}

/// Every arc maps to an arc from the image of its tail to the image of its head, of the same tier
/// and latency, and no two arcs share an image.
void expect_automorphism(const Topology& t, const NodeSwap& swap) {
  const TopologyGraph& g = t.graph;
  std::vector<int> hits(boost::num_edges(g), 0);
  for (auto [it, end] = boost::edges(g); it != end; ++it) {
    const int id = static_cast<int>(boost::get(boost::edge_index, g, *it));
    const int image = swap.arc(id);
    ++hits[image];
    bool found = false;
    for (auto [jt, jend] = boost::edges(g); jt != jend && !found; ++jt) {
      if (static_cast<int>(boost::get(boost::edge_index, g, *jt)) != image) continue;
      found = true;
      EXPECT_EQ(static_cast<int>(boost::source(*jt, g)),
                swap.vertex(static_cast<int>(boost::source(*it, g))));
      EXPECT_EQ(static_cast<int>(boost::target(*jt, g)),
                swap.vertex(static_cast<int>(boost::target(*it, g))));
      EXPECT_EQ(g[*jt].tier, g[*it].tier);
      EXPECT_EQ(g[*jt].latency_s, g[*it].latency_s);
    }
    EXPECT_TRUE(found) << id;
  }
  EXPECT_TRUE(std::all_of(hits.begin(), hits.end(), [](int h) { return h == 1; }));
}

TEST(NodeSwap, AcceptsOnlyAutomorphisms) {
  const Topology t = path_of_three();
  NodeSwap swap(t);
  // The path's ends trade places; its middle cannot trade with an end (degree 2 vs 1).
  EXPECT_TRUE(swap.set(0, 2));
  EXPECT_EQ(swap.vertex(0), 2);
  EXPECT_EQ(swap.vertex(2), 0);
  EXPECT_EQ(swap.vertex(1), 1);
  expect_automorphism(t, swap);
  EXPECT_FALSE(swap.set(0, 1));
  EXPECT_FALSE(swap.set(0, 1));  // remembered
  // A refused exchange leaves the identity.
  EXPECT_EQ(swap.vertex(0), 0);
  for (int id = 0; id < static_cast<int>(boost::num_edges(t.graph)); ++id)
    EXPECT_EQ(swap.arc(id), id);
  EXPECT_TRUE(swap.set(2, 2));
  EXPECT_EQ(swap.vertex(2), 2);
}

// CloudMatrix384's nodes are interchangeable: a node's own vertices keep their arcs' order, an L2
// switch (one arc to each node, in node order) does not.
TEST(NodeSwap, CloudMatrixNodesAreInterchangeable) {
  const SystemSpec s = load_system("cloudmatrix384");
  const Topology t = build_topology(expand(s, 4));
  NodeSwap swap(t);
  for (auto [a, b] : {std::pair{0, 3}, std::pair{1, 2}, std::pair{3, 0}}) {
    ASSERT_TRUE(swap.set(a, b)) << a << " " << b;
    expect_automorphism(t, swap);
    const int die = 16 * a + 5;
    EXPECT_EQ(swap.vertex(die), 16 * b + 5);
    EXPECT_EQ(swap.node_of(die), a);
    EXPECT_EQ(swap.index_in_node(die), 5);
    EXPECT_TRUE(swap.keeps_order(die));
    int reordered_l2 = 0;
    for (int v = 0; v < t.num_vertices(); ++v)
      if (t.graph[v].group == "l2" && !swap.keeps_order(v)) ++reordered_l2;
    EXPECT_EQ(reordered_l2, 112);
  }
}

}  // namespace
}  // namespace v4sim
