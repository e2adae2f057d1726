#include "kernels/bf16_gemm.h"

#include <algorithm>
#include <cstring>

#include "kernels/host_isa.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define V4SIM_BF16_ISA 1
#define V4SIM_TARGET_BF16 __attribute__((target("avx512f,avx512bw,avx512bf16")))
#endif

namespace v4sim {
namespace {

void dot_rows_portable(const std::uint16_t* const* a_rows, std::int64_t m,
                       const std::uint16_t* const* b_rows, std::int64_t n, std::int64_t k, float* c,
                       std::int64_t ldc) {
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      float s = 0;
      for (std::int64_t t = 0; t < k; ++t)
        s += bf16_to_float(a_rows[i][t]) * bf16_to_float(b_rows[j][t]);
      c[i * ldc + j] = s;
    }
}

void pair_gemm_portable(const std::uint16_t* a, std::int64_t lda, std::int64_t m,
                        const Bf16Pairs& b, float* c, std::int64_t ldc) {
  const std::int64_t pairs = (b.k + 1) / 2;
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t p = 0; p < pairs; ++p) {
      const float a0 = bf16_to_float(a[i * lda + 2 * p]);
      const float a1 = 2 * p + 1 < b.k ? bf16_to_float(a[i * lda + 2 * p + 1]) : 0.0f;
      const std::uint32_t* row = b.slots.data() + p * b.n_padded;
      for (std::int64_t j = 0; j < b.n; ++j) {
        const float b0 = bf16_to_float(static_cast<std::uint16_t>(row[j] & 0xFFFF));
        const float b1 = bf16_to_float(static_cast<std::uint16_t>(row[j] >> 16));
        c[i * ldc + j] += a1 * b1 + a0 * b0;
      }
    }
}

#ifdef V4SIM_BF16_ISA

// Mask of the first r (< 32) BF16 lanes.
inline __mmask32 lanes32(std::int64_t r) {
  return r >= 32 ? ~__mmask32{0} : static_cast<__mmask32>((1u << r) - 1u);
}

// The 16 lanes summed in lane order. (GCC 12's _mm512_reduce_add_ps trips -Wuninitialized inside
// its own header, PR 105593; a store and a plain loop is as fast at one sum per dot product.)
V4SIM_TARGET_BF16 inline float lane_sum(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  float s = 0;
  for (float x : lanes) s += x;
  return s;
}

V4SIM_TARGET_BF16 inline __m512bh load_bf16(const std::uint16_t* p, __mmask32 m) {
  return (__m512bh)_mm512_maskz_loadu_epi16(m, p);
}

// A 4 x 4 tile of dot products (rows i..i+3 of a, j..j+3 of b): 16 float32 accumulators, 8 loads
// per 16 VDPBF16PS; the 16-lane sums are reduced once at the end.
V4SIM_TARGET_BF16 void dot_tile4x4(const std::uint16_t* const* a, const std::uint16_t* const* b,
                                   std::int64_t k, float* c, std::int64_t ldc) {
  __m512 acc[4][4];
  for (auto& r : acc)
    for (auto& v : r) v = _mm512_setzero_ps();
  for (std::int64_t t = 0; t < k; t += 32) {
    const __mmask32 m = lanes32(k - t);
    __m512bh av[4], bv[4];
    for (int x = 0; x < 4; ++x) av[x] = load_bf16(a[x] + t, m);
    for (int y = 0; y < 4; ++y) bv[y] = load_bf16(b[y] + t, m);
    for (int x = 0; x < 4; ++x)
      for (int y = 0; y < 4; ++y) acc[x][y] = _mm512_dpbf16_ps(acc[x][y], av[x], bv[y]);
  }
  for (int x = 0; x < 4; ++x)
    for (int y = 0; y < 4; ++y) c[x * ldc + y] = lane_sum(acc[x][y]);
}

V4SIM_TARGET_BF16 float dot_one(const std::uint16_t* a, const std::uint16_t* b, std::int64_t k) {
  __m512 acc = _mm512_setzero_ps();
  for (std::int64_t t = 0; t < k; t += 32) {
    const __mmask32 m = lanes32(k - t);
    acc = _mm512_dpbf16_ps(acc, load_bf16(a + t, m), load_bf16(b + t, m));
  }
  return lane_sum(acc);
}

V4SIM_TARGET_BF16 void dot_rows_avx512(const std::uint16_t* const* a_rows, std::int64_t m,
                                       const std::uint16_t* const* b_rows, std::int64_t n,
                                       std::int64_t k, float* c, std::int64_t ldc) {
  const std::int64_t m4 = m / 4 * 4, n4 = n / 4 * 4;
  for (std::int64_t i = 0; i < m4; i += 4)
    for (std::int64_t j = 0; j < n4; j += 4)
      dot_tile4x4(a_rows + i, b_rows + j, k, c + i * ldc + j, ldc);
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = i < m4 ? n4 : 0; j < n; ++j)
      c[i * ldc + j] = dot_one(a_rows[i], b_rows[j], k);
}

// Rows i..i+R-1 of c, 4 vectors (64 columns) from column j: R x 4 accumulators held over all
// pairs; per pair 4 loads of packed B, R broadcasts of an (a[2p], a[2p+1]) pair.
template <int R>
V4SIM_TARGET_BF16 void pair_tile(const std::uint16_t* a, std::int64_t lda, const Bf16Pairs& b,
                                 std::int64_t j, int vecs, __mmask16 last, float* c,
                                 std::int64_t ldc) {
  __m512 acc[R][4];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < vecs; ++v)
      acc[r][v] = _mm512_maskz_loadu_ps(v + 1 == vecs ? last : 0xFFFF, c + r * ldc + j + 16 * v);
  const std::int64_t full = b.k / 2;
  const std::uint32_t* slots = b.slots.data() + j;
  for (std::int64_t p = 0; p < (b.k + 1) / 2; ++p) {
    __m512bh bv[4];
    for (int v = 0; v < vecs; ++v)
      bv[v] = (__m512bh)_mm512_loadu_si512(slots + p * b.n_padded + 16 * v);
    for (int r = 0; r < R; ++r) {
      std::uint32_t pair;
      if (p < full) {
        std::memcpy(&pair, a + r * lda + 2 * p, sizeof pair);
      } else {  // odd k: the last element pairs with the zero row
        pair = a[r * lda + 2 * p];
      }
      const __m512bh av = (__m512bh)_mm512_set1_epi32(static_cast<int>(pair));
      for (int v = 0; v < vecs; ++v) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], av, bv[v]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < vecs; ++v)
      _mm512_mask_storeu_ps(c + r * ldc + j + 16 * v, v + 1 == vecs ? last : 0xFFFF, acc[r][v]);
}

V4SIM_TARGET_BF16 void pair_gemm_avx512(const std::uint16_t* a, std::int64_t lda, std::int64_t m,
                                        const Bf16Pairs& b, float* c, std::int64_t ldc) {
  for (std::int64_t j = 0; j < b.n; j += 64) {
    const std::int64_t cols = std::min<std::int64_t>(64, b.n - j);
    const int vecs = static_cast<int>((cols + 15) / 16);
    const std::int64_t tail = cols - 16 * (vecs - 1);
    const __mmask16 last = static_cast<__mmask16>(tail >= 16 ? 0xFFFF : (1u << tail) - 1u);
    std::int64_t i = 0;
    for (; i + 4 <= m; i += 4) pair_tile<4>(a + i * lda, lda, b, j, vecs, last, c + i * ldc, ldc);
    for (; i < m; ++i) pair_tile<1>(a + i * lda, lda, b, j, vecs, last, c + i * ldc, ldc);
  }
}

#endif  // V4SIM_BF16_ISA

}  // namespace

std::uint16_t bf16_from_float(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<std::uint16_t>((u >> 16) | 0x40u);
  u += 0x7FFFu + ((u >> 16) & 1u);  // round to nearest, ties to even
  return static_cast<std::uint16_t>(u >> 16);
}

void to_bf16(std::span<const float> in, std::span<std::uint16_t> out) {
  for (std::size_t i = 0; i < in.size(); ++i) out[i] = bf16_from_float(in[i]);
}

void bf16_dot_rows(const std::uint16_t* const* a_rows, std::int64_t m,
                   const std::uint16_t* const* b_rows, std::int64_t n, std::int64_t k, float* c,
                   std::int64_t ldc) {
#ifdef V4SIM_BF16_ISA
  if (use_avx512_bf16()) return dot_rows_avx512(a_rows, m, b_rows, n, k, c, ldc);
#endif
  dot_rows_portable(a_rows, m, b_rows, n, k, c, ldc);
}

void pack_bf16_pairs(const std::uint16_t* const* rows, std::int64_t k, std::int64_t n,
                     Bf16Pairs& out) {
  out.k = k;
  out.n = n;
  out.n_padded = (n + 15) / 16 * 16;
  const std::int64_t pairs = (k + 1) / 2;
  out.slots.assign(static_cast<std::size_t>(pairs * out.n_padded), 0u);
  for (std::int64_t p = 0; p < pairs; ++p) {
    std::uint32_t* dst = out.slots.data() + p * out.n_padded;
    const std::uint16_t* lo = rows[2 * p];
    const std::uint16_t* hi = 2 * p + 1 < k ? rows[2 * p + 1] : nullptr;
    for (std::int64_t j = 0; j < n; ++j)
      dst[j] = lo[j] | (hi ? static_cast<std::uint32_t>(hi[j]) << 16 : 0u);
  }
}

void bf16_pair_gemm(const std::uint16_t* a, std::int64_t lda, std::int64_t m, const Bf16Pairs& b,
                    float* c, std::int64_t ldc) {
#ifdef V4SIM_BF16_ISA
  if (use_avx512_bf16()) return pair_gemm_avx512(a, lda, m, b, c, ldc);
#endif
  pair_gemm_portable(a, lda, m, b, c, ldc);
}

}  // namespace v4sim
