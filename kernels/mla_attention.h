// V3/V3.2 MLA core attention in absorbed (MQA) form (cost side): every head attends over cached
// 576-d entries (512-d latent + 64-d shared RoPE key); the value is the 512-d latent. With a DSA
// indexer (V3.2) each query attends its top-k tokens; without (V3) all of them
// (reference/kernels.md §8.2). The absorptions W_UK and W_UV are grouped linears (see linear.h).
#pragma once

#include <cstdint>

#include "kernels/cost.h"
#include "kernels/storage.h"

namespace v4sim {

struct MlaAttentionShape {
  std::int64_t num_heads = 128;
  std::int64_t latent_dim = 512;  // kv_lora_rank
  std::int64_t rope_dim = 64;
  std::int64_t topk = 0;  // >0: DSA token selection; 0: dense causal
  std::int64_t start_pos = 0;
  std::int64_t num_tokens = 1;
  KvEntryFormat kv_format = KvEntryFormat::v32_fp8_sparse;
  Precision compute = Precision::bf16;
};

/// Keys attended by the query at position t: t+1, capped at topk when topk > 0.
std::int64_t keys_at(const MlaAttentionShape& s, std::int64_t t);
std::int64_t total_keys(const MlaAttentionShape& s);

/// FLOPs 2*H*(latent+rope) for QK plus 2*H*latent for PV per (query, key). Reads each attended
/// entry (latent_dim + rope_dim wide) in kv_format.
Cost cost(const MlaAttentionShape& s);

}  // namespace v4sim
