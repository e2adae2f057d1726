#include "kernels/indexer_head_sum.h"

#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/host_isa.h"
#include "kernels/token_selection.h"  // RowMatrixXf

#if defined(__x86_64__)
#include <immintrin.h>
#define V4SIM_HEAD_SUM_ISA 1
#define V4SIM_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))
#endif

namespace v4sim {
namespace {

#ifdef V4SIM_HEAD_SUM_ISA
constexpr int kLanes = 16;  // heads per AVX-512 register
constexpr int kKeys = 6;    // keys per tile: 6 x 4 accumulators at 64 heads, of 32 registers

// Keys [0, R) (rows ldk apart) against the panel qt [d][16 V]: the dots stay in acc, ReLU and the
// head weights wv are applied there and the V x 16 head terms of each key summed in a fixed order.
// `ahead` (R keys, the same stride, or null) is fetched into the cache meanwhile, one line of
// each of its keys per 16 columns: the keys of V4's indexer are read where they are stored (134
// MB at 1M context for V4-Pro), and the hardware prefetcher alone kept the kernel at 108-117
// GFLOP/s streaming them against 131-149 with the same keys in L2 (Xeon VM, one thread).
template <int V, int R>
V4SIM_TARGET_AVX512 void tile(const float* qt, std::int64_t d, const float* key, std::int64_t ldk,
                              const __m512* wv, float* out, const float* ahead) {
  __m512 acc[R][V];
  for (int i = 0; i < R; ++i)
    for (int j = 0; j < V; ++j) acc[i][j] = _mm512_setzero_ps();
  for (std::int64_t k0 = 0; k0 < d; k0 += kLanes) {
    if (ahead != nullptr)
      for (int i = 0; i < R; ++i)
        _mm_prefetch(reinterpret_cast<const char*>(ahead + i * ldk + k0), _MM_HINT_T0);
    const std::int64_t k1 = std::min<std::int64_t>(d, k0 + kLanes);
#pragma GCC unroll 4
    for (std::int64_t k = k0; k < k1; ++k) {
      __m512 qv[V];
      for (int j = 0; j < V; ++j) qv[j] = _mm512_load_ps(qt + (k * V + j) * kLanes);
      for (int i = 0; i < R; ++i) {
        const __m512 b = _mm512_set1_ps(key[i * ldk + k]);
        for (int j = 0; j < V; ++j) acc[i][j] = _mm512_fmadd_ps(b, qv[j], acc[i][j]);
      }
    }
  }
  // max(0, dot) with the dot second: _mm512_max_ps returns its second operand when either is NaN,
  // so a NaN key (an FP8 NaN code) gives a NaN score, as Eigen's product does.
  const __m512 zero = _mm512_setzero_ps();
  for (int i = 0; i < R; ++i) {
    __m512 s = _mm512_mul_ps(_mm512_max_ps(zero, acc[i][0]), wv[0]);
    for (int j = 1; j < V; ++j) s = _mm512_fmadd_ps(_mm512_max_ps(zero, acc[i][j]), wv[j], s);
    out[i] = _mm512_reduce_add_ps(s);
  }
}

template <int V>
V4SIM_TARGET_AVX512 void head_sum_avx512(const float* q, const float* w, std::int64_t d,
                                         const float* keys, std::int64_t n, float* out,
                                         const std::uint8_t* next, std::int64_t next_bytes) {
  constexpr int H = kLanes * V;
  // The panel starts on a cache line, so no vector load of it straddles two.
  std::vector<float> buf(static_cast<std::size_t>(d * H + kLanes));
  float* qt =
      buf.data() + (kLanes - reinterpret_cast<std::uintptr_t>(buf.data()) % 64 / 4) % kLanes;
  for (std::int64_t k = 0; k < d; ++k)
    for (int h = 0; h < H; ++h) qt[k * H + h] = q[h * d + k];
  __m512 wv[V];
  for (int j = 0; j < V; ++j) wv[j] = _mm512_loadu_ps(w + j * kLanes);
  // Two tiles ahead (a tile takes about 0.5 us at 64 heads, a line from memory about 0.1).
  constexpr std::int64_t kAhead = 2 * kKeys;
  // The lines of `next`, an equal share before each tile (the rest after the last).
  const std::int64_t lines = next == nullptr ? 0 : (next_bytes + 63) / 64;
  const std::int64_t per_tile = n >= kKeys ? (lines + n / kKeys - 1) / (n / kKeys) : 0;
  std::int64_t line = 0;
  std::int64_t s = 0;
  for (; s + kKeys <= n; s += kKeys) {
    for (std::int64_t j = 0; j < per_tile && line < lines; ++j, ++line)
      _mm_prefetch(reinterpret_cast<const char*>(next + 64 * line), _MM_HINT_T1);
    tile<V, kKeys>(qt, d, keys + s * d, d, wv, out + s,
                   s + kAhead + kKeys <= n ? keys + (s + kAhead) * d : nullptr);
  }
  for (; s < n; ++s) tile<V, 1>(qt, d, keys + s * d, d, wv, out + s, nullptr);
  for (; line < lines; ++line)
    _mm_prefetch(reinterpret_cast<const char*>(next + 64 * line), _MM_HINT_T1);
}
#endif

}  // namespace

void indexer_head_sum(const float* q, const float* w, std::int64_t H, std::int64_t d,
                      const float* keys, std::int64_t n, float* out, const std::uint8_t* next,
                      std::int64_t next_bytes) {
  if (n <= 0) return;
#ifdef V4SIM_HEAD_SUM_ISA
  if (H % kLanes == 0 && H > 0 && H <= 4 * kLanes && use_avx512()) {
    switch (H / kLanes) {
      case 1:
        return head_sum_avx512<1>(q, w, d, keys, n, out, next, next_bytes);
      case 2:
        return head_sum_avx512<2>(q, w, d, keys, n, out, next, next_bytes);
      case 3:
        return head_sum_avx512<3>(q, w, d, keys, n, out, next, next_bytes);
      default:
        return head_sum_avx512<4>(q, w, d, keys, n, out, next, next_bytes);
    }
  }
#endif
  const Eigen::Map<const RowMatrixXf> Q(q, H, d), K(keys, n, d);
  const Eigen::Map<const Eigen::VectorXf> W(w, H);
  const RowMatrixXf dots = K * Q.transpose();  // [n, H]
  Eigen::Map<Eigen::VectorXf>(out, n).noalias() = dots.cwiseMax(0.0f) * W;
}

}  // namespace v4sim
