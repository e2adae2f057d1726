// The closed-form position sums equal brute-force loops, at and around every boundary.
#include "kernels/position_sums.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace v4sim {
namespace {

namespace ps = position_sums;

TEST(PositionSums, PrefixFormsEqualLoops) {
  for (std::int64_t m : {1, 2, 3, 4, 7, 128}) {
    for (std::int64_t cap : {1, 2, 5, 128, 1024}) {
      std::int64_t sum_min = 0, sum_div = 0, sum_min_div = 0;
      for (std::int64_t n = 0; n <= 700; ++n) {
        if (n > 0) {
          sum_min += std::min(n, cap);
          sum_div += n / m;
          sum_min_div += std::min(cap, n / m);
        }
        ASSERT_EQ(ps::prefix_min(n, cap), sum_min) << "n=" << n << " cap=" << cap;
        ASSERT_EQ(ps::prefix_floor_div(n, m), sum_div) << "n=" << n << " m=" << m;
        ASSERT_EQ(ps::prefix_min_floor_div(n, m, cap), sum_min_div)
            << "n=" << n << " m=" << m << " cap=" << cap;
      }
    }
  }
}

TEST(PositionSums, RangesAreDifferencesOfPrefixes) {
  // Queries at positions [start, start + count) see x = start+1 .. start+count tokens.
  for (std::int64_t start : {0, 1, 3, 4, 126, 127, 128, 129, 511, 4095}) {
    for (std::int64_t count : {1, 2, 5, 128, 300}) {
      std::int64_t id = 0, mn = 0, dv = 0, mdv = 0;
      for (std::int64_t x = start + 1; x <= start + count; ++x) {
        id += x;
        mn += std::min<std::int64_t>(x, 128);
        dv += x / 4;
        mdv += std::min<std::int64_t>(512, x / 4);
      }
      EXPECT_EQ(ps::range_identity(start, count), id);
      EXPECT_EQ(ps::range_min(start, count, 128), mn);
      EXPECT_EQ(ps::range_floor_div(start, count, 4), dv);
      EXPECT_EQ(ps::range_min_floor_div(start, count, 4, 512), mdv);
    }
  }
}

TEST(PositionSums, MillionTokenPromptNeedsNoLoop) {
  // sum_{x=1}^{2^20} x = 2^20 (2^20 + 1) / 2
  const std::int64_t n = std::int64_t{1} << 20;
  EXPECT_EQ(ps::prefix_min(n, n), n * (n + 1) / 2);
  // floor(x/4) over 1..2^20: q = 2^18 full runs: 4 * q(q-1)/2 + q * 1
  const std::int64_t q = n / 4;
  EXPECT_EQ(ps::prefix_floor_div(n, 4), 4 * q * (q - 1) / 2 + q);
}

}  // namespace
}  // namespace v4sim
