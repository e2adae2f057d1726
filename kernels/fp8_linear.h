// Projections over weights held in the deployed FP8 format (WeightFormat::fp8_block128_ue8m0:
// E4M3 codes + one power-of-two scale per 128 x 128 block), decoded to float32 on the fly.
//
// Why: a decode projection is weight streaming. Held as float32 copies, the reference kernels
// read 4 bytes per weight where the deployment (and cost(), which counts the format) reads 1, so a
// V4 layer at decode measured about 4x the weight traffic cost() prices, and the V3.2 / V4 layer
// time ratio drifted from the cost() ratio on the host (issue 15). With the weights in FP8 the
// kernel moves the bytes it counts.
//
// Arithmetic: y = x W^T with W = decode(code) * scale exactly (a power-of-two scale of an E4M3
// value is a float32). A chunk of tokens: rows decoded in tiles of 16 into a cache-resident buffer
// and multiplied by Eigen; on AVX512F CPUs the decode places the E4M3 bits into FP16 bit positions
// and converts with VCVTPH2PS (an exact conversion; the factor 2^8 between the two exponent biases
// is folded into the block scale), otherwise a 256-entry table: both give the same floats. One
// token (a GEMV) decodes in registers, 16 lanes per 128-column scale block in a fixed order (the
// .cpp states it), fused multiply-adds in float32; on AVX-512 (F, BW, VL) CPUs a normal code is
// decoded with one shift and one bitwise select per 32 codes (its float32's upper half, a BF16
// value, is the code's bits shifted into place), where the decode, not memory, had bounded the
// kernel, and a group of codes holding a subnormal or zero takes the exact FP16 conversion; the
// portable path takes the same steps with std::fma, so the paths agree bit for bit. Output rows
// are split into fixed pieces of 256 (kernels/parallel.h).
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/attention_cache_forward.h"
#include "kernels/cost.h"
#include "kernels/linear.h"

namespace v4sim {

struct Fp8Weight {
  std::int64_t rows = 0, cols = 0;
  std::vector<std::uint8_t> codes;  // [rows, cols] E4M3
  std::vector<float> scales;        // [ceil(rows / 128), ceil(cols / 128)], powers of two
  float scale(std::int64_t r, std::int64_t c) const {
    return scales[static_cast<std::size_t>((r / 128) * ((cols + 127) / 128) + c / 128)];
  }
};

/// Quantises w per 128 x 128 block with the UE8M0 rule of the checkpoints (scale
/// 2^ceil(log2(amax / 448)), kernels/quant.h).
Fp8Weight quantize_fp8_weight(const Eigen::Ref<const RowMatrixXf>& w);
/// The float32 matrix the kernel multiplies by (decode * scale).
RowMatrixXf dequantize(const Fp8Weight& w);

/// y = x W^T, resized to [x.rows, w.rows], no counting.
void fp8_project_rows(const Eigen::Ref<const RowMatrixXf>& x, const Fp8Weight& w, RowMatrixXf& y);

/// As linear_forward (kernels/projection_forward.h) with the weight in FP8: groups == 1, or the
/// block-diagonal grouped product (w [out, in / groups], quantised as one matrix). Counts
/// LinearShape{T, in, out, groups, fp8_block128_ue8m0, compute}.
void linear_fp8_forward(const Eigen::Ref<const RowMatrixXf>& x, const Fp8Weight& w,
                        std::int64_t groups, Precision compute, RowMatrixXf& y, Cost* cost);

}  // namespace v4sim
