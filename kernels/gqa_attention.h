// Dense causal GQA/MHA core attention (cost side): the baseline V4 and V3.2 are compared with.
// q_heads query heads share kv_heads separate K and V heads of head_dim each.
#pragma once

#include <cstdint>

#include "kernels/cost.h"
#include "kernels/storage.h"

namespace v4sim {

struct GqaAttentionShape {
  std::int64_t q_heads = 0;
  std::int64_t kv_heads = 0;
  std::int64_t head_dim = 128;
  std::int64_t start_pos = 0;
  std::int64_t num_tokens = 1;
  KvEntryFormat kv_format = KvEntryFormat::bf16;
  Precision compute = Precision::bf16;
};

/// Bytes one token adds to one layer's cache: K and V of every KV head.
std::int64_t kv_bytes_per_token(const GqaAttentionShape& s);
/// FLOPs 4*q_heads*head_dim per (query, key) over all t+1 causal keys; reads K and V of each key
/// once per query group.
Cost cost(const GqaAttentionShape& s);

}  // namespace v4sim
