// KeyBlockKernel (kernels/key_block.h), the V4 core's block products, on the AVX-512 path and the
// portable one against a double reference: head counts of 1, 20 (off the 16 lanes and the
// 8-head tiles), 64, 128 (V4-Flash / V4-Pro) and 144 (two head groups, the second of one
// vector); widths 512 (V4) and small ones off the 16 lanes, the 48-column tiles and the 64-wide
// chunks (37; 64, one chunk; 100, a chunk and a part); key counts off every key tile (1, 2, 7, 19, 100) and a full block (256); keys
// in one contiguous run and scattered. The fetch hint for the next block leaves the bits alone.
//
// Tolerances: a score is a sum of d float32 products, off from the exact dot by at most
// (d + 2) 2^-24 sum_k |q_hk k_jk| in any summation order; an accumulated element adds n products
// to a float32 start: (n + 3) 2^-24 (|acc0| + sum_j |p_j k_jc|).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/host_isa.h"
#include "kernels/key_block.h"
#include "kernels/token_selection.h"
#include "tests/support/random.h"

namespace v4sim {
namespace {

using test_support::SeededRng;

struct KeyRows {
  RowMatrixXf table;
  std::vector<const float*> rows;
};

// n keys of width d: rows 3 .. 3+n of a table, or n rows picked at random (repeats allowed).
KeyRows make_keys(SeededRng& rng, std::int64_t n, std::int64_t d, bool scattered) {
  KeyRows k{rng.normal(n + 40, d), {}};
  for (std::int64_t j = 0; j < n; ++j)
    k.rows.push_back(k.table.row(scattered ? rng.uniform_int(0, n + 39) : 3 + j).data());
  return k;
}

// Largest |st - exact| / bound over heads and keys (<= 1 passes).
double scores_over_bound(const RowMatrixXf& q, const std::vector<const float*>& rows,
                         const std::vector<float>& st, std::int64_t stride) {
  const std::int64_t H = q.rows(), d = q.cols(), n = static_cast<std::int64_t>(rows.size());
  double worst = 0;
  for (std::int64_t j = 0; j < n; ++j)
    for (std::int64_t h = 0; h < H; ++h) {
      double exact = 0, size = 0;
      for (std::int64_t c = 0; c < d; ++c) {
        const double t = static_cast<double>(q(h, c)) * rows[j][c];
        exact += t;
        size += std::fabs(t);
      }
      const double bound = static_cast<double>(d + 2) * 0x1p-24 * size + 1e-30;
      worst = std::max(worst, std::fabs(st[j * stride + h] - exact) / bound);
    }
  return worst;
}

// Largest |acc - exact| / bound over the [H, d] sums of acc0 + P K.
double accumulate_over_bound(const std::vector<float>& pt, std::int64_t stride, std::int64_t H,
                             const std::vector<const float*>& rows, std::int64_t d,
                             const std::vector<float>& acc0, const std::vector<float>& acc) {
  const std::int64_t n = static_cast<std::int64_t>(rows.size());
  double worst = 0;
  for (std::int64_t h = 0; h < H; ++h)
    for (std::int64_t c = 0; c < d; ++c) {
      double exact = acc0[h * d + c], size = std::fabs(exact);
      for (std::int64_t j = 0; j < n; ++j) {
        const double t = static_cast<double>(pt[j * stride + h]) * rows[j][c];
        exact += t;
        size += std::fabs(t);
      }
      const double bound = static_cast<double>(n + 3) * 0x1p-24 * size + 1e-30;
      worst = std::max(worst, std::fabs(acc[h * d + c] - exact) / bound);
    }
  return worst;
}

// Both products of one shape on the path in force, checked against the bounds.
void check_shape(SeededRng& rng, std::int64_t H, std::int64_t d, std::int64_t n, bool scattered) {
  const RowMatrixXf q = rng.normal(H, d);
  const KeyRows keys = make_keys(rng, n, d, scattered);
  KeyBlockKernel kernel;
  kernel.set_query(q.data(), H, d);
  EXPECT_EQ(kernel.avx512(), use_avx512());
  const std::int64_t stride = kernel.stride();
  ASSERT_EQ(stride % 16, 0);
  ASSERT_GE(stride, H);
  std::vector<float> st(static_cast<std::size_t>(n * stride), 0.0f);
  kernel.scores(keys.rows.data(), n, st.data());
  EXPECT_LE(scores_over_bound(q, keys.rows, st, stride), 1.0) << "scores";

  // Weights of either sign (the kernel does not assume a softmax) and a nonzero start.
  const RowMatrixXf p = rng.normal(n, stride), start = rng.normal(H, d);
  const std::vector<float> pt(p.data(), p.data() + p.size());
  const std::vector<float> acc0(start.data(), start.data() + start.size());
  std::vector<float> acc = acc0;
  kernel.accumulate(pt.data(), keys.rows.data(), n, acc.data());
  EXPECT_LE(accumulate_over_bound(pt, stride, H, keys.rows, d, acc0, acc), 1.0) << "accumulate";
}

TEST(KeyBlock, BothPathsWithinTheSummationBounds) {
  SeededRng rng("key_block", 41);
  struct Shape {
    std::int64_t H, d;
  };
  for (const Shape& s : {Shape{128, 512}, Shape{64, 512}, Shape{20, 37}, Shape{144, 64},
                         Shape{1, 37}, Shape{20, 512}, Shape{20, 100}})
    for (std::int64_t n : {1, 2, 7, 19, 100, 256})
      for (bool scattered : {false, true}) {
        SCOPED_TRACE(::testing::Message() << "H " << s.H << " d " << s.d << " n " << n
                                          << (scattered ? " scattered" : " contiguous"));
        check_shape(rng, s.H, s.d, n, scattered);
        PortableKernels guard;
        check_shape(rng, s.H, s.d, n, scattered);
      }
}

// The next block is a fetch hint: the same scores with it, without it, and with one longer or
// shorter than the block.
TEST(KeyBlock, NextBlockHintLeavesTheBitsAlone) {
  SeededRng rng("key_block.next", 42);
  const std::int64_t H = 128, d = 512;
  const RowMatrixXf q = rng.normal(H, d);
  for (std::int64_t n : {1, 19, 256}) {
    SCOPED_TRACE(::testing::Message() << "n " << n);
    const KeyRows keys = make_keys(rng, n, d, false), next = make_keys(rng, 300, d, true);
    KeyBlockKernel kernel;
    kernel.set_query(q.data(), H, d);
    std::vector<float> plain(static_cast<std::size_t>(n * kernel.stride()));
    kernel.scores(keys.rows.data(), n, plain.data());
    for (std::int64_t next_n : {1, 255, 300}) {
      std::vector<float> st(plain.size());
      kernel.scores(keys.rows.data(), n, st.data(), next.rows.data(), next_n);
      for (std::int64_t j = 0; j < n; ++j)
        for (std::int64_t h = 0; h < H; ++h)
          ASSERT_EQ(st[j * kernel.stride() + h], plain[j * kernel.stride() + h])
              << next_n << " next keys, key " << j << " head " << h;
    }
  }
}

// A new query replaces the old one (the core reuses one kernel per thread across queries).
TEST(KeyBlock, SetQueryReplacesThePanel) {
  SeededRng rng("key_block.requery", 43);
  const std::int64_t d = 64, n = 5;
  const KeyRows keys = make_keys(rng, n, d, false);
  const RowMatrixXf a = rng.normal(128, d), b = rng.normal(20, d);
  KeyBlockKernel reused, fresh;
  reused.set_query(a.data(), 128, d);
  std::vector<float> st_a(static_cast<std::size_t>(n * 128));
  reused.scores(keys.rows.data(), n, st_a.data());
  reused.set_query(b.data(), 20, d);
  fresh.set_query(b.data(), 20, d);
  ASSERT_EQ(reused.stride(), 32);
  std::vector<float> st_r(static_cast<std::size_t>(n * 32)), st_f(st_r.size());
  reused.scores(keys.rows.data(), n, st_r.data());
  fresh.scores(keys.rows.data(), n, st_f.data());
  for (std::int64_t j = 0; j < n; ++j)
    for (std::int64_t h = 0; h < 20; ++h) EXPECT_EQ(st_r[j * 32 + h], st_f[j * 32 + h]);
}

}  // namespace
}  // namespace v4sim
