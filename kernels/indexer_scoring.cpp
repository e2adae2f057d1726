#include "kernels/indexer_scoring.h"

#include "kernels/linear.h"
#include "kernels/position_sums.h"

namespace v4sim {

std::int64_t scored_keys(const IndexerScoringShape& s) {
  return position_sums::range_floor_div(s.start_pos, s.num_tokens, s.ratio);
}

Cost cost(const IndexerScoringShape& s) {
  const std::int64_t keys = scored_keys(s);
  Cost c;
  c.flops_at(s.compute) = checked_mul(2, s.num_heads, s.head_dim, keys);
  c.flops_at(Precision::fp32) =
      checked_add(c.flops_at(Precision::fp32), checked_mul(2, s.num_heads, keys));
  c.read(MemClass::kv_cache) = checked_mul(keys, kv_entry_bytes(s.key_format, s.head_dim, 0));
  c.read(MemClass::activations) =
      activation_bytes(s.compute, checked_mul(s.num_tokens, s.num_heads, s.head_dim));
  // One fp32 score per (query, key) for the top-k selection.
  c.written(MemClass::activations) = checked_mul(4, keys);
  return c;
}

}  // namespace v4sim
