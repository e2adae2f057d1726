#include "kernels/quant.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "kernels/precondition.h"

namespace v4sim {
namespace {

constexpr std::array<float, 8> kE2M1Magnitudes = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};

// The float32 reciprocals the official kernels multiply amax by (fp8_max_inv, fp4_max_inv).
constexpr float kFp8MaxInv = 1.0f / kFp8E4M3Max;
constexpr float kFp4MaxInv = 1.0f / kFp4E2M1Max;
constexpr float kFp8AmaxFloor = 1e-4f;
constexpr float kFp4AmaxFloor = 6.0f * 0x1p-126f;

constexpr const char* kKernel = "quant";  // names the kernel in precondition errors

void require_blocks(std::size_t n, int block) {
  V4SIM_REQUIRE(kKernel, block > 0 && n % static_cast<std::size_t>(block) == 0,
                "length must be a positive multiple of the block size");
}

// max |x| over the finite entries, at least `floor`.
float finite_amax(std::span<const float> x, float floor) {
  float amax = floor;
  for (float v : x)
    if (std::isfinite(v)) amax = std::max(amax, std::fabs(v));
  return amax;
}

}  // namespace

std::uint8_t fp8_e4m3_encode(float x) {
  const std::uint8_t sign = std::signbit(x) ? 0x80 : 0x00;
  if (std::isnan(x)) return sign | 0x7F;
  const double a = std::fabs(static_cast<double>(x));
  if (a >= kFp8E4M3Max) return sign | 0x7E;  // saturate (Inf included)
  if (a < 0x1p-6) {
    // Subnormal range: multiples of 2^-9; q = 8 is the smallest normal 2^-6 (code 0x08).
    return sign | static_cast<std::uint8_t>(std::nearbyint(a * 512.0));
  }
  int e2 = 0;
  const double f = std::frexp(a, &e2);  // a = f * 2^e2, f in [0.5, 1)
  int e = e2 - 1;                       // a = m * 2^e, m in [1, 2), e in [-6, 8]
  int q = static_cast<int>(std::nearbyint((2.0 * f - 1.0) * 8.0));  // exact product, RNE
  if (q == 8) {
    q = 0;
    ++e;
  }
  return sign | static_cast<std::uint8_t>(((e + 7) << 3) | q);
}

float fp8_e4m3_decode(std::uint8_t code) {
  const bool negative = (code & 0x80) != 0;
  const int e = (code >> 3) & 0xF, m = code & 0x7;
  if (e == 0xF && m == 0x7) return std::numeric_limits<float>::quiet_NaN();
  const float mag = e == 0 ? std::ldexp(static_cast<float>(m), -9)
                           : std::ldexp(1.0f + static_cast<float>(m) / 8.0f, e - 7);
  return negative ? -mag : mag;
}

std::uint8_t fp4_e2m1_encode(float x) {
  if (std::isnan(x)) return 0;
  const std::uint8_t sign = std::signbit(x) ? 0x8 : 0x0;
  const float a = std::fabs(x);
  for (std::uint8_t i = 0; i < 7; ++i) {  // the 7 midpoints between the 8 magnitudes
    const float mid = 0.5f * (kE2M1Magnitudes[i] + kE2M1Magnitudes[i + 1]);  // exact
    if (a < mid) return sign | i;
    if (a == mid) return sign | static_cast<std::uint8_t>((i % 2 == 0) ? i : i + 1);  // ties: even
  }
  return sign | 0x7;  // >= 5 rounds (and saturates) to 6
}

float fp4_e2m1_decode(std::uint8_t code) {
  const float mag = kE2M1Magnitudes[code & 0x7];
  return (code & 0x8) ? -mag : mag;
}

std::uint8_t ue8m0_encode(float pow2) {
  if (std::isnan(pow2)) return kUe8m0Nan;
  int e2 = 0;
  const float f = std::frexp(pow2, &e2);
  V4SIM_REQUIRE(kKernel, f == 0.5f && e2 - 1 >= -127 && e2 - 1 <= 127,
                "UE8M0 holds only powers of two 2^-127 .. 2^127");
  return static_cast<std::uint8_t>(e2 - 1 + 127);
}

float ue8m0_decode(std::uint8_t byte) {
  if (byte == kUe8m0Nan) return std::numeric_limits<float>::quiet_NaN();
  return std::ldexp(1.0f, static_cast<int>(byte) - 127);
}

float pow2_ceil(float x) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(x);
  const int exponent = static_cast<int>((bits >> 23) & 0xFF) - 127;
  const int e = exponent + ((bits & 0x7FFFFF) != 0 ? 1 : 0);
  return std::bit_cast<float>(static_cast<std::uint32_t>(e + 127) << 23);
}

std::uint16_t bf16_encode(float x) {
  std::uint32_t bits = std::bit_cast<std::uint32_t>(x);
  if (std::isnan(x)) return static_cast<std::uint16_t>((bits >> 16) | 0x0040);  // quiet NaN
  bits += 0x7FFF + ((bits >> 16) & 1);  // RNE on the 16 dropped bits
  return static_cast<std::uint16_t>(bits >> 16);
}

float bf16_decode(std::uint16_t bits) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}

float bf16_round(float x) {
  return bf16_decode(bf16_encode(x));
}

float fp8_block_scale(std::span<const float> block, Fp8ScaleRule rule) {
  const float amax = finite_amax(block, kFp8AmaxFloor);
  return rule == Fp8ScaleRule::pow2 ? pow2_ceil(amax * kFp8MaxInv) : amax / kFp8E4M3Max;
}

float fp4_block_scale(std::span<const float> block) {
  for (float v : block)
    if (std::isnan(v)) return std::numeric_limits<float>::quiet_NaN();
  return pow2_ceil(finite_amax(block, kFp4AmaxFloor) * kFp4MaxInv);
}

void fp8_quantize(std::span<const float> x, int block, std::span<std::uint8_t> codes,
                  std::span<float> scales, Fp8ScaleRule rule) {
  require_blocks(x.size(), block);
  const std::size_t nb = x.size() / block;
  V4SIM_REQUIRE(kKernel, codes.size() == x.size() && scales.size() == nb,
                "fp8_quantize: output sizes");
  for (std::size_t b = 0; b < nb; ++b) {
    const auto xb = x.subspan(b * block, block);
    const float s = fp8_block_scale(xb, rule);
    scales[b] = s;
    for (int i = 0; i < block; ++i) codes[b * block + i] = fp8_e4m3_encode(xb[i] / s);
  }
}

void fp8_dequantize(std::span<const std::uint8_t> codes, std::span<const float> scales, int block,
                    std::span<float> out) {
  require_blocks(codes.size(), block);
  V4SIM_REQUIRE(kKernel, scales.size() == codes.size() / block && out.size() == codes.size(),
                "fp8_dequantize: sizes");
  for (std::size_t i = 0; i < codes.size(); ++i)
    out[i] = fp8_e4m3_decode(codes[i]) * scales[i / block];
}

void fp8_round_trip(std::span<float> x, int block, Fp8ScaleRule rule) {
  require_blocks(x.size(), block);
  for (std::size_t b = 0; b < x.size() / block; ++b) {
    const auto xb = x.subspan(b * block, block);
    const float s = fp8_block_scale(xb, rule);
    for (float& v : xb) v = fp8_e4m3_decode(fp8_e4m3_encode(v / s)) * s;
  }
}

void mxfp4_quantize(std::span<const float> x, std::span<std::uint8_t> packed,
                    std::span<std::uint8_t> scales) {
  require_blocks(x.size(), kMxfp4Block);
  V4SIM_REQUIRE(kKernel, packed.size() == x.size() / 2 && scales.size() == x.size() / kMxfp4Block,
                "mxfp4_quantize: output sizes");
  for (std::size_t b = 0; b < scales.size(); ++b) {
    const auto xb = x.subspan(b * kMxfp4Block, kMxfp4Block);
    const float s = fp4_block_scale(xb);
    const bool nan = std::isnan(s);
    scales[b] = nan ? kUe8m0Nan : ue8m0_encode(s);
    for (int j = 0; j < kMxfp4Block / 2; ++j) {
      const std::uint8_t lo = nan ? 0 : fp4_e2m1_encode(xb[2 * j] / s);
      const std::uint8_t hi = nan ? 0 : fp4_e2m1_encode(xb[2 * j + 1] / s);
      packed[b * kMxfp4Block / 2 + j] = static_cast<std::uint8_t>(lo | (hi << 4));
    }
  }
}

void mxfp4_dequantize(std::span<const std::uint8_t> packed, std::span<const std::uint8_t> scales,
                      std::span<float> out) {
  require_blocks(out.size(), kMxfp4Block);
  V4SIM_REQUIRE(kKernel,
                packed.size() == out.size() / 2 && scales.size() == out.size() / kMxfp4Block,
                "mxfp4_dequantize: sizes");
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::uint8_t byte = packed[i / 2];
    const std::uint8_t nibble = (i % 2 == 0) ? (byte & 0x0F) : (byte >> 4);
    out[i] = fp4_e2m1_decode(nibble) * ue8m0_decode(scales[i / kMxfp4Block]);
  }
}

void fp4_round_trip(std::span<float> x) {
  require_blocks(x.size(), kMxfp4Block);
  for (std::size_t b = 0; b < x.size() / kMxfp4Block; ++b) {
    const auto xb = x.subspan(b * kMxfp4Block, kMxfp4Block);
    const float s = fp4_block_scale(xb);
    for (float& v : xb) v = std::isnan(s) ? s : fp4_e2m1_decode(fp4_e2m1_encode(v / s)) * s;
  }
}

void hadamard_transform(std::span<float> x) {
  const std::size_t n = x.size();
  V4SIM_REQUIRE(kKernel, n > 0 && std::has_single_bit(n),
                "hadamard_transform: size must be a power of two");
  // Butterflies h = 1, 2, 4, ...: stage h pairs indices differing in bit h, which builds the
  // Sylvester matrix H[i][j] = (-1)^popcount(i & j).
  for (std::size_t h = 1; h < n; h *= 2) {
    for (std::size_t i = 0; i < n; i += 2 * h) {
      for (std::size_t j = i; j < i + h; ++j) {
        const float a = x[j], b = x[j + h];
        x[j] = a + b;
        x[j + h] = a - b;
      }
    }
  }
  const float norm = static_cast<float>(1.0 / std::sqrt(static_cast<double>(n)));
  for (float& v : x) v *= norm;
}

}  // namespace v4sim
