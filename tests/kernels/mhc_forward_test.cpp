// mHC kernels (kernels/mhc_forward.h) against the naive double reference (reference/mhc_ref.h) at
// Flash (D 4096) and Pro (D 7168) widths with n = 4 streams and 20 Sinkhorn iterations, plus the
// invariants of reference/kernels.md §9.3.
//
// Tolerances (float32 kernel vs double reference):
//   * pre / post / comb: 1e-5 absolute (they are O(1); the [24, 4D] product sums 16384..28672
//     float terms, observed ~1e-7);
//   * collapse and expand outputs: 1e-5 of the output's max abs value;
//   * Sinkhorn invariants: entries > 0, column sums 1 +- 1e-5 (the eps guards allow ~n*eps);
//   * counted work: exactly cost(shape).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "kernels/mhc.h"
#include "kernels/mhc_forward.h"
#include "tests/kernels/reference/mhc_ref.h"
#include "tests/support/random.h"

namespace v4sim {
namespace {

using Rng = test_support::SeededRng;

MhcParams random_params(Rng& rng, const MhcShape& s) {
  const std::int64_t rows = s.head ? s.streams : (2 + s.streams) * s.streams;
  MhcParams p;
  // Φ rows of norm ~1 against the RMS-normalised v: μ ~ N(0, 1). The comb scale 2 spreads R so
  // Sinkhorn has real work to do.
  p.fn = rng.normal(rows, s.streams * s.hidden, 1.0 / std::sqrt(double(s.streams * s.hidden)));
  p.base = rng.normal_vec(rows, 1.0);
  p.scale = s.head ? std::vector<float>{0.7f} : std::vector<float>{0.7f, 0.9f, 2.0f};
  return p;
}

MhcShape shape(std::int64_t tokens, std::int64_t hidden, bool head = false) {
  MhcShape s;
  s.tokens = tokens;
  s.hidden = hidden;
  s.head = head;
  return s;
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::fabs(x));
  return m;
}

void run_case(const char* name, std::int64_t tokens, std::int64_t hidden, std::uint64_t seed) {
  Rng rng(name, seed);
  TRACE_SEED(rng);
  const MhcShape s = shape(tokens, hidden);
  const int n = int(s.streams), d = int(hidden);
  const MhcParams p = random_params(rng, s);
  const RowMatrixXf X = rng.normal(tokens, n * hidden, 1.0);
  const RowMatrixXf f = rng.normal(tokens, hidden, 1.0);
  RowMatrixXf x(tokens, hidden), out(tokens, n * hidden);
  Cost counted;
  const MhcMappings m = mhc_pre(s, p, X, x, &counted);
  mhc_expand(s, X, f, m, out, &counted);
  EXPECT_EQ(counted, cost(s));

  double worst_map = 0, worst_out = 0;
  for (Eigen::Index t = 0; t < tokens; ++t) {
    const auto want = reference::mhc_ref_mappings(X.row(t).data(), n, d, p.fn, p.base, p.scale,
                                                  int(s.sinkhorn_iters), kMhcEps, false);
    for (int i = 0; i < n; ++i) {
      worst_map = std::max(worst_map, std::fabs(m.pre(t, i) - want.pre[i]));
      worst_map = std::max(worst_map, std::fabs(m.post(t, i) - want.post[i]));
    }
    for (int i = 0; i < n * n; ++i)
      worst_map = std::max(worst_map, std::fabs(m.comb(t, i) - want.comb[i]));
    const auto xc = reference::mhc_ref_collapse(X.row(t).data(), n, d, want.pre);
    const auto xe = reference::mhc_ref_expand(X.row(t).data(), f.row(t).data(), n, d, want);
    for (int c = 0; c < d; ++c)
      worst_out = std::max(worst_out, std::fabs(x(t, c) - xc[c]) / max_abs(xc));
    for (int c = 0; c < n * d; ++c)
      worst_out = std::max(worst_out, std::fabs(out(t, c) - xe[c]) / max_abs(xe));
  }
  std::printf("[error] mhc %s: mappings %.3g, outputs %.3g\n", name, worst_map, worst_out);
  EXPECT_LE(worst_map, 1e-5);
  EXPECT_LE(worst_out, 1e-5);
}

TEST(MhcForward, FlashMatchesReferenceAndCountsCost) {
  run_case("mhc.flash", 3, 4096, 4096);
}
TEST(MhcForward, ProMatchesReferenceAndCountsCost) {
  run_case("mhc.pro", 2, 7168, 7168);
}

TEST(MhcForward, HeadMatchesReferenceAndCountsCost) {
  Rng rng("mhc.head", 0x4EAD);
  TRACE_SEED(rng);
  const MhcShape s = shape(4, 4096, true);
  const MhcParams p = random_params(rng, s);
  const RowMatrixXf X = rng.normal(4, 4 * 4096, 1.0);
  RowMatrixXf x(4, 4096);
  Cost counted;
  const MhcMappings m = mhc_pre(s, p, X, x, &counted);
  EXPECT_EQ(counted, cost(s));
  EXPECT_EQ(m.post.size(), 0);
  EXPECT_EQ(m.comb.size(), 0);
  for (Eigen::Index t = 0; t < 4; ++t) {
    const auto want = reference::mhc_ref_mappings(X.row(t).data(), 4, 4096, p.fn, p.base, p.scale,
                                                  20, kMhcEps, true);
    for (int i = 0; i < 4; ++i) EXPECT_NEAR(m.pre(t, i), want.pre[i], 1e-5);
    const auto xc = reference::mhc_ref_collapse(X.row(t).data(), 4, 4096, want.pre);
    for (int c = 0; c < 4096; ++c) EXPECT_NEAR(x(t, c), xc[c], 1e-5 * max_abs(xc));
  }
  RowMatrixXf out(4, 4 * 4096);
  EXPECT_THROW(mhc_expand(s, X, x, m, out), std::invalid_argument);
}

TEST(MhcForward, CountedEqualsCostForSeveralShapes) {
  Rng rng("mhc.shapes", 0x5A);
  TRACE_SEED(rng);
  for (std::int64_t tokens : {1, 5, 16}) {
    for (std::int64_t hidden : {64, 512}) {
      for (std::int64_t iters : {1, 20}) {
        for (bool head : {false, true}) {
          MhcShape s = shape(tokens, hidden, head);
          s.sinkhorn_iters = iters;
          const MhcParams p = random_params(rng, s);
          const RowMatrixXf X = rng.normal(tokens, 4 * hidden, 1.0);
          RowMatrixXf x(tokens, hidden), out(tokens, 4 * hidden);
          Cost counted;
          const MhcMappings m = mhc_pre(s, p, X, x, &counted);
          if (!head) mhc_expand(s, X, x, m, out, &counted);
          EXPECT_EQ(counted, cost(s)) << tokens << " " << hidden << " " << iters << " " << head;
        }
      }
    }
  }
  // Hand-derived bytes for D = 8, n = 4, one token (kernels/mhc.h): BF16 X read (64 B) and, around
  // a sublayer, f read (16 B); x written (16 B) and X' written (64 B); parameters fp32.
  const Cost c = cost(MhcShape{1, 8, 4, 20, false});
  EXPECT_EQ(c.read(MemClass::activations), 80);
  EXPECT_EQ(c.written(MemClass::activations), 80);
  EXPECT_EQ(c.read(MemClass::weights), 4 * (24 * 32 + 24 + 3));
  const Cost h = cost(MhcShape{1, 8, 4, 20, true});
  EXPECT_EQ(h.read(MemClass::activations), 64);
  EXPECT_EQ(h.written(MemClass::activations), 16);
}

TEST(MhcSinkhorn, PositiveColumnStochasticAndRowsConverge) {
  Rng rng("mhc.sinkhorn", 0x51);
  TRACE_SEED(rng);
  for (int trial = 0; trial < 200; ++trial) {
    const std::vector<float> r0 = rng.normal_vec(16, trial < 100 ? 1.0 : 8.0);
    std::vector<float> r = r0, r2 = r0;
    mhc_sinkhorn(r, 4, 20);
    mhc_sinkhorn(r2, 4, 2);
    double row_dev20 = 0, row_dev2 = 0;
    for (int i = 0; i < 4; ++i) {
      double col = 0, row = 0, row2 = 0;
      for (int k = 0; k < 4; ++k) {
        EXPECT_GT(r[i * 4 + k], 0.0f);
        col += r[k * 4 + i];
        row += r[i * 4 + k];
        row2 += r2[i * 4 + k];
      }
      EXPECT_NEAR(col, 1.0, 1e-5) << "trial " << trial << " column " << i;
      row_dev20 = std::max(row_dev20, std::fabs(row - 1.0));
      row_dev2 = std::max(row_dev2, std::fabs(row2 - 1.0));
    }
    EXPECT_LE(row_dev20, row_dev2 + 1e-6) << "trial " << trial;
    if (trial < 100) {
      EXPECT_LE(row_dev20, 1e-3) << "trial " << trial;  // moderate logits converge
    }
  }
}

TEST(MhcForward, EqualStreamsKeepTheResidual) {
  // X_i = x for all i: Σ_i comb[i][j] x = (column sum j) x = x, so X'_j - post_j f = x.
  Rng rng("mhc.equal_streams", 0xE0);
  TRACE_SEED(rng);
  const MhcShape s = shape(3, 4096);
  const MhcParams p = random_params(rng, s);
  const RowMatrixXf x = rng.normal(3, 4096, 1.0);
  RowMatrixXf X(3, 4 * 4096);
  for (int i = 0; i < 4; ++i) X.middleCols(i * 4096, 4096) = x;
  const RowMatrixXf f = rng.normal(3, 4096, 1.0);
  RowMatrixXf collapsed(3, 4096), out(3, 4 * 4096);
  const MhcMappings m = mhc_pre(s, p, X, collapsed, nullptr);
  mhc_expand(s, X, f, m, out);
  for (Eigen::Index t = 0; t < 3; ++t) {
    for (int j = 0; j < 4; ++j) {
      const Eigen::RowVectorXf residual =
          out.row(t).segment(j * 4096, 4096) - m.post(t, j) * f.row(t);
      EXPECT_LE((residual - x.row(t)).cwiseAbs().maxCoeff(), 1e-5 * x.row(t).cwiseAbs().maxCoeff());
    }
    // The collapse of equal streams is (Σ pre) x.
    const float pre_sum = m.pre.row(t).sum();
    EXPECT_LE((collapsed.row(t) - pre_sum * x.row(t)).cwiseAbs().maxCoeff(),
              1e-5 * pre_sum * x.row(t).cwiseAbs().maxCoeff());
  }
}

TEST(MhcForward, HugeInputsStayFinite) {
  Rng rng("mhc.huge", 0x1E4);
  TRACE_SEED(rng);
  const MhcShape s = shape(2, 4096);
  MhcParams p = random_params(rng, s);
  RowMatrixXf X = rng.normal(2, 4 * 4096, 1.0);
  for (Eigen::Index i = 0; i < X.size(); ++i) X.data()[i] = X.data()[i] < 0 ? -1e4f : 1e4f;
  const RowMatrixXf f = RowMatrixXf::Constant(2, 4096, 1e4f);
  RowMatrixXf x(2, 4096), out(2, 4 * 4096);
  for (float scale : {1.0f, 1e4f}) {  // also a huge α: ±1e4-sized logits into sigmoid and softmax
    p.scale = {scale, scale, scale};
    const MhcMappings m = mhc_pre(s, p, X, x, nullptr);
    mhc_expand(s, X, f, m, out);
    EXPECT_TRUE(m.pre.allFinite() && m.post.allFinite() && m.comb.allFinite());
    EXPECT_TRUE(x.allFinite() && out.allFinite());
    EXPECT_GT(m.comb.minCoeff(), 0.0f);
    for (Eigen::Index t = 0; t < 2; ++t)
      for (int j = 0; j < 4; ++j) {
        double col = 0;
        for (int i = 0; i < 4; ++i) col += m.comb(t, i * 4 + j);
        EXPECT_NEAR(col, 1.0, 1e-5);
      }
  }
}

}  // namespace
}  // namespace v4sim
