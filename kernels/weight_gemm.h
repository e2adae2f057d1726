// y = x W^T for a weight W stored [out, in] row-major (a checkpoint's layout) and a block of
// tokens x [rows, in]: the product of every projection a group of tokens makes through one
// weight, here the routed and shared experts' W1 / W3 / W2 (kernels/moe_forward.h).
//
// Why not Eigen's GEMM: at tens of rows (64 tokens over 8 experts: about 48 per expert) Eigen
// repacks the whole weight (tens of MB, from memory) into its blocked layout on every call, a
// pass as long as the arithmetic; this kernel instead streams each weight row once per chunk of
// up to 96 tokens, straight from its storage. x is transposed into a [in, 16 V] panel (V <= 6
// vectors of 16 tokens) that stays in cache; a few weight rows at a time are broadcast against
// it into about 24 AVX-512 accumulators. A last vector of at most 6 tokens (49 tokens: 3 vectors
// and 1) is not padded to 16 lanes: those tokens take the rows with k in the lanes instead.
//
// The AVX-512 path (kernels/host_isa.h: use_avx512()) takes two or more rows, in equal chunks of
// at most 96; a single row (decode, a matrix-vector product Eigen streams
// well) and hosts without AVX-512 take Eigen's product. Each output is
// one float32 sum over `in` in a fixed order (in index order; for the last few tokens 16 lane sums
// in index order added by a fixed tree), so the result is deterministic and the same whatever the
// thread count; the two paths agree to float32 rounding, not bit for bit.
#pragma once

#include <Eigen/Core>

#include "kernels/token_selection.h"  // RowMatrixXf

namespace v4sim {

/// y [rows, out] = x [rows, in] * w^T, w [out, in]; y is resized. Throws std::invalid_argument
/// when the widths differ.
void gemm_weight_t(const Eigen::Ref<const RowMatrixXf>& x, const Eigen::Ref<const RowMatrixXf>& w,
                   RowMatrixXf& y);

}  // namespace v4sim
