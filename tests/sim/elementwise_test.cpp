// The element-wise kernels of a layer (sim/elementwise.h): bytes by hand on a made-up shape, and
// the floor rule.
#include <gtest/gtest.h>

#include "sim/elementwise.h"

namespace v4sim {
namespace {

/// An MLA model with a plain residual: D 16, q latent 4, KV latent 8, 4 routed experts, top-2.
ModelSpec mla() {
  ModelSpec s;
  s.architecture = Architecture::mla;
  s.hidden_size = 16;
  s.attention.q_lora_rank = 4;
  s.attention.kv_lora_rank = 8;
  s.moe.num_routed_experts = 4;
  s.moe.experts_per_token = 2;
  return s;
}

const ElementwiseKernel* find(const std::vector<ElementwiseKernel>& ks, const std::string& n) {
  for (const ElementwiseKernel& k : ks)
    if (k.name == n) return &k;
  return nullptr;
}

TEST(ElementwiseKernels, MoeLayerBytesByHand) {
  LayerSpec moe;
  moe.ffn = FfnKind::moe_scored;
  const auto ks = elementwise_kernels(mla(), moe, 3);
  ASSERT_EQ(ks.size(), 4u);
  // Norms: 2 tensors in and 2 out of 16 x 2 B x 3 tokens = 96 B each: 192 read, 192 written.
  for (const char* n : {"attn_norm", "ffn_norm"}) {
    const ElementwiseKernel* k = find(ks, n);
    ASSERT_NE(k, nullptr) << n;
    EXPECT_EQ(k->cost.read(MemClass::activations), 192) << n;
    EXPECT_EQ(k->cost.written(MemClass::activations), 192) << n;
    EXPECT_EQ(k->cost.total_flops(), 0) << n;
  }
  // Latents: (4 + 8) x 2 B x 3 = 72 each way.
  const ElementwiseKernel* latent = find(ks, "attn.latent_norm");
  ASSERT_NE(latent, nullptr);
  EXPECT_EQ(latent->cost.read(MemClass::activations), 72);
  EXPECT_EQ(latent->cost.written(MemClass::activations), 72);
  // Top-k: 4 experts x 4 B x 3 = 48 in; 2 x (4 + 4) B x 3 = 48 out; a router op.
  const ElementwiseKernel* topk = find(ks, "ffn.topk");
  ASSERT_NE(topk, nullptr);
  EXPECT_EQ(topk->component, OpComponent::router);
  EXPECT_EQ(topk->cost.read(MemClass::activations), 48);
  EXPECT_EQ(topk->cost.written(MemClass::activations), 48);
}

TEST(ElementwiseKernels, DenseAndHashLayersHaveNoTopk) {
  for (FfnKind f : {FfnKind::dense, FfnKind::moe_hash}) {
    LayerSpec l;
    l.ffn = f;
    const auto ks = elementwise_kernels(mla(), l, 3);
    EXPECT_EQ(find(ks, "ffn.topk"), nullptr) << to_string(f);
    EXPECT_EQ(ks.size(), 3u) << to_string(f);
  }
  EXPECT_TRUE(elementwise_kernels(mla(), LayerSpec{}, 0).empty());
}

TEST(ElementwiseKernels, V4NormalisesItsKvHeadAndLeavesTheResidualToMhc) {
  ModelSpec s = mla();
  s.architecture = Architecture::v4;
  s.attention.kv_lora_rank = 0;
  s.attention.head_dim = 8;
  s.mhc.streams = 4;
  LayerSpec l;
  l.ffn = FfnKind::dense;
  const auto ks = elementwise_kernels(s, l, 3);
  // One tensor in, one out: 96 B each way.
  EXPECT_EQ(find(ks, "attn_norm")->cost.read(MemClass::activations), 96);
  EXPECT_EQ(find(ks, "attn_norm")->cost.written(MemClass::activations), 96);
  // q latent 4 + KV head 8, as for MLA's latents above.
  EXPECT_EQ(find(ks, "attn.latent_norm")->cost.read(MemClass::activations), 72);
}

TEST(ElementwiseTime, TheFloorOrTheBytes) {
  Accelerator d;
  d.hbm_bandwidth_tb_per_s.nominal = 1.0;  // 1e12 B/s
  d.memory_efficiency = 0.5;
  d.launch_overhead_s = 1e-6;
  Cost c;
  c.read(MemClass::activations) = 1'000'000;
  c.written(MemClass::activations) = 1'000'000;
  // 2 MB at 0.5e12 B/s = 4 us, + 1 us launch = 5 us.
  EXPECT_NEAR(elementwise_time_s(d, c, 3e-6), 5e-6, 1e-15);
  EXPECT_NEAR(elementwise_time_s(d, c, 8e-6), 8e-6, 1e-15);
  EXPECT_DOUBLE_EQ(smallest_kernel_s(nullptr, d), 1e-6);  // no tables: the launch overhead
}

TEST(SmallestKernel, MeasuredWhereABf16GemmTableServes) {
  // H100's own aiconfigurator row, BF16 1 x 512 x 512: 3.5733 us.
  const Accelerator h100 = load_accelerator("h100");
  const PerfModel h100_tables(h100);
  EXPECT_NEAR(smallest_kernel_s(&h100_tables, h100), 3.5733e-6, 1e-10);
  // H800's nearest GEMM table is InferSim's FP8 one: no empty-kernel time there.
  const Accelerator h800 = load_accelerator("h800");
  const PerfModel h800_tables(h800);
  EXPECT_DOUBLE_EQ(smallest_kernel_s(&h800_tables, h800), h800.launch_overhead_s);
}

}  // namespace
}  // namespace v4sim
