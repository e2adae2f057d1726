// Collectives over the graph against closed forms on a single switch, a full mesh and a ring,
// and on shipped systems where the routing rules decide the path.
//
// Notation: n devices, B bytes/s per link per direction (usable = nominal here), a = latency per
// link. Closed forms (bytes b per pair, S per rank):
//   single switch: p2p M/B + 2a;  all-to-all (n-1) b / B + 2a;  reduce-scatter (direct)
//                  (n-1) S/n / B + 2a;  all-reduce twice that.
//   full mesh:     all-to-all b / B + a;  reduce-scatter (direct) S/n / B + a.
//   ring (bidirectional, shortest paths, ties split): all-to-all max arc load
//                  b (h (h+1) / 2 + n/4) for even n with h = n/2 - 1, b h (h+1) / 2 for odd n
//                  with h = (n-1)/2; reduce-scatter (ring) (n-1) (S / (2n) / B + a).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "hardware/collectives.h"
#include "hardware/system.h"
#include "hardware/topology.h"
#include "models/config/input_error.h"

namespace v4sim {
namespace {

/// "d<i>" (built with append: GCC 12 warns falsely on "d" + std::to_string(i)).
std::string device_name(int i) {
  std::string s("d");
  s.append(std::to_string(i));
  return s;
}

constexpr double kGbPerS = 100;  // per link per direction
constexpr double kB = kGbPerS * 1e9;
constexpr double kA = 1e-6;

Netlist single_switch(int n) {
  Netlist net;
  net.name = "switch";
  for (int i = 0; i < n; ++i) net.add_device(device_name(i), 0);
  const int sw = net.add_switch("sw", "sw", 0);
  for (int i = 0; i < n; ++i)
    net.links.push_back({i, sw, kGbPerS, 1.0, kA, LinkTier::scale_up, "l"});
  return net;
}

Netlist full_mesh(int n) {
  Netlist net;
  net.name = "mesh";
  for (int i = 0; i < n; ++i) net.add_device(device_name(i), 0);
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j)
      net.links.push_back({i, j, kGbPerS, 1.0, kA, LinkTier::scale_up, "l"});
  return net;
}

Netlist ring(int n) {
  Netlist net;
  net.name = "ring";
  for (int i = 0; i < n; ++i) net.add_device(device_name(i), 0);
  for (int i = 0; i < n; ++i)
    net.links.push_back({i, (i + 1) % n, kGbPerS, 1.0, kA, LinkTier::scale_up, "l"});
  return net;
}

constexpr double kTol = 1e-12;

// The names tables of the link enums read both ways; an enumerator without a name would throw
// (std::array::at) or fail the tables' static_asserts.
TEST(LinkNames, RoundTrip) {
  for (LinkPattern p :
       {LinkPattern::complete, LinkPattern::ring, LinkPattern::pairs, LinkPattern::planes})
    EXPECT_EQ(parse_link_pattern(to_string(p)), p);
  for (LinkTier t : {LinkTier::scale_up, LinkTier::scale_out, LinkTier::die_to_die})
    EXPECT_EQ(parse_link_tier(to_string(t)), t);
  EXPECT_EQ(to_string(LinkPattern::planes), "planes");
  EXPECT_EQ(to_string(LinkTier::die_to_die), "die_to_die");
  EXPECT_EQ(parse_link_pattern("mesh"), std::nullopt);
  EXPECT_EQ(parse_link_tier("Scale_up"), std::nullopt);
}

TEST(CollectivesSingleSwitch, ClosedForms) {
  const Topology t = build_topology(single_switch(8));
  const auto ranks = first_ranks(8);
  EXPECT_NEAR(point_to_point(t, 0, 5, 1e9).total_s, 1e9 / kB + 2 * kA, kTol);

  const CommTime a2a = all_to_all(t, ranks, 1e8);
  EXPECT_NEAR(a2a.total_s, 7 * 1e8 / kB + 2 * kA, kTol);
  EXPECT_NEAR(a2a.bottleneck_bytes, 7e8, 1e-3);

  // Reduce-scatter of S = 8e8 per rank: direct sends 7 chunks of 1e8 at once and beats the ring
  // (7 steps x (1e8 / B + 2a)) by its latency.
  const CommTime rs = reduce_scatter(t, ranks, 8e8);
  EXPECT_EQ(rs.algorithm, "direct");
  EXPECT_NEAR(rs.total_s, 7e8 / kB + 2 * kA, kTol);
  const CommTime ag = all_gather(t, ranks, 1e8);
  EXPECT_NEAR(ag.total_s, 7e8 / kB + 2 * kA, kTol);
  const CommTime ar = all_reduce(t, ranks, 8e8);
  EXPECT_EQ(ar.algorithm, "direct+direct");
  EXPECT_NEAR(ar.total_s, 2 * (7e8 / kB + 2 * kA), kTol);
}

TEST(CollectivesSingleSwitch, MoeAllToAllWithPerRankBytes) {
  const Topology t = build_topology(single_switch(4));
  const auto ranks = first_ranks(4);
  // Rank 0 sends 8e8 spread over 4 ranks (2e8 each, its own share local): 6e8 leaves it. The
  // others send 4e8 (1e8 each): every receiver gets 2e8 + 2 x 1e8 = 4e8. Bottleneck 6e8.
  const std::vector<double> bytes = {8e8, 4e8, 4e8, 4e8};
  const CommTime c = moe_all_to_all(t, ranks, bytes);
  EXPECT_NEAR(c.total_s, 6e8 / kB + 2 * kA, kTol);
  EXPECT_NE(c.bottleneck.find("d0 -> sw"), std::string::npos) << c.bottleneck;
}

TEST(CollectivesFullMesh, ClosedForms) {
  const Topology t = build_topology(full_mesh(8));
  const auto ranks = first_ranks(8);
  EXPECT_NEAR(point_to_point(t, 2, 6, 1e9).total_s, 1e9 / kB + kA, kTol);
  EXPECT_NEAR(all_to_all(t, ranks, 1e8).total_s, 1e8 / kB + kA, kTol);
  const CommTime rs = reduce_scatter(t, ranks, 8e8);
  EXPECT_EQ(rs.algorithm, "direct");
  EXPECT_NEAR(rs.total_s, 1e8 / kB + kA, kTol);
}

TEST(CollectivesRing, PointToPointSplitsOverBothWays) {
  const Topology t = build_topology(ring(8));
  EXPECT_NEAR(point_to_point(t, 0, 1, 1e9).total_s, 1e9 / kB + kA, kTol);
  // Antipodal: two 4-hop shortest paths, half the bytes each.
  EXPECT_NEAR(point_to_point(t, 0, 4, 1e9).total_s, 0.5e9 / kB + 4 * kA, kTol);
}

TEST(CollectivesRing, AllToAllEvenAndOdd) {
  {
    const Topology t = build_topology(ring(8));
    // h = 3: load = b (3 x 4 / 2 + 8 / 4) = 8 b; longest path 4 hops.
    EXPECT_NEAR(all_to_all(t, first_ranks(8), 1e8).total_s, 8e8 / kB + 4 * kA, kTol);
  }
  {
    const Topology t = build_topology(ring(7));
    // h = 3: load = b x 3 x 4 / 2 = 6 b; longest path 3 hops.
    EXPECT_NEAR(all_to_all(t, first_ranks(7), 1e8).total_s, 6e8 / kB + 3 * kA, kTol);
  }
}

TEST(CollectivesRing, ReduceScatterPicksTheRing) {
  const Topology t = build_topology(ring(8));
  const CommTime rs = reduce_scatter(t, first_ranks(8), 8e8);
  // Ring: 7 steps, each sends 1e8 / 2 to either neighbour over its own link.
  EXPECT_EQ(rs.algorithm, "ring");
  EXPECT_EQ(rs.steps, 7);
  EXPECT_NEAR(rs.total_s, 7 * (0.5e8 / kB + kA), kTol);
  // Direct on this ring would be the all-to-all above: 8e8 / B + 4a, slower.
  EXPECT_LT(rs.total_s, 8e8 / kB + 4 * kA);
}

TEST(CollectivesInput, RejectsBadRanks) {
  const Topology t = build_topology(single_switch(4));
  EXPECT_THROW(point_to_point(t, 0, 4, 1.0), InputError);
  const std::vector<int> twice = {0, 1, 1};
  EXPECT_THROW(all_to_all(t, twice, 1.0), InputError);
  EXPECT_EQ(all_reduce(t, first_ranks(1), 1e9).total_s, 0);
}

TEST(CollectivesShipped, CloudMatrixRoutes) {
  const SystemSpec s = load_system("cloudmatrix384");
  const Topology t = build_topology(expand(s, s.default_nodes));
  const double usable = 196 * 0.837 * 1e9;  // per die, all 7 UB links
  // Die 0 to die 16 (another node): split over 7 planes x 16 L2 chips; 4 hops =
  // 0.6 + 0.35 + 0.35 + 0.6 = 1.9 us (the inter-node latency of [CM384 Table 1] by construction).
  EXPECT_NEAR(point_to_point(t, 0, 16, 1e9).total_s, 1e9 / usable + 1.9e-6, 1e-9);
  // Die 0 to die 2 (same node, other package): 2 hops over the 7 L1 chips = 1.2 us.
  EXPECT_NEAR(point_to_point(t, 0, 2, 1e9).total_s, 1e9 / usable + 1.2e-6, 1e-9);
  // Die 0 to die 1 (same package): the 270 GB/s die-to-die link.
  EXPECT_NEAR(point_to_point(t, 0, 1, 1e9).total_s, 1e9 / 270e9 + 0.3e-6, 1e-9);
}

TEST(CollectivesShipped, HgxClusterKeepsIntraNodeTrafficOnNvlink) {
  const SystemSpec s = load_system("hgx-h100");
  const Topology t = build_topology(expand(s, 2));
  // Same node: NVLink at 450 x 0.80 GB/s, 2 hops of 0.5 us - not the equally short NIC path.
  const CommTime intra = point_to_point(t, 0, 1, 1e9);
  EXPECT_NEAR(intra.total_s, 1e9 / 360e9 + 1e-6, 1e-9);
  EXPECT_NE(intra.bottleneck.find("scale_up"), std::string::npos);
  // Other node: the 50 GB/s NIC, 2 hops of 1.5 us.
  const CommTime inter = point_to_point(t, 0, 8, 1e9);
  EXPECT_NEAR(inter.total_s, 1e9 / 50e9 + 3e-6, 1e-9);
  EXPECT_NE(inter.bottleneck.find("scale_out"), std::string::npos);
}

// Pruned routing skips only vertices on no shortest path to a destination, so it must give the
// same doubles as routing over the whole graph: every shipped system, MoE groups from two ranks to
// a few nodes (and past a node boundary), and random point-to-point flows.
TEST(CollectivesShipped, PrunedRoutingEqualsFullRouting) {
  const auto same = [](const CommTime& a, const CommTime& b, const std::string& what) {
    EXPECT_EQ(a.total_s, b.total_s) << what;
    EXPECT_EQ(a.transfer_s, b.transfer_s) << what;
    EXPECT_EQ(a.latency_s, b.latency_s) << what;
    EXPECT_EQ(a.bottleneck, b.bottleneck) << what;
    EXPECT_EQ(a.bottleneck_bytes, b.bottleneck_bytes) << what;
  };
  const unsigned seed = 20261206;
  std::mt19937 rng(seed);
  for (const std::string& name : list_systems()) {
    const SystemSpec s = load_system(name);
    const int nodes = std::min(s.max_nodes, std::max(s.default_nodes, 2));
    const Topology t = build_topology(expand(s, nodes));
    const int per_node = s.devices_per_node;
    for (int group : {2, per_node, per_node + 3, 3 * per_node, 96}) {
      if (group < 2 || group > t.num_devices) continue;
      const std::string what = name + " x" + std::to_string(nodes) + ", group " +
                               std::to_string(group) + ", seed " + std::to_string(seed);
      const std::vector<int> ranks = first_ranks(group);
      std::vector<double> bytes(ranks.size());
      for (double& b : bytes) b = std::uniform_real_distribution<double>(1e6, 1e8)(rng);
      same(moe_all_to_all(t, ranks, bytes), moe_all_to_all(t, ranks, bytes, Routing::full), what);
    }
    std::uniform_int_distribution<int> rank(0, t.num_devices - 1);
    std::vector<Flow> flows;
    for (int i = 0; i < 20; ++i) flows.push_back({rank(rng), rank(rng), 1e6 * (i + 1)});
    same(transfer_time(t, flows), transfer_time(t, flows, Routing::full),
         name + " random flows, seed " + std::to_string(seed));
  }
}

// Routing::pruned maps a routed source's loads onto its twin in another node when exchanging the
// two nodes is a symmetry of the graph and of the demand: every arc's load must be the same double
// as routing each source over the whole graph. Bytes the same for every rank and bytes that depend
// only on the place in a node replay every source after the first node; bytes that differ per
// rank replay none; a group ending inside a node replays only where the demand maps; ring flows
// (each rank to its neighbours) replay the ranks inside a node. HGX nodes reach each other over
// the scale-out network, so their sources route twice (inside and outside their scale-up domain).
TEST(CollectivesShipped, ReplayedLoadsEqualRoutedLoads) {
  const auto same = [](const StepLoads& a, const StepLoads& b, const std::string& what) {
    EXPECT_EQ(a.arc_bytes, b.arc_bytes) << what;
    EXPECT_EQ(a.latency_s, b.latency_s) << what;
    EXPECT_EQ(b.replayed_sources, 0) << what;  // Routing::full routes every source
  };
  const unsigned seed = 20261206;
  std::mt19937 rng(seed);
  for (auto [name, nodes] :
       {std::pair{"cloudmatrix384", 5}, std::pair{"hgx-h800", 4}, std::pair{"atlas-800-a3", 3}}) {
    const SystemSpec s = load_system(name);
    const Topology t = build_topology(expand(s, nodes));
    const int per_node = s.devices_per_node;
    const int whole = per_node * nodes;
    const std::string sys = std::string(name) + " x" + std::to_string(nodes);
    const std::vector<int> ranks = first_ranks(whole);

    const std::vector<double> uniform(ranks.size(), 64.0 * 1024 * 1024);
    std::vector<double> by_place(ranks.size()), random(ranks.size());
    const std::vector<double>& by_place_ref = by_place;
    for (std::size_t i = 0; i < ranks.size(); ++i) {
      by_place[i] = 1e6 * static_cast<double>(1 + i % per_node) / 3;
      random[i] = std::uniform_real_distribution<double>(1e6, 1e8)(rng);
    }
    const auto pruned = [&](std::span<const int> r, const std::vector<double>& b) {
      return moe_all_to_all_loads(t, r, b);
    };
    const auto full = [&](std::span<const int> r, const std::vector<double>& b) {
      return moe_all_to_all_loads(t, r, b, Routing::full);
    };
    for (const std::vector<double>* bytes : {&uniform, &by_place_ref}) {
      const StepLoads p = pruned(ranks, *bytes);
      same(p, full(ranks, *bytes), sys + (bytes == &uniform ? " uniform" : " by place"));
      EXPECT_EQ(p.routed_sources, per_node) << sys;
      EXPECT_EQ(p.replayed_sources, whole - per_node) << sys;
    }
    const StepLoads p = pruned(ranks, random);
    same(p, full(ranks, random), sys + " random bytes, seed " + std::to_string(seed));
    EXPECT_EQ(p.replayed_sources, 0) << sys;

    const std::vector<int> partial = first_ranks(whole - per_node / 2);
    const std::vector<double> partial_bytes(partial.size(), 1e7);
    const StepLoads q = pruned(partial, partial_bytes);
    same(q, full(partial, partial_bytes), sys + " partial node");
    // At most the full nodes after the first replay: the partial node's ranks do not map onto
    // node 0's. (CloudMatrix replays none: node 0's shares at the L2 switches differ, the
    // partial node's L1 chips passing on fewer bytes, and every exchange reorders those sums.)
    EXPECT_LE(q.replayed_sources, (nodes - 2) * per_node) << sys;

    std::vector<Flow> ring;
    for (int i = 0; i < whole; ++i) {
      ring.push_back({i, (i + 1) % whole, 3e6});
      ring.push_back({i, (i + whole - 1) % whole, 3e6});
    }
    const StepLoads r = transfer_loads(t, ring);
    same(r, transfer_loads(t, ring, Routing::full), sys + " ring");
    EXPECT_GT(r.replayed_sources, 0) << sys;
  }
}

// Four one-device nodes on one switch: exchanging nodes 0 and 3 is a symmetry, but it reorders the
// switch's arcs, so the switch sums rank 3's shares in another order than rank 0's. With shares of
// 1, 1 and 1e16 bytes the order shows ((1 + 1) + 1e16 is 1e16 + 2; (1e16 + 1) + 1 rounds to 1e16),
// so rank 3 must be routed, not replayed; with equal shares the order is moot and it is replayed.
TEST(CollectivesReplay, KeepsTheOrderOfEachSum) {
  Netlist net;
  net.name = "star";
  net.nodes = 4;
  for (int i = 0; i < 4; ++i) net.add_device(device_name(i), i);
  const int sw = net.add_switch("sw", "sw", -1);
  for (int i = 0; i < 4; ++i)
    net.links.push_back({i, sw, kGbPerS, 1.0, kA, LinkTier::scale_up, "l"});
  const Topology t = build_topology(net);
  for (double big : {1e16, 1.0}) {
    const std::vector<Flow> flows{{0, 1, 1}, {0, 2, 1}, {0, 3, big},
                                  {3, 1, 1}, {3, 2, 1}, {3, 0, big}};
    const StepLoads pruned = transfer_loads(t, flows);
    const StepLoads full = transfer_loads(t, flows, Routing::full);
    EXPECT_EQ(pruned.arc_bytes, full.arc_bytes) << big;
    EXPECT_EQ(pruned.replayed_sources, big == 1.0 ? 1 : 0) << big;
  }
  // The order matters for these shares: a replay would have given rank 3's arc 1e16 + 2.
  EXPECT_NE((1e16 + 1) + 1, (1.0 + 1) + 1e16);
}

// sim/communication.cpp times a one-step transfer at twice the bytes by doubling its transfer
// part: every arc load doubles exactly, so the bottleneck and the latency stay.
TEST(CollectivesShipped, DoubleTheBytesDoublesTheTransferExactly) {
  for (const char* name : {"cloudmatrix384", "gb200-nvl72", "hgx-h800"}) {
    const SystemSpec s = load_system(name);
    const Topology t = build_topology(expand(s, std::min(s.max_nodes, 4)));
    const std::vector<int> ranks = first_ranks(std::min(t.num_devices, 40));
    const std::vector<double> one(ranks.size(), 64.0 * 1024 * 1024);
    const std::vector<double> two(ranks.size(), 2 * 64.0 * 1024 * 1024);
    const CommTime a = moe_all_to_all(t, ranks, one);
    const CommTime b = moe_all_to_all(t, ranks, two);
    EXPECT_EQ(b.transfer_s, 2 * a.transfer_s) << name;
    EXPECT_EQ(b.latency_s, a.latency_s) << name;
    EXPECT_EQ(b.total_s, 2 * a.transfer_s + a.latency_s) << name;
    EXPECT_EQ(b.bottleneck, a.bottleneck) << name;
    const CommTime p = point_to_point(t, 0, ranks.back(), 1e9);
    const CommTime q = point_to_point(t, 0, ranks.back(), 2e9);
    EXPECT_EQ(q.transfer_s, 2 * p.transfer_s) << name;
    EXPECT_EQ(q.latency_s, p.latency_s) << name;
  }
}

}  // namespace
}  // namespace v4sim
