// validate_on_host: predictions are op_time of the as-run cost on the host file, errors and the
// median are computed as documented, and the V4 vs V3.2 ratios carry the predicted ratio.
#include <gtest/gtest.h>

#include "hardware/accelerator.h"
#include "hardware/roofline.h"
#include "reports/cli/host_validation.h"

namespace v4sim::cli {
namespace {

Accelerator test_host() {
  Accelerator a;
  a.name = "host";
  a.peak_tflops[static_cast<int>(ComputePath::fp32)] = Range::exactly(0.04);  // 40 GFLOP/s
  for (Precision p : kAllPrecisions) a.path_for[static_cast<int>(p)] = ComputePath::fp32;
  a.hbm_bandwidth_tb_per_s = Range::exactly(0.02);  // 20 GB/s
  a.memory_efficiency = 1;
  return a;
}

bench::CaseResult result(const std::string& name, std::int64_t context, std::int64_t flops,
                         std::int64_t bytes, double measured_s) {
  bench::CaseResult r;
  r.name = name;
  r.context = context;
  r.cost.flops_at(Precision::fp8) = flops;
  r.cost.read(MemClass::weights) = bytes / 4;
  r.host_cost.flops_at(Precision::fp32) = flops;
  r.host_cost.read(MemClass::weights) = bytes;
  r.timing.min_s = measured_s;
  return r;
}

TEST(Validation, PredictsFromTheAsRunCostAndReportsTheMedian) {
  const Accelerator host = test_host();
  // Predictions: 1 s (compute), 1 s (memory: 20 GB), 0.5 s (compute).
  const std::vector<bench::CaseResult> results = {
      result("a", 0, 40'000'000'000, 1'000, 1.25),  // -20%
      result("b", 0, 1'000, 20'000'000'000, 0.8),   // +25%
      result("c", 0, 20'000'000'000, 1'000, 1.5),   // -66.7%, 3x
  };
  const Validation v = validate_on_host(host, results);
  ASSERT_EQ(v.cases.size(), 3u);
  EXPECT_NEAR(v.cases[0].predicted.total_s, 1.0, 1e-9);
  EXPECT_EQ(v.cases[0].predicted.bound, Bound::compute);
  EXPECT_EQ(v.cases[1].predicted.bound, Bound::memory);
  EXPECT_NEAR(v.cases[0].error(), -0.2, 1e-9);
  EXPECT_NEAR(v.cases[1].error(), 0.25, 1e-9);
  EXPECT_NEAR(v.median_abs_error, 0.25, 1e-9);
  EXPECT_EQ(v.within_2x, 2);
  EXPECT_EQ(v.worst_case, "c");
  EXPECT_NEAR(v.worst_factor, 3.0, 1e-9);
  // The deployment-format cost moves a quarter of the bytes.
  EXPECT_NEAR(v.cases[1].predicted_deploy.total_s, 0.25, 1e-9);
}

TEST(Validation, RatiosCarryThePredictedRatio) {
  const Accelerator host = test_host();
  const std::vector<bench::CaseResult> results = {
      result("v3.2-mla-dsa-core/1m", 1 << 20, 40'000'000'000, 0, 1.2),
      result("v4-pro-csa-core/1m", 1 << 20, 10'000'000'000, 0, 0.3),
  };
  const Validation v = validate_on_host(host, results);
  ASSERT_EQ(v.ratios.size(), 1u);
  EXPECT_NEAR(v.ratios[0].ratio.measured, 4.0, 1e-9);
  EXPECT_NEAR(v.ratios[0].predicted, 4.0, 1e-9);
}

}  // namespace
}  // namespace v4sim::cli
