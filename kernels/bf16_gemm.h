// BF16 products with float32 accumulation, the arithmetic of a BF16 tensor-core / cube-unit
// kernel: inputs rounded to BF16 (round to nearest even), every product exact in float32 (8-bit
// significands), sums in float32. On a CPU with AVX512_BF16 each VDPBF16PS does 32 such
// multiply-adds (two per float32 lane); otherwise a portable loop does the same products
// (kernels/host_isa.h chooses at run time). The two paths sum in different orders, so they agree
// to float32 rounding, not bit for bit; each is deterministic and independent of the thread count.
//
// Two forms, the two products of attention:
//   dot rows    C[i, j] = a_i . b_j over row pointers (scores: queries x gathered keys)
//   pair GEMM   C += A B with B [k, n] packed as pairs of rows (weighted sum of keys: P K), the
//               outer-product form that needs no horizontal sums (also the BF16 GEMM ceiling)
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace v4sim {

/// BF16 bits of x, rounded to nearest even (NaN stays NaN).
std::uint16_t bf16_from_float(float x);
inline float bf16_to_float(std::uint16_t b) {
  const std::uint32_t u = static_cast<std::uint32_t>(b) << 16;
  float f;
  __builtin_memcpy(&f, &u, sizeof f);
  return f;
}
/// out[i] = bf16_from_float(in[i]).
void to_bf16(std::span<const float> in, std::span<std::uint16_t> out);

/// c[i * ldc + j] = sum_t a_i[t] b_j[t] (float32 accumulation) for i < m, j < n; each row has k
/// BF16 values.
void bf16_dot_rows(const std::uint16_t* const* a_rows, std::int64_t m,
                   const std::uint16_t* const* b_rows, std::int64_t n, std::int64_t k, float* c,
                   std::int64_t ldc);

/// B [k, n] in pair form: element (t, j) and (t + 1, j) share one 32-bit slot (t even), rows of
/// n_padded (n rounded up to 16) slots; an odd k gets a zero last row.
struct Bf16Pairs {
  std::int64_t k = 0, n = 0, n_padded = 0;
  std::vector<std::uint32_t> slots;  // [(k + 1) / 2, n_padded]
};
/// Packs the k rows (pointers to n BF16 values each) of B.
void pack_bf16_pairs(const std::uint16_t* const* rows, std::int64_t k, std::int64_t n,
                     Bf16Pairs& out);

/// c [m, n] (float32, row stride ldc) += a [m, k] (BF16, row stride lda) * b.
void bf16_pair_gemm(const std::uint16_t* a, std::int64_t lda, std::int64_t m, const Bf16Pairs& b,
                    float* c, std::int64_t ldc);

}  // namespace v4sim
