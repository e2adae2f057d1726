// pack_pools: the nodes a purchase plan's pools occupy together, each case counted by hand.
#include <gtest/gtest.h>

#include <vector>

#include "sim/plan.h"

namespace v4sim {
namespace {

PoolPlan pool(Phase phase, std::int64_t size, std::int64_t instances) {
  PoolPlan p;
  p.phase = phase;
  p.instance_devices = size;
  p.instances = instances;
  return p;
}

// The 50B-tokens/day V4-Flash plan on DGX B200 (8 GPUs a server) before packing: prefill 5 x 2,
// decode 3 x 2 + 2 x 4 + 1 x 8 took 2 + 1 + 1 + 1 = 5 servers, pool by pool. Packed: the 8-GPU
// instance takes a server; the two 4s fill a second; four prefill 2s fill a third; the fifth
// prefill 2 opens a fourth, where the three decode 2s join it. 32 ranks in 4 servers.
TEST(PackPools, SlicesOfDifferentPoolsShareServers) {
  std::vector<PoolPlan> pools = {pool(Phase::prefill, 2, 5), pool(Phase::decode, 2, 3),
                                 pool(Phase::decode, 4, 2), pool(Phase::decode, 8, 1)};
  EXPECT_EQ(pack_pools(pools, 8), 4);
  EXPECT_EQ(pools[0].nodes, 2);  // the third and fourth servers
  EXPECT_EQ(pools[1].nodes, 1);  // the fourth, shared with prefill
  EXPECT_EQ(pools[2].nodes, 1);
  EXPECT_EQ(pools[3].nodes, 1);
}

// The same demand on GB200 NVL72 (72 GPUs a rack): prefill 9 x 1, decode 6 x 2 + 2 x 4, 29 ranks,
// took three racks, one per pool; all of them fit in one.
TEST(PackPools, TraysOfOneRackServeEveryPool) {
  std::vector<PoolPlan> pools = {pool(Phase::prefill, 1, 9), pool(Phase::decode, 2, 6),
                                 pool(Phase::decode, 4, 2)};
  EXPECT_EQ(pack_pools(pools, 72), 1);
  for (const PoolPlan& p : pools) EXPECT_EQ(p.nodes, 1);
}

// A rack of 72 holds one 64-rank slice and one 8-rank slice (64 + 8 = 72), not two 64s: three 64s
// and three 8s make three racks; a fourth 8 needs a fourth rack.
TEST(PackPools, LargestFirstIntoTheRoomLeft) {
  std::vector<PoolPlan> pools = {pool(Phase::decode, 64, 3), pool(Phase::prefill, 8, 3)};
  EXPECT_EQ(pack_pools(pools, 72), 3);
  pools[1].instances = 4;
  EXPECT_EQ(pack_pools(pools, 72), 4);
  EXPECT_EQ(pools[0].nodes, 3);
  EXPECT_EQ(pools[1].nodes, 4);  // one in each 64's rack, the fourth alone
}

// Instances of a node or more take whole nodes of their own: a 16-rank instance on 8-GPU servers
// takes two, and a 2-rank slice does not move into them.
TEST(PackPools, WholeNodeInstancesTakeTheirOwnNodes) {
  std::vector<PoolPlan> pools = {pool(Phase::decode, 16, 3), pool(Phase::prefill, 8, 2),
                                 pool(Phase::prefill, 2, 1)};
  EXPECT_EQ(pack_pools(pools, 8), 3 * 2 + 2 + 1);
  EXPECT_EQ(pools[0].nodes, 6);
  EXPECT_EQ(pools[1].nodes, 2);
  EXPECT_EQ(pools[2].nodes, 1);
}

// A pool of many identical slices fills node after node, after the larger slices have taken
// their places (a 6 is not a size the search makes, but packing does not depend on it).
TEST(PackPools, ManySlicesFillNodesInOrder) {
  std::vector<PoolPlan> pools = {pool(Phase::prefill, 2, 21), pool(Phase::decode, 6, 2)};
  // Largest first: the two 6s open two servers (2 ranks left in each), then the 2s fill those two
  // and 19 more go four to a server: 2 + ceil(19 / 4) = 7.
  EXPECT_EQ(pack_pools(pools, 8), 7);
  EXPECT_EQ(pools[1].nodes, 2);
  EXPECT_EQ(pools[0].nodes, 7);
}

}  // namespace
}  // namespace v4sim
