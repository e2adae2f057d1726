// gemm_weight_t (y = x W^T, kernels/weight_gemm.h): the AVX-512 path and Eigen's product against
// a double reference on shapes that exercise every chunk width (1 to 6 vectors of 16 tokens, a
// ragged last vector, two chunks), weight row counts off the tile size and widths off the
// 16-step unrolled loop.
//
// Tolerance: each output is a float32 sum of `in` products, so it is off from the exact sum by at
// most (in + 2) 2^-24 sum |x w| (recursive summation with fused multiply-adds; the remainder
// tokens' 16 lane sums of in / 16 terms added by a 4-level tree stay inside it); both paths are
// checked against that bound.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>

#include "kernels/host_isa.h"
#include "kernels/weight_gemm.h"
#include "tests/support/random.h"

namespace v4sim {
namespace {

// Largest |y - exact| / bound over the outputs (<= 1 passes).
double worst_over_bound(const RowMatrixXf& x, const RowMatrixXf& w, const RowMatrixXf& y) {
  double worst = 0;
  for (Eigen::Index r = 0; r < x.rows(); ++r)
    for (Eigen::Index n = 0; n < w.rows(); ++n) {
      double exact = 0, magnitude = 0;
      for (Eigen::Index k = 0; k < x.cols(); ++k) {
        exact += static_cast<double>(x(r, k)) * w(n, k);
        magnitude += std::fabs(static_cast<double>(x(r, k)) * w(n, k));
      }
      const double bound = static_cast<double>(x.cols() + 2) * 0x1p-24 * magnitude + 1e-30;
      worst = std::max(worst, std::fabs(y(r, n) - exact) / bound);
    }
  return worst;
}

TEST(GemmWeightT, BothPathsWithinTheSummationBound) {
  test_support::SeededRng rng("gemm_weight_t", 15);
  struct Shape {
    std::int64_t rows, in, out;
  };
  // rows: 1 (Eigen's matrix-vector product), 2..96 (one chunk of 1..6 vectors), 100 and 200
  // (two and three equal chunks); 17, 49, 53, 100 (two chunks of 50) and 85: 1, 1, 5, 2 and 5
  // tokens past the last full vector (the k-in-lanes remainder), 22, 38 and 54: 6 (its widest),
  // 55: 7 (padded);
  // in 37 and 70: the unrolled loop's remainder; out 13, 29: a partial tile of every tile size;
  // in 300: rows longer than the prefetch distance (128), which fetch their own row ahead and
  // then the next tile's (the last tile: past w).
  for (const Shape s :
       {Shape{1, 70, 13}, Shape{2, 37, 29}, Shape{16, 64, 13}, Shape{17, 70, 29}, Shape{38, 37, 29},
        Shape{40, 37, 29}, Shape{49, 70, 13}, Shape{53, 37, 29}, Shape{55, 70, 13},
        Shape{64, 33, 29}, Shape{77, 70, 29}, Shape{85, 70, 13}, Shape{96, 48, 13},
        Shape{100, 70, 29}, Shape{200, 37, 13}, Shape{49, 300, 29}, Shape{90, 300, 13},
        Shape{54, 70, 29}, Shape{22, 300, 29}}) {
    const RowMatrixXf x = rng.normal(s.rows, s.in), w = rng.normal(s.out, s.in);
    RowMatrixXf fast, portable;
    gemm_weight_t(x, w, fast);
    {
      PortableKernels guard;
      gemm_weight_t(x, w, portable);
    }
    ASSERT_EQ(fast.rows(), s.rows);
    ASSERT_EQ(fast.cols(), s.out);
    EXPECT_LE(worst_over_bound(x, w, fast), 1.0) << s.rows << " x " << s.in << " x " << s.out;
    EXPECT_LE(worst_over_bound(x, w, portable), 1.0) << s.rows << " x " << s.in << " x " << s.out;
  }
}

TEST(GemmWeightT, ReadsBlocksWithAnOuterStride) {
  // Rows of a wider matrix (the expert groups and slices callers pass): same result as a copy.
  test_support::SeededRng rng("gemm_weight_t blocks", 16);
  const RowMatrixXf big_x = rng.normal(40, 90), big_w = rng.normal(30, 90);
  RowMatrixXf from_block, from_copy;
  gemm_weight_t(big_x.middleCols(5, 70), big_w.middleCols(5, 70), from_block);
  const RowMatrixXf x = big_x.middleCols(5, 70), w = big_w.middleCols(5, 70);
  gemm_weight_t(x, w, from_copy);
  EXPECT_EQ(from_block, from_copy);
}

TEST(GemmWeightT, RejectsMismatchedWidths) {
  RowMatrixXf y;
  EXPECT_THROW(gemm_weight_t(RowMatrixXf::Zero(4, 8), RowMatrixXf::Zero(3, 9), y),
               std::invalid_argument);
}

}  // namespace
}  // namespace v4sim
