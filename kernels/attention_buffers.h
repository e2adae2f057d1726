// What an AttentionWorkspace (kernels/attention_workspace.h) holds: the scratch types of the
// attention cores, one per thread, and the per-piece partials of a decode query. Internal to the
// kernels (Eigen types): include from kernel .cpp files only.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/bf16_gemm.h"
#include "kernels/key_block.h"
#include "kernels/online_softmax.h"
#include "kernels/token_selection.h"  // RowMatrixXf

namespace v4sim::detail {

/// A thread's buffers in the float32 V4 core (kernels/sparse_attention_forward.cpp).
struct SparseCoreScratch {
  KeyBlockKernel kernel;              // holds the query being attended, packed
  std::int64_t query_index = -1;      // which query of the call `kernel` holds (-1: none yet)
  RowMatrixXf scores;                 // [block, kernel.stride()]: logits, then weights, key by key
  std::vector<SoftmaxPartial> parts;  // prefill: the current query's pieces
};

/// A thread's buffers in the BF16 V4 core.
struct Bf16CoreScratch {
  RowMatrixXf scores;                // [H, block] float32 logits, then probabilities
  std::vector<std::uint16_t> probs;  // [H, block] BF16 probabilities
  std::vector<std::uint16_t> query;  // [H, d] BF16 query (prefill: the current one)
  std::vector<const std::uint16_t*> query_rows;
  std::int64_t query_index = -1;  // the query row held in `query` (-1: none yet)
  Bf16Pairs pairs;                // the block's keys, paired for the weighted sum
  std::vector<SoftmaxPartial> parts;
};

/// A thread's buffers in V3.2's MLA core (kernels/mla_attention_forward.cpp).
struct MlaCoreScratch {
  RowMatrixXf gathered, scores;
  std::vector<SoftmaxPartial> parts;
};

struct AttentionBuffers {
  std::vector<SoftmaxPartial> pieces;  // decode: one per piece of the query's keys
  std::vector<SparseCoreScratch> sparse;
  std::vector<Bf16CoreScratch> bf16;
  std::vector<MlaCoreScratch> mla;
};

/// Forgets which query each scratch holds: a new call's queries are other data.
template <class Scratch>
void forget_queries(std::vector<Scratch>& per_thread) {
  for (Scratch& s : per_thread) s.query_index = -1;
}

}  // namespace v4sim::detail
