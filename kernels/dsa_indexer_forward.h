// DeepSeek V3.2 DSA lightning indexer, token level (reference/kernels.md §8.1): float32 reference
// kernels. For a query at position t it scores every token s <= t and keeps the top k (2048) for
// the MLA that follows (kernels/mla_attention_forward.h). Cost side: kernels/indexer_scoring.h
// (ratio 1, FP8 keys) and kernels/linear.h (the three projections).
//
//   k_s     = Hadamard(RoPE(LayerNorm(W_k x_s)))        one shared 128-d key per token; FP8
//   q_t     = Hadamard(RoPE(W_qb^I c_q,t))  [64 x 128]  from MLA's query latent c_q; FP8 per head
//   w_t     = W_w x_t * 64^-1/2 * 128^-1/2              head weights (may be negative; no softmax)
//   I(t, s) = sum_h w_{t,h} ReLU(q_{t,h} . k_s)         over s <= t
//   C(t)    = top-k of I(t, .)
//
// Layout details that differ from V4 (official V3.2 inference/model.py after the Nov 2025 fix):
//   * RoPE acts on the FIRST rope_dim (64) dims, non-interleaved: pair j = (x[j], x[j + 32]) is
//     read as x[j] + i x[j+32]; the frequency table is V3.2's (theta 1e4, YaRN factor 40 over
//     4096).
//   * The key is LayerNorm'ed (gain and bias), not RMSNorm'ed.
//   * Hadamard(128) on both, then real FP8 E4M3 with ONE scale per 128-vector (per head for q),
//     power-of-two scales (scale_fmt ue8m0). The q scale is folded into w and the key scale is
//     applied after the head sum (both positive, so ReLU commutes with them).
// Exact mode (DsaIndexerConfig::exact) skips both FP8 roundings, for reference tests: then the
// Hadamard, being orthonormal, leaves every q.k unchanged.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Core>

#include "kernels/cost.h"
#include "kernels/indexer_scoring.h"
#include "kernels/linear.h"
#include "kernels/rope.h"
#include "kernels/storage.h"
#include "kernels/token_selection.h"

namespace v4sim {

struct DsaIndexerConfig {
  std::int64_t num_heads = 64;   // index_n_heads
  std::int64_t head_dim = 128;   // index_head_dim (the Hadamard and FP8 block width)
  std::int64_t rope_dim = 64;    // qk_rope_head_dim, the FIRST dims of each vector
  std::int64_t topk = 2048;      // index_topk
  double layer_norm_eps = 1e-6;  // LayerNorm default of the official code
  bool exact = false;            // true: no FP8 rounding of q and k (reference tests)
};

/// V3.2's RoPE frequencies (shared with its MLA): theta 10000, YaRN factor 40 over an original
/// length of 4096, beta_fast 32, beta_slow 1 (config_671B_v3.2.json / ModelArgs defaults; the
/// official code applies YaRN because max_seq_len 163840 > 4096).
RopeConfig v32_rope_config();

struct DsaIndexerWeights {
  RowMatrixXf wq_b;               // [num_heads * head_dim, q_lora_rank]
  RowMatrixXf wk;                 // [head_dim, D]
  Eigen::VectorXf k_norm_weight;  // [head_dim] LayerNorm gain
  Eigen::VectorXf k_norm_bias;    // [head_dim] LayerNorm bias
  RowMatrixXf weights_proj;       // [num_heads, D]
};

/// Storage and compute formats of the three projections (defaults: V3.2 as deployed).
struct DsaIndexerFormats {
  WeightFormat wq_b = WeightFormat::fp8_block128_fp32;
  WeightFormat wk = WeightFormat::fp8_block128_fp32;
  WeightFormat weights_proj = WeightFormat::bf16;
  Precision projections = Precision::fp8;
};

/// The indexer's key cache: one head_dim-wide key per token, position = row. Quantised mode
/// stores what the deployment stores (E4M3 codes + one fp32 scale per key, 132 B); exact mode
/// stores the float keys instead.
struct DsaKeyCache {
  std::int64_t head_dim = 128;
  bool exact = false;
  std::int64_t rows = 0;
  std::vector<std::uint8_t> codes;  // [rows * head_dim] E4M3 (quantised mode)
  std::vector<float> scales;        // [rows] power-of-two scales (quantised mode)
  std::vector<float> values;        // [rows * head_dim] (exact mode)

  DsaKeyCache() = default;
  DsaKeyCache(std::int64_t width, bool exact_mode) : head_dim(width), exact(exact_mode) {}
  void reserve(std::int64_t n);
  /// Appends a key after LayerNorm, RoPE and Hadamard: quantised to FP8 unless exact.
  void append(std::span<const float> key);
  /// Appends an already-quantised key (benchmarks fill 1M-token caches with random FP8 keys).
  void append_fp8(std::span<const std::uint8_t> key_codes, float scale);
  /// Drops every token from position n on (e.g. rejected draft tokens, or a benchmark undoing
  /// its decode step).
  void truncate(std::int64_t n);
  /// The key of token s as the scorer sees it (codes x scale, or the exact values).
  std::vector<float> key(std::int64_t s) const;
};

/// Queries of a chunk: per head the (FP8-decoded, unscaled) query values, and the head weights
/// with every positive scale folded in (64^-1/2, 128^-1/2 and the head's FP8 scale).
struct DsaQueries {
  std::int64_t start_pos = 0;  // position of row 0
  RowMatrixXf q;               // [T, num_heads * head_dim]
  RowMatrixXf w;               // [T, num_heads]
};

/// Non-interleaved RoPE on the first 2*angles.cos.size() dims: pair j = (x[j], x[j + half]).
void dsa_rope_rotate(std::span<float> x, const RopeAngles& angles);

/// Keys of the tokens x [T, D] at positions cache.rows, cache.rows + 1, ...: projection,
/// LayerNorm, RoPE, Hadamard, FP8 (unless exact), appended to the cache. Counts the wk projection
/// (LinearShape{T, D, head_dim}); the element-wise steps are not counted (kernels/cost.h).
void dsa_indexer_append_keys(const DsaIndexerConfig& cfg, const DsaIndexerFormats& fmt,
                             const DsaIndexerWeights& w, const RopeTable& rope,
                             const Eigen::Ref<const RowMatrixXf>& x, DsaKeyCache& cache,
                             Cost* counted = nullptr);

/// Queries and head weights of the tokens at start_pos .. start_pos + T - 1 from MLA's query
/// latent c_q [T, q_lora_rank] and the layer input x [T, D]. Counts the wq_b and weights_proj
/// projections.
DsaQueries dsa_indexer_queries(const DsaIndexerConfig& cfg, const DsaIndexerFormats& fmt,
                               const DsaIndexerWeights& w, const RopeTable& rope,
                               std::int64_t start_pos, const Eigen::Ref<const RowMatrixXf>& c_q,
                               const Eigen::Ref<const RowMatrixXf>& x, Cost* counted = nullptr);

/// The scoring shape of a chunk as the analytic model prices it (ratio 1, FP8 keys and products).
IndexerScoringShape dsa_scoring_shape(const DsaIndexerConfig& cfg, std::int64_t start_pos,
                                      std::int64_t num_tokens);

/// I(t, s) for s = 0 .. t of query row i (t = queries.start_pos + i). No counting.
std::vector<float> dsa_indexer_scores(const DsaQueries& queries, const DsaKeyCache& cache,
                                      std::int64_t i);

/// Scores and top-k of every query of the chunk: row i holds the min(k, t+1) selected positions
/// in increasing order, then -1 padding; width min(k, start_pos + T). Ties go to the lower
/// position. The cache must hold every token up to the last query. Counts, per (query, visible
/// key): 2*H*d products at shape.compute, the 2*H-term head sum in fp32, one key read in
/// shape.key_format and one fp32 score written; the queries once at shape.compute
/// (== cost(shape) of kernels/indexer_scoring.h).
TokenSelection dsa_indexer_topk(const IndexerScoringShape& shape, const DsaQueries& queries,
                                const DsaKeyCache& cache, std::int64_t topk,
                                Cost* counted = nullptr);

/// The whole indexer for a chunk (prefill) or one token (decode): appends the chunk's keys,
/// builds its queries, selects. cache.rows must equal the chunk's start position.
TokenSelection dsa_indexer_forward(const DsaIndexerConfig& cfg, const DsaIndexerFormats& fmt,
                                   const DsaIndexerWeights& w, const RopeTable& rope,
                                   const Eigen::Ref<const RowMatrixXf>& c_q,
                                   const Eigen::Ref<const RowMatrixXf>& x, DsaKeyCache& cache,
                                   Cost* counted = nullptr);

/// cost() of dsa_indexer_forward: the three projections plus the scoring.
Cost dsa_indexer_cost(const DsaIndexerConfig& cfg, const DsaIndexerFormats& fmt,
                      std::int64_t hidden, std::int64_t q_lora_rank, std::int64_t start_pos,
                      std::int64_t num_tokens);

/// Positions of the k highest scores (ties: lower position first), increasing; all if k >= size
/// (kernels/top_k.h: top_k_positions).
std::vector<std::int32_t> dsa_top_k(std::span<const float> scores, std::int64_t k);

}  // namespace v4sim
