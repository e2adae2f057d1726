#include "kernels/top_k.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>

#include "kernels/precondition.h"

namespace v4sim {
namespace {

constexpr const char* kKernel = "top_k_positions";

// A key whose unsigned order is the scores' order, equal keys for equal scores (-0 is +0).
// Integer operations only, so the passes over the scores compile without branches.
inline std::uint32_t order_key(float s) {
  std::uint32_t bits = std::bit_cast<std::uint32_t>(s);
  bits = bits << 1 == 0 ? 0u : bits;
  const auto sign = static_cast<std::uint32_t>(static_cast<std::int32_t>(bits) >> 31);
  return bits ^ (sign | 0x80000000u);
}

// k-th highest under the order of top_k_positions, then sorted: the plain path.
std::vector<std::int32_t> select_all(std::span<const float> scores, std::int64_t k) {
  std::vector<std::int32_t> idx(scores.size());
  std::iota(idx.begin(), idx.end(), 0);
  const auto higher = [&](std::int32_t a, std::int32_t b) {
    return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
  };
  std::nth_element(idx.begin(), idx.begin() + k, idx.end(), higher);
  idx.resize(static_cast<std::size_t>(k));
  std::sort(idx.begin(), idx.end());
  return idx;
}

// Candidates fewer than this go straight to nth_element instead of another histogram level.
constexpr std::size_t kSmall = 4096;

}  // namespace

std::vector<std::int32_t> top_k_positions(std::span<const float> scores, std::int64_t k) {
  V4SIM_REQUIRE(kKernel, scores.size() <= std::numeric_limits<std::int32_t>::max(),
                "more than 2^31 - 1 scores");
  const auto n = static_cast<std::int64_t>(scores.size());
  if (k <= 0) return {};
  if (k >= n) {
    std::vector<std::int32_t> all(scores.size());
    std::iota(all.begin(), all.end(), 0);
    return all;
  }
  if (n <= static_cast<std::int64_t>(kSmall)) return select_all(scores, k);

  // Level 1 over every score: bins of the key's top 11 bits, counted in four histograms (equal
  // neighbouring keys would otherwise wait on each other's increment) and then added.
  std::array<std::array<std::int32_t, 2048>, 4> part{};
  std::uint32_t nan = 0;
  const float* p = scores.data();
  std::int64_t i0 = 0;
  for (; i0 + 4 <= n; i0 += 4)
    for (int j = 0; j < 4; ++j) {
      const std::uint32_t bits = std::bit_cast<std::uint32_t>(p[i0 + j]);
      nan |= static_cast<std::uint32_t>((bits & 0x7FFFFFFFu) > 0x7F800000u);
      ++part[static_cast<std::size_t>(j)][order_key(p[i0 + j]) >> 21];
    }
  for (; i0 < n; ++i0) {
    nan |= static_cast<std::uint32_t>(std::isnan(p[i0]));
    ++part[0][order_key(p[i0]) >> 21];
  }
  if (nan != 0) return select_all(scores, k);
  std::array<std::int32_t, 2048> hist{};
  for (std::size_t b = 0; b < hist.size(); ++b)
    hist[b] = part[0][b] + part[1][b] + part[2][b] + part[3][b];
  // The bin holding the k-th highest: every position in a higher bin is selected.
  std::int64_t above = 0;
  std::uint32_t bin = 2047;
  while (above + hist[bin] < k) above += hist[bin--];
  // Every position is written to both lists and kept where it belongs (no branch on the
  // scores, whose bins a branch predictor cannot guess); each list has one spare slot.
  std::vector<std::int32_t> chosen(static_cast<std::size_t>(above) + 1),
      cand(static_cast<std::size_t>(hist[bin]) + 1);
  std::size_t nc = 0, nk = 0;
  for (std::int32_t i = 0; i < static_cast<std::int32_t>(n); ++i) {
    const std::uint32_t b = order_key(p[i]) >> 21;
    chosen[nc] = i;
    nc += b > bin ? 1 : 0;
    cand[nk] = i;
    nk += b == bin ? 1 : 0;
  }
  chosen.resize(nc);
  cand.resize(nk);
  // Levels 2 and 3 over the candidates (bits 20..10, then 9..0) while there are many; positions
  // stay in increasing order in both lists.
  for (const int shift : {10, 0}) {
    if (cand.size() <= kSmall) break;
    const std::uint32_t mask = shift == 10 ? 0x7FFu : 0x3FFu;
    std::array<std::int32_t, 2048> sub{};
    for (const std::int32_t i : cand) ++sub[order_key(scores[i]) >> shift & mask];
    const std::int64_t need = k - static_cast<std::int64_t>(chosen.size());
    std::int64_t over = 0;
    std::uint32_t s = mask;
    while (over + sub[s] < need) over += sub[s--];
    std::vector<std::int32_t> next(static_cast<std::size_t>(sub[s]) + 1),
        merged(static_cast<std::size_t>(over) + 1);
    std::size_t nm = 0, nn = 0;
    for (const std::int32_t i : cand) {
      const std::uint32_t b = order_key(p[i]) >> shift & mask;
      merged[nm] = i;
      nm += b > s ? 1 : 0;
      next[nn] = i;
      nn += b == s ? 1 : 0;
    }
    merged.resize(nm);
    next.resize(nn);
    // chosen and merged are each increasing; their union is kept sorted at the end.
    chosen.insert(chosen.end(), merged.begin(), merged.end());
    cand.swap(next);
  }
  // The rest of the k from the candidates (all of whose keys share the bits seen so far), by
  // the full order.
  const auto need = static_cast<std::ptrdiff_t>(k - static_cast<std::int64_t>(chosen.size()));
  const auto higher = [&](std::int32_t a, std::int32_t b) {
    return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
  };
  std::nth_element(cand.begin(), cand.begin() + need, cand.end(), higher);
  chosen.insert(chosen.end(), cand.begin(), cand.begin() + need);
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

}  // namespace v4sim
