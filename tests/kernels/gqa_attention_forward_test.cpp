// Dense causal GQA/MHA/MQA (kernels/gqa_attention_forward.h) against a naive double reference.
//
// Tolerance: max abs error <= 2e-5 of the output's max abs value (float32 dot products of 32..128
// terms and sums over <= 40 keys; observed ~1e-6 relative).
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/gqa_attention_forward.h"
#include "tests/kernels/reference/gqa_ref.h"
#include "tests/support/closeness.h"
#include "tests/support/random.h"

namespace v4sim {
namespace {

using test_support::relatively_close;
using test_support::SeededRng;

constexpr double kGqaTolerance = 2e-5;

struct GqaCase {
  const char* name;
  int q_heads, kv_heads, head_dim;
  std::int64_t start_pos, tokens;
};

GqaAttentionShape shape_of(const GqaCase& c) {
  GqaAttentionShape s;
  s.q_heads = c.q_heads;
  s.kv_heads = c.kv_heads;
  s.head_dim = c.head_dim;
  s.start_pos = c.start_pos;
  s.num_tokens = c.tokens;
  return s;
}

TEST(GqaForward, MatchesDoubleReferenceAndCountsCost) {
  const GqaCase cases[] = {{"MHA 8x64 prefill 7", 8, 8, 64, 0, 7},
                           {"GQA-2 8x128 chunk 4 at 10", 8, 2, 128, 10, 4},
                           {"MQA 4x32 decode t=0", 4, 1, 32, 0, 1},
                           {"GQA-8 64x128 decode t=40", 64, 8, 128, 40, 1},
                           {"GQA-8 64x128 prefill 5", 64, 8, 128, 0, 5}};
  std::uint64_t seed = 8001;
  for (const GqaCase& c : cases) {
    SCOPED_TRACE(c.name);
    SeededRng rng(c.name, seed++);
    const std::int64_t n = c.start_pos + c.tokens;
    // Keys scaled so q.k / sqrt(d) has a spread of about 1.5.
    const RowMatrixXf q = rng.normal(c.tokens, c.q_heads * c.head_dim);
    const RowMatrixXf k = rng.normal(n, c.kv_heads * c.head_dim, 1.5);
    const RowMatrixXf v = rng.normal(n, c.kv_heads * c.head_dim);
    GqaAttentionShape s = shape_of(c);
    RowMatrixXf out(c.tokens, c.q_heads * c.head_dim);
    Cost counted;
    gqa_attention_forward(s, q, k, v, out, &counted);
    const Eigen::MatrixXd ref =
        reference::gqa_ref(c.q_heads, c.kv_heads, c.head_dim, c.start_pos, q, k, v);
    EXPECT_TRUE(relatively_close("vs ref", out, ref, kGqaTolerance));
    EXPECT_EQ(counted, cost(s));
    // The same run in another cache format and precision still counts its own shape.
    s.kv_format = KvEntryFormat::fp8_fp32_scale;
    s.compute = Precision::fp8;
    Cost fp8;
    gqa_attention_forward(s, q, k, v, out, &fp8);
    EXPECT_EQ(fp8, cost(s));
  }
}

// GQA is MHA with every KV head repeated for its G query heads.
TEST(GqaForward, EqualsMhaWithRepeatedKvHeads) {
  SeededRng rng("gqa.repeat", 9001);
  const int Hq = 8, Hkv = 2, d = 32, G = Hq / Hkv;
  const std::int64_t T = 6;
  const RowMatrixXf q = rng.normal(T, Hq * d), k = rng.normal(T, Hkv * d),
                    v = rng.normal(T, Hkv * d);
  RowMatrixXf k_rep(T, Hq * d), v_rep(T, Hq * d);
  for (int j = 0; j < Hq; ++j) {
    k_rep.middleCols(j * d, d) = k.middleCols((j / G) * d, d);
    v_rep.middleCols(j * d, d) = v.middleCols((j / G) * d, d);
  }
  RowMatrixXf gqa(T, Hq * d), mha(T, Hq * d);
  gqa_attention_forward(shape_of({"", Hq, Hkv, d, 0, T}), q, k, v, gqa);
  gqa_attention_forward(shape_of({"", Hq, Hq, d, 0, T}), q, k_rep, v_rep, mha);
  EXPECT_TRUE(relatively_close("gqa vs mha", gqa, mha, 1e-6));
}

// Prefill in chunks gives the rows of a one-shot prefill (each query sees exactly 0..t).
TEST(GqaForward, ChunkedPrefillEqualsOneShot) {
  SeededRng rng("gqa.chunks", 9101);
  const int Hq = 4, Hkv = 2, d = 16;
  const std::int64_t T = 11;
  const RowMatrixXf q = rng.normal(T, Hq * d), k = rng.normal(T, Hkv * d),
                    v = rng.normal(T, Hkv * d);
  RowMatrixXf whole(T, Hq * d);
  gqa_attention_forward(shape_of({"", Hq, Hkv, d, 0, T}), q, k, v, whole);
  std::int64_t start = 0;
  for (std::int64_t len : {3, 1, 5, 2}) {
    RowMatrixXf part(len, Hq * d);
    gqa_attention_forward(shape_of({"", Hq, Hkv, d, start, len}), q.middleRows(start, len), k, v,
                          part);
    EXPECT_TRUE(relatively_close("chunk vs whole", part, whole.middleRows(start, len), 1e-6))
        << "chunk at " << start;
    start += len;
  }
}

TEST(GqaForward, RejectsBadShapes) {
  const RowMatrixXf q(1, 6 * 8), kv(4, 4 * 8);
  RowMatrixXf out(1, 6 * 8);
  EXPECT_THROW(gqa_attention_forward(shape_of({"", 6, 4, 8, 0, 1}), q, kv, kv, out),
               std::invalid_argument);  // 6 query heads cannot share 4 KV heads evenly
  EXPECT_THROW(gqa_attention_forward(shape_of({"", 6, 2, 8, 9, 1}), q, kv.leftCols(16),
                                     kv.leftCols(16), out),
               std::invalid_argument);  // position 9 but only 4 cached entries
}

}  // namespace
}  // namespace v4sim
