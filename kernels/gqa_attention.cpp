#include "kernels/gqa_attention.h"

#include "kernels/linear.h"
#include "kernels/position_sums.h"

namespace v4sim {

std::int64_t kv_bytes_per_token(const GqaAttentionShape& s) {
  return checked_mul(2, s.kv_heads, kv_entry_bytes(s.kv_format, s.head_dim, 0));
}

Cost cost(const GqaAttentionShape& s) {
  const std::int64_t keys = position_sums::range_identity(s.start_pos, s.num_tokens);
  Cost c;
  c.flops_at(s.compute) = checked_mul(4, s.q_heads, s.head_dim, keys);
  c.read(MemClass::kv_cache) = checked_mul(keys, kv_bytes_per_token(s));
  const std::int64_t qo = checked_mul(s.num_tokens, s.q_heads, s.head_dim);
  c.read(MemClass::activations) = activation_bytes(Precision::bf16, qo);
  c.written(MemClass::activations) = activation_bytes(Precision::bf16, qo);
  return c;
}

}  // namespace v4sim
