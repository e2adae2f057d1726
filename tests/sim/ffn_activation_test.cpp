// The activation kernel between an FFN's two products (sim/ffn_activation.h): bytes by hand on a
// made-up shape.
#include <gtest/gtest.h>

#include "sim/ffn_activation.h"

namespace v4sim {
namespace {

/// Expert intermediate 256, dense intermediate 512, one shared expert, FP8 experts, BF16 dense.
ModelSpec spec() {
  ModelSpec s;
  s.hidden_size = 16;
  s.moe.num_routed_experts = 4;
  s.moe.experts_per_token = 2;
  s.moe.num_shared_experts = 1;
  s.moe.expert_intermediate_size = 256;
  s.moe.dense_intermediate_size = 512;
  s.compute.routed_experts = Precision::fp8;
  s.compute.shared_experts = Precision::fp8;
  s.compute.dense_ffn = Precision::bf16;
  return s;
}

const ElementwiseKernel* find(const std::vector<ElementwiseKernel>& ks, const std::string& n) {
  for (const ElementwiseKernel& k : ks)
    if (k.name == n) return &k;
  return nullptr;
}

TEST(FfnActivation, OutputBytesPerRow) {
  EXPECT_EQ(activation_out_bytes(256, Precision::fp8), 256 + 4 * 2);  // FP8 + two FP32 scales
  EXPECT_EQ(activation_out_bytes(200, Precision::fp4), 200 + 4 * 2);  // a partial group: a scale
  EXPECT_EQ(activation_out_bytes(256, Precision::bf16), 512);
}

TEST(FfnActivation, MoeLayerBytesByHand) {
  LayerSpec moe;
  moe.ffn = FfnKind::moe_scored;
  const auto ks = ffn_activation_kernels(spec(), moe, 3, 10, 1);
  ASSERT_EQ(ks.size(), 2u);
  // Shared: 3 tokens x 2 x 256 x 2 B = 3072 read; 3 x (256 + 8) = 792 written.
  const ElementwiseKernel* shared = find(ks, "ffn.shared_act");
  ASSERT_NE(shared, nullptr);
  EXPECT_EQ(shared->component, OpComponent::shared_experts);
  EXPECT_EQ(shared->cost.read(MemClass::activations), 3072);
  EXPECT_EQ(shared->cost.written(MemClass::activations), 792);
  // Routed: 10 pairs x 1024 B = 10240 read; 10 x 264 = 2640 written.
  const ElementwiseKernel* routed = find(ks, "ffn.routed_act");
  ASSERT_NE(routed, nullptr);
  EXPECT_EQ(routed->component, OpComponent::routed_experts);
  EXPECT_EQ(routed->cost.read(MemClass::activations), 10240);
  EXPECT_EQ(routed->cost.written(MemClass::activations), 2640);
  EXPECT_EQ(routed->cost.total_flops(), 0);
}

TEST(FfnActivation, TensorParallelSplitsTheSharedAndDenseWidthOnly) {
  LayerSpec moe;
  moe.ffn = FfnKind::moe_hash;
  const auto ks = ffn_activation_kernels(spec(), moe, 3, 10, 2);
  // Shared over tp 2: width 128: 3 x 2 x 128 x 2 = 1536 read, 3 x (128 + 4) = 396 written.
  EXPECT_EQ(find(ks, "ffn.shared_act")->cost.read(MemClass::activations), 1536);
  EXPECT_EQ(find(ks, "ffn.shared_act")->cost.written(MemClass::activations), 396);
  // Routed pairs keep the whole expert.
  EXPECT_EQ(find(ks, "ffn.routed_act")->cost.read(MemClass::activations), 10240);
  // Dense, BF16, width 512 / 2 = 256: 3 x 2 x 256 x 2 = 3072 read, 3 x 512 = 1536 written.
  LayerSpec dense;
  dense.ffn = FfnKind::dense;
  const auto d = ffn_activation_kernels(spec(), dense, 3, 10, 2);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].name, "ffn.act");
  EXPECT_EQ(d[0].component, OpComponent::dense_ffn);
  EXPECT_EQ(d[0].cost.read(MemClass::activations), 3072);
  EXPECT_EQ(d[0].cost.written(MemClass::activations), 1536);
}

TEST(FfnActivation, NothingWithoutRows) {
  LayerSpec moe;
  moe.ffn = FfnKind::moe_scored;
  EXPECT_TRUE(ffn_activation_kernels(spec(), moe, 0, 0, 1).empty());
  ModelSpec no_shared = spec();
  no_shared.moe.num_shared_experts = 0;
  EXPECT_EQ(ffn_activation_kernels(no_shared, moe, 3, 10, 1).size(), 1u);
}

}  // namespace
}  // namespace v4sim
