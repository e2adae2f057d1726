// The quantisation kernel in front of an FP8/FP4 GEMM priced from a table that leaves it out
// (sim/activation_quant.h): bytes by hand, the cases that add none, and the step model adding it
// after H800's kernel-only DeepGEMM rows but not after H100's aiconfigurator rows (which time it).
#include <gtest/gtest.h>

#include "hardware/system.h"
#include "models/model_loader.h"
#include "sim/activation_quant.h"
#include "sim/serving.h"

namespace v4sim {
namespace {

PerfEstimate kernel_only(Precision p) {
  PerfEstimate e;
  e.found = true;
  e.table_precision = p;
  return e;
}

TEST(ActivationQuant, RowBytesByHand) {
  EXPECT_EQ(quantised_row_bytes(7168, Precision::fp8), 7168 + 4 * 56);  // 56 FP32 scales
  EXPECT_EQ(quantised_row_bytes(200, Precision::fp8), 200 + 4 * 2);     // a partial group
  EXPECT_EQ(quantised_row_bytes(7168, Precision::fp4), 3584 + 224);     // 224 E8M0 scales
  EXPECT_EQ(quantised_row_bytes(33, Precision::fp4), 17 + 2);           // odd width, partial
}

TEST(ActivationQuant, KernelBytesByHand) {
  const auto q = activation_quant_kernel("wo", OpComponent::attention_projections, 3, 256,
                                         Precision::fp8, kernel_only(Precision::fp8));
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->name, "wo.quant");
  EXPECT_EQ(q->component, OpComponent::attention_projections);
  EXPECT_EQ(q->cost.read(MemClass::activations), 3 * 256 * 2);
  EXPECT_EQ(q->cost.written(MemClass::activations), 3 * (256 + 8));
  EXPECT_EQ(q->cost.total_flops(), 0);
}

TEST(ActivationQuant, NoneWhereTheTableTimesItOrThereIsNoTable) {
  const OpComponent c = OpComponent::attention_projections;
  PerfEstimate included = kernel_only(Precision::fp8);
  included.includes_activation_quantisation = true;
  EXPECT_FALSE(activation_quant_kernel("g", c, 4, 128, Precision::fp8, included));
  EXPECT_FALSE(
      activation_quant_kernel("g", c, 4, 128, Precision::fp8, PerfEstimate{}));  // roofline
  EXPECT_FALSE(
      activation_quant_kernel("g", c, 4, 128, Precision::bf16, kernel_only(Precision::bf16)));
  // A BF16 table standing in for an FP8 product says nothing about quantisation.
  EXPECT_FALSE(
      activation_quant_kernel("g", c, 4, 128, Precision::fp8, kernel_only(Precision::bf16)));
  EXPECT_FALSE(
      activation_quant_kernel("g", c, 0, 128, Precision::fp8, kernel_only(Precision::fp8)));
  EXPECT_TRUE(activation_quant_kernel("g", c, 4, 128, Precision::fp4, kernel_only(Precision::fp4)));
}

int count_quant_ops(const ServingResult& r) {
  int n = 0;
  for (const OpTiming& o : r.ops)
    if (o.name.ends_with(".quant")) {
      ++n;
      EXPECT_GT(o.time_s, 0.0) << o.name;
    }
  return n;
}

TEST(ActivationQuant, StepAddsItOnlyAfterKernelOnlyTables) {
  const PreparedModel v3 = prepare(load_model("deepseek-v3"));
  ServingConfig config;
  config.layout = Layout{1, 16, 1, 16};  // two nodes: V3's weights need 16 ranks of 80 GB
  Workload w;
  w.context_tokens = 4096;
  w.batch = 64;
  // H800: DeepGEMM's rows take FP8 inputs, so each FP8 dense GEMM gets its quantisation.
  const ServingResult h800 = predict(v3, load_system("hgx-h800"), 2, config, w);
  ASSERT_TRUE(h800.feasible) << h800.reason;
  EXPECT_GT(count_quant_ops(h800), 0);
  // H100: aiconfigurator's rows already hold it.
  const ServingResult h100 = predict(v3, load_system("hgx-h100"), 2, config, w);
  ASSERT_TRUE(h100.feasible) << h100.reason;
  EXPECT_EQ(count_quant_ops(h100), 0);
}

}  // namespace
}  // namespace v4sim
