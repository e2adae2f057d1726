// Naive double-precision references for kernels/quant.h: value tables built from the format
// definitions, encoders by brute-force nearest search over those tables, block quantisers and the
// Hadamard transform by the definition (an explicit +-1 matrix). Deliberately slow and simple.
#pragma once

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace v4sim::reference {

/// Value of E4M3 code c from the definition: (-1)^s * 2^(e-7) * (1 + m/8), e = 0: 2^-6 * m/8.
inline double e4m3_value(int c) {
  const int s = (c >> 7) & 1, e = (c >> 3) & 15, m = c & 7;
  if (e == 15 && m == 7) return std::numeric_limits<double>::quiet_NaN();
  double mag = 0.0;
  if (e == 0) {
    mag = std::pow(2.0, -6) * (m / 8.0);
  } else {
    mag = std::pow(2.0, e - 7) * (1.0 + m / 8.0);
  }
  return s ? -mag : mag;
}

/// Value of E2M1 code c (low 4 bits): (-1)^s * {0, 0.5, 1, 1.5, 2, 3, 4, 6}[c & 7] from the
/// definition e = bits 1-2, m = bit 0: e = 0 -> m/2, else 2^(e-1) * (1 + m/2).
inline double e2m1_value(int c) {
  const int s = (c >> 3) & 1, e = (c >> 1) & 3, m = c & 1;
  const double mag = e == 0 ? m * 0.5 : std::pow(2.0, e - 1) * (1.0 + m * 0.5);
  return s ? -mag : mag;
}

/// Code among `codes` whose value is nearest to x; ties go to the code with an even mantissa
/// (lowest bit 0). Saturation: |x| beyond the largest value picks the largest value. x must not be
/// NaN.
template <class ValueOf>
int nearest_code(double x, int num_codes, int sign_bit, ValueOf value_of) {
  const int sign = std::signbit(x) ? sign_bit : 0;
  const double a = std::fabs(x);
  int best = -1;
  double best_dist = std::numeric_limits<double>::infinity();
  for (int c = 0; c < num_codes; ++c) {
    const double v = value_of(c);
    if (std::isnan(v)) continue;
    const double d = std::fabs(a - v);
    if (d < best_dist || (d == best_dist && (c & 1) == 0)) {
      best = c;
      best_dist = d;
    }
  }
  return sign | best;
}

inline int e4m3_nearest(double x) {
  return nearest_code(x, 0x7F, 0x80, e4m3_value);
}
inline int e2m1_nearest(double x) {
  return nearest_code(x, 8, 0x8, e2m1_value);
}

/// Smallest 2^k >= p (p > 0), by search.
inline double pow2_at_least(double p) {
  double s = std::pow(2.0, -160);
  while (s < p) s *= 2.0;
  return s;
}

/// The FP8 pow2 scale rule: amax (finite values, floor 1e-4 as float) times the float32 1/448,
/// rounded to float32 as the kernel's multiply is, then the next power of two.
inline double fp8_scale(const float* x, int n) {
  float amax = 1e-4f;
  for (int i = 0; i < n; ++i)
    if (std::isfinite(x[i]) && std::fabs(x[i]) > amax) amax = std::fabs(x[i]);
  const float product = static_cast<float>(double(amax) * double(1.0f / 448.0f));
  return pow2_at_least(product);
}

/// The FP4 scale rule (floor 6 * 2^-126, factor float32 1/6); NaN if a NaN is present.
inline double fp4_scale(const float* x, int n) {
  float amax = 6.0f * 0x1p-126f;
  for (int i = 0; i < n; ++i) {
    if (std::isnan(x[i])) return std::numeric_limits<double>::quiet_NaN();
    if (std::isfinite(x[i]) && std::fabs(x[i]) > amax) amax = std::fabs(x[i]);
  }
  const float product = static_cast<float>(double(amax) * double(1.0f / 6.0f));
  return pow2_at_least(product);
}

/// FP8 quantise -> dequantise of one block with the pow2 rule.
inline std::vector<double> fp8_round_trip(const float* x, int n) {
  const double s = fp8_scale(x, n);
  std::vector<double> out(n);
  for (int i = 0; i < n; ++i) {
    if (std::isnan(x[i])) {
      out[i] = std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    const double q = std::isinf(x[i]) ? std::copysign(448.0, x[i]) : x[i] / s;
    out[i] = e4m3_value(e4m3_nearest(q)) * s;
  }
  return out;
}

/// FP4 quantise -> dequantise of one block of 32.
inline std::vector<double> fp4_round_trip(const float* x, int n) {
  const double s = fp4_scale(x, n);
  std::vector<double> out(n);
  for (int i = 0; i < n; ++i) {
    if (std::isnan(s)) {
      out[i] = s;
      continue;
    }
    const double q = std::isinf(x[i]) ? std::copysign(6.0, x[i]) : x[i] / s;
    out[i] = e2m1_value(e2m1_nearest(q)) * s;
  }
  return out;
}

/// BF16 by search: the two BF16 neighbours of x (truncation and one ulp up), nearest wins, ties to
/// an even last bit. Finite x only.
inline std::uint16_t bf16_nearest(float x) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(x);
  const std::uint16_t lo = static_cast<std::uint16_t>(bits >> 16);
  const std::uint16_t hi = static_cast<std::uint16_t>(lo + 1);  // next magnitude, same sign
  auto value = [](std::uint16_t b) {
    return double(std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16));
  };
  const double dl = std::fabs(double(x) - value(lo));
  const double dh = std::fabs(double(x) - value(hi));
  if (dl < dh) return lo;
  if (dh < dl) return hi;
  return (lo & 1) == 0 ? lo : hi;
}

/// y = H_n x / sqrt(n) with the explicit Sylvester matrix H[i][j] = (-1)^popcount(i & j).
inline std::vector<double> hadamard(const std::vector<double>& x) {
  const std::size_t n = x.size();
  std::vector<double> y(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) y[i] += (std::popcount(i & j) % 2 ? -x[j] : x[j]);
    y[i] /= std::sqrt(double(n));
  }
  return y;
}

}  // namespace v4sim::reference
