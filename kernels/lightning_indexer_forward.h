// CSA lightning indexer forward (reference/kernels.md §3.4): picks, for each query t, the top-k
// compressed entries it attends.
//
//   q^I_t = W_qb^I c_q,t  [n_I, d_I], RoPE on the last rope_dim dims of each head at t, then the
//           normalised Hadamard-128 (and the FP4 round trip with qat);
//   w_t   = W_w x_t * d_I^{-1/2} * n_I^{-1/2}  [n_I] (may be negative; no softmax);
//   keys  = the indexer's own compressor (kernels/compressor_forward.h, EntryKind::indexer_key);
//   I(t, s) = sum_h w_{t,h} ReLU(q^I_{t,h} . K^I_s)  over the visible entries s < floor((t+1)/4);
//   C(t)  = the k highest scores (ties: lower index first), or every visible entry if fewer.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/attention_cache_forward.h"
#include "kernels/compressor_forward.h"
#include "kernels/cost.h"
#include "kernels/indexer_scoring.h"
#include "kernels/rope.h"
#include "kernels/sparse_attention_forward.h"
#include "kernels/storage.h"

namespace v4sim {

struct IndexerWeights {
  RowMatrixXf wq_b;              // [n_I * d_I, q_lora_rank]
  RowMatrixXf weights_proj;      // [n_I, D]
  CompressorWeights compressor;  // head_dim d_I, ratio 4, overlapping
};

/// How the two indexer projections are stored and computed (priced as kernels/linear.h).
struct IndexerProjectionFormats {
  WeightFormat wq_b = WeightFormat::fp8_block128_ue8m0;
  WeightFormat weights_proj = WeightFormat::bf16;
  Precision compute = Precision::fp8;
};

struct IndexerQueries {
  RowMatrixXf q;  // [T, n_I * d_I] rotated at each query position, Hadamard applied
  RowMatrixXf w;  // [T, n_I] head weights, already scaled by d_I^{-1/2} n_I^{-1/2}
};

/// Queries and head weights of the shape's tokens (positions start_pos + i). Counts the two
/// projections (W_qb^I from c_q, W_w from x).
IndexerQueries indexer_queries(const IndexerScoringShape& shape,
                               const IndexerProjectionFormats& formats, const IndexerWeights& w,
                               bool qat, const RopeTable& rope,
                               const Eigen::Ref<const RowMatrixXf>& c_q,  // [T, q_lora_rank]
                               const Eigen::Ref<const RowMatrixXf>& x,    // [T, D]
                               Cost* cost = nullptr);

/// The keys are read in their stored format (MXFP4 unless the table is exact) and decoded block
/// by block into a float buffer before they are scored, as V3.2's FP8 keys are.
///
/// I(t, s) of query i (t = start_pos + i) for its visible entries s = 0 .. floor((t+1)/ratio)-1.
/// No counting (indexer_topk counts).
std::vector<float> indexer_scores(const IndexerScoringShape& shape, const IndexerQueries& queries,
                                  const IndexerKeyTable& keys, std::int64_t i);

/// The top-k selection of every query of the shape over `keys` (which must hold every entry
/// visible to the last query). Counts per scored (query, key): 2*n_I*d_I FLOPs at shape.compute
/// and 2*n_I in fp32, one key read in shape.key_format and one fp32 score written; the queries
/// once at compute precision (kernels/indexer_scoring.h).
EntrySelection indexer_topk(const IndexerScoringShape& shape, const IndexerQueries& queries,
                            const IndexerKeyTable& keys, std::int64_t topk, Cost* cost = nullptr);

/// The k highest of `scores` (ties: lower index first), returned in increasing index order; all
/// indices if k >= scores.size() (kernels/top_k.h: top_k_positions).
std::vector<std::int64_t> top_k_indices(const std::vector<float>& scores, std::int64_t k);

}  // namespace v4sim
