// Per-query token selections: what a top-k indexer hands to the sparse attention that follows it.
// Row i lists the cache indices query i attends, in any order; -1 entries are padding (a query that
// sees fewer tokens than k gets fewer indices, as the official V3.2 code pads with -1).
#pragma once

#include <cstdint>

#include <Eigen/Core>

namespace v4sim {

/// [num_tokens, k] cache indices, -1 = padding.
using TokenSelection = Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Row-major float matrix: one token per row, features along the row (the same type as the alias in
/// kernels/attention_cache_forward.h; redeclaring an alias of the same type is allowed).
using RowMatrixXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

}  // namespace v4sim
