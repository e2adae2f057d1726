// cost(shape) on tiny shapes whose answers can be worked by hand; comments show the arithmetic.
#include <gtest/gtest.h>

#include "kernels/compressor.h"
#include "kernels/gqa_attention.h"
#include "kernels/indexer_scoring.h"
#include "kernels/linear.h"
#include "kernels/mhc.h"
#include "kernels/mla_attention.h"
#include "kernels/moe.h"
#include "kernels/sparse_attention.h"

namespace v4sim {
namespace {

TEST(CostFunctions, Linear) {
  // 3 tokens x [5, 4]: 2 * 3 * 4 * 5 = 120 FLOPs; weight 20 BF16 = 40 B
  const Cost c = cost(LinearShape{3, 4, 5, 1, WeightFormat::bf16, Precision::bf16});
  EXPECT_EQ(c.flops_at(Precision::bf16), 120);
  EXPECT_EQ(c.read(MemClass::weights), 40);
  // Grouped: in 8, out 4, 2 groups of [2, 4]: 2 * 3 * 8 * 4 / 2 = 96 FLOPs, 16 params
  const LinearShape g{3, 8, 4, 2, WeightFormat::fp32, Precision::fp8};
  EXPECT_EQ(cost(g).flops_at(Precision::fp8), 96);
  EXPECT_EQ(parameter_count(g), 16);
  EXPECT_EQ(cost(g).read(MemClass::weights), 64);
}

TEST(CostFunctions, SparseAttentionKeys) {
  SparseAttentionShape s;
  s.num_heads = 2;
  s.head_dim = 8;
  s.rope_dim = 2;
  s.window = 4;
  s.compress_ratio = 4;
  s.topk = 2;
  // t = 9 sees 10 tokens: window min(10, 4) = 4; compressed floor(10/4) = 2, capped at 2 -> 6 keys
  EXPECT_EQ(keys_at(s, 9), 6);
  // t = 2 sees 3 tokens: window 3, no complete block
  EXPECT_EQ(keys_at(s, 2), 3);
  s.start_pos = 9;
  // 4 * H * d * keys = 4 * 2 * 8 * 6 = 384
  EXPECT_EQ(cost(s).flops_at(Precision::bf16), 384);
  // HCA-like: ratio 16, all visible; t = 40 sees 41: window 4 + floor(41/16) = 2 -> 6
  s.compress_ratio = 16;
  s.topk = 0;
  EXPECT_EQ(keys_at(s, 40), 6);
  // Prefill of 50 tokens: closed form equals the sum of keys_at
  s.start_pos = 0;
  s.num_tokens = 50;
  std::int64_t brute = 0;
  for (std::int64_t t = 0; t < 50; ++t) brute += keys_at(s, t);
  EXPECT_EQ(total_keys(s), brute);
  // Cache after 41 tokens: 4 window entries, 2 compressed
  EXPECT_EQ(cached_entries(s, 41).window, 4);
  EXPECT_EQ(cached_entries(s, 41).compressed, 2);
}

TEST(CostFunctions, Compressor) {
  // D 8, entry 4, ratio 4 with overlap (width 8), 10 tokens from 0: emits floor(10/4) = 2 entries.
  // Projections 2 * (2 * 10 * 8 * 8) = 2560; pooling 2 entries * 2 * 8 slots * 4 = 128.
  const CompressorShape s{
      8, 4, 2, 4, true, 0, 10, WeightFormat::bf16, Precision::fp32, KvEntryFormat::bf16};
  EXPECT_EQ(entries_emitted(s), 2);
  EXPECT_EQ(cost(s).flops_at(Precision::fp32), 2560 + 128);
  EXPECT_EQ(cost(s).written(MemClass::kv_cache), 2 * 8);  // 2 BF16 entries of 4 dims
  // Tail state: (c, z) x 2 windows x 4 slots x 8 wide x 4 B = 512
  EXPECT_EQ(tail_state_bytes(s, 4), 512);
}

TEST(CostFunctions, IndexerScoring) {
  // t = 11 sees 12 tokens -> 3 compressed keys; H 2, d 4: products 2*2*4*3 = 48 (fp4),
  // weighted head sum 2*2*3 = 12 (fp32); keys read 3 * 68 B.
  const IndexerScoringShape s{2, 4, 4, 11, 1, KvEntryFormat::mxfp4, Precision::fp4};
  EXPECT_EQ(scored_keys(s), 3);
  EXPECT_EQ(cost(s).flops_at(Precision::fp4), 48);
  EXPECT_EQ(cost(s).flops_at(Precision::fp32), 12);
  EXPECT_EQ(cost(s).read(MemClass::kv_cache), 3 * kv_entry_bytes(KvEntryFormat::mxfp4, 4, 0));
}

TEST(CostFunctions, MlaAndGqa) {
  // MLA: H 2, latent 8, rope 2, top-3, t = 5 -> min(6, 3) = 3 keys; 2 * 2 * (10 + 8) * 3 = 216
  const MlaAttentionShape m{2, 8, 2, 3, 5, 1, KvEntryFormat::bf16, Precision::bf16};
  EXPECT_EQ(cost(m).flops_at(Precision::bf16), 216);
  EXPECT_EQ(cost(m).read(MemClass::kv_cache), 3 * 20);
  // GQA: 4 q heads, 2 kv heads, d 8, prefill of 3: keys 1 + 2 + 3 = 6; 4 * 4 * 8 * 6 = 768
  const GqaAttentionShape g{4, 2, 8, 0, 3, KvEntryFormat::bf16, Precision::bf16};
  EXPECT_EQ(cost(g).flops_at(Precision::bf16), 768);
  EXPECT_EQ(kv_bytes_per_token(g), 2 * 2 * 16);  // K and V, 2 heads, 8 BF16 dims
}

TEST(CostFunctions, DecodeQueriesOfOneSequenceFoldIntoTiles) {
  // Dense, H 2, latent 8, rope 2 (BF16 entries of 10 x 2 B = 20 B), queries at t = 5, 6, 7.
  // Products 2 * 2 * (10 + 8) = 72 per (query, key) per head pair.
  const MlaAttentionShape each{2, 8, 2, 0, 5, 3, KvEntryFormat::bf16, Precision::bf16};
  // Per query the entries are read again: 6 + 7 + 8 = 21 reads, 21 causal pairs.
  EXPECT_EQ(cost(each).read(MemClass::kv_cache), 21 * 20);
  EXPECT_EQ(cost(each).flops_at(Precision::bf16), 72 * 21);
  // Tiles of 8 rows hold 4 queries of 2 heads: one tile of 8 heads at t = 7, its 8 entries read
  // once, 4 x 8 rows-by-keys products (the padding row and the masked pairs computed too).
  const MlaAttentionShape one_tile = folded_queries(each, 8);
  EXPECT_EQ(one_tile.num_heads, 8);
  EXPECT_EQ(one_tile.start_pos, 7);
  EXPECT_EQ(one_tile.num_tokens, 1);
  EXPECT_EQ(cost(one_tile).read(MemClass::kv_cache), 8 * 20);
  EXPECT_EQ(cost(one_tile).flops_at(Precision::bf16), 72 * 4 * 8);
  // Tiles of 4 rows hold 2 queries: two tiles of 4 heads ending at t = 7 (t = 6, 7): 7 + 8 reads.
  const MlaAttentionShape two_tiles = folded_queries(each, 4);
  EXPECT_EQ(two_tiles.num_heads, 4);
  EXPECT_EQ(two_tiles.start_pos, 6);
  EXPECT_EQ(two_tiles.num_tokens, 2);
  EXPECT_EQ(cost(two_tiles).read(MemClass::kv_cache), 15 * 20);
  EXPECT_EQ(cost(two_tiles).flops_at(Precision::bf16), 72 * 2 * 15);
  // Heads that fill a tile, sparse selection and a single query stay as they are.
  const auto same = [](const MlaAttentionShape& a, const MlaAttentionShape& b) {
    return a.num_heads == b.num_heads && a.start_pos == b.start_pos && a.num_tokens == b.num_tokens;
  };
  EXPECT_TRUE(same(folded_queries(each, 3), each));
  const MlaAttentionShape sparse{2, 8, 2, 3, 5, 3, KvEntryFormat::bf16, Precision::bf16};
  EXPECT_TRUE(same(folded_queries(sparse, 8), sparse));
  const MlaAttentionShape one{2, 8, 2, 0, 5, 1, KvEntryFormat::bf16, Precision::bf16};
  EXPECT_TRUE(same(folded_queries(one, 8), one));
}

TEST(CostFunctions, Moe) {
  MoeShape s;
  s.tokens = 2;
  s.hidden = 8;
  s.inter = 4;
  s.num_experts = 4;
  s.topk = 2;
  s.num_shared = 1;
  // router 2 * 2 * 4 * 8 = 128; routed 2 * (2 * 2) * 3 * 8 * 4 = 768; shared 2 * 2 * 3 * 8 * 4 = 384
  EXPECT_EQ(router_cost(s).total_flops(), 128);
  EXPECT_EQ(routed_cost(s).total_flops(), 768);
  EXPECT_EQ(shared_cost(s).total_flops(), 384);
  EXPECT_EQ(cost(s).total_flops(), 128 + 768 + 384);
  EXPECT_EQ(experts_touched(s), 4);  // min(E = 4, tokens * topk = 4)
  s.experts_touched = 3;
  // 3 touched experts, each 3 MXFP4 matrices [4, 8] / [8, 4]: 3 * (2 * (16 + 4) + (16 + 8))
  EXPECT_EQ(routed_cost(s).read(MemClass::weights), 3 * (2 * (16 + 4) + (16 + 8)));
  // The two grouped GEMMs: gate/up 2 * 4 * 2 * 8 * 4 = 512 FLOPs and two [4, 8] matrices per
  // touched expert; down 2 * 4 * 8 * 4 = 256 and one [8, 4]. Together routed_cost().
  EXPECT_EQ(routed_gate_up_cost(s).total_flops(), 512);
  EXPECT_EQ(routed_down_cost(s).total_flops(), 256);
  EXPECT_EQ(routed_gate_up_cost(s).read(MemClass::weights), 3 * 2 * (16 + 4));
  EXPECT_EQ(routed_down_cost(s).read(MemClass::weights), 3 * (16 + 8));
  EXPECT_EQ(routed_gate_up_cost(s) + routed_down_cost(s), routed_cost(s));
  s.num_experts = 0;
  EXPECT_EQ(routed_gate_up_cost(s), Cost{});
  EXPECT_EQ(routed_down_cost(s), Cost{});
}

TEST(CostFunctions, Mhc) {
  // D 8, n 4: mixing 24 * 32 = 768 MACs, collapse 32, expand 4 * 5 * 8 = 160 -> 960 MACs = 1920
  EXPECT_EQ(cost(MhcShape{1, 8, 4, 20, false}).flops_at(Precision::fp32), 1920);
  // head: 4 * 32 = 128 + collapse 32 = 160 MACs = 320
  EXPECT_EQ(cost(MhcShape{1, 8, 4, 20, true}).flops_at(Precision::fp32), 320);
  EXPECT_EQ(parameter_count(MhcShape{1, 8, 4, 20, false}), 24 * 32 + 24 + 3);
}

TEST(CostFunctions, Fp8EquivalentWeights) {
  Cost c;
  c.flops_at(Precision::fp4) = 8;
  c.flops_at(Precision::bf16) = 1;
  // 8 * 0.5 + 1 * 2
  EXPECT_DOUBLE_EQ(c.fp8_equivalent_flops(), 6.0);
}

}  // namespace
}  // namespace v4sim
