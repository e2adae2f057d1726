// W8A8 INT8 linear layer, as Ascend deployments serve DeepSeek (WeightFormat::int8_channel):
// weights INT8 with one float32 scale per output row, activations quantised per token to INT8
// with one float32 scale (symmetric, |q| <= 127, round to nearest), products summed exactly in
// int32, then y[t, o] = acc * sx[t] * sw[o].
//
// On a CPU with AVX512_VNNI each VPDPBUSD does 64 byte multiply-adds (unsigned x signed, four
// per int32 lane): activations enter as q + 128 (unsigned) and the 128 * sum_k w[o, k] this adds
// is subtracted per output row. Otherwise a portable loop sums the same products. Integer sums
// are exact, so both paths give the same int32 sums, the same outputs bit for bit, and the same
// bits on any thread count (kernels/host_isa.h chooses at run time).
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/cost.h"
#include "kernels/linear.h"
#include "kernels/token_selection.h"

namespace v4sim {

/// A [rows, cols] matrix quantised row by row: q = round(x / s), s = max |x_row| / 127 (a zero
/// row gets s = 1 and q = 0).
struct Int8Rows {
  std::int64_t rows = 0, cols = 0;
  std::vector<std::int8_t> q;          // [rows, cols]
  std::vector<float> scale;            // [rows]
  std::vector<std::int32_t> row_sums;  // sum_k q[r, k] (the unsigned-offset correction)
};
Int8Rows quantize_int8_rows(const Eigen::Ref<const RowMatrixXf>& x);

/// The longest reduction the int32 sums hold without overflow: 255 * 127 * k < 2^31.
inline constexpr std::int64_t kInt8MaxReduction = 65536;

/// c [m, n] = a [m, k] b [n, k]^T in exact int32 (row-major, k <= kInt8MaxReduction).
void int8_gemm_nt(const Int8Rows& a, const Int8Rows& b, std::int32_t* c);

/// y [T, out] = dequantised (quantize(x) w^T). w holds the weight [out, in] quantised per output
/// row. Counts LinearShape{T, in, out, 1, int8_channel, int8}: 2 T in out INT8 FLOPs, the weight
/// once (INT8 + fp32 row scales), the INT8 input, the BF16 output (kernels/linear.h).
void linear_int8_forward(const Eigen::Ref<const RowMatrixXf>& x, const Int8Rows& w,
                         Eigen::Ref<RowMatrixXf> y, Cost* cost = nullptr);

}  // namespace v4sim
