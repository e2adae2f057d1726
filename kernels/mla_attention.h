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

/// The shape a GPU decode kernel runs for the `num_tokens` queries of one sequence (the token and
/// its MTP drafts in a verify step). FlashMLA folds a sequence's queries into its head dimension
/// (`get_mla_metadata` takes seq_len_q * num_heads_q query rows per KV head) and computes them in
/// tiles of `tile_rows` rows (64: `Flash_fwd_kernel_traits_mla<576, 64, 64, ...>`), each tile
/// reading the sequence's entries once. So g = tile_rows / num_heads queries share a tile when the
/// heads leave room: ceil(T / g) tiles instead of T. Returned as ceil(T / g) queries ending at the
/// last position, each of g x num_heads heads (a partly filled last tile computes its padding rows
/// too). Its products count every folded row over its tile's keys, the masked part of the tile
/// included. Sparse selection (topk > 0) gives each query entries of its own, and heads that fill
/// a tile (g < 2) or a single query leave nothing to fold: returned unchanged.
MlaAttentionShape folded_queries(const MlaAttentionShape& s, std::int64_t tile_rows);

/// Dense MLA (V3) in expanded (MHA) form, the form serving stacks run a prefill chunk in: every
/// cached latent is expanded through wkv_b into per-head NoPE keys and values, and each head's
/// 192-deep query (nope + rope) attends them causally. Per (query, key) it costs
/// 2*H*(nope + rope) + 2*H*v FLOPs against the absorbed form's 2*H*(latent + rope) + 2*H*latent
/// (81,920 vs 278,528 at V3's widths); the price is one wkv_b pass per cached entry, the chunk's
/// prefix included, instead of one per query (the absorptions). Decode stays absorbed.
/// (DeepSeek-V3.2-Exp technical report, github.com/deepseek-ai/DeepSeek-V3.2-Exp, appendix on
/// MLA's MHA and MQA modes: V3.1-Terminus trains and prefills in MHA mode and decodes in MQA mode,
/// while V3.2's DSA runs in MQA mode throughout; Modular MAX `mla_prefill`, a 192-deep query
/// against the 576-wide latent cache, is one public prefill kernel of this form.)
struct MlaExpandedShape {
  std::int64_t num_heads = 128;
  std::int64_t latent_dim = 512;  // kv_lora_rank
  std::int64_t rope_dim = 64;
  std::int64_t nope_dim = 128;  // qk_nope_head_dim
  std::int64_t v_dim = 128;     // v_head_dim
  std::int64_t start_pos = 0;
  std::int64_t num_tokens = 1;
  KvEntryFormat kv_format = KvEntryFormat::bf16;
  Precision compute = Precision::bf16;                           // the attention products
  WeightFormat expand_weight = WeightFormat::fp8_block128_fp32;  // wkv_b as stored
  Precision expand_compute = Precision::fp8;                     // the expansion GEMM
};

/// Entries expanded and attended by the chunk: start_pos + num_tokens.
std::int64_t expanded_entries(const MlaExpandedShape& s);
/// The expansion: LinearShape{entries, latent -> H*(nope+v)} (wkv_b read once, the latents read
/// as its input, K and V written as BF16) plus each entry read once from the cache in kv_format.
Cost expansion_cost(const MlaExpandedShape& s);
/// The core: 2*H*(nope+rope) + 2*H*v FLOPs per causal (query, key) pair at s.compute; reads the
/// expanded K and V and the entries' RoPE keys once (BF16) and the queries (BF16); writes the
/// outputs [T, H*v] (BF16).
Cost cost(const MlaExpandedShape& s);

}  // namespace v4sim
