// RoPE tables and rotation (kernels/rope.h) against the double reference and the numbers the
// reference notes state (reference/kernels.md §1.3).
//
// Tolerances: frequencies are computed in double by both sides (1e-15 relative). Rotations are
// float32: cos/sin rounded to float (2^-24 relative each) and two products per output, so
// |kernel - reference| <= 1e-6 * |z| at any position up to 2^20 (the angle t*w is formed in
// double before rounding).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/rope.h"
#include "tests/kernels/reference/v4_rope_ref.h"
#include "tests/support/random.h"

namespace v4sim {
namespace {

TEST(Rope, YarnRangeOfTheReleasedConfig) {
  // c(32) = 64 ln(65536 / (64 pi)) / (2 ln 160000) = 15.45 -> 15; c(1) = 24.71 -> 25 (§1.3).
  const YarnRange r = yarn_range(v4_compressed_rope());
  EXPECT_EQ(r.lo, 15);
  EXPECT_EQ(r.hi, 25);
}

TEST(Rope, FrequencyTables) {
  const RopeTable plain = make_rope_table(v4_window_rope());
  const RopeTable yarn = make_rope_table(v4_compressed_rope());
  const std::vector<double> ref_plain = reference::rope_freqs_ref(64, 10000.0, false);
  const std::vector<double> ref_yarn = reference::rope_freqs_ref(64, 160000.0, true);
  ASSERT_EQ(plain.frequencies.size(), 32u);
  ASSERT_EQ(yarn.frequencies.size(), 32u);
  EXPECT_DOUBLE_EQ(plain.frequencies[0], 1.0);
  for (int j = 0; j < 32; ++j) {
    EXPECT_NEAR(plain.frequencies[j], ref_plain[j], 1e-15 * ref_plain[j]);
    EXPECT_NEAR(yarn.frequencies[j], ref_yarn[j], 1e-15 * ref_yarn[j]);
    const double base = std::pow(160000.0, -2.0 * j / 64.0);
    // Pairs 0..15 keep w_j, pairs >= 25 use w_j / 16, linear blend in between (§1.3).
    if (j <= 15) {
      EXPECT_NEAR(yarn.frequencies[j], base, 1e-15 * base);
    }
    if (j >= 25) {
      EXPECT_NEAR(yarn.frequencies[j], base / 16.0, 1e-15 * base);
    }
    if (j > 15 && j < 25) {
      EXPECT_LT(yarn.frequencies[j], base);
      EXPECT_GT(yarn.frequencies[j], base / 16.0);
    }
  }
}

TEST(Rope, RotationMatchesComplexReference) {
  test_support::SeededRng rng("rope.rotation", 101);
  const RopeTable table = make_rope_table(v4_compressed_rope());
  for (std::int64_t t : {0LL, 1LL, 3LL, 127LL, 4097LL, 65535LL, 1048575LL}) {
    RowMatrixXf v = rng.normal(1, 512);
    Eigen::VectorXd ref = v.row(0).transpose().cast<double>();
    std::vector<float> x(v.data(), v.data() + 512);
    rope_rotate(x, table, t);
    reference::rope_ref(ref, t, table.frequencies, 1);
    for (int i = 0; i < 448; ++i) EXPECT_EQ(x[i], v(0, i)) << "NoPE dim " << i << " changed";
    for (int i = 448; i < 512; ++i) EXPECT_NEAR(x[i], ref(i), 1e-6 * (1 + std::abs(ref(i))));
    rope_derotate(x, table, t);
    for (int i = 0; i < 512; ++i) EXPECT_NEAR(x[i], v(0, i), 2e-6 * (1 + std::abs(v(0, i))));
  }
}

TEST(Rope, ScoresDependOnRelativePositionOnly) {
  // <R(t) a, R(s) b> is a function of t - s: the property attention relies on.
  test_support::SeededRng rng("rope.relative", 102);
  const RopeTable table = make_rope_table(v4_window_rope());
  const RowMatrixXf a = rng.normal(1, 64), b = rng.normal(1, 64);
  const auto dot_at = [&](std::int64_t t, std::int64_t s) {
    std::vector<float> x(a.data(), a.data() + 64), y(b.data(), b.data() + 64);
    rope_rotate(x, table, t);
    rope_rotate(y, table, s);
    double d = 0;
    for (int i = 0; i < 64; ++i) d += double(x[i]) * y[i];
    return d;
  };
  EXPECT_NEAR(dot_at(10, 3), dot_at(1010, 1003), 1e-4);
  EXPECT_NEAR(dot_at(5, 5), dot_at(0, 0), 1e-4);
}

}  // namespace
}  // namespace v4sim
