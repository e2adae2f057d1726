// One V4 attention block forward (reference/kernels.md §1-§4) for a chunk of tokens at positions
// [start_pos, start_pos + num_tokens) against a per-sequence cache; decode is a chunk of one.
//
//   c_q = RMSNorm_q(W_qa x);  q = W_qb c_q, per-head unweighted RMS norm, RoPE at t;
//   kv  = RMSNorm_kv(W_kv x), RoPE at t (FP8 round trip of the NoPE dims with qat);
//   CSA/HCA: the compressor appends entries completed by the chunk (before the attention);
//   CSA: the indexer compressor appends keys; queries from c_q and x; top-k per query;
//   HCA: every visible entry;  SWA: window only;
//   o = core attention with sink and output de-rotation; y = W_ob (grouped W_oa o).
// RoPE: theta 10000 for SWA layers, the YaRN table (theta 160000) for CSA/HCA (kernels/rope.h).
//
// The cache holds only what the model caches for one sequence: the window ring, the compressed
// entries, the indexer keys and the two compressor tails - never the raw hidden states.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/attention_cache_forward.h"
#include "kernels/attention_layer.h"
#include "kernels/compressor_forward.h"
#include "kernels/cost.h"
#include "kernels/fp8_linear.h"
#include "kernels/lightning_indexer_forward.h"
#include "kernels/sparse_attention_forward.h"

namespace v4sim {

/// The five attention projections in the deployed FP8 format (kernels/fp8_linear.h).
struct AttentionFp8Weights {
  Fp8Weight wq_a, wq_b, wkv, wo_a, wo_b;
};

struct AttentionLayerWeights {
  RowMatrixXf wq_a;         // [q_lora_rank, D]
  Eigen::VectorXf q_norm;   // [q_lora_rank]
  RowMatrixXf wq_b;         // [H*d, q_lora_rank]
  RowMatrixXf wkv;          // [d, D]
  Eigen::VectorXf kv_norm;  // [d]
  RowMatrixXf wo_a;         // [o_groups*o_lora_rank, H*d/o_groups], group g = rows g*o_lora_rank..
  RowMatrixXf wo_b;         // [D, o_groups*o_lora_rank]
  std::vector<float> sink;  // [H]
  CompressorWeights compressor;  // CSA/HCA
  IndexerWeights indexer;        // CSA
  /// When set, the five projections run on these FP8 copies (when the shape's attention_weights
  /// is fp8_block128_ue8m0), as a deployment stores them: a decode then reads the weight bytes
  /// cost() counts instead of 4x as many float32 bytes. Set by with_fp8_projections.
  std::shared_ptr<const AttentionFp8Weights> fp8;
};
/// FP8 copies of w's five projections (UE8M0 scales per 128 x 128 block), attached to w.fp8.
void with_fp8_projections(AttentionLayerWeights& w);
/// Random weights of the shape's sizes (projections ~ U with variance 1/fan_in, gains ~1,
/// sinks ~ U(-1, 1)), reproducible from `seed`. A Pro CSA layer is about 1.3 GB of floats.
AttentionLayerWeights random_layer_weights(const AttentionLayerShape& s, std::uint64_t seed);

struct AttentionLayerCache {
  WindowRing window;                   // [window, d]
  EntryTable compressed;               // [n, d]   CSA/HCA
  CompressorState compressor;          //          CSA/HCA
  IndexerKeyTable indexer_keys;        // [n, d_I] CSA, MXFP4 (exact in reference tests)
  CompressorState indexer_compressor;  //          CSA
  AttentionWorkspace core_buffers;     // the core's scratch, kept from step to step (no state)
  std::int64_t length() const { return window.length; }
};
/// An empty cache (position 0).
AttentionLayerCache make_layer_cache(const AttentionLayerShape& s);
/// A cache as it would be after `context` tokens, filled with random values of the right shapes
/// and counts (entries with unit RMS, as RMSNorm leaves them; tails with random rows); for
/// benchmarks at long contexts without compressing a million tokens.
AttentionLayerCache random_layer_cache(const AttentionLayerShape& s, std::int64_t context,
                                       std::uint64_t seed);

struct AttentionLayerOptions {
  bool qat = false;  // quantisation round trips of the cache formats (FP8 KV NoPE, FP4 indexer)
  float norm_eps = 1e-6f;
};

/// Runs the shape's tokens (cache.length() must equal start_pos) and returns y [T, D]. Counts
/// every product and byte as cost(shape) prices it. `selection_out`, if given, receives the
/// compressed entries each query attended (empty sets for SWA).
RowMatrixXf attention_layer_forward(const AttentionLayerShape& shape,
                                    const AttentionLayerWeights& w,
                                    const AttentionLayerOptions& options,
                                    const Eigen::Ref<const RowMatrixXf>& x,  // [T, D]
                                    AttentionLayerCache& cache, Cost* cost = nullptr,
                                    EntrySelection* selection_out = nullptr);

/// The RoPE table of the layer kind (window table for SWA, YaRN table otherwise).
RopeTable layer_rope_table(const AttentionLayerShape& s);

}  // namespace v4sim
