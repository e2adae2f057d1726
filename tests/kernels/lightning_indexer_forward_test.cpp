// Lightning indexer (kernels/lightning_indexer_forward.h) against the naive double reference at
// Flash and Pro widths (n_I = 64, d_I = 128, q_lora_rank 1024 / 1536, D 4096 / 7168), the
// causality rule, top-k edge cases, the Hadamard invariant and counted work == cost.
//
// Keys are stored as the deployment stores them, MXFP4 (kernels/attention_cache_forward.h:
// IndexerKeyTable); the reference scores the same FP4-rounded keys, rounded independently by the
// float simulation (simulate_kv_entry), so the FP4 error is common to both and the tolerance stays
// that of float32 vs double. Tolerances: queries and head weights <= 2e-5 of their max |value|
// (1024- to 7168-term dot products); scores <= 2e-5 of the max |score|. Top-k is compared up to ties: every
// kernel pick scores at least the reference's k-th best minus 1e-5 of the max |score|.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "kernels/kv_entry.h"
#include "kernels/lightning_indexer_forward.h"
#include "kernels/projection_forward.h"
#include "kernels/quant.h"
#include "kernels/random_fill.h"
#include "tests/kernels/reference/v4_indexer_ref.h"
#include "tests/support/closeness.h"
#include "tests/support/random.h"

namespace v4sim {
namespace {

using test_support::relative_max_error;
using test_support::relatively_close;
using test_support::SeededRng;

struct Dims {
  std::int64_t hidden, q_lora_rank;
};
constexpr Dims kFlash{4096, 1024};
constexpr Dims kPro{7168, 1536};

IndexerScoringShape scoring(std::int64_t start, std::int64_t tokens) {
  IndexerScoringShape s;
  s.start_pos = start;
  s.num_tokens = tokens;
  return s;
}

IndexerWeights random_indexer(const Dims& d, std::uint64_t seed) {
  IndexerWeights w;
  w.wq_b.resize(64 * 128, d.q_lora_rank);
  fill_uniform(std::span<float>(w.wq_b.data(), w.wq_b.size()),
               uniform_half_width(1.0 / std::sqrt(double(d.q_lora_rank))), seed);
  w.weights_proj.resize(64, d.hidden);
  fill_uniform(std::span<float>(w.weights_proj.data(), w.weights_proj.size()),
               uniform_half_width(1.0 / std::sqrt(double(d.hidden))), seed + 1);
  return w;
}

// n random keys as the indexer stores them (MXFP4) and, for the reference, the same keys rounded
// by the float simulation of that format.
struct IndexerKeys {
  IndexerKeyTable table;
  Eigen::MatrixXd rounded;  // [n, 128]
};
IndexerKeys random_keys(SeededRng& rng, std::int64_t n) {
  IndexerKeys k{IndexerKeyTable(128), Eigen::MatrixXd(n, 128)};
  RowMatrixXf v = rng.normal(n, 128);
  for (std::int64_t i = 0; i < n; ++i) {
    std::span<float> row(v.row(i).data(), 128);
    k.table.append(row);
    simulate_kv_entry(KvEntryFormat::mxfp4, row, 0);
  }
  k.rounded = v.cast<double>();
  return k;
}

TEST(LightningIndexer, QueriesAndScoresMatchReference) {
  const RopeTable rope = make_rope_table(v4_compressed_rope());
  for (const Dims& d : {kFlash, kPro}) {
    SeededRng rng(d.hidden == 4096 ? "indexer.flash" : "indexer.pro", 500 + d.hidden);
    const IndexerWeights w = random_indexer(d, 5000 + d.hidden);
    const IndexerScoringShape s = scoring(4093, 3);  // t = 4093..4095: 1023, 1023, 1024 visible
    const RowMatrixXf c_q = rng.normal(3, d.q_lora_rank), x = rng.normal(3, d.hidden);
    const IndexerQueries q = indexer_queries(s, {}, w, false, rope, c_q, x);
    const IndexerKeys keys = random_keys(rng, 1024);
    for (std::int64_t i = 0; i < 3; ++i) {
      const std::int64_t t = s.start_pos + i;
      const reference::IndexerRefQuery rq = reference::indexer_query_ref(
          w, c_q.row(i).transpose().cast<double>(), x.row(i).data(), t, 64, 128, rope.frequencies);
      const Eigen::Map<const RowMatrixXf> qi(q.q.row(i).data(), 64, 128);
      EXPECT_TRUE(relatively_close("indexer q", qi, rq.q, 2e-5));
      EXPECT_TRUE(relatively_close("indexer w", q.w.row(i), rq.w.transpose(), 2e-5));
      const std::vector<float> sk = indexer_scores(s, q, keys.table, i);
      const std::vector<double> sr = reference::indexer_scores_ref(rq, keys.rounded, (t + 1) / 4);
      ASSERT_EQ(sk.size(), sr.size());
      EXPECT_TRUE(relatively_close("indexer scores",
                                   Eigen::Map<const Eigen::VectorXf>(sk.data(), sk.size()),
                                   Eigen::Map<const Eigen::VectorXd>(sr.data(), sr.size()), 2e-5));
    }
  }
}

TEST(LightningIndexer, ScoresOverSeveralKeyBlocksMatchReference) {
  // 9001 visible keys: four full blocks of 2048 and a partial one, each decoded and scored.
  const RopeTable rope = make_rope_table(v4_compressed_rope());
  SeededRng rng("indexer.blocks", 505);
  const IndexerWeights w = random_indexer(kFlash, 5050);
  const IndexerScoringShape s = scoring(4 * 9001 + 2, 1);
  const RowMatrixXf c_q = rng.normal(1, kFlash.q_lora_rank), x = rng.normal(1, kFlash.hidden);
  const IndexerQueries q = indexer_queries(s, {}, w, false, rope, c_q, x);
  const IndexerKeys keys = random_keys(rng, 9001);
  const reference::IndexerRefQuery rq =
      reference::indexer_query_ref(w, c_q.row(0).transpose().cast<double>(), x.row(0).data(),
                                   s.start_pos, 64, 128, rope.frequencies);
  const std::vector<float> sk = indexer_scores(s, q, keys.table, 0);
  const std::vector<double> sr = reference::indexer_scores_ref(rq, keys.rounded, 9001);
  ASSERT_EQ(sk.size(), sr.size());
  EXPECT_TRUE(relatively_close("indexer scores, 3 blocks",
                               Eigen::Map<const Eigen::VectorXf>(sk.data(), sk.size()),
                               Eigen::Map<const Eigen::VectorXd>(sr.data(), sr.size()), 2e-5));
}

// Every pick of `got` must be a legitimate top-k pick of the reference scores up to `tol`.
void expect_topk_up_to_ties(const std::vector<std::int64_t>& got, const std::vector<double>& ref,
                            std::int64_t k) {
  const std::int64_t n = static_cast<std::int64_t>(ref.size());
  ASSERT_EQ(static_cast<std::int64_t>(got.size()), std::min(k, n));
  ASSERT_TRUE(std::is_sorted(got.begin(), got.end()));
  ASSERT_TRUE(std::adjacent_find(got.begin(), got.end()) == got.end());
  if (k >= n) return;
  std::vector<double> sorted = ref;
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  double scale = 0;
  for (double v : ref) scale = std::max(scale, std::abs(v));
  for (std::int64_t e : got) EXPECT_GE(ref[e], sorted[k - 1] - 1e-5 * scale) << "entry " << e;
}

TEST(LightningIndexer, TopkCausalityAndEdgeCases) {
  SeededRng rng("indexer.topk", 510);
  const RopeTable rope = make_rope_table(v4_compressed_rope());
  const IndexerWeights w = random_indexer(kFlash, 5100);
  // A prefill of 40 queries from t = 0: visible counts 0 (t < 3), 1, ... 10.
  const IndexerScoringShape s = scoring(0, 40);
  const RowMatrixXf c_q = rng.normal(40, kFlash.q_lora_rank), x = rng.normal(40, kFlash.hidden);
  const IndexerQueries q = indexer_queries(s, {}, w, false, rope, c_q, x);
  const IndexerKeys keys = random_keys(rng, 10);
  std::vector<std::vector<double>> ref_scores;
  for (std::int64_t i = 0; i < 40; ++i) {
    const reference::IndexerRefQuery rq = reference::indexer_query_ref(
        w, c_q.row(i).transpose().cast<double>(), x.row(i).data(), i, 64, 128, rope.frequencies);
    ref_scores.push_back(reference::indexer_scores_ref(rq, keys.rounded, (i + 1) / 4));
  }
  for (std::int64_t k : {1, 4, 10, 512}) {
    const EntrySelection sel = indexer_topk(s, q, keys.table, k);
    ASSERT_EQ(sel.queries(), 40);
    for (std::int64_t i = 0; i < 40; ++i) {
      const std::int64_t visible = (i + 1) / 4;
      const auto picks = sel.of(i);
      // No entry whose last token is after t; k >= visible selects all of them.
      for (std::int64_t e : picks) EXPECT_LT(4 * e + 3, i + 1);
      const std::vector<std::int64_t> got(picks.begin(), picks.end());
      expect_topk_up_to_ties(got, ref_scores[i], k);
      if (k >= visible) {
        std::vector<std::int64_t> all(visible);
        std::iota(all.begin(), all.end(), 0);
        EXPECT_EQ(got, all);
      }
    }
  }
}

TEST(LightningIndexer, KeysAreStoredAsMxfp4AndScoredAsRounded) {
  // 68 B per 128-d key (kv_entry_bytes, what cost() counts); the scores are those of the
  // FP4-rounded keys, not of the exact ones, and an exact table scores the exact keys.
  const RopeTable rope = make_rope_table(v4_compressed_rope());
  SeededRng rng("indexer.mxfp4", 506);
  const IndexerWeights w = random_indexer(kFlash, 5060);
  const IndexerScoringShape s = scoring(4 * 300 + 1, 1);
  const RowMatrixXf c_q = rng.normal(1, kFlash.q_lora_rank), x = rng.normal(1, kFlash.hidden);
  const IndexerQueries q = indexer_queries(s, {}, w, false, rope, c_q, x);
  const RowMatrixXf v = rng.normal(300, 128);
  IndexerKeyTable packed(128), exact(128, /*exact_mode=*/true);
  for (std::int64_t i = 0; i < 300; ++i) {
    packed.append(std::span<const float>(v.row(i).data(), 128));
    exact.append(std::span<const float>(v.row(i).data(), 128));
  }
  EXPECT_EQ(packed.bytes.size(), 300u * 68u);
  EXPECT_EQ(packed.entry_bytes(), kv_entry_bytes(KvEntryFormat::mxfp4, 128, 0));
  EXPECT_TRUE(packed.values.empty());
  const reference::IndexerRefQuery rq =
      reference::indexer_query_ref(w, c_q.row(0).transpose().cast<double>(), x.row(0).data(),
                                   s.start_pos, 64, 128, rope.frequencies);
  const std::vector<float> sp = indexer_scores(s, q, packed, 0),
                           se = indexer_scores(s, q, exact, 0);
  const std::vector<double> re = reference::indexer_scores_ref(rq, v.cast<double>(), 300);
  const Eigen::Map<const Eigen::VectorXf> mp(sp.data(), 300), me(se.data(), 300);
  const Eigen::Map<const Eigen::VectorXd> mr(re.data(), 300);
  EXPECT_TRUE(relatively_close("exact table", me, mr, 2e-5));
  // FP4 keeps about one significant bit per element: the rounded keys move the scores by far
  // more than float rounding, and by less than the scores themselves.
  const double err = relative_max_error(mp, mr);
  EXPECT_GT(err, 1e-3);
  EXPECT_LT(err, 0.5);
}

TEST(LightningIndexer, TopkIndicesTiesAndOrder) {
  // Ties go to the lower index; the result is in increasing index order.
  const std::vector<float> s = {1.0f, 3.0f, 2.0f, 3.0f, -1.0f, 2.0f};
  EXPECT_EQ(top_k_indices(s, 2), (std::vector<std::int64_t>{1, 3}));
  EXPECT_EQ(top_k_indices(s, 3), (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(top_k_indices(s, 6), (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(top_k_indices(s, 100), (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_TRUE(top_k_indices({}, 4).empty());
}

TEST(LightningIndexer, HadamardPreservesDotProducts) {
  // Before FP4 rounding the Hadamard changes no q.k, so scores equal those of un-rotated tensors.
  SeededRng rng("indexer.hadamard", 520);
  const RowMatrixXf a = rng.normal(50, 128), b = rng.normal(50, 128);
  for (int i = 0; i < 50; ++i) {
    std::vector<float> x(a.row(i).data(), a.row(i).data() + 128),
        y(b.row(i).data(), b.row(i).data() + 128);
    double before = 0, after = 0, norm = 0;
    for (int c = 0; c < 128; ++c) before += double(x[c]) * y[c];
    hadamard_transform(x);
    hadamard_transform(y);
    for (int c = 0; c < 128; ++c) {
      after += double(x[c]) * y[c];
      norm += double(a(i, c)) * a(i, c);
    }
    EXPECT_NEAR(after, before, 1e-5 * norm);
  }
}

TEST(LightningIndexer, QatQueriesAreOnTheFp4Grid) {
  SeededRng rng("indexer.qat", 530);
  const RopeTable rope = make_rope_table(v4_compressed_rope());
  const IndexerWeights w = random_indexer(kFlash, 5300);
  const IndexerScoringShape s = scoring(77, 2);
  const RowMatrixXf c_q = rng.normal(2, kFlash.q_lora_rank), x = rng.normal(2, kFlash.hidden);
  const IndexerQueries exact = indexer_queries(s, {}, w, false, rope, c_q, x);
  const IndexerQueries qat = indexer_queries(s, {}, w, true, rope, c_q, x);
  for (std::int64_t i = 0; i < 2; ++i)
    for (int h = 0; h < 64; ++h) {
      std::vector<float> head(qat.q.row(i).data() + h * 128, qat.q.row(i).data() + (h + 1) * 128);
      std::vector<float> again = head;
      fp4_round_trip(again);
      EXPECT_EQ(again, head);
    }
  // FP4 keeps about one significant bit: the rounded queries stay within a block scale.
  EXPECT_LT(relative_max_error(qat.q, exact.q), 0.2);
  EXPECT_EQ(qat.w, exact.w);
}

TEST(LightningIndexer, CountedWorkEqualsCost) {
  SeededRng rng("indexer.counting", 540);
  const RopeTable rope = make_rope_table(v4_compressed_rope());
  const IndexerWeights w = random_indexer(kFlash, 5400);
  const IndexerKeys keys = random_keys(rng, 1100);
  const IndexerProjectionFormats f{WeightFormat::fp8_block128_ue8m0, WeightFormat::bf16,
                                   Precision::fp8};
  struct Case {
    std::int64_t start, tokens, topk;
  };
  // Decode with nothing visible (t = 2), the first entry (t = 3), t not a multiple of 4, k larger
  // than the visible entries, a long decode with k < visible, prefill chunks.
  for (const Case& c : std::vector<Case>{{2, 1, 512},
                                         {3, 1, 512},
                                         {4097, 1, 512},
                                         {4097, 1, 1024},
                                         {4399, 1, 512},
                                         {0, 37, 512},
                                         {5, 40, 8},
                                         {4300, 9, 1024}}) {
    SCOPED_TRACE(::testing::Message()
                 << "start " << c.start << " T " << c.tokens << " k " << c.topk);
    const IndexerScoringShape s = scoring(c.start, c.tokens);
    const RowMatrixXf c_q = rng.normal(c.tokens, kFlash.q_lora_rank),
                      x = rng.normal(c.tokens, kFlash.hidden);
    Cost counted;
    const IndexerQueries q = indexer_queries(s, f, w, false, rope, c_q, x, &counted);
    Cost expected =
        cost(LinearShape{c.tokens, kFlash.q_lora_rank, 64 * 128, 1, f.wq_b, f.compute}) +
        cost(LinearShape{c.tokens, kFlash.hidden, 64, 1, f.weights_proj, f.compute});
    EXPECT_EQ(counted, expected);
    Cost scored;
    indexer_topk(s, q, keys.table, c.topk, &scored);
    EXPECT_EQ(scored, cost(s));
  }
}

}  // namespace
}  // namespace v4sim
