// The query RoPE and key assembly of dense MLA's expanded prefill (sim/mla_key_assembly.h): bytes
// by hand on a made-up shape, and the layers and forms that run none.
#include <gtest/gtest.h>

#include "sim/mla_key_assembly.h"

namespace v4sim {
namespace {

/// Dense MLA: 8 heads, 16 NoPE and 4 rope dims per head.
ModelSpec tiny_mla() {
  ModelSpec s;
  s.architecture = Architecture::mla;
  s.attention.num_heads = 8;
  s.attention.qk_nope_dim = 16;
  s.attention.rope_dim = 4;
  return s;
}

LayerSpec layer(AttentionKind kind = AttentionKind::mla) {
  LayerSpec l;
  l.attention = kind;
  return l;
}

TEST(MlaKeyAssembly, BytesByHand) {
  // 3 new tokens after 5 cached ones: 3 queries, 8 entries; 2-way TP leaves 4 heads.
  const auto ks = mla_key_assembly_kernels(tiny_mla(), layer(), 3, 8, 2);
  ASSERT_EQ(ks.size(), 2u);
  // q_rope: 3 x 4 heads x 4 rope dims x 2 B = 96, read and written.
  EXPECT_EQ(ks[0].name, "attn.q_rope");
  EXPECT_EQ(ks[0].cost.read(MemClass::activations), 96);
  EXPECT_EQ(ks[0].cost.written(MemClass::activations), 96);
  // k_assemble: read 8 x (4 x 16 + 4) x 2 = 1088, write 8 x 4 x 20 x 2 = 1280.
  EXPECT_EQ(ks[1].name, "attn.k_assemble");
  EXPECT_EQ(ks[1].cost.read(MemClass::activations), 1088);
  EXPECT_EQ(ks[1].cost.written(MemClass::activations), 1280);
  for (const ElementwiseKernel& k : ks) {
    EXPECT_EQ(k.component, OpComponent::core_attention);
    EXPECT_EQ(k.cost.total_flops(), 0);
  }
}

TEST(MlaKeyAssembly, OnlyTheExpandedForm) {
  // V3.2's DSA layers attend the latent cache in the absorbed form; V4 has no per-head keys.
  EXPECT_TRUE(mla_key_assembly_kernels(tiny_mla(), layer(AttentionKind::mla_dsa), 3, 8, 1).empty());
  ModelSpec v4 = tiny_mla();
  v4.architecture = Architecture::v4;
  EXPECT_TRUE(mla_key_assembly_kernels(v4, layer(), 3, 8, 1).empty());
  EXPECT_TRUE(mla_key_assembly_kernels(tiny_mla(), layer(), 0, 0, 1).empty());
}

}  // namespace
}  // namespace v4sim
