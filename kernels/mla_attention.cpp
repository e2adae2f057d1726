#include "kernels/mla_attention.h"

#include <algorithm>

#include "kernels/linear.h"
#include "kernels/position_sums.h"

namespace v4sim {

std::int64_t keys_at(const MlaAttentionShape& s, std::int64_t t) {
  return s.topk > 0 ? std::min(t + 1, s.topk) : t + 1;
}

std::int64_t total_keys(const MlaAttentionShape& s) {
  return s.topk > 0 ? position_sums::range_min(s.start_pos, s.num_tokens, s.topk)
                    : position_sums::range_identity(s.start_pos, s.num_tokens);
}

Cost cost(const MlaAttentionShape& s) {
  const std::int64_t keys = total_keys(s);
  const std::int64_t entry_dim = s.latent_dim + s.rope_dim;
  Cost c;
  c.flops_at(s.compute) = checked_mul(2, s.num_heads, entry_dim + s.latent_dim, keys);
  c.read(MemClass::kv_cache) =
      checked_mul(keys, kv_entry_bytes(s.kv_format, entry_dim, s.rope_dim));
  c.read(MemClass::activations) =
      activation_bytes(Precision::bf16, checked_mul(s.num_tokens, s.num_heads, entry_dim));
  c.written(MemClass::activations) =
      activation_bytes(Precision::bf16, checked_mul(s.num_tokens, s.num_heads, s.latent_dim));
  return c;
}

}  // namespace v4sim
