// top_k_positions (kernels/top_k.h) against a plain reference: every position sorted by higher
// score first, lower position first on equal scores (-0 equal to +0), the first k, sorted. The
// result must be the same positions exactly. Distributions chosen to reach each path: spread
// scores (one histogram level), scores sharing their top 11 key bits (a second level), scores
// sharing 21 bits (a third), all equal (every level, then ties by position), few distinct values
// with mixed -0 / +0, infinities, and sizes at and past the plain path's limit (4096).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "kernels/top_k.h"
#include "tests/support/random.h"

namespace v4sim {
namespace {

std::vector<std::int32_t> reference(const std::vector<float>& s, std::int64_t k) {
  std::vector<std::int32_t> idx(s.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(),
            [&](std::int32_t a, std::int32_t b) { return s[a] > s[b] || (s[a] == s[b] && a < b); });
  idx.resize(static_cast<std::size_t>(std::clamp<std::int64_t>(k, 0, std::ssize(s))));
  std::sort(idx.begin(), idx.end());
  return idx;
}

// 1.0f plus `ulps` units in the last place.
float above_one(std::int64_t ulps) {
  return std::bit_cast<float>(std::bit_cast<std::uint32_t>(1.0f) +
                              static_cast<std::uint32_t>(ulps));
}

TEST(TopKPositions, SameAsFullSortOnEveryPath) {
  test_support::SeededRng rng("top_k_positions", 15);
  for (const std::int64_t n :
       {std::int64_t{4096}, std::int64_t{4097}, std::int64_t{20000}, std::int64_t{70000}}) {
    std::vector<std::pair<std::string, std::vector<float>>> cases;
    std::vector<float> spread = rng.normal_vec(static_cast<std::size_t>(n), 1.0);
    std::vector<float> level2(static_cast<std::size_t>(n)), level3(level2.size()),
        equal(level2.size(), 0.25f), few(level2.size()), inf = spread;
    for (std::size_t i = 0; i < level2.size(); ++i) {
      level2[i] = above_one(rng.uniform_int(0, (1 << 21) - 1));  // one level-1 bin
      level3[i] = above_one(rng.uniform_int(0, 1023));           // one level-2 bin
      const std::int64_t v = rng.uniform_int(0, 4);              // -1, -0, +0, 0.5, 2
      few[i] = v == 0 ? -1.0f : v == 1 ? -0.0f : v == 2 ? 0.0f : v == 3 ? 0.5f : 2.0f;
    }
    for (std::size_t i = 0; i < inf.size(); i += 97)
      inf[i] = (i / 97) % 2 ? std::numeric_limits<float>::infinity()
                            : -std::numeric_limits<float>::infinity();
    cases = {{"spread", spread}, {"level2", level2}, {"level3", level3},
             {"equal", equal},   {"few", few},       {"inf", inf}};
    for (const auto& [name, s] : cases)
      for (const std::int64_t k : {std::int64_t{1}, std::int64_t{7}, std::int64_t{1024},
                                   std::int64_t{2048}, n / 2, n - 1}) {
        EXPECT_EQ(top_k_positions(s, k), reference(s, k)) << name << " n " << n << " k " << k;
      }
  }
}

TEST(TopKPositions, EdgesOfK) {
  const std::vector<float> s(5000, 1.0f);
  EXPECT_TRUE(top_k_positions(s, 0).empty());
  EXPECT_TRUE(top_k_positions(s, -3).empty());
  EXPECT_EQ(top_k_positions(s, 5000), reference(s, 5000));
  EXPECT_EQ(top_k_positions(s, 9000), reference(s, 9000));
  EXPECT_TRUE(top_k_positions(std::vector<float>{}, 4).empty());
}

// Scores with a NaN keep the plain nth_element path: k distinct positions in increasing order,
// and the unique +infinity among them.
TEST(TopKPositions, NanScoresStillGiveKPositions) {
  test_support::SeededRng rng("top_k_positions.nan", 15);
  std::vector<float> s = rng.normal_vec(10000, 1.0);
  s[123] = std::numeric_limits<float>::quiet_NaN();
  s[4567] = std::numeric_limits<float>::infinity();
  const std::vector<std::int32_t> top = top_k_positions(s, 50);
  ASSERT_EQ(top.size(), 50u);
  EXPECT_TRUE(std::is_sorted(top.begin(), top.end()));
  EXPECT_EQ(std::adjacent_find(top.begin(), top.end()), top.end());
}

}  // namespace
}  // namespace v4sim
