// Dense projections y = W x for a batch of token rows (Y = X W^T, W stored [out, in] as in the
// checkpoint), float32, counting the work as kernels/linear.h prices it. Used by the attention,
// compressor and indexer forwards.
#pragma once

#include <cstdint>

#include "kernels/attention_cache_forward.h"
#include "kernels/cost.h"
#include "kernels/linear.h"
#include "kernels/storage.h"

namespace v4sim {

/// Y = X W^T with no counting (Y is resized to [X.rows, W.rows]). Single rows use a matrix-vector
/// product, which Eigen runs faster than a one-row GEMM. W's rows are split into fixed pieces that
/// run in parallel (same bits on any thread count).
void project_rows(const Eigen::Ref<const RowMatrixXf>& x,  // [T, in]
                  const Eigen::Ref<const RowMatrixXf>& w,  // [out, in]
                  RowMatrixXf& y);                         // [T, out]

/// Y = X W^T (groups == 1) or the block-diagonal grouped product (W [out, in/groups]: group g maps
/// input columns [g*in/groups, (g+1)*in/groups) to output columns [g*out/groups, ...)); adds
/// the LinearShape cost of the products it executed: 2*T*out*in/groups FLOPs at `compute`, the
/// weight once in `format`, X at compute precision, Y as BF16 (kernels/linear.h).
void linear_forward(const Eigen::Ref<const RowMatrixXf>& x,  // [T, in]
                    const Eigen::Ref<const RowMatrixXf>& w,  // [out, in/groups]
                    std::int64_t groups, WeightFormat format, Precision compute, RowMatrixXf& y,
                    Cost* cost);

}  // namespace v4sim
