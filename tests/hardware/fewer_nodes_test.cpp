// Timing a group on the fewest nodes that hold it (same_routes_with_more_nodes): on every shipped
// system the collectives among the first nodes' ranks come out bit for bit as on the whole
// system; on a hand-made system whose nodes bridge two fabric switches, the test refuses and the
// smaller graph would indeed be wrong (tests/sim/comm_planner_test.cpp: the planner then times the
// whole system).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "hardware/collectives.h"
#include "hardware/system.h"
#include "hardware/topology.h"
#include "tests/support/bridged_system.h"

namespace v4sim {
namespace {

void expect_same_time(const CommTime& fewer, const CommTime& whole, const std::string& what) {
  EXPECT_EQ(fewer.total_s, whole.total_s) << what;
  EXPECT_EQ(fewer.transfer_s, whole.transfer_s) << what;
  EXPECT_EQ(fewer.latency_s, whole.latency_s) << what;
  EXPECT_EQ(fewer.bottleneck, whole.bottleneck) << what;
  EXPECT_EQ(fewer.bottleneck_bytes, whole.bottleneck_bytes) << what;
  EXPECT_EQ(fewer.algorithm, whole.algorithm) << what;
}

/// Every collective the planner times, on groups of the first `k` nodes' ranks.
void expect_same_collectives(const Topology& fewer, const Topology& whole, int per_node,
                             const std::string& name) {
  const int ranks = fewer.num_devices;
  std::vector<int> groups = {2, per_node, ranks - 1, ranks};
  groups.erase(std::remove_if(groups.begin(), groups.end(), [&](int g) { return g < 2; }),
               groups.end());
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> bytes(1e5, 1e8);
  for (int g : groups) {
    const std::string what = name + " group " + std::to_string(g);
    const std::vector<int> r = first_ranks(g);
    std::vector<double> per_rank(r.size());
    for (double& b : per_rank) b = bytes(rng);
    expect_same_time(moe_all_to_all(fewer, r, per_rank), moe_all_to_all(whole, r, per_rank),
                     what + " moe all-to-all");
    expect_same_time(all_reduce(fewer, r, 3e7), all_reduce(whole, r, 3e7), what + " all-reduce");
    expect_same_time(all_gather(fewer, r, 3e7), all_gather(whole, r, 3e7), what + " all-gather");
    expect_same_time(point_to_point(fewer, 0, g - 1, 3e7), point_to_point(whole, 0, g - 1, 3e7),
                     what + " point-to-point");
  }
  // Random flows among the ranks: every arc's load, not only the bottleneck's.
  std::uniform_int_distribution<int> rank(0, ranks - 1);
  std::vector<Flow> flows;
  for (int i = 0; i < 64; ++i) flows.push_back({rank(rng), rank(rng), bytes(rng)});
  const StepLoads a = transfer_loads(fewer, flows);
  const StepLoads b = transfer_loads(whole, flows);
  EXPECT_EQ(a.latency_s, b.latency_s) << name;
  double sum_a = 0, sum_b = 0;
  for (double x : a.arc_bytes) sum_a += x;
  for (double x : b.arc_bytes) sum_b += x;
  EXPECT_EQ(sum_a, sum_b) << name;
}

TEST(FewerNodes, ShippedSystemsRouteTheFirstNodesAsTheWholeSystemDoes) {
  int compared = 0;
  for (const std::string& name : list_systems()) {
    const SystemSpec s = load_system(name);
    if (s.max_nodes < 2) continue;
    // The default size where a system has one (a SuperPoD's 128 cabinets), else a few servers.
    const int whole_nodes = std::min(s.max_nodes, std::max(s.default_nodes, 4));
    const Topology whole = build_topology(expand(s, whole_nodes));
    for (int k = s.min_nodes; k <= std::min(3, whole_nodes - 1); ++k) {
      const Topology fewer = build_topology(expand(s, k));
      // Every shipped system passes: its nodes meet only at switches that are nearer to each
      // other than any detour through another node.
      ASSERT_TRUE(same_routes_with_more_nodes(fewer)) << name << " at " << k << " nodes";
      expect_same_collectives(
          fewer, whole, s.devices_per_node,
          name + " " + std::to_string(k) + " of " + std::to_string(whole_nodes) + " nodes");
      ++compared;
    }
  }
  EXPECT_GE(compared, 20);
}

TEST(FewerNodes, ABridgingNodeKeepsTheWholeSystem) {
  const SystemSpec s = test_support::bridged_system(3);
  const Topology one = build_topology(expand(s, 1));
  const Topology three = build_topology(expand(s, 3));
  EXPECT_FALSE(same_routes_with_more_nodes(one));
  // One node's bridge carries everything; three nodes' bridges a third each.
  const double bytes = 3e9;
  const CommTime alone = point_to_point(one, 0, 1, bytes);
  const CommTime split = point_to_point(three, 0, 1, bytes);
  EXPECT_NEAR(alone.transfer_s, bytes / 1e9, 1e-12);
  EXPECT_NEAR(split.transfer_s, bytes / 3e9, 1e-12);
  // Two nodes of three: the same refusal.
  EXPECT_FALSE(same_routes_with_more_nodes(build_topology(expand(s, 2))));
}

TEST(FewerNodes, OneFabricSwitchOrOnlyTheScaleOutNetworkPasses) {
  // Devices on one fabric switch: nothing to detour between.
  SystemSpec s = test_support::bridged_system(4);
  s.node_switches.clear();
  s.fabric_switches = {{"f", 1}};
  s.fabric_links = {test_support::link_group("own", "device", "f", 100)};
  EXPECT_TRUE(same_routes_with_more_nodes(build_topology(expand(s, 2))));
}

}  // namespace
}  // namespace v4sim
