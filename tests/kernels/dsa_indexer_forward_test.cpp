// V3.2 DSA indexer (kernels/dsa_indexer_forward.h) at production widths (D = 7168, q_lora_rank
// 1536, 64 heads x 128, rope 64) with small token counts, against the naive double reference.
//
// Tolerances:
//   * exact mode vs double reference: max |I - I_ref| <= 2e-5 x max |I_ref| (float32 projections of
//     7168 and 1536 terms, 128-term dots; observed ~1e-6);
//   * FP8 mode, scoring arithmetic: scores vs a double evaluation of the kernel's own FP8 q and k,
//     1e-5 relative (products of E4M3 values are exact in float; only the sums round, observed
//     <= 1e-6);
//   * FP8 rounding itself: each key element within 2^-4 |k| + 2^-10 s of the exact key (E4M3 has 3
//     mantissa bits, subnormal step 2^-9 s); each score within sum_h |w_h| 0.129 |q_h| |k_s| of the
//     exact one (the same element bound carried through the dot products).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "kernels/dsa_indexer_forward.h"
#include "kernels/host_isa.h"
#include "kernels/mla_attention_forward.h"
#include "kernels/quant.h"
#include "tests/kernels/reference/dsa_indexer_ref.h"
#include "tests/support/closeness.h"
#include "tests/support/random.h"

namespace v4sim {
namespace {

using test_support::SeededRng;

constexpr std::int64_t kHidden = 7168, kQLora = 1536;

struct Indexer {
  DsaIndexerConfig cfg;
  DsaIndexerFormats fmt;
  DsaIndexerWeights w;
  RopeTable rope = make_rope_table(v32_rope_config());

  reference::DsaRefWeights ref() const {
    return {w.wq_b, w.wk, w.k_norm_weight, w.k_norm_bias, w.weights_proj, 64, 128, 64};
  }
};

Indexer make_indexer(SeededRng& rng, bool exact) {
  Indexer ix;
  ix.cfg.exact = exact;
  const std::int64_t H = ix.cfg.num_heads, d = ix.cfg.head_dim;
  ix.w.wq_b = rng.normal(H * d, kQLora, 1.0 / std::sqrt(double(kQLora)));
  ix.w.wk = rng.normal(d, kHidden, 1.0 / std::sqrt(double(kHidden)));
  ix.w.k_norm_weight = (1.0f + 0.1f * rng.normal(d, 1).array()).matrix();
  ix.w.k_norm_bias = 0.1f * rng.normal(d, 1);
  ix.w.weights_proj = rng.normal(H, kHidden, 1.0 / std::sqrt(double(kHidden)));
  return ix;
}

double max_abs(const std::vector<double>& v) {
  double m = 0.0;
  for (double x : v) m = std::max(m, std::abs(x));
  return m;
}

TEST(DsaIndexer, RopeTableIsV32Yarn) {
  const RopeConfig c = v32_rope_config();
  const YarnRange r = yarn_range(c);
  // c(32) = 64 ln(4096 / 64 pi) / (2 ln 1e4) = 10.47 -> 10; c(1) = 22.5 -> 23
  EXPECT_EQ(r.lo, 10);
  EXPECT_EQ(r.hi, 23);
  const RopeTable t = make_rope_table(c);
  const std::vector<double> ref = reference::dsa_ref_frequencies(64);
  for (std::size_t j = 0; j < ref.size(); ++j)
    EXPECT_NEAR(t.frequencies[j], ref[j], 1e-15 * (1 + ref[j]));
}

TEST(DsaIndexer, RopeRotatesFirstDimsInHalfPairs) {
  // Position 1, pair 0 has frequency 1: (x0, x32) turns by 1 radian; dims >= 64 stay.
  const RopeTable t = make_rope_table(v32_rope_config());
  std::vector<float> x(128, 0.0f);
  x[0] = 1.0f;
  x[100] = 5.0f;
  dsa_rope_rotate(x, rope_angles(t, 1));
  EXPECT_NEAR(x[0], std::cos(1.0), 1e-6);
  EXPECT_NEAR(x[32], std::sin(1.0), 1e-6);
  EXPECT_EQ(x[1], 0.0f);
  EXPECT_EQ(x[100], 5.0f);
}

// Exact mode (no FP8): the kernel's scores equal the double reference's, which skips the Hadamard
// altogether - so this also checks that the Hadamard preserves every q.k before rounding.
TEST(DsaIndexer, ExactScoresMatchReferenceWithoutHadamard) {
  SeededRng rng("dsa.exact", 11001);
  Indexer ix = make_indexer(rng, true);
  const std::int64_t T = 9;
  const RowMatrixXf x = rng.normal(T, kHidden), c_q = rng.normal(T, kQLora);
  DsaKeyCache cache(128, true);
  // Prefill 6 tokens, then decode 3 one at a time.
  Cost counted;
  dsa_indexer_append_keys(ix.cfg, ix.fmt, ix.w, ix.rope, x.topRows(6), cache, &counted);
  const DsaQueries q6 =
      dsa_indexer_queries(ix.cfg, ix.fmt, ix.w, ix.rope, 0, c_q.topRows(6), x.topRows(6), &counted);
  for (std::int64_t i = 0; i < 6; ++i) {
    const std::vector<float> got = dsa_indexer_scores(q6, cache, i);
    const std::vector<double> ref = reference::dsa_ref_scores(ix.ref(), c_q, x, i, i, x);
    ASSERT_EQ(got.size(), ref.size());
    double err = 0.0;
    for (std::size_t s = 0; s < ref.size(); ++s) err = std::max(err, std::abs(got[s] - ref[s]));
    EXPECT_LE(err, 2e-5 * max_abs(ref)) << "query " << i;
  }
  for (std::int64_t t = 6; t < T; ++t) {
    dsa_indexer_append_keys(ix.cfg, ix.fmt, ix.w, ix.rope, x.middleRows(t, 1), cache);
    const DsaQueries q = dsa_indexer_queries(ix.cfg, ix.fmt, ix.w, ix.rope, t, c_q.middleRows(t, 1),
                                             x.middleRows(t, 1));
    const std::vector<float> got = dsa_indexer_scores(q, cache, 0);
    const std::vector<double> ref = reference::dsa_ref_scores(ix.ref(), c_q, x, t, t, x);
    double err = 0.0;
    for (std::size_t s = 0; s < ref.size(); ++s) err = std::max(err, std::abs(got[s] - ref[s]));
    std::printf("[error] exact decode t=%lld: %.3g\n", static_cast<long long>(t),
                err / max_abs(ref));
    EXPECT_LE(err, 2e-5 * max_abs(ref)) << "decode t=" << t;
  }
  // The projections of the prefill were counted as the analytic model prices them.
  const Cost expected =
      cost(LinearShape{6, kHidden, 128, 1, ix.fmt.wk, ix.fmt.projections}) +
      cost(LinearShape{6, kQLora, 64 * 128, 1, ix.fmt.wq_b, ix.fmt.projections}) +
      cost(LinearShape{6, kHidden, 64, 1, ix.fmt.weights_proj, ix.fmt.projections});
  EXPECT_EQ(counted, expected);
}

// Exact mode top-k agrees with the reference ranking; k >= t + 1 selects every token.
TEST(DsaIndexer, ExactTopKMatchesReferenceRanking) {
  SeededRng rng("dsa.topk", 12001);
  Indexer ix = make_indexer(rng, true);
  ix.cfg.topk = 5;
  const std::int64_t T = 12;
  const RowMatrixXf x = rng.normal(T, kHidden), c_q = rng.normal(T, kQLora);
  DsaKeyCache cache(128, true);
  Cost counted;
  const TokenSelection sel =
      dsa_indexer_forward(ix.cfg, ix.fmt, ix.w, ix.rope, c_q, x, cache, &counted);
  EXPECT_EQ(counted, dsa_indexer_cost(ix.cfg, ix.fmt, kHidden, kQLora, 0, T));
  ASSERT_EQ(sel.rows(), T);
  ASSERT_EQ(sel.cols(), 5);
  for (std::int64_t t = 0; t < T; ++t) {
    const std::vector<double> ref = reference::dsa_ref_scores(ix.ref(), c_q, x, t, t, x);
    std::set<std::int32_t> chosen;
    for (Eigen::Index j = 0; j < sel.cols(); ++j) {
      if (sel(t, j) < 0) continue;
      EXPECT_LE(sel(t, j), t) << "causality";
      chosen.insert(sel(t, j));
    }
    EXPECT_EQ(static_cast<std::int64_t>(chosen.size()), std::min<std::int64_t>(t + 1, 5));
    if (t + 1 <= 5) {
      for (std::int32_t s = 0; s <= t; ++s) EXPECT_TRUE(chosen.count(s)) << "t=" << t << " s=" << s;
      continue;
    }
    // Every chosen token scores at least as high (in double) as every token left out, up to the
    // float error of the scores.
    double lowest_in = INFINITY, highest_out = -INFINITY;
    for (std::int64_t s = 0; s <= t; ++s) {
      if (chosen.count(static_cast<std::int32_t>(s)))
        lowest_in = std::min(lowest_in, ref[s]);
      else
        highest_out = std::max(highest_out, ref[s]);
    }
    EXPECT_GE(lowest_in, highest_out - 2e-5 * max_abs(ref)) << "t=" << t;
  }
}

// FP8 mode: the cache holds E4M3 codes with one power-of-two scale per key (132 B in the shape's
// format); scores are the double evaluation of those very FP8 values; rounding stays within E4M3's
// precision of the exact keys.
TEST(DsaIndexer, Fp8KeysAndScores) {
  SeededRng rng("dsa.fp8", 13001);
  Indexer ix = make_indexer(rng, false);
  const std::int64_t T = 7;
  const RowMatrixXf x = rng.normal(T, kHidden), c_q = rng.normal(T, kQLora);
  DsaKeyCache cache(128, false);
  dsa_indexer_append_keys(ix.cfg, ix.fmt, ix.w, ix.rope, x, cache);
  ASSERT_EQ(cache.rows, T);
  EXPECT_EQ(cache.codes.size(), std::size_t(T * 128));
  EXPECT_EQ(kv_entry_bytes(KvEntryFormat::fp8_fp32_scale, 128, 0), 132);
  for (std::int64_t s = 0; s < T; ++s) {
    const float scale = cache.scales[s];
    EXPECT_EQ(pow2_ceil(scale), scale) << "UE8M0 scales are powers of two";
    std::vector<double> exact = reference::dsa_ref_key(ix.ref(), x, s, s);
    exact = reference::ref_hadamard(exact);
    const std::vector<float> k = cache.key(s);
    for (int j = 0; j < 128; ++j)
      EXPECT_LE(std::abs(k[j] - exact[j]),
                std::ldexp(std::abs(exact[j]), -4) + std::ldexp(scale, -10) + 1e-5)
          << "s=" << s << " j=" << j;
  }
  // |k_s|^2 of the exact keys, for the score bound below (a key does not depend on the query).
  std::vector<double> exact_key_norm2(T, 0.0);
  for (std::int64_t s = 0; s < T; ++s)
    for (double v : reference::dsa_ref_key(ix.ref(), x, s, s)) exact_key_norm2[s] += v * v;
  const DsaQueries q = dsa_indexer_queries(ix.cfg, ix.fmt, ix.w, ix.rope, 0, c_q, x);
  for (std::int64_t i = 0; i < T; ++i) {
    // Query values are E4M3 values (scales live in the weights).
    for (Eigen::Index j = 0; j < q.q.cols(); ++j)
      ASSERT_EQ(fp8_e4m3_decode(fp8_e4m3_encode(q.q(i, j))), q.q(i, j));
    const std::vector<float> got = dsa_indexer_scores(q, cache, i);
    std::vector<double> own(i + 1, 0.0);
    for (std::int64_t s = 0; s <= i; ++s) {
      const std::vector<float> k = cache.key(s);
      for (int h = 0; h < 64; ++h) {
        double dot = 0.0;
        for (int j = 0; j < 128; ++j) dot += double(q.q(i, h * 128 + j)) * double(k[j]);
        own[s] += double(q.w(i, h)) * std::max(dot, 0.0);
      }
    }
    const std::vector<double> exact = reference::dsa_ref_scores(ix.ref(), c_q, x, i, i, x);
    // FP8 bound per score: |q^.k^ - q.k| <= (2 * 2^-4 + 2^-8) |q| |k| per head (E4M3 rounds each
    // element to 2^-4 relative; norms survive the Hadamard), weighted by |w_h|.
    std::vector<double> bound(i + 1, 0.0);
    for (int h = 0; h < 64; ++h) {
      double wh = 0.0;
      for (Eigen::Index c = 0; c < kHidden; ++c)
        wh += double(ix.w.weights_proj(h, c)) * double(x(i, c));
      wh /= std::sqrt(64.0 * 128.0);
      const std::vector<double> qh = reference::dsa_ref_query(ix.ref(), c_q, i, h, i);
      double qq = 0.0;
      for (int j = 0; j < 128; ++j) qq += qh[j] * qh[j];
      for (std::int64_t s = 0; s <= i; ++s)
        bound[s] += std::abs(wh) * 0.129 * std::sqrt(qq * exact_key_norm2[s]);
    }
    double err_own = 0.0, worst = 0.0;
    for (std::int64_t s = 0; s <= i; ++s) {
      err_own = std::max(err_own, std::abs(got[s] - own[s]));
      worst = std::max(worst, std::abs(got[s] - exact[s]) / bound[s]);
    }
    std::printf(
        "[error] fp8 query %lld: vs own fp8 values %.3g; vs exact, fraction of bound %.3g\n",
        static_cast<long long>(i), err_own / max_abs(own), worst);
    EXPECT_LE(err_own, 1e-5 * max_abs(own)) << "query " << i;
    EXPECT_LE(worst, 1.0) << "query " << i;
  }
  // The AVX-512 path (key decode, gemm_weight_t) and the portable one (table decode, Eigen's
  // product) give NaN in the same places, NaN codes (0x7F, 0xFF) included (decoded as +-480 they
  // would move the keys' dot products far past the bound), and otherwise agree to float32
  // rounding of the 128-term dots: 1e-5 of the max |score|.
  cache.codes[5] = 0x7F;
  cache.codes[2 * 128 + 9] = 0xFF;
  for (std::int64_t i = 0; i < T; ++i) {
    const std::vector<float> fast = dsa_indexer_scores(q, cache, i);
    std::vector<float> portable;
    {
      PortableKernels guard;
      portable = dsa_indexer_scores(q, cache, i);
    }
    ASSERT_EQ(fast.size(), portable.size());
    double scale = 0;
    for (float v : portable)
      if (!std::isnan(v)) scale = std::max(scale, std::abs(double(v)));
    for (std::size_t s = 0; s < fast.size(); ++s) {
      ASSERT_EQ(std::isnan(fast[s]), std::isnan(portable[s])) << "query " << i << " key " << s;
      if (!std::isnan(fast[s])) {
        EXPECT_LE(std::abs(double(fast[s]) - portable[s]), 1e-5 * scale)
            << "query " << i << " key " << s << ": " << fast[s] << " vs " << portable[s];
      }
    }
  }
}

// Counted work equals cost() for decode and prefill shapes, k above and below the visible count.
TEST(DsaIndexer, CountsEqualCost) {
  SeededRng rng("dsa.counts", 14001);
  Indexer ix = make_indexer(rng, false);
  struct Case {
    std::int64_t start, tokens, topk;
  };
  for (const Case c :
       {Case{0, 1, 2048}, Case{0, 6, 4}, Case{6, 1, 4}, Case{7, 5, 2}, Case{12, 1, 2048}}) {
    SCOPED_TRACE(testing::Message()
                 << "start " << c.start << " tokens " << c.tokens << " k " << c.topk);
    ix.cfg.topk = c.topk;
    DsaKeyCache cache(128, false);
    const RowMatrixXf x = rng.normal(c.start + c.tokens, kHidden);
    const RowMatrixXf c_q = rng.normal(c.start + c.tokens, kQLora);
    if (c.start > 0)
      dsa_indexer_append_keys(ix.cfg, ix.fmt, ix.w, ix.rope, x.topRows(c.start), cache);
    Cost counted;
    const TokenSelection sel =
        dsa_indexer_forward(ix.cfg, ix.fmt, ix.w, ix.rope, c_q.bottomRows(c.tokens),
                            x.bottomRows(c.tokens), cache, &counted);
    EXPECT_EQ(counted, dsa_indexer_cost(ix.cfg, ix.fmt, kHidden, kQLora, c.start, c.tokens));
    // The scoring part alone is cost(IndexerScoringShape), ratio 1.
    const DsaQueries q = dsa_indexer_queries(ix.cfg, ix.fmt, ix.w, ix.rope, c.start,
                                             c_q.bottomRows(c.tokens), x.bottomRows(c.tokens));
    const IndexerScoringShape shape = dsa_scoring_shape(ix.cfg, c.start, c.tokens);
    Cost scoring;
    EXPECT_EQ(dsa_indexer_topk(shape, q, cache, c.topk, &scoring), sel);
    EXPECT_EQ(scoring, cost(shape));
    EXPECT_EQ(sel.cols(), std::min(c.topk, c.start + c.tokens));
  }
}

// Truncating (a rejected draft token, a benchmark undoing its step) and appending again gives the
// cache a fresh append would.
TEST(DsaIndexer, TruncateThenAppendEqualsFresh) {
  SeededRng rng("dsa.truncate", 14501);
  Indexer ix = make_indexer(rng, false);
  const RowMatrixXf x = rng.normal(4, kHidden), other = rng.normal(2, kHidden);
  DsaKeyCache fresh(128, false), reused(128, false);
  dsa_indexer_append_keys(ix.cfg, ix.fmt, ix.w, ix.rope, x, fresh);
  dsa_indexer_append_keys(ix.cfg, ix.fmt, ix.w, ix.rope, x.topRows(2), reused);
  dsa_indexer_append_keys(ix.cfg, ix.fmt, ix.w, ix.rope, other, reused);
  reused.truncate(2);
  dsa_indexer_append_keys(ix.cfg, ix.fmt, ix.w, ix.rope, x.bottomRows(2), reused);
  EXPECT_EQ(reused.rows, 4);
  EXPECT_EQ(reused.codes, fresh.codes);
  EXPECT_EQ(reused.scales, fresh.scales);
  EXPECT_THROW(reused.truncate(5), std::invalid_argument);
}

// End to end at small widths: the indexer's selection drives the MLA core. With k >= t + 1 every
// query selects all of its tokens and the attention equals dense causal MLA (V3).
TEST(DsaIndexer, SelectionOfEverythingGivesDenseMla) {
  SeededRng rng("dsa.into_mla", 14701);
  Indexer ix;
  ix.cfg = {4, 16, 8, 2048, 1e-6, false};
  ix.rope = make_rope_table([] {
    RopeConfig c = v32_rope_config();
    c.rope_dim = 8;
    return c;
  }());
  const std::int64_t D = 32, r_q = 24, T = 7;
  ix.w.wq_b = rng.normal(4 * 16, r_q, 0.2);
  ix.w.wk = rng.normal(16, D, 0.2);
  ix.w.k_norm_weight = Eigen::VectorXf::Ones(16);
  ix.w.k_norm_bias = Eigen::VectorXf::Zero(16);
  ix.w.weights_proj = rng.normal(4, D, 0.2);
  DsaKeyCache keys(16, false);
  const TokenSelection sel = dsa_indexer_forward(ix.cfg, ix.fmt, ix.w, ix.rope, rng.normal(T, r_q),
                                                 rng.normal(T, D), keys);
  ASSERT_EQ(sel.cols(), T);
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t j = 0; j < T; ++j) EXPECT_EQ(sel(t, j), j <= t ? j : -1);

  MlaAttentionShape s;
  s.num_heads = 4;
  s.latent_dim = 16;
  s.rope_dim = 8;
  s.topk = 2048;
  s.num_tokens = T;
  const RowMatrixXf q_abs = rng.normal(T, 4 * 24), cache = rng.normal(T, 24);
  RowMatrixXf sparse(T, 4 * 16), dense(T, 4 * 16);
  mla_core_forward(s, q_abs, cache, &sel, 0.3f, sparse);
  s.topk = 0;
  mla_core_forward(s, q_abs, cache, nullptr, 0.3f, dense);
  EXPECT_TRUE(test_support::relatively_close("indexer-selected vs dense MLA", sparse, dense, 1e-6));
}

TEST(DsaIndexer, TopKHelper) {
  const std::vector<float> s = {0.5f, 2.0f, 2.0f, -1.0f, 3.0f};
  // 3.0 at 4, then a tie of 2.0 at 1 and 2: the lower position wins.
  EXPECT_EQ(dsa_top_k(s, 2), (std::vector<std::int32_t>{1, 4}));
  EXPECT_EQ(dsa_top_k(s, 3), (std::vector<std::int32_t>{1, 2, 4}));
  EXPECT_EQ(dsa_top_k(s, 5), (std::vector<std::int32_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(dsa_top_k(s, 2048), (std::vector<std::int32_t>{0, 1, 2, 3, 4}));
  EXPECT_TRUE(dsa_top_k(s, 0).empty());
}

TEST(DsaIndexer, RejectsMisuse) {
  SeededRng rng("dsa.misuse", 15001);
  Indexer ix = make_indexer(rng, false);
  DsaKeyCache exact_cache(128, true);
  const RowMatrixXf x = rng.normal(1, kHidden);
  // FP8 config with an exact cache.
  EXPECT_THROW(dsa_indexer_append_keys(ix.cfg, ix.fmt, ix.w, ix.rope, x, exact_cache),
               std::invalid_argument);
  // Queries past the cached keys.
  DsaKeyCache cache(128, false);
  const DsaQueries q =
      dsa_indexer_queries(ix.cfg, ix.fmt, ix.w, ix.rope, 3, rng.normal(1, kQLora), x);
  EXPECT_THROW(dsa_indexer_topk(dsa_scoring_shape(ix.cfg, 3, 1), q, cache, 4),
               std::invalid_argument);
}

}  // namespace
}  // namespace v4sim
