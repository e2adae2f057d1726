#include "kernels/cost.h"

#include <bit>

namespace v4sim {

std::string_view to_string(Precision p) {
  switch (p) {
    case Precision::fp32:
      return "fp32";
    case Precision::bf16:
      return "bf16";
    case Precision::fp8:
      return "fp8";
    case Precision::fp4:
      return "fp4";
    case Precision::int8:
      return "int8";
  }
  return "?";
}

bool parse_precision(std::string_view text, Precision& out) {
  for (Precision p : kAllPrecisions) {
    if (to_string(p) == text) {
      out = p;
      return true;
    }
  }
  return false;
}

double fp8_equivalent_weight(Precision p) {
  // B200 dense: FP8 4.5 PF / own peak (FP4 9, BF16 2.25, TF32 1.125, INT8 4.5 POPS).
  switch (p) {
    case Precision::fp4:
      return 4.5 / 9.0;
    case Precision::fp8:
      return 1.0;
    case Precision::int8:
      return 4.5 / 4.5;
    case Precision::bf16:
      return 4.5 / 2.25;
    case Precision::fp32:
      return 4.5 / 1.125;
  }
  return 1.0;
}

std::string_view to_string(MemClass m) {
  switch (m) {
    case MemClass::weights:
      return "weights";
    case MemClass::kv_cache:
      return "kv_cache";
    case MemClass::state:
      return "state";
    case MemClass::activations:
      return "activations";
  }
  return "?";
}

std::int64_t Cost::total_flops() const {
  std::int64_t sum = 0;
  for (auto f : flops) sum = checked_add(sum, f);
  return sum;
}

double Cost::fp8_equivalent_flops() const {
  double sum = 0;
  for (Precision p : kAllPrecisions)
    sum += static_cast<double>(flops_at(p)) * fp8_equivalent_weight(p);
  return sum;
}

std::int64_t Cost::total_bytes() const {
  std::int64_t sum = 0;
  for (int i = 0; i < kNumMemClasses; ++i)
    sum = checked_add(sum, checked_add(bytes_read[i], bytes_written[i]));
  return sum;
}

// Every element is summed before one overflow test: these two run for every op of every
// evaluation, and a branch per element kept them from vectorising.
Cost& Cost::operator+=(const Cost& o) {
  bool overflow = false;
  for (int i = 0; i < kNumPrecisions; ++i)
    overflow |= __builtin_add_overflow(flops[i], o.flops[i], &flops[i]);
  for (int i = 0; i < kNumMemClasses; ++i) {
    overflow |= __builtin_add_overflow(bytes_read[i], o.bytes_read[i], &bytes_read[i]);
    overflow |= __builtin_add_overflow(bytes_written[i], o.bytes_written[i], &bytes_written[i]);
  }
  if (overflow) throw CountOverflow("a FLOP or byte count exceeds 2^63");
  return *this;
}

// Written into a fresh result (returned in place) rather than scaling a by-value copy: copying
// the scaled copy out right after its scalar stores stalled on store forwarding. When every field
// is below 2^wa in magnitude and `times` below 2^wt with wa + wt <= 62, no product can leave
// int64: then the fields multiply without a check each (a branch-free loop the compiler
// vectorises); otherwise each product is checked.
Cost operator*(const Cost& a, std::int64_t times) {
  // v for v >= 0, -v - 1 below: a magnitude below 2^w means |v| <= 2^w.
  const auto magnitude = [](std::int64_t v) {
    return static_cast<std::uint64_t>(v) ^ static_cast<std::uint64_t>(v >> 63);
  };
  std::uint64_t fields = 0;
  for (std::int64_t f : a.flops) fields |= magnitude(f);
  for (int i = 0; i < kNumMemClasses; ++i)
    fields |= magnitude(a.bytes_read[i]) | magnitude(a.bytes_written[i]);
  Cost r;
  if (std::bit_width(fields) + std::bit_width(magnitude(times)) <= 62) {
    for (int i = 0; i < kNumPrecisions; ++i) r.flops[i] = a.flops[i] * times;
    for (int i = 0; i < kNumMemClasses; ++i) {
      r.bytes_read[i] = a.bytes_read[i] * times;
      r.bytes_written[i] = a.bytes_written[i] * times;
    }
    return r;
  }
  bool overflow = false;
  for (int i = 0; i < kNumPrecisions; ++i)
    overflow |= __builtin_mul_overflow(a.flops[i], times, &r.flops[i]);
  for (int i = 0; i < kNumMemClasses; ++i) {
    overflow |= __builtin_mul_overflow(a.bytes_read[i], times, &r.bytes_read[i]);
    overflow |= __builtin_mul_overflow(a.bytes_written[i], times, &r.bytes_written[i]);
  }
  if (overflow) throw CountOverflow("a FLOP or byte count exceeds 2^63");
  return r;
}

Cost shared(const Cost& c, double token_share, double kv_share, double weight_share) {
  Cost r;
  for (int p = 0; p < kNumPrecisions; ++p) r.flops[p] = scaled(c.flops[p], token_share);
  for (MemClass m :
       {MemClass::weights, MemClass::kv_cache, MemClass::state, MemClass::activations}) {
    const double f = m == MemClass::weights       ? weight_share
                     : m == MemClass::activations ? token_share
                                                  : kv_share;
    r.read(m) = scaled(c.read(m), f);
    r.written(m) = scaled(c.written(m), f);
  }
  return r;
}

}  // namespace v4sim
