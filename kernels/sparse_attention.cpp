#include "kernels/sparse_attention.h"

#include <algorithm>

#include "kernels/linear.h"
#include "kernels/position_sums.h"

namespace v4sim {

std::int64_t keys_at(const SparseAttentionShape& s, std::int64_t t) {
  std::int64_t keys = std::min(t + 1, s.window);
  if (s.compress_ratio > 0) {
    const std::int64_t visible = (t + 1) / s.compress_ratio;
    keys += s.topk > 0 ? std::min(visible, s.topk) : visible;
  }
  return keys;
}

std::int64_t total_keys(const SparseAttentionShape& s) {
  namespace ps = position_sums;
  std::int64_t keys = ps::range_min(s.start_pos, s.num_tokens, s.window);
  if (s.compress_ratio > 0) {
    keys = checked_add(
        keys, s.topk > 0
                  ? ps::range_min_floor_div(s.start_pos, s.num_tokens, s.compress_ratio, s.topk)
                  : ps::range_floor_div(s.start_pos, s.num_tokens, s.compress_ratio));
  }
  return keys;
}

SparseKvEntries cached_entries(const SparseAttentionShape& s, std::int64_t context) {
  return {std::min(context, s.window), s.compress_ratio > 0 ? context / s.compress_ratio : 0};
}

Cost cost(const SparseAttentionShape& s) {
  const std::int64_t keys = total_keys(s);
  Cost c;
  c.flops_at(s.compute) = checked_mul(4, s.num_heads, s.head_dim, keys);
  c.read(MemClass::kv_cache) =
      checked_mul(keys, kv_entry_bytes(s.kv_format, s.head_dim, s.rope_dim));
  const std::int64_t qo = checked_mul(s.num_tokens, s.num_heads, s.head_dim);
  c.read(MemClass::activations) = activation_bytes(Precision::bf16, qo);
  c.written(MemClass::activations) = activation_bytes(Precision::bf16, qo);
  return c;
}

}  // namespace v4sim
