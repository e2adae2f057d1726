// The permute and unpermute around the routed experts' grouped GEMM (sim/moe_permutation.h):
// bytes by hand on a made-up shape, and which exchanges and phases run them.
#include <gtest/gtest.h>

#include "sim/moe_permutation.h"

namespace v4sim {
namespace {

/// Hidden 256, four routed experts, FP8 experts.
ModelSpec tiny_moe() {
  ModelSpec s;
  s.hidden_size = 256;
  s.moe.num_routed_experts = 4;
  s.moe.experts_per_token = 2;
  s.moe.expert_intermediate_size = 64;
  s.compute.routed_experts = Precision::fp8;
  return s;
}

LayerSpec moe_layer(FfnKind kind = FfnKind::moe_scored) {
  LayerSpec l;
  l.ffn = kind;
  return l;
}

TEST(MoePermutation, BytesPerPairByHand) {
  const auto ks = moe_permutation_kernels(tiny_moe(), moe_layer(), 10);
  ASSERT_EQ(ks.size(), 2u);
  // Permute: an FP8 row of 256 with two FP32 scales (one per 128), read and written:
  // 10 x (256 + 8) = 2640 each way.
  EXPECT_EQ(ks[0].name, "ffn.permute");
  EXPECT_EQ(ks[0].component, OpComponent::routed_experts);
  EXPECT_EQ(ks[0].cost.read(MemClass::activations), 2640);
  EXPECT_EQ(ks[0].cost.written(MemClass::activations), 2640);
  // Unpermute: a BF16 output row read and written, 10 x 256 x 2 = 5120 each way.
  EXPECT_EQ(ks[1].name, "ffn.unpermute");
  EXPECT_EQ(ks[1].component, OpComponent::routed_experts);
  EXPECT_EQ(ks[1].cost.read(MemClass::activations), 5120);
  EXPECT_EQ(ks[1].cost.written(MemClass::activations), 5120);
  EXPECT_EQ(ks[0].cost.total_flops() + ks[1].cost.total_flops(), 0);
}

TEST(MoePermutation, InputRowFollowsTheExpertsPrecision) {
  ModelSpec bf16 = tiny_moe();
  bf16.compute.routed_experts = Precision::bf16;
  EXPECT_EQ(moe_permutation_kernels(bf16, moe_layer(), 3)[0].cost.read(MemClass::activations),
            3 * 256 * 2);
  // FP4: half a byte per element plus its block scales, fewer bytes than FP8.
  ModelSpec fp4 = tiny_moe();
  fp4.compute.routed_experts = Precision::fp4;
  EXPECT_LT(moe_permutation_kernels(fp4, moe_layer(), 3)[0].cost.read(MemClass::activations),
            3 * (256 + 8));
  // The output stays BF16 whatever the input.
  EXPECT_EQ(moe_permutation_kernels(fp4, moe_layer(), 3)[1].cost.read(MemClass::activations),
            3 * 256 * 2);
}

TEST(MoePermutation, HashRoutedLayersToo) {
  EXPECT_EQ(moe_permutation_kernels(tiny_moe(), moe_layer(FfnKind::moe_hash), 3).size(), 2u);
}

TEST(MoePermutation, NothingWithoutRoutedPairs) {
  EXPECT_TRUE(moe_permutation_kernels(tiny_moe(), moe_layer(FfnKind::dense), 10).empty());
  EXPECT_TRUE(moe_permutation_kernels(tiny_moe(), moe_layer(), 0).empty());
  ModelSpec dense = tiny_moe();
  dense.moe.num_routed_experts = 0;
  EXPECT_TRUE(moe_permutation_kernels(dense, moe_layer(), 10).empty());
}

TEST(MoePermutation, OnlyLowLatencyAllToAllDecodeSkipsThem) {
  // DeepEP's low-latency dispatch writes the masked per-expert layout and its combine sums.
  EXPECT_FALSE(moe_permutes(MoeExchange::all_to_all, 8, /*prefill=*/false));
  // Normal-mode DeepEP (prefill) hands tokens over by source rank.
  EXPECT_TRUE(moe_permutes(MoeExchange::all_to_all, 8, /*prefill=*/true));
  // TensorRT-LLM's gathered MoE expands and finalizes in both phases.
  EXPECT_TRUE(moe_permutes(MoeExchange::all_gather, 8, false));
  EXPECT_TRUE(moe_permutes(MoeExchange::all_gather, 8, true));
  // No exchange: the rank's own tokens.
  EXPECT_TRUE(moe_permutes(MoeExchange::all_to_all, 1, false));
  EXPECT_TRUE(moe_permutes(MoeExchange::all_gather, 1, false));
}

}  // namespace
}  // namespace v4sim
