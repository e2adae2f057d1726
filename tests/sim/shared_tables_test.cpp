// The planners of one device share its measured-table model (sim/communication.h share_tables):
// a search over several sizes, whose planners share one model, gives the points that searches
// with a model per size give, bit for bit; a planner of another device (a varied copy) never
// takes the model of the original, and a shared planner times a varied device through a model of
// the varied device.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "hardware/perf_model.h"
#include "hardware/system.h"
#include "models/model_loader.h"
#include "sim/communication.h"
#include "sim/economics.h"
#include "sim/optimize.h"

namespace v4sim {
namespace {

TEST(SharedTables, OnlyPlannersOfTheSameAcceleratorShare) {
  const SystemSpec h200 = load_system("hgx-h200");
  CommPlanner one(h200, 1), two(h200, 2);
  EXPECT_TRUE(two.share_tables(one));
  EXPECT_EQ(&one.perf(), &two.perf());
  EXPECT_FALSE(one.share_tables(one));

  SystemSpec faster = h200;  // what a sensitivity's varied copy is
  faster.accelerator.peak_tflops[static_cast<int>(ComputePath::bf16)]->nominal *= 2;
  CommPlanner varied(faster, 2);
  EXPECT_FALSE(varied.share_tables(one));
  EXPECT_NE(&varied.perf(), &one.perf());
  EXPECT_EQ(varied.perf().target().peak_flops_per_s(ComputePath::bf16),
            2 * one.perf().target().peak_flops_per_s(ComputePath::bf16));
}

TEST(SharedTables, APlannerGivesAVariedDeviceItsOwnModel) {
  const SystemSpec h20 = load_system("hgx-h20");
  CommPlanner planner(h20, 1);
  Accelerator faster = h20.accelerator;
  for (auto& peak : faster.peak_tflops)
    if (peak) peak->nominal *= 2;
  const PerfModel& own = planner.perf();
  const PerfModel& varied = planner.perf(faster);
  EXPECT_NE(&own, &varied);
  EXPECT_EQ(&own, &planner.perf(h20.accelerator));
  EXPECT_EQ(&varied, &planner.perf(faster));  // kept
  EXPECT_EQ(varied.target().peak_flops_per_s(ComputePath::fp8),
            2 * own.target().peak_flops_per_s(ComputePath::fp8));
}

// What a sensitivity does (scenarios/hardware_purchase.cpp): plan a varied copy of a system on
// the nominal system's planners. H20 times a good part of a V4-Flash step on tables transferred
// from its siblings (which keep their efficiency on the target's peaks and bandwidth), so a copy
// with doubled peaks and HBM bandwidth must shorten those ops as a planner of the varied system
// would.
TEST(SharedTables, AVariedSystemOnNominalPlannersGivesItsOwnPoints) {
  const PreparedModel flash = prepare(load_model("deepseek-v4-flash"));
  const SystemSpec h20 = load_system("hgx-h20");
  SystemSpec faster = h20;
  for (auto& peak : faster.accelerator.peak_tflops)
    if (peak) peak->nominal *= 2;
  faster.accelerator.hbm_bandwidth_tb_per_s.nominal *= 2;
  const DeviceHour hour = device_hour(h20, 1, PriceAssumptions{});
  ServingConfig config;
  Workload w;
  w.context_tokens = 8192;
  const std::vector<std::int64_t> sizes = {8};
  PlannerCache nominal;
  const DeploymentSearch before = search_deployments(flash, h20, config, w, hour, sizes, &nominal);
  const DeploymentSearch shared =
      search_deployments(flash, faster, config, w, hour, sizes, &nominal);
  PlannerCache own;
  const DeploymentSearch apart = search_deployments(flash, faster, config, w, hour, sizes, &own);
  ASSERT_EQ(shared.result.points.size(), apart.result.points.size());
  ASSERT_FALSE(apart.result.points.empty());
  ASSERT_GT(apart.result.points.front().result.time_sources.transferred_s, 0);
  EXPECT_NE(before.result.points.front().result.step_s, apart.result.points.front().result.step_s);
  for (std::size_t i = 0; i < apart.result.points.size(); ++i) {
    const ServingResult &a = shared.result.points[i].result, &b = apart.result.points[i].result;
    EXPECT_EQ(a.batch, b.batch) << i;
    EXPECT_EQ(a.step_s, b.step_s) << i;
    EXPECT_EQ(a.ttft_s, b.ttft_s) << i;
    EXPECT_EQ(a.time_sources.transferred_s, b.time_sources.transferred_s) << i;
  }
}

TEST(SharedTables, ASearchOverSizesGivesTheUnsharedPoints) {
  const PreparedModel flash = prepare(load_model("deepseek-v4-flash"));
  const SystemSpec h200 = load_system("hgx-h200");
  const DeviceHour hour = device_hour(h200, 1, PriceAssumptions{});
  ServingConfig config;
  Workload w;
  w.context_tokens = 8192;
  const std::vector<std::int64_t> sizes = {4, 8, 16};
  PlannerCache shared;
  const DeploymentSearch together =
      search_deployments(flash, h200, config, w, hour, sizes, &shared);
  ASSERT_EQ(shared.size(), 2u);  // one node (4 and 8 ranks) and two
  EXPECT_EQ(&shared.at(1)->perf(), &shared.at(2)->perf());
  std::vector<OptimizePoint> apart;
  for (std::int64_t size : sizes) {
    PlannerCache own;  // a model of its own
    for (OptimizePoint& p :
         search_deployments(flash, h200, config, w, hour, std::vector<std::int64_t>{size}, &own)
             .result.points)
      apart.push_back(std::move(p));
  }
  ASSERT_EQ(together.result.points.size(), apart.size());
  ASSERT_FALSE(apart.empty());
  for (std::size_t i = 0; i < apart.size(); ++i) {
    const ServingResult &a = together.result.points[i].result, &b = apart[i].result;
    EXPECT_EQ(a.devices, b.devices) << i;
    EXPECT_EQ(a.batch, b.batch) << i;
    EXPECT_EQ(a.step_s, b.step_s) << i;
    EXPECT_EQ(a.ttft_s, b.ttft_s) << i;
    EXPECT_EQ(a.tpot_s, b.tpot_s) << i;
    EXPECT_EQ(a.throughput_tokens_per_s_per_device, b.throughput_tokens_per_s_per_device) << i;
    EXPECT_EQ(a.time_sources.measured_s, b.time_sources.measured_s) << i;
    EXPECT_EQ(a.warnings, b.warnings) << i;
  }
}

}  // namespace
}  // namespace v4sim
