// Capacity: weights, KV cache and activations per rank against the usable HBM, and the largest
// batch that fits.
#include <algorithm>
#include <cstdio>
#include <optional>

#include "sim/kv_cache.h"
#include "sim/model_cache.h"
#include "sim/serving_internal.h"

namespace v4sim::serving_detail {
namespace {

double weights_per_rank(const Setup& s) {
  // The model's byte sums give the same numbers in a few operations when they are exact.
  std::optional<WeightBytesOnRank> exact;
  if (s.weight_sums)
    exact = exact_weight_bytes_on_rank(*s.weight_sums, s.layout.tp, s.local_experts, s.mtp);
  const WeightBytesOnRank w =
      exact ? *exact
      : s.model_cache
          ? s.model_cache->weights(s.layout.tp, s.local_experts, s.mtp)
          : weight_bytes_on_rank(s.spec, s.weights, s.layout.tp, s.local_experts, s.mtp);
  return w.main_layers * s.stage_layer_share + w.model_level;
}

/// Activations in flight per rank for `tokens` tokens of its own: the mHC residual streams (BF16,
/// in and out), the MoE receive buffer (top-k copies, BF16) and a sub-layer output. An estimate of
/// working buffers, doubled with two-microbatch overlap.
double activations_per_rank(const Setup& s, double tokens) {
  const double D = static_cast<double>(s.spec.hidden_size);
  const double streams = static_cast<double>(std::max<std::int64_t>(1, s.spec.mhc.streams));
  const double k = static_cast<double>(std::max<std::int64_t>(1, s.spec.moe.experts_per_token));
  const double per_token = (2.0 * streams + k + 1.0) * D * 2.0;
  return tokens * per_token * (s.config.overlap ? 2.0 : 1.0);
}

}  // namespace

void fill_capacity(Setup& s) {
  s.weights_bytes_per_rank = weights_per_rank(s);
  s.kv_bytes_per_sequence =
      static_cast<double>(kv_cache_per_sequence(s.spec, s.workload.context_tokens,
                                                s.spec.kv_format(s.config.kv_format), s.mtp)
                              .total());
}

MemoryUse memory_use(const Setup& s, std::int64_t batch) {
  MemoryUse m;
  const double b = static_cast<double>(batch);
  const std::int64_t n = s.workload.context_tokens;
  m.capacity_bytes =
      s.device.hbm_capacity_gb.nominal * 1e9 * (1.0 - s.config.reserved_hbm_fraction);
  m.weights_bytes = s.weights_bytes_per_rank;
  m.kv_bytes_per_sequence = s.kv_bytes_per_sequence;
  // Each rank holds the KV of its dp group's sequences for its stage's layers; with pp
  // microbatches in flight that is batch x the KV per sequence x the stage share x pp.
  const double kv_share = s.stage_layer_share * static_cast<double>(s.layout.pp);
  m.kv_bytes = b * m.kv_bytes_per_sequence * kv_share;
  const double tokens = s.workload.phase == Phase::decode
                            ? b * static_cast<double>(s.q)
                            : b * static_cast<double>(std::min(s.config.prefill_chunk_tokens, n));
  m.activation_bytes = activations_per_rank(s, tokens / static_cast<double>(s.layout.tp));
  return m;
}

std::string memory_reason(const MemoryUse& m) {
  char buf[256];
  std::snprintf(
      buf, sizeof buf,
      "weights %.1f GiB + KV %.1f GiB + activations %.1f GiB exceed the %.1f GiB usable HBM "
      "per rank",
      m.weights_bytes / 1073741824.0, m.kv_bytes / 1073741824.0, m.activation_bytes / 1073741824.0,
      m.capacity_bytes / 1073741824.0);
  return buf;
}

std::int64_t largest_fitting(const Setup& s) {
  auto fits = [&](std::int64_t b) { return memory_use(s, b).free_bytes() >= 0; };
  std::int64_t lo = 0, hi = 1;
  while (hi <= (std::int64_t{1} << 24) && fits(hi)) {
    lo = hi;
    hi *= 2;
  }
  if (lo == 0) return 0;
  while (hi - lo > 1) {
    const std::int64_t mid = (lo + hi) / 2;
    (fits(mid) ? lo : hi) = mid;
  }
  return lo;
}

}  // namespace v4sim::serving_detail
