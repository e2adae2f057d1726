// Numerical robustness at logits of ±1e4 (issue 7): every softmax-like step the kernels take must
// stay finite and pick the limit a careful evaluation gives, not overflow exp() or divide 0 by 0.
//   * mHC Sinkhorn (kernels/mhc_forward.h) on an n x n matrix of ±1e4 logits;
//   * the V4 core attention softmax with its sink (kernels/sparse_attention_forward.h);
//   * the MLA core softmax (kernels/mla_attention_forward.h);
//   * the dense GQA softmax (kernels/gqa_attention_forward.h).
// The routers (MoeRouter.ExtremeLogitsStayFinite), the whole mHC mapping (MhcForward.
// HugeInputsStayFinite) and the quantisers' saturation and rounding (quant_test.cpp, kv_entry_test)
// are covered next to their kernels.
//
// Logits are built exactly: keys are ±1 along one axis and the query is 1e4 / scale along it, so
// each logit is ±1e4 up to float rounding of the scale. A softmax over logits 2e4 apart is one-hot
// in any precision (e^-2e4 underflows to 0 in double), so the expected outputs are exact:
// tolerance 1e-6 absolute on values of magnitude <= 1. Where a double reference exists (V4 core)
// the kernel is also compared with it (the reference subtracts the max too).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/gqa_attention_forward.h"
#include "kernels/mhc_forward.h"
#include "kernels/mla_attention_forward.h"
#include "kernels/sparse_attention_forward.h"
#include "tests/kernels/reference/v4_core_attention_ref.h"
#include "tests/support/random.h"

namespace v4sim {
namespace {

constexpr float kBig = 1e4f;
constexpr double kTol = 1e-6;

TEST(ExtremeLogits, SinkhornStaysFiniteAndColumnStochastic) {
  // Rows: one +1e4 winner; alternating signs; all -1e4; all +1e4.
  const int n = 4;
  std::vector<float> r = {kBig,  -kBig, -kBig, -kBig,  //
                          kBig,  -kBig, kBig,  -kBig,  //
                          -kBig, -kBig, -kBig, -kBig,  //
                          kBig,  kBig,  kBig,  kBig};
  mhc_sinkhorn(r, n, 20);
  for (int j = 0; j < n; ++j) {
    double col = 0;
    for (int i = 0; i < n; ++i) {
      const float v = r[i * n + j];
      EXPECT_TRUE(std::isfinite(v)) << i << "," << j;
      EXPECT_GT(v, 0.0f) << i << "," << j;  // the eps keeps every entry positive
      col += v;
    }
    EXPECT_NEAR(col, 1.0, 1e-5) << "column " << j;
  }
  // Every row of ±1e4 logits, not just this matrix: random signs.
  test_support::SeededRng rng("extreme.sinkhorn", 0x51E4);
  for (int trial = 0; trial < 100; ++trial) {
    std::vector<float> m(16);
    for (float& v : m) v = rng.uniform_int(0, 1) ? kBig : -kBig;
    mhc_sinkhorn(m, n, 20);
    for (float v : m) ASSERT_TRUE(std::isfinite(v) && v > 0.0f) << "trial " << trial;
  }
}

// One query, H = 2 heads of d = 512 (the V4 widths), keys ±1 along dimension 0 (not a RoPE dim).
// Head 0's query gives key s the logit signs[s] * 1e4; its output along dimension 0 is the limit
// below. Sinks are kept 2e4 away from the keys' logits or exactly at 0, so no case hinges on a
// near-tie between a float logit and the sink.
struct V4Case {
  std::vector<float> signs;  // key s is signs[s] * e_0
  float sink;
  double expected;  // head 0, dimension 0
};

TEST(ExtremeLogits, V4CoreSoftmaxWithSink) {
  const RopeTable rope = make_rope_table(v4_compressed_rope());
  const std::int64_t heads = 2, d = 512;
  const float q_scale = kBig * std::sqrt(static_cast<float>(d));  // logit = ±1e4
  for (const V4Case& c : {V4Case{{1, -1, -1}, 0.0f, 1.0},         // one winner
                          V4Case{{-1, -1, -1}, 0.0f, 0.0},        // the sink beats every key
                          V4Case{{-1, -1, -1}, -3 * kBig, -1.0},  // equal losers, no sink: mean
                          V4Case{{1, 1, -1, -1}, 3 * kBig, 0.0},  // a huge sink takes it all
                          V4Case{{1, 1, -1}, -kBig, 1.0}}) {      // two winners tie
    const std::int64_t n = static_cast<std::int64_t>(c.signs.size());
    RowMatrixXf table = RowMatrixXf::Zero(n, d);
    for (std::int64_t s = 0; s < n; ++s) table(s, 0) = c.signs[s];
    KeySets keys;
    for (std::int64_t s = 0; s < n; ++s) keys.add(table.row(s).data());
    keys.end_query();
    RowMatrixXf q = RowMatrixXf::Zero(1, heads * d);
    q(0, 0) = q_scale;   // head 0 prefers +1 keys
    q(0, d) = -q_scale;  // head 1 prefers -1 keys
    const std::vector<float> sink(heads, c.sink);
    SparseAttentionShape shape;
    shape.num_heads = heads;
    shape.start_pos = 7;
    RowMatrixXf out(1, heads * d);
    sparse_attention_core(shape, q, keys, sink, rope, out);
    ASSERT_TRUE(out.allFinite());
    EXPECT_NEAR(out(0, 0), c.expected, kTol) << "sink " << c.sink << ", keys " << n;

    // The double reference agrees on both heads.
    std::vector<Eigen::VectorXd> k;
    for (std::int64_t s = 0; s < n; ++s) k.push_back(table.row(s).transpose().cast<double>());
    const Eigen::VectorXd ref =
        reference::core_attention_ref(q.row(0).transpose().cast<double>(), k,
                                      std::vector<double>(heads, c.sink), 7, rope.frequencies);
    ASSERT_TRUE(ref.allFinite());
    EXPECT_LE((out.row(0).transpose().cast<double>() - ref).cwiseAbs().maxCoeff(), kTol);
  }
}

TEST(ExtremeLogits, MlaCoreSoftmax) {
  // Dense causal MLA over 5 cached entries, 2 heads, entries ±1 along latent dimension 3.
  MlaAttentionShape s;
  s.num_heads = 2;
  s.start_pos = 4;
  s.num_tokens = 1;
  const std::int64_t dim = s.latent_dim + s.rope_dim;
  const std::vector<float> signs = {-1, -1, 1, -1, -1};
  RowMatrixXf cache = RowMatrixXf::Zero(5, dim);
  for (int t = 0; t < 5; ++t) cache(t, 3) = signs[t];
  RowMatrixXf q = RowMatrixXf::Zero(1, s.num_heads * dim);
  q(0, 3) = kBig;         // head 0: logit +1e4 for entry 2, -1e4 elsewhere
  q(0, dim + 3) = -kBig;  // head 1: four entries tie at +1e4
  RowMatrixXf out(1, s.num_heads * s.latent_dim);
  mla_core_forward(s, q, cache, nullptr, 1.0f, out);
  ASSERT_TRUE(out.allFinite());
  EXPECT_NEAR(out(0, 3), 1.0, kTol);                  // the one winner
  EXPECT_NEAR(out(0, s.latent_dim + 3), -1.0, kTol);  // the mean of four -1 entries
  // Every logit equal at -1e4 (query -1e4 on keys that are all +1): the softmax is uniform.
  RowMatrixXf ones = RowMatrixXf::Zero(5, dim);
  ones.col(3).setOnes();
  RowMatrixXf q2 = RowMatrixXf::Zero(1, s.num_heads * dim);
  q2(0, 3) = -kBig;
  q2(0, dim + 3) = -kBig;
  mla_core_forward(s, q2, ones, nullptr, 1.0f, out);
  ASSERT_TRUE(out.allFinite());
  EXPECT_NEAR(out(0, 3), 1.0, kTol);  // equal logits, however negative: the plain mean
}

TEST(ExtremeLogits, GqaSoftmax) {
  // 4 query heads over 2 KV heads of 128 dims, 6 positions; keys ±1 along dimension 0 of each KV
  // head, values random: the output of a head is the value of its single winning key.
  GqaAttentionShape s;
  s.q_heads = 4;
  s.kv_heads = 2;
  s.head_dim = 128;
  s.start_pos = 5;
  s.num_tokens = 1;
  test_support::SeededRng rng("extreme.gqa", 0x6A4);
  const RowMatrixXf v = rng.normal(6, s.kv_heads * s.head_dim);
  RowMatrixXf k = RowMatrixXf::Constant(6, s.kv_heads * s.head_dim, 0.0f);
  for (int t = 0; t < 6; ++t) {
    k(t, 0) = t == 1 ? 1.0f : -1.0f;           // KV head 0: position 1 wins for q > 0
    k(t, s.head_dim) = t == 4 ? -1.0f : 1.0f;  // KV head 1: position 4 wins for q < 0
  }
  const float q_scale = kBig * std::sqrt(static_cast<float>(s.head_dim));
  RowMatrixXf q = RowMatrixXf::Zero(1, s.q_heads * s.head_dim);
  q(0, 0 * s.head_dim) = q_scale;   // head 0 (KV 0): winner 1
  q(0, 1 * s.head_dim) = -q_scale;  // head 1 (KV 0): five keys tie
  q(0, 2 * s.head_dim) = -q_scale;  // head 2 (KV 1): winner 4
  q(0, 3 * s.head_dim) = q_scale;   // head 3 (KV 1): five keys tie
  RowMatrixXf out(1, s.q_heads * s.head_dim);
  gqa_attention_forward(s, q, k, v, out);
  ASSERT_TRUE(out.allFinite());
  const Eigen::Index hd = s.head_dim;
  auto mean_except = [&](int kv, int skip) {
    Eigen::VectorXd m = Eigen::VectorXd::Zero(hd);
    for (int t = 0; t < 6; ++t)
      if (t != skip) m += v.row(t).segment(kv * hd, hd).transpose().cast<double>();
    return Eigen::VectorXd(m / 5.0);
  };
  const auto head = [&](int h) {
    return out.row(0).segment(h * hd, hd).transpose().cast<double>();
  };
  EXPECT_LE((head(0) - v.row(1).segment(0, hd).transpose().cast<double>()).cwiseAbs().maxCoeff(),
            kTol);
  EXPECT_LE((head(1) - mean_except(0, 1)).cwiseAbs().maxCoeff(), 1e-5);
  EXPECT_LE((head(2) - v.row(4).segment(hd, hd).transpose().cast<double>()).cwiseAbs().maxCoeff(),
            kTol);
  EXPECT_LE((head(3) - mean_except(1, 4)).cwiseAbs().maxCoeff(), 1e-5);
}

}  // namespace
}  // namespace v4sim
