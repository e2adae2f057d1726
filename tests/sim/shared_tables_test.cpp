// The planners of one device share its measured-table model (sim/communication.h share_tables):
// a search over several sizes, whose planners share one model, gives the points that searches
// with a model per size give, bit for bit; a planner of another device (a varied copy) never
// takes the model of the original.
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
