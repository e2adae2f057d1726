// Number formats of the V4 / V3.2 weights, activations and caches, bit-exact on the CPU
// (reference/kernels.md §3.4, §6.4, §6.6, §9.2). Plain functions over std::span; no Eigen here so
// any kernel or cost-side file may include it.
//
// Formats:
//   * FP8 E4M3 ("e4m3fn"): sign, 4 exponent bits (bias 7), 3 mantissa bits; no infinities;
//     0x7F / 0xFF are NaN; largest finite magnitude 448 (0x7E); smallest subnormal 2^-9.
//   * FP4 E2M1: sign in bit 3, 3-bit magnitude index into {0, 0.5, 1, 1.5, 2, 3, 4, 6}; no NaN/Inf.
//   * UE8M0: an unsigned 8-bit exponent, value 2^(byte - 127); 0xFF is NaN (OCP MX spec).
//   * BF16: the top 16 bits of a float32.
// Every encoder rounds to nearest, ties to even (RNE), as the hardware conversions do.
//
// Non-finite inputs (this file's rule, stated once): encoders saturate ±Inf to the format's largest
// finite magnitude (the "satfinite" conversions of the accelerators) and map NaN to NaN where the
// format has one (E4M3, BF16). E2M1 has no NaN, so a block holding a NaN gets the NaN scale byte
// 0xFF and decodes to NaN entirely (OCP MX: a NaN scale makes the whole block NaN). Block scales
// are computed from the block's finite values only, so one Inf does not wipe out its neighbours.
//
// Block scale rules (official kernel.py `act_quant_kernel`, `fp4_quant_kernel`,
// `fast_round_scale`):
//   FP8: amax = max(max|x|, 1e-4),     s = 2^ceil(log2(amax * fl(1/448)))  (power of two, UE8M0)
//   FP4: amax = max(max|x|, 6*2^-126), s = 2^ceil(log2(amax * fl(1/6)))
// where fl(1/c) is the float32 reciprocal the kernels multiply by and ceil(log2) is taken exactly
// on the float32 product. x / s is then exact (s is a power of two) and is cast with saturation.
// `Fp8ScaleRule::amax` is the alternative fp32 scale s = amax / 448 (scale_fmt = None).
#pragma once

#include <cstdint>
#include <span>

namespace v4sim {

inline constexpr float kFp8E4M3Max = 448.0f;
inline constexpr float kFp4E2M1Max = 6.0f;
inline constexpr std::uint8_t kUe8m0Nan = 0xFF;
inline constexpr int kMxfp4Block = 32;  // elements sharing one UE8M0 scale
inline constexpr int kHadamardDim = 128;

// ---- scalar codecs
// -------------------------------------------------------------------------------

/// E4M3 code of x: RNE, |x| > 448 (and ±Inf) saturate to ±448, NaN -> 0x7F (0xFF if sign set).
std::uint8_t fp8_e4m3_encode(float x);
/// Value of an E4M3 code (exact in float32); 0x7F / 0xFF -> NaN.
float fp8_e4m3_decode(std::uint8_t code);

/// E2M1 code of x: RNE to the 8 magnitudes, |x| > 6 (and ±Inf) saturate to ±6, -0 keeps its sign.
/// NaN has no code: returns 0 (callers mark the block with the NaN scale, see above).
std::uint8_t fp4_e2m1_encode(float x);
/// Value of the low 4 bits of `code`.
float fp4_e2m1_decode(std::uint8_t code);

/// UE8M0 byte of a power of two 2^e with -127 <= e <= 127 (exact); NaN -> 0xFF. Throws
/// std::invalid_argument for anything that is not such a power of two.
std::uint8_t ue8m0_encode(float pow2);
/// 2^(byte - 127) as float32 (2^-127 is a float32 subnormal, still exact); 0xFF -> NaN.
float ue8m0_decode(std::uint8_t byte);
/// Smallest power of two >= x for a positive normal float x, i.e. 2^ceil(log2 x), computed on the
/// bits exactly as the official `fast_log2_ceil` / `fast_pow2`.
float pow2_ceil(float x);

/// BF16 bits of x: RNE (finite values past the BF16 range round to ±Inf, as RNE does); NaN stays a
/// quiet NaN with its sign.
std::uint16_t bf16_encode(float x);
float bf16_decode(std::uint16_t bits);
/// bf16_decode(bf16_encode(x)).
float bf16_round(float x);

// ---- block quantisation
// --------------------------------------------------------------------------

enum class Fp8ScaleRule : std::uint8_t {
  pow2,  // UE8M0 scale, 2^ceil(log2(amax/448)) (V4 everywhere, V3.2 activations)
  amax,  // fp32 scale amax/448 (scale_fmt = None)
};

/// The FP8 scale of one block (rules above). Positive and finite for any input.
float fp8_block_scale(std::span<const float> block, Fp8ScaleRule rule = Fp8ScaleRule::pow2);
/// The FP4 scale of one block, a power of two in [2^-126, 2^127] (NaN if the block holds a NaN).
float fp4_block_scale(std::span<const float> block);

/// FP8 activation quantisation of x in blocks of `block` elements (x.size() % block == 0):
/// codes[i] = E4M3(x[i] / s_b), scales[b] = s_b. codes [n], scales [n / block].
void fp8_quantize(std::span<const float> x, int block, std::span<std::uint8_t> codes,
                  std::span<float> scales, Fp8ScaleRule rule = Fp8ScaleRule::pow2);
/// out[i] = decode(codes[i]) * scales[i / block]. codes [n], scales [n / block], out [n].
void fp8_dequantize(std::span<const std::uint8_t> codes, std::span<const float> scales, int block,
                    std::span<float> out);
/// x <- dequantize(quantize(x)) in place (the demo's FP8 simulation).
void fp8_round_trip(std::span<float> x, int block, Fp8ScaleRule rule = Fp8ScaleRule::pow2);

/// MXFP4 quantisation in blocks of 32 (x.size() % 32 == 0): element 2j in the low nibble and 2j+1
/// in the high nibble of packed[j]; scales[b] the UE8M0 byte of block b.
/// x [n], packed [n / 2], scales [n / 32].
void mxfp4_quantize(std::span<const float> x, std::span<std::uint8_t> packed,
                    std::span<std::uint8_t> scales);
/// out[i] = E2M1(nibble i) * 2^(scales[i / 32] - 127). packed [n / 2], scales [n / 32], out [n].
/// Products beyond the float32 range (scale bytes >= 252 with large codes) come out as +-Inf.
void mxfp4_dequantize(std::span<const std::uint8_t> packed, std::span<const std::uint8_t> scales,
                      std::span<float> out);
/// x <- mxfp4_dequantize(mxfp4_quantize(x)) in place (the indexer's FP4 simulation).
void fp4_round_trip(std::span<float> x);

// ---- Walsh-Hadamard
// ------------------------------------------------------------------------------

/// x <- H_n x / sqrt(n) in place, n = x.size() a power of two, H_n in Sylvester order
/// (H[i][j] = (-1)^popcount(i & j)). Orthonormal and its own inverse. The indexer uses n = 128.
void hadamard_transform(std::span<float> x);

}  // namespace v4sim
