// indexer_head_sum (kernels/indexer_head_sum.h): the AVX-512 path and Eigen's product against a
// double reference, at head counts of 1 to 4 vectors of 16 and one the AVX-512 path does not take
// (20), widths off the unrolled loop and the 16-column prefetch step (37), key counts off the
// 6-key tile and at the edge of the tiles that fetch two tiles ahead (18, 19: 12 + 6 keys), and
// a NaN key; and that the range it prefetches changes nothing.
//
// Tolerance: a dot of d float32 products is off from the exact one by at most
// (d + 2) 2^-24 sum_k |q k|, ReLU does not widen it, and the weighted sum of H terms adds at most
// (H + 2) 2^-24 sum_h |w_h| |dot_h|; both fit in (d + H + 4) 2^-24 sum_h |w_h| sum_k |q_hk k_k|.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/host_isa.h"
#include "kernels/indexer_head_sum.h"
#include "kernels/token_selection.h"
#include "tests/support/random.h"

namespace v4sim {
namespace {

// Largest |out - exact| / bound over the keys (<= 1 passes).
double worst_over_bound(const RowMatrixXf& q, const std::vector<float>& w, const RowMatrixXf& k,
                        const std::vector<float>& out) {
  double worst = 0;
  const Eigen::Index H = q.rows(), d = q.cols();
  for (Eigen::Index s = 0; s < k.rows(); ++s) {
    double exact = 0, magnitude = 0;
    for (Eigen::Index h = 0; h < H; ++h) {
      double dot = 0, size = 0;
      for (Eigen::Index c = 0; c < d; ++c) {
        dot += static_cast<double>(q(h, c)) * k(s, c);
        size += std::fabs(static_cast<double>(q(h, c)) * k(s, c));
      }
      exact += w[h] * std::max(dot, 0.0);
      magnitude += std::fabs(w[h]) * size;
    }
    const double bound = static_cast<double>(d + H + 4) * 0x1p-24 * magnitude + 1e-30;
    worst = std::max(worst, std::fabs(out[s] - exact) / bound);
  }
  return worst;
}

std::vector<float> run(const RowMatrixXf& q, const std::vector<float>& w, const RowMatrixXf& k) {
  std::vector<float> out(static_cast<std::size_t>(k.rows()));
  indexer_head_sum(q.data(), w.data(), q.rows(), q.cols(), k.data(), k.rows(), out.data());
  return out;
}

TEST(IndexerHeadSum, BothPathsWithinTheSummationBound) {
  test_support::SeededRng rng("indexer_head_sum", 17);
  for (std::int64_t H : {16, 32, 48, 64, 20})
    for (std::int64_t d : {128, 37})
      for (std::int64_t n : {1, 5, 6, 13, 18, 19, 100}) {
        SCOPED_TRACE(::testing::Message() << "H " << H << " d " << d << " n " << n);
        const RowMatrixXf q = rng.normal(H, d), k = rng.normal(n, d);
        const RowMatrixXf wm = rng.normal(1, H);
        const std::vector<float> w(wm.data(), wm.data() + H);
        EXPECT_LE(worst_over_bound(q, w, k, run(q, w, k)), 1.0);
        PortableKernels guard;
        EXPECT_LE(worst_over_bound(q, w, k, run(q, w, k)), 1.0);
      }
}

// The range to prefetch is a hint: the same bits with one of any length (more lines than tiles,
// fewer, none), whatever the key count (no tile at all below 6 keys).
TEST(IndexerHeadSum, PrefetchRangeLeavesTheBitsAlone) {
  test_support::SeededRng rng("indexer_head_sum.prefetch", 23);
  const std::vector<std::uint8_t> next(5000, 1);
  for (std::int64_t n : {1, 5, 6, 19, 100}) {
    SCOPED_TRACE(::testing::Message() << "n " << n);
    const RowMatrixXf q = rng.normal(64, 128), k = rng.normal(n, 128);
    const RowMatrixXf wm = rng.normal(1, 64);
    const std::vector<float> w(wm.data(), wm.data() + 64);
    const std::vector<float> plain = run(q, w, k);
    for (std::int64_t bytes : {std::int64_t{1}, std::int64_t{64}, std::int64_t{5000}}) {
      std::vector<float> out(static_cast<std::size_t>(n));
      indexer_head_sum(q.data(), w.data(), 64, 128, k.data(), n, out.data(), next.data(), bytes);
      EXPECT_EQ(out, plain) << bytes << " bytes";
    }
  }
}

TEST(IndexerHeadSum, NanKeyGivesNanScoreOnBothPaths) {
  // An FP8 NaN code decodes to NaN (kernels/dsa_indexer_forward.h): its score must say so, not
  // read as max(NaN, 0) = 0 on one path.
  test_support::SeededRng rng("indexer_head_sum nan", 18);
  const RowMatrixXf q = rng.normal(64, 128);
  RowMatrixXf k = rng.normal(9, 128);
  k(7, 3) = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> w(64, 0.5f);
  std::vector<float> fast = run(q, w, k), portable;
  {
    PortableKernels guard;
    portable = run(q, w, k);
  }
  for (Eigen::Index s = 0; s < 9; ++s) {
    EXPECT_EQ(std::isnan(fast[s]), s == 7) << "key " << s;
    EXPECT_EQ(std::isnan(portable[s]), s == 7) << "key " << s;
  }
}

}  // namespace
}  // namespace v4sim
