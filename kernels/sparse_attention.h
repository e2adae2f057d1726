// V4 core attention (cost side): shared-KV MQA (K = V, one 512-d entry per key) of every query over
// its sliding window plus compressed entries, one softmax with a per-head sink
// (reference/kernels.md §1.4, §2). One shape covers the three layer kinds:
//   SWA-only: compress_ratio 0;  CSA: ratio 4 with top-k selection;  HCA: ratio 128, all visible.
#pragma once

#include <cstdint>

#include "kernels/cost.h"
#include "kernels/storage.h"

namespace v4sim {

struct SparseAttentionShape {
  std::int64_t num_heads = 0;
  std::int64_t head_dim = 512;      // K = V width
  std::int64_t rope_dim = 64;       // last dims carrying RoPE (for the entry byte layout)
  std::int64_t window = 128;        // raw tokens each query sees, itself included
  std::int64_t compress_ratio = 0;  // 0: no compressed branch
  std::int64_t topk = 0;            // >0: at most topk compressed entries per query; 0: all visible
  std::int64_t start_pos = 0;       // position of the first query (0-based)
  std::int64_t num_tokens = 1;      // queries at start_pos .. start_pos + num_tokens - 1
  KvEntryFormat kv_format = KvEntryFormat::v4_fp8_sparse;
  Precision compute = Precision::bf16;
};

/// Keys seen by the query at 0-based position t: min(t+1, window) window keys plus the visible
/// compressed entries floor((t+1)/ratio) (a block is visible once its last token is <= t), capped
/// at topk when topk > 0.
std::int64_t keys_at(const SparseAttentionShape& s, std::int64_t t);
/// Sum of keys_at over the shape's queries, in closed form.
std::int64_t total_keys(const SparseAttentionShape& s);

/// Entries a layer caches for one sequence after `context` tokens: the ring-buffered window and
/// every completed compressed block.
struct SparseKvEntries {
  std::int64_t window = 0;
  std::int64_t compressed = 0;
};
SparseKvEntries cached_entries(const SparseAttentionShape& s, std::int64_t context);

/// FLOPs 4*H*d per (query, key): QK and PV products of width d for every head. Reads every key
/// entry each query attends (a per-query gather, as the sparse decode kernel does) in kv_format,
/// plus the BF16 queries; writes the BF16 outputs.
Cost cost(const SparseAttentionShape& s);

}  // namespace v4sim
