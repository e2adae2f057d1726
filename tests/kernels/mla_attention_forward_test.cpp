// Absorbed MLA (kernels/mla_attention_forward.h) against naive double references at V3.2 production
// widths (H = 128, nope 128, rope 64, latent 512, v 128) with small token counts.
//
// Tolerance: float32 kernel vs double reference, max abs error <= 2e-5 of the output's max abs
// value (dot products of 128..576 float terms; observed ~1e-6 relative). The absorbed and expanded
// double references agree to 1e-10 (the identity is exact; only double rounding differs).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <span>
#include <vector>

#include "kernels/mla_attention_forward.h"
#include "tests/kernels/reference/mla_ref.h"
#include "tests/support/closeness.h"
#include "tests/support/random.h"

namespace v4sim {
namespace {

using reference::MlaRefDims;
using test_support::relatively_close;
using test_support::SeededRng;

constexpr double kMlaTolerance = 2e-5;

struct MlaInputs {
  MlaRefDims dims;
  RowMatrixXf q_nope, q_rope, cache, w_uk, w_uv;
};

// Scales chosen so logits have a spread of about 2: softmax neither uniform nor one-hot.
MlaInputs make_inputs(SeededRng& rng, const MlaRefDims& d, std::int64_t n, std::int64_t tokens) {
  MlaInputs in{d, {}, {}, {}, {}, {}};
  in.q_nope = rng.normal(tokens, d.heads * d.nope);
  in.q_rope = rng.normal(tokens, d.heads * d.rope);
  in.cache = rng.normal(n, d.latent + d.rope);
  in.w_uk = rng.normal(d.heads * d.nope, d.latent, 1.0 / std::sqrt(double(d.latent)));
  in.w_uv = rng.normal(d.heads * d.v, d.latent, 1.0 / std::sqrt(double(d.latent)));
  return in;
}

MlaRefDims v32_dims(std::int64_t start_pos) {
  return {128, 128, 64, 512, 128, start_pos};
}

MlaAttentionShape shape_of(const MlaRefDims& d, std::int64_t tokens, std::int64_t topk) {
  MlaAttentionShape s;
  s.num_heads = d.heads;
  s.latent_dim = d.latent;
  s.rope_dim = d.rope;
  s.topk = topk;
  s.start_pos = d.start_pos;
  s.num_tokens = tokens;
  return s;
}

// k random distinct tokens <= t per query (all of them, shuffled, when k >= t + 1), -1 padded.
TokenSelection random_selection(SeededRng& rng, std::int64_t start_pos, std::int64_t tokens,
                                std::int64_t k) {
  TokenSelection sel = TokenSelection::Constant(tokens, k, -1);
  for (std::int64_t i = 0; i < tokens; ++i) {
    std::vector<std::int32_t> all(start_pos + i + 1);
    std::iota(all.begin(), all.end(), 0);
    std::shuffle(all.begin(), all.end(), rng.gen());
    for (std::int64_t j = 0; j < std::min<std::int64_t>(k, all.size()); ++j) sel(i, j) = all[j];
  }
  return sel;
}

RowMatrixXf run_forward(const MlaInputs& in, const MlaAttentionShape& s, const TokenSelection* sel,
                        Cost* counted) {
  RowMatrixXf out(s.num_tokens, in.dims.heads * in.dims.v);
  mla_attention_forward(s, in.q_nope, in.q_rope, in.cache, in.w_uk, in.w_uv, sel,
                        mla_softmax_scale(), out, {}, counted);
  return out;
}

TEST(MlaForward, SoftmaxScale) {
  // 0.1 ln 40 + 1 = 1.36889; squared / sqrt(192) = 0.135237
  EXPECT_NEAR(mla_mscale(40.0), 1.368888, 1e-6);
  EXPECT_NEAR(mla_softmax_scale(192, 40.0), 1.368888 * 1.368888 / std::sqrt(192.0), 1e-6);
  EXPECT_EQ(mla_mscale(1.0), 1.0);
}

struct DenseCase {
  const char* name;
  std::int64_t start_pos, tokens;
};

// Dense causal (V3): decode with 1 and 37 cached entries, prefill from 0, a later prefill chunk.
TEST(MlaForward, DenseMatchesDoubleReferenceAndCountsCost) {
  const DenseCase cases[] = {
      {"decode n=1", 0, 1}, {"decode n=37", 36, 1}, {"prefill 9", 0, 9}, {"chunk 5 at 11", 11, 5}};
  std::uint64_t seed = 1001;
  for (const DenseCase& c : cases) {
    SCOPED_TRACE(c.name);
    SeededRng rng(c.name, seed++);
    const MlaRefDims d = v32_dims(c.start_pos);
    const MlaInputs in = make_inputs(rng, d, c.start_pos + c.tokens, c.tokens);
    const MlaAttentionShape s = shape_of(d, c.tokens, 0);
    Cost counted;
    const RowMatrixXf out = run_forward(in, s, nullptr, &counted);
    const auto ref = reference::mla_ref_absorbed(d, in.q_nope, in.q_rope, in.cache, in.w_uk,
                                                 in.w_uv, nullptr, mla_softmax_scale());
    EXPECT_TRUE(relatively_close("vs absorbed ref", out, ref, kMlaTolerance));
    EXPECT_EQ(counted, mla_attention_cost(s, d.nope, d.v, MlaAbsorptionFormat{}));
  }
}

// Absorbing W_UK into the query and W_UV out of the output is the same maths as expanding every
// head's keys and values from the latent (the point of the absorbed form).
TEST(MlaForward, AbsorbedEqualsExpandedPerHeadAttention) {
  SeededRng rng("mla.absorbed_vs_expanded", 2001);
  const MlaRefDims d = v32_dims(3);
  const std::int64_t tokens = 4;
  const MlaInputs in = make_inputs(rng, d, d.start_pos + tokens, tokens);
  const double scale = mla_softmax_scale();
  const auto absorbed = reference::mla_ref_absorbed(d, in.q_nope, in.q_rope, in.cache, in.w_uk,
                                                    in.w_uv, nullptr, scale);
  const auto expanded = reference::mla_ref_expanded(d, in.q_nope, in.q_rope, in.cache, in.w_uk,
                                                    in.w_uv, nullptr, scale);
  EXPECT_TRUE(relatively_close("absorbed vs expanded (double)", absorbed, expanded, 1e-10));
  const RowMatrixXf out = run_forward(in, shape_of(d, tokens, 0), nullptr, nullptr);
  EXPECT_TRUE(relatively_close("vs expanded ref", out, expanded, kMlaTolerance));
}

MlaExpandedShape expanded_shape_of(const MlaRefDims& d, std::int64_t tokens) {
  MlaExpandedShape s;
  s.num_heads = d.heads;
  s.latent_dim = d.latent;
  s.rope_dim = d.rope;
  s.nope_dim = d.nope;
  s.v_dim = d.v;
  s.start_pos = d.start_pos;
  s.num_tokens = tokens;
  return s;
}

// The expanded (MHA) form V3 prefill is priced in: the double reference of the expanded maths,
// the absorbed kernel, and its count against expansion_cost() + cost().
TEST(MlaForward, ExpandedFormMatchesReferenceAndCountsCost) {
  const DenseCase cases[] = {{"decode n=37", 36, 1}, {"prefill 9", 0, 9}, {"chunk 5 at 11", 11, 5}};
  std::uint64_t seed = 3001;
  for (const DenseCase& c : cases) {
    SCOPED_TRACE(c.name);
    SeededRng rng(c.name, seed++);
    const MlaRefDims d = v32_dims(c.start_pos);
    const MlaInputs in =
        make_inputs(rng, d, c.start_pos + c.tokens + 3, c.tokens);  // + unused rows
    const MlaExpandedShape s = expanded_shape_of(d, c.tokens);
    RowMatrixXf out(c.tokens, d.heads * d.v);
    Cost counted;
    mla_expanded_forward(s, in.q_nope, in.q_rope, in.cache, in.w_uk, in.w_uv, mla_softmax_scale(),
                         out, &counted);
    const auto ref = reference::mla_ref_expanded(d, in.q_nope, in.q_rope, in.cache, in.w_uk,
                                                 in.w_uv, nullptr, mla_softmax_scale());
    EXPECT_TRUE(relatively_close("vs expanded ref", out, ref, kMlaTolerance));
    const RowMatrixXf absorbed = run_forward(in, shape_of(d, c.tokens, 0), nullptr, nullptr);
    EXPECT_LE((out - absorbed).cwiseAbs().maxCoeff(), 1e-4f * absorbed.cwiseAbs().maxCoeff());
    EXPECT_EQ(counted, expansion_cost(s) + cost(s));
  }
}

// V3 widths: 81,920 FLOPs per (query, key) expanded against 278,528 absorbed; one wkv_b pass
// (2 * 512 * 128 * 256 FLOPs) per entry, the chunk's prefix included.
TEST(MlaForward, ExpandedCostAtV3Widths) {
  MlaExpandedShape e;
  e.start_pos = 1000;
  e.num_tokens = 24;
  e.compute = Precision::bf16;
  e.expand_compute = Precision::fp8;
  const std::int64_t pairs = 24 * 1000 + 24 * 25 / 2;
  EXPECT_EQ(cost(e).flops_at(Precision::bf16), 81920 * pairs);
  EXPECT_EQ(expansion_cost(e).flops_at(Precision::fp8), 2LL * 1024 * 512 * 128 * 256);
  MlaAttentionShape a;
  a.start_pos = 1000;
  a.num_tokens = 24;
  EXPECT_EQ(cost(a).flops_at(a.compute), 278528 * pairs);
}

struct SparseCase {
  const char* name;
  std::int64_t start_pos, tokens, topk;
};

// DSA (V3.2): each query attends its own selected tokens; k above the visible count (tiny t) and k
// below it (later queries) in one prefill, and decode with a selection.
TEST(MlaForward, SelectedTokensMatchReferenceAndCountCost) {
  const SparseCase cases[] = {{"prefill 12, k=5", 0, 12, 5},
                              {"decode t=40, k=8", 40, 1, 8},
                              {"decode t=2, k=2048", 2, 1, 2048},
                              {"chunk 6 at 9, k=11", 9, 6, 11}};
  std::uint64_t seed = 3001;
  for (const SparseCase& c : cases) {
    SCOPED_TRACE(c.name);
    SeededRng rng(c.name, seed++);
    const MlaRefDims d = v32_dims(c.start_pos);
    const MlaInputs in = make_inputs(rng, d, c.start_pos + c.tokens, c.tokens);
    const TokenSelection sel = random_selection(rng, c.start_pos, c.tokens, c.topk);
    const MlaAttentionShape s = shape_of(d, c.tokens, c.topk);
    Cost counted;
    const RowMatrixXf out = run_forward(in, s, &sel, &counted);
    const auto ref = reference::mla_ref_absorbed(d, in.q_nope, in.q_rope, in.cache, in.w_uk,
                                                 in.w_uv, &sel, mla_softmax_scale());
    EXPECT_TRUE(relatively_close("vs absorbed ref", out, ref, kMlaTolerance));
    const auto expanded = reference::mla_ref_expanded(d, in.q_nope, in.q_rope, in.cache, in.w_uk,
                                                      in.w_uv, &sel, mla_softmax_scale());
    EXPECT_TRUE(relatively_close("vs expanded ref", out, expanded, kMlaTolerance));
    EXPECT_EQ(counted, mla_attention_cost(s, d.nope, d.v, MlaAbsorptionFormat{}));
  }
}

// Selecting every visible token (k >= t + 1, any order) is dense causal attention.
TEST(MlaForward, FullSelectionEqualsDense) {
  SeededRng rng("mla.full_selection", 4001);
  const MlaRefDims d = v32_dims(5);
  const std::int64_t tokens = 6;
  const MlaInputs in = make_inputs(rng, d, d.start_pos + tokens, tokens);
  const TokenSelection sel = random_selection(rng, d.start_pos, tokens, 2048);
  const RowMatrixXf sparse = run_forward(in, shape_of(d, tokens, 2048), &sel, nullptr);
  const RowMatrixXf dense = run_forward(in, shape_of(d, tokens, 0), nullptr, nullptr);
  EXPECT_TRUE(relatively_close("full selection vs dense", sparse, dense, kMlaTolerance));
}

// Each step counts its own shape's cost, in other storage formats too.
TEST(MlaForward, StepsCountTheirOwnShapes) {
  SeededRng rng("mla.steps", 5001);
  const MlaRefDims d{16, 8, 4, 32, 8, 6};  // small widths: the counts do not depend on values
  const std::int64_t tokens = 3;
  const MlaInputs in = make_inputs(rng, d, d.start_pos + tokens, tokens);
  MlaAttentionShape s = shape_of(d, tokens, 4);
  s.kv_format = KvEntryFormat::bf16;
  s.compute = Precision::fp8;
  const MlaAbsorptionFormat f{WeightFormat::bf16, Precision::bf16};
  const TokenSelection sel = random_selection(rng, d.start_pos, tokens, 4);

  RowMatrixXf q_abs(tokens, d.heads * (d.latent + d.rope)), latent(tokens, d.heads * d.latent),
      out(tokens, d.heads * d.v);
  Cost c1, c2, c3;
  mla_absorb_query(s, in.q_nope, in.q_rope, in.w_uk, q_abs, f, &c1);
  mla_core_forward(s, q_abs, in.cache, &sel, 0.3f, latent, &c2);
  mla_absorb_output(s, latent, in.w_uv, out, f, &c3);
  EXPECT_EQ(c1, cost(mla_query_absorption_shape(s, d.nope, f)));
  EXPECT_EQ(c2, cost(s));
  EXPECT_EQ(c3, cost(mla_output_absorption_shape(s, d.v, f)));
  // 2 * H * (latent + rope + latent) * keys, keys = min(7,4) + min(8,4) + min(9,4) = 12
  EXPECT_EQ(c2.flops_at(Precision::fp8), 2 * 16 * (36 + 32) * 12);

  // The ō handed to the output absorption matches the double reference's.
  reference::RowMatrixd latent_ref;
  reference::mla_ref_absorbed(d, in.q_nope, in.q_rope, in.cache, in.w_uk, in.w_uv, &sel, 0.3,
                              &latent_ref);
  EXPECT_TRUE(relatively_close("latent vs ref", latent, latent_ref, kMlaTolerance));
}

// The packed V32_FP8Sparse cache (656 B per token) gives the results of a float cache holding its
// decoded entries, dense and with a selection, and counts the same cost.
TEST(MlaForward, PackedCacheEqualsDecodedFloatCache) {
  SeededRng rng("mla.packed", 5501);
  const MlaRefDims d = v32_dims(9);
  const std::int64_t tokens = 3, n = d.start_pos + tokens;
  const MlaInputs in = make_inputs(rng, d, n, tokens);
  MlaPackedCache packed(KvEntryFormat::v32_fp8_sparse, 576, 64);
  EXPECT_EQ(packed.entry_bytes(), 656);
  RowMatrixXf decoded(n, 576);
  for (std::int64_t s = 0; s < n; ++s) {
    packed.append(std::span<const float>(in.cache.row(s).data(), 576));
    packed.decode(s, std::span<float>(decoded.row(s).data(), 576));
  }
  RowMatrixXf q_abs(tokens, d.heads * 576);
  mla_absorb_query(shape_of(d, tokens, 0), in.q_nope, in.q_rope, in.w_uk, q_abs);
  const TokenSelection sel = random_selection(rng, d.start_pos, tokens, 6);
  for (const TokenSelection* selection : {static_cast<const TokenSelection*>(nullptr), &sel}) {
    const MlaAttentionShape s = shape_of(d, tokens, selection == nullptr ? 0 : 6);
    RowMatrixXf from_packed(tokens, d.heads * 512), from_float(tokens, d.heads * 512);
    Cost counted;
    mla_core_forward(s, q_abs, packed, selection, mla_softmax_scale(), from_packed, &counted);
    mla_core_forward(s, q_abs, decoded, selection, mla_softmax_scale(), from_float);
    EXPECT_TRUE(relatively_close("packed vs decoded float", from_packed, from_float, 1e-6));
    EXPECT_EQ(counted, cost(s));
  }
  // Truncate drops whole entries; appending again restores the bytes.
  const std::vector<std::uint8_t> full = packed.bytes;
  packed.truncate(4);
  EXPECT_EQ(packed.bytes.size(), std::size_t(4 * 656));
  for (std::int64_t s = 4; s < n; ++s)
    packed.append(std::span<const float>(in.cache.row(s).data(), 576));
  EXPECT_EQ(packed.bytes, full);
}

TEST(MlaForward, RejectsSelectionsThatBreakCausality) {
  SeededRng rng("mla.causality", 6001);
  const MlaRefDims d{2, 4, 2, 8, 4, 3};
  const MlaInputs in = make_inputs(rng, d, 8, 1);
  TokenSelection sel(1, 2);
  sel << 1, 4;  // query at t = 3 may not see token 4
  RowMatrixXf out(1, d.heads * d.v);
  EXPECT_THROW(mla_attention_forward(shape_of(d, 1, 2), in.q_nope, in.q_rope, in.cache, in.w_uk,
                                     in.w_uv, &sel, 1.0f, out),
               std::invalid_argument);
}

// A query whose selection is all padding attends nothing: zero output, zero keys counted.
TEST(MlaForward, EmptySelectionGivesZeros) {
  SeededRng rng("mla.empty", 7001);
  const MlaRefDims d{2, 4, 2, 8, 4, 0};
  const MlaInputs in = make_inputs(rng, d, 1, 1);
  const TokenSelection sel = TokenSelection::Constant(1, 3, -1);
  RowMatrixXf q_abs(1, d.heads * (d.latent + d.rope)), latent(1, d.heads * d.latent);
  mla_absorb_query(shape_of(d, 1, 3), in.q_nope, in.q_rope, in.w_uk, q_abs);
  Cost c;
  mla_core_forward(shape_of(d, 1, 3), q_abs, in.cache, &sel, 1.0f, latent, &c);
  EXPECT_EQ(latent.cwiseAbs().maxCoeff(), 0.0f);
  EXPECT_EQ(c.read(MemClass::kv_cache), 0);
}

}  // namespace
}  // namespace v4sim
