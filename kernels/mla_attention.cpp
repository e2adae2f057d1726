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

MlaAttentionShape folded_queries(const MlaAttentionShape& s, std::int64_t tile_rows) {
  const std::int64_t per_tile = s.num_heads > 0 ? tile_rows / s.num_heads : 0;
  if (s.topk > 0 || s.num_tokens <= 1 || per_tile < 2) return s;
  const std::int64_t tiles = (s.num_tokens + per_tile - 1) / per_tile;
  MlaAttentionShape f = s;
  f.num_heads = checked_mul(s.num_heads, per_tile);
  f.start_pos = checked_add(s.start_pos, s.num_tokens - tiles);
  f.num_tokens = tiles;
  return f;
}

std::int64_t expanded_entries(const MlaExpandedShape& s) {
  return checked_add(s.start_pos, s.num_tokens);
}

Cost expansion_cost(const MlaExpandedShape& s) {
  const std::int64_t entries = expanded_entries(s);
  Cost c = cost(LinearShape{entries, s.latent_dim, checked_mul(s.num_heads, s.nope_dim + s.v_dim),
                            1, s.expand_weight, s.expand_compute});
  c.read(MemClass::kv_cache) +=
      checked_mul(entries, kv_entry_bytes(s.kv_format, s.latent_dim + s.rope_dim, s.rope_dim));
  return c;
}

Cost cost(const MlaExpandedShape& s) {
  const std::int64_t pairs = position_sums::range_identity(s.start_pos, s.num_tokens);
  const std::int64_t entries = expanded_entries(s), H = s.num_heads;
  Cost c;
  c.flops_at(s.compute) = checked_mul(2, H, s.nope_dim + s.rope_dim + s.v_dim, pairs);
  c.read(MemClass::activations) = activation_bytes(
      Precision::bf16,
      checked_add(
          checked_mul(entries, checked_add(checked_mul(H, s.nope_dim + s.v_dim), s.rope_dim)),
          checked_mul(s.num_tokens, H, s.nope_dim + s.rope_dim)));
  c.written(MemClass::activations) =
      activation_bytes(Precision::bf16, checked_mul(s.num_tokens, H, s.v_dim));
  return c;
}

}  // namespace v4sim
