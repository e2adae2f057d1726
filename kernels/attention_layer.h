// One V4 attention block (cost side): everything between the attention norm and the residual
// mix of a window-only (SWA), CSA or HCA layer (reference/kernels.md §1-§4):
//   projections wq_a, wq_b, wkv, wo_a (grouped), wo_b; core attention over window (+ compressed);
//   CSA/HCA: the KV compressor; CSA: indexer projections wq_b and weights_proj, the indexer's
//   compressor and its scoring.
// The component shapes are built exactly as the analytic model builds them (sim/op_list.cpp), so
// cost(layer) is the sum of the per-op costs the simulator uses; the counting forward
// (kernels/attention_layer_forward.h) must match it exactly.
// Not priced separately: the token's own K=V entry is the wkv projection's output (counted there as
// a BF16 activation write); storing it into the window ring in the cache format is the same data,
// and the norms, RoPE, Hadamard and quantisation round trips are element-wise (kernels/cost.h).
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/compressor.h"
#include "kernels/cost.h"
#include "kernels/indexer_scoring.h"
#include "kernels/linear.h"
#include "kernels/sparse_attention.h"
#include "kernels/storage.h"

namespace v4sim {

enum class AttentionLayerKind : std::uint8_t { swa, csa, hca };

struct AttentionLayerShape {
  AttentionLayerKind kind = AttentionLayerKind::swa;
  std::int64_t hidden = 0;  // D
  std::int64_t num_heads = 0;
  std::int64_t head_dim = 512;
  std::int64_t rope_dim = 64;
  std::int64_t q_lora_rank = 0;
  std::int64_t o_groups = 0;
  std::int64_t o_lora_rank = 0;
  std::int64_t window = 128;
  std::int64_t csa_ratio = 4;
  std::int64_t hca_ratio = 128;
  std::int64_t indexer_heads = 64;
  std::int64_t indexer_dim = 128;
  std::int64_t topk = 0;  // CSA entries selected per query
  std::int64_t start_pos = 0;
  std::int64_t num_tokens = 1;
  WeightFormat attention_weights = WeightFormat::fp8_block128_ue8m0;
  WeightFormat compressor_weights = WeightFormat::bf16;
  WeightFormat indexer_weights = WeightFormat::fp8_block128_ue8m0;
  Precision projections = Precision::fp8;
  Precision core = Precision::bf16;
  Precision compressor = Precision::fp32;
  Precision indexer_projections = Precision::fp8;
  Precision indexer_scoring = Precision::fp4;
  KvEntryFormat main_entry = KvEntryFormat::v4_fp8_sparse;
  KvEntryFormat indexer_key = KvEntryFormat::mxfp4;
};

/// 0 (SWA), csa_ratio or hca_ratio.
std::int64_t compress_ratio(const AttentionLayerShape& s);

/// The layer's projections in the order wq_a, wq_b, wkv, wo_a, wo_b, then for CSA the indexer's
/// wq_b and weights_proj (BF16 weights).
std::vector<LinearShape> projection_shapes(const AttentionLayerShape& s);
SparseAttentionShape core_shape(const AttentionLayerShape& s);
/// The KV compressor (CSA: overlapping ratio 4; HCA: ratio 128). Only for CSA/HCA.
CompressorShape compressor_shape(const AttentionLayerShape& s);
/// The indexer's own compressor (128 wide, overlapping ratio 4) and its scoring. Only for CSA.
CompressorShape indexer_compressor_shape(const AttentionLayerShape& s);
IndexerScoringShape indexer_scoring_shape(const AttentionLayerShape& s);

/// Sum of the component costs for the shape's tokens.
Cost cost(const AttentionLayerShape& s);

}  // namespace v4sim
