#include "sim/weight_sums.h"

#include <numeric>

namespace v4sim {
namespace {

constexpr std::int64_t kExactDoubleLimit = std::int64_t{1} << 53;

/// a + b, or nothing when the sum reaches 2^53 (every operand is non-negative).
std::optional<std::int64_t> add_below_limit(std::int64_t a, std::int64_t b) {
  if (a >= kExactDoubleLimit || b >= kExactDoubleLimit - a) return std::nullopt;
  return a + b;
}

}  // namespace

bool split_over_tp(ParamComponent c) {
  return c == ParamComponent::attention || c == ParamComponent::lm_head ||
         c == ParamComponent::embedding || c == ParamComponent::shared_experts ||
         c == ParamComponent::dense_ffn;
}

bool split_over_tp(const WeightTensor& w) {
  return split_over_tp(w.component) && w.tp != TpSplit::replicated;
}

WeightSums weight_sums(const ModelSpec& spec, const std::vector<WeightTensor>& weights) {
  WeightSums out;
  for (const WeightTensor& w : weights) {
    const std::int64_t bytes = w.bytes();
    const std::size_t main = w.layer >= 0 && w.layer < spec.num_layers ? 1 : 0;
    const std::size_t mtp = w.mtp ? 1 : 0;
    std::int64_t* sum = &out.whole[main][mtp];
    std::int64_t term = bytes;
    if (w.component == ParamComponent::routed_experts) {
      if (w.copies <= 0 || bytes % w.copies != 0) {
        out.exact = false;
        return out;
      }
      sum = &out.routed_per_copy[main][mtp];
      term = bytes / w.copies;
    } else if (split_over_tp(w)) {
      sum = &out.split[main][mtp];
      out.split_gcd = std::gcd(out.split_gcd, bytes);
    }
    const std::optional<std::int64_t> s = add_below_limit(*sum, term);
    if (!s || bytes >= kExactDoubleLimit) {
      out.exact = false;
      return out;
    }
    *sum = *s;
  }
  return out;
}

std::optional<WeightBytesOnRank> exact_weight_bytes_on_rank(const WeightSums& sums, std::int64_t tp,
                                                            std::int64_t local_experts, bool mtp) {
  if (!sums.exact || tp <= 0 || local_experts < 0 || sums.split_gcd % tp != 0) return std::nullopt;
  std::array<double, 2> total{};
  for (std::size_t main = 0; main < 2; ++main) {
    std::int64_t t = 0;
    for (std::size_t m = 0; m < (mtp ? 2u : 1u); ++m) {
      std::int64_t routed = 0;
      if (__builtin_mul_overflow(sums.routed_per_copy[main][m], local_experts, &routed))
        return std::nullopt;
      for (const std::int64_t term : {sums.whole[main][m], sums.split[main][m] / tp, routed}) {
        const std::optional<std::int64_t> s = add_below_limit(t, term);
        if (!s) return std::nullopt;
        t = *s;
      }
    }
    total[main] = static_cast<double>(t);
  }
  return WeightBytesOnRank{total[1], total[0]};
}

}  // namespace v4sim
