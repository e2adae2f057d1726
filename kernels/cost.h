// The unit of work every kernel reports: FLOPs by compute precision and bytes by memory class.
//
// Counting convention (shared by every cost() and every counting forward()):
//   * FLOPs = 2 x multiply-accumulates of every matrix product, dot product and weighted sum the op
//     performs (GEMMs, QK and PV products, indexer scores, pooling sums, mHC mixing). Element-wise
//     work (exp, norms, activations, RoPE) is not counted: it is O(width) per token and hidden
//     behind the products on every accelerator we model.
//   * Bytes are counted once per operand per op in its storage format (weights at their stored
//     dtype including block scales, KV entries at their cache format), as a roofline needs them.
// Counts are exact integers so a counting kernel can be compared to cost() with ==.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string_view>

namespace v4sim {

/// Precision an op computes in (the tensor-core / cube-unit input type).
enum class Precision : std::uint8_t { fp32, bf16, fp8, fp4, int8 };
inline constexpr int kNumPrecisions = 5;
inline constexpr std::array<Precision, kNumPrecisions> kAllPrecisions = {
    Precision::fp32, Precision::bf16, Precision::fp8, Precision::fp4, Precision::int8};

std::string_view to_string(Precision p);
/// Parses "fp32", "bf16", "fp8", "fp4", "int8"; returns false for anything else.
bool parse_precision(std::string_view text, Precision& out);

/// FP8-equivalent weight of one FLOP at precision p: peak(fp8) / peak(p) on the reference device.
/// Reference device: NVIDIA B200 dense peaks (hardware.md §2: FP4 9, FP8 4.5, BF16 2.25,
/// TF32 1.125 PFLOPS; INT8 4.5 POPS). FP32 products are taken to run on the TF32 tensor path.
/// This is the only place these weights are stated.
double fp8_equivalent_weight(Precision p);

/// Where bytes live. Weights are read; KV entries are read and written; the compressor tail
/// state is per-sequence working memory; activations are everything transient.
enum class MemClass : std::uint8_t { weights, kv_cache, state, activations };
inline constexpr int kNumMemClasses = 4;
std::string_view to_string(MemClass m);

/// Thrown when a count leaves int64. Counts are exact 64-bit integers (see below); an absurd shape
/// (a dense model prefilled far beyond its trained length, a hand-written model with huge widths)
/// would wrap them into wrong numbers, so the cost functions multiply and add through
/// checked_mul/checked_add and throw this instead. analyze() reports it as bad input.
class CountOverflow : public std::overflow_error {
 public:
  using std::overflow_error::overflow_error;
};

/// a * b * ..., or CountOverflow when a product leaves int64.
constexpr std::int64_t checked_mul(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) throw CountOverflow("a FLOP or byte count exceeds 2^63");
  return r;
}
template <class... Rest>
constexpr std::int64_t checked_mul(std::int64_t a, std::int64_t b, std::int64_t c, Rest... rest) {
  return checked_mul(checked_mul(a, b), c, rest...);
}
/// a + b, or CountOverflow.
constexpr std::int64_t checked_add(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) throw CountOverflow("a FLOP or byte count exceeds 2^63");
  return r;
}

struct Cost {
  std::array<std::int64_t, kNumPrecisions> flops{};          // by Precision
  std::array<std::int64_t, kNumMemClasses> bytes_read{};     // by MemClass
  std::array<std::int64_t, kNumMemClasses> bytes_written{};  // by MemClass

  std::int64_t& flops_at(Precision p) { return flops[static_cast<int>(p)]; }
  std::int64_t flops_at(Precision p) const { return flops[static_cast<int>(p)]; }
  std::int64_t& read(MemClass m) { return bytes_read[static_cast<int>(m)]; }
  std::int64_t read(MemClass m) const { return bytes_read[static_cast<int>(m)]; }
  std::int64_t& written(MemClass m) { return bytes_written[static_cast<int>(m)]; }
  std::int64_t written(MemClass m) const { return bytes_written[static_cast<int>(m)]; }

  std::int64_t total_flops() const;
  double fp8_equivalent_flops() const;
  std::int64_t total_bytes() const;

  Cost& operator+=(const Cost& o);
  friend Cost operator+(Cost a, const Cost& b) { return a += b; }
  /// Repeats the same op `times` times (e.g. once per layer of a kind).
  friend Cost operator*(const Cost& a, std::int64_t times);
  friend bool operator==(const Cost&, const Cost&) = default;
};

/// std::llround without the library call: round half away from zero. x - trunc(x) is exact in
/// binary floating point, so the result equals std::llround's for every value in int64's range.
inline std::int64_t round_half_away(double x) {
  const double t = std::trunc(x);
  const double frac = x - t;
  return static_cast<std::int64_t>(t) + (frac >= 0.5 ? 1 : 0) - (frac <= -0.5 ? 1 : 0);
}

/// v times f, rounded half away from zero.
inline std::int64_t scaled(std::int64_t v, double f) {
  return round_half_away(static_cast<double>(v) * f);
}

/// `c` placed on one rank of a split: FLOPs and activation bytes times `token_share` (the rank's
/// tokens), KV-cache and state bytes times `kv_share`, weight bytes times `weight_share`, each
/// field rounded half away from zero (the step model's placement, sim/op_on_rank.h).
Cost shared(const Cost& c, double token_share, double kv_share, double weight_share);

}  // namespace v4sim
