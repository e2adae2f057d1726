// The planner times a group on the fewest nodes that hold it only when that changes no number
// (sim/communication.h): on a 128-cabinet SuperPoD a 256-rank expert group's line is the whole
// system's; on a system whose nodes bridge its fabric switches it times the whole system.
#include <gtest/gtest.h>

#include <vector>

#include "hardware/collectives.h"
#include "hardware/system.h"
#include "hardware/topology.h"
#include "sim/communication.h"
#include "tests/support/bridged_system.h"

namespace v4sim {
namespace {

TEST(CommPlanner, ASuperPodsExpertGroupIsTimedAsOnTheWholeSystem) {
  const SystemSpec pod = load_system("atlas-950-superpod");
  ASSERT_EQ(pod.default_nodes, 128);
  CommPlanner planner(pod, pod.default_nodes);
  Layout layout;
  layout.dp = 8192;
  layout.ep = 256;
  layout.tp = 1;
  const CommLine line = planner.model(layout).moe_all_to_all;
  const Topology whole = build_topology(expand(pod, pod.default_nodes));
  const double bytes = 64.0 * 1024 * 1024;
  const std::vector<double> per_rank(256, bytes);
  const CommTime t = moe_all_to_all(whole, first_ranks(256), per_rank);
  EXPECT_NEAR(line.at(bytes), t.total_s, 1e-12 * t.total_s);
  EXPECT_EQ(line.bottleneck, t.bottleneck);
}

TEST(CommPlanner, NodesThatBridgeTheFabricGetTheWholeSystem) {
  const SystemSpec s = test_support::bridged_system(3);
  CommPlanner planner(s, 3);
  // Node 0's two devices: three bridges at 1 GB/s each, not node 0's alone.
  EXPECT_NEAR(planner.transfer(0, 1).s_per_byte, 1 / 3e9, 1e-12 / 3e9);
  Layout layout;
  layout.dp = 2;
  layout.ep = 2;
  const CommLine a2a = planner.model(layout).moe_all_to_all;
  const CommTime whole =
      moe_all_to_all(build_topology(expand(s, 3)), first_ranks(2), std::vector<double>(2, 3e9));
  EXPECT_NEAR(a2a.at(3e9), whole.total_s, 1e-12 * whole.total_s);
}

}  // namespace
}  // namespace v4sim
