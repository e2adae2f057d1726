// The quantisation a rank runs before the MoE exchange sends its tokens (sim/exchange_quant.h):
// bytes by hand on a made-up shape, and which exchanges, phases and precisions run it.
#include <gtest/gtest.h>

#include "sim/exchange_quant.h"

namespace v4sim {
namespace {

/// Hidden 256, four routed experts computing in `experts`.
ModelSpec tiny_moe(Precision experts = Precision::fp8) {
  ModelSpec s;
  s.hidden_size = 256;
  s.moe.num_routed_experts = 4;
  s.moe.experts_per_token = 2;
  s.moe.expert_intermediate_size = 64;
  s.compute.routed_experts = experts;
  return s;
}

LayerSpec moe_layer(FfnKind kind = FfnKind::moe_scored) {
  LayerSpec l;
  l.ffn = kind;
  return l;
}

TEST(ExchangeQuant, BytesPerTokenByHand) {
  // 10 tokens: read 10 x 256 BF16 = 5120; write FP8 with one FP32 scale per 128:
  // 10 x (256 + 2 x 4) = 2640. Booked with the router: it precedes the dispatch.
  const auto ks = exchange_quant_kernels(tiny_moe(), moe_layer(), 10, Precision::fp8);
  ASSERT_EQ(ks.size(), 1u);
  EXPECT_EQ(ks[0].name, "ffn.exchange.quant");
  EXPECT_EQ(ks[0].component, OpComponent::router);
  EXPECT_EQ(ks[0].cost.read(MemClass::activations), 5120);
  EXPECT_EQ(ks[0].cost.written(MemClass::activations), 2640);
  EXPECT_EQ(ks[0].cost.total_flops(), 0);
  // MXFP4: 128 bytes of E2M1 pairs and one E8M0 scale per 32 elements, 8: 10 x 136.
  const auto fp4 = exchange_quant_kernels(tiny_moe(), moe_layer(), 10, Precision::fp4);
  EXPECT_EQ(fp4[0].cost.written(MemClass::activations), 1360);
}

TEST(ExchangeQuant, NothingWithoutRoutedTokens) {
  EXPECT_TRUE(
      exchange_quant_kernels(tiny_moe(), moe_layer(FfnKind::dense), 10, Precision::fp8).empty());
  EXPECT_TRUE(exchange_quant_kernels(tiny_moe(), moe_layer(), 0, Precision::fp8).empty());
  EXPECT_EQ(
      exchange_quant_kernels(tiny_moe(), moe_layer(FfnKind::moe_hash), 1, Precision::fp8).size(),
      1u);
}

TEST(ExchangeQuant, WhichExchangesQuantiseFirst) {
  using enum MoeExchange;
  // DeepEP normal mode (prefill) sends FP8 rows the sender quantised, for FP8 experts and for
  // FP4 experts on FP8 activations alike; its low-latency mode (decode) casts in the dispatch.
  EXPECT_EQ(exchange_quant_precision(tiny_moe(), all_to_all, 8, true), Precision::fp8);
  EXPECT_EQ(exchange_quant_precision(tiny_moe(Precision::fp4), all_to_all, 8, true),
            Precision::fp8);
  EXPECT_FALSE(exchange_quant_precision(tiny_moe(), all_to_all, 8, false));
  EXPECT_FALSE(exchange_quant_precision(tiny_moe(Precision::bf16), all_to_all, 8, true));
  // TensorRT-LLM's all-gather quantises NVFP4 inputs first, in both phases; FP8 ones inside the
  // fused MoE.
  EXPECT_EQ(exchange_quant_precision(tiny_moe(Precision::fp4), all_gather, 8, false),
            Precision::fp4);
  EXPECT_EQ(exchange_quant_precision(tiny_moe(Precision::fp4), all_gather, 8, true),
            Precision::fp4);
  EXPECT_FALSE(exchange_quant_precision(tiny_moe(), all_gather, 8, true));
  // No exchange, or no routed experts: nothing to send.
  EXPECT_FALSE(exchange_quant_precision(tiny_moe(), all_to_all, 1, true));
  ModelSpec dense = tiny_moe();
  dense.moe.num_routed_experts = 0;
  EXPECT_FALSE(exchange_quant_precision(dense, all_to_all, 8, true));
}

}  // namespace
}  // namespace v4sim
