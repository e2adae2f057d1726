// Closed-form sums over query positions, so prefill of T tokens costs O(1) to evaluate, never a loop
// over a million positions. A query at 0-based position t sees x = t + 1 tokens (itself included).
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/cost.h"

namespace v4sim::position_sums {

/// Sum over x = 1..n of min(x, cap).
constexpr std::int64_t prefix_min(std::int64_t n, std::int64_t cap) {
  if (n <= 0) return 0;
  if (n <= cap) return checked_mul(n, n + 1) / 2;
  return checked_add(checked_mul(cap, cap + 1) / 2, checked_mul(n - cap, cap));
}

/// Sum over x = 1..n of floor(x / m): blocks of m contribute 0, 1, ..., q-1 each m times, then the
/// last partial run of r + 1 values contributes q each.
constexpr std::int64_t prefix_floor_div(std::int64_t n, std::int64_t m) {
  if (n <= 0) return 0;
  const std::int64_t q = n / m, r = n % m;
  return checked_add(checked_mul(m, q, q - 1) / 2, checked_mul(q, r + 1));
}

/// Sum over x = 1..n of min(cap, floor(x / m)): floor(x/m) reaches cap at x = cap * m.
constexpr std::int64_t prefix_min_floor_div(std::int64_t n, std::int64_t m, std::int64_t cap) {
  if (n <= 0) return 0;
  const std::int64_t below = std::min(n, checked_mul(cap, m) - 1);
  return checked_add(prefix_floor_div(below, m), checked_mul(n - below, cap));
}

/// The same sums over the queries at positions [start, start + count), i.e. x in (start, start+count].
constexpr std::int64_t range_min(std::int64_t start, std::int64_t count, std::int64_t cap) {
  return prefix_min(checked_add(start, count), cap) - prefix_min(start, cap);
}
constexpr std::int64_t range_floor_div(std::int64_t start, std::int64_t count, std::int64_t m) {
  return prefix_floor_div(checked_add(start, count), m) - prefix_floor_div(start, m);
}
constexpr std::int64_t range_min_floor_div(std::int64_t start, std::int64_t count, std::int64_t m,
                                           std::int64_t cap) {
  return prefix_min_floor_div(checked_add(start, count), m, cap) -
         prefix_min_floor_div(start, m, cap);
}
/// Sum of x over (start, start + count].
constexpr std::int64_t range_identity(std::int64_t start, std::int64_t count) {
  const std::int64_t end = checked_add(start, count);
  return checked_mul(end, end + 1) / 2 - checked_mul(start, start + 1) / 2;
}

}  // namespace v4sim::position_sums
