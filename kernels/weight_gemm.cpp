#include "kernels/weight_gemm.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/host_isa.h"
#include "kernels/precondition.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define V4SIM_WEIGHT_GEMM_ISA 1
#define V4SIM_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))
#endif

namespace v4sim {
namespace {

#ifdef V4SIM_WEIGHT_GEMM_ISA
constexpr int kLanes = 16;      // floats per AVX-512 register
constexpr int kMaxVecs = 6;     // token vectors per chunk: 96 tokens
constexpr int kPrefetch = 128;  // floats ahead (512 bytes) each weight row is fetched

// Weight rows per tile for V token vectors: about 24 accumulators (V x rows) of the 32
// registers, leaving V for the tokens and one for the broadcast weight.
constexpr int rows_tile(int v) {
  return v == 1 ? 16 : v == 2 ? 12 : v == 3 ? 8 : v == 4 ? 6 : 4;
}

// Rows [n0, n0 + R) of w against the panel xt [in][16 V]: t[i][m] (+)= sum_k w[n0 + i][k]
// xt[k][m], continuing the sums in t when `resume` (the next block of k). One fused multiply-add
// per (row, vector, k) in k order. Several row streams at once defeat the hardware prefetcher
// (kernels/fp8_linear.cpp measured the same), so each row is fetched ahead.
template <int V, int R>
V4SIM_TARGET_AVX512 void tile(const float* xt, std::int64_t in, const float* w, std::int64_t ldw,
                              float* t, bool resume) {
  __m512 acc[R][V];
  const float* row[R];
  for (int i = 0; i < R; ++i) {
    row[i] = w + i * ldw;
    for (int j = 0; j < V; ++j)
      acc[i][j] = resume ? _mm512_load_ps(t + (i * V + j) * kLanes) : _mm512_setzero_ps();
  }
  std::int64_t k = 0;
  for (; k + kLanes <= in; k += kLanes) {
    for (int i = 0; i < R; ++i)
      _mm_prefetch(reinterpret_cast<const char*>(row[i] + k + kPrefetch), _MM_HINT_T0);
#pragma GCC unroll 4
    for (int u = 0; u < kLanes; ++u) {
      const float* xk = xt + (k + u) * (kLanes * V);
      __m512 xv[V];
      for (int j = 0; j < V; ++j) xv[j] = _mm512_load_ps(xk + kLanes * j);
      for (int i = 0; i < R; ++i) {
        const __m512 b = _mm512_set1_ps(row[i][k + u]);
        for (int j = 0; j < V; ++j) acc[i][j] = _mm512_fmadd_ps(b, xv[j], acc[i][j]);
      }
    }
  }
  for (; k < in; ++k) {
    const float* xk = xt + k * (kLanes * V);
    __m512 xv[V];
    for (int j = 0; j < V; ++j) xv[j] = _mm512_load_ps(xk + kLanes * j);
    for (int i = 0; i < R; ++i) {
      const __m512 b = _mm512_set1_ps(row[i][k]);
      for (int j = 0; j < V; ++j) acc[i][j] = _mm512_fmadd_ps(b, xv[j], acc[i][j]);
    }
  }
  for (int i = 0; i < R; ++i)
    for (int j = 0; j < V; ++j) _mm512_store_ps(t + (i * V + j) * kLanes, acc[i][j]);
}

// Tokens [m0, m0 + m) (m <= 16 V) against every weight row, into y.
template <int V>
V4SIM_TARGET_AVX512 void chunk(const Eigen::Ref<const RowMatrixXf>& x, std::int64_t m0,
                               std::int64_t m, const Eigen::Ref<const RowMatrixXf>& w,
                               std::vector<float>& buf, RowMatrixXf& y) {
  const std::int64_t in = x.cols(), out = w.rows(), width = kLanes * V;
  // The panel starts on a cache line, so no vector load of it straddles two.
  buf.resize(static_cast<std::size_t>(in * width + kLanes));
  float* xt =
      buf.data() + (kLanes - reinterpret_cast<std::uintptr_t>(buf.data()) % 64 / 4) % kLanes;
  // k outer: the panel is written in order and the m rows' current lines of x stay in L1 (row
  // outer took 0.34 ms of a 6 ms 48 x 4096 x 2048 product, k outer 0.21 ms).
  for (std::int64_t k = 0; k < in; ++k) {
    float* to = xt + k * width;
    for (std::int64_t r = 0; r < m; ++r) to[r] = x(m0 + r, k);
    for (std::int64_t r = m; r < width; ++r) to[r] = 0.0f;  // missing tokens add 0
  }
  // Wide chunks (5-6 vectors) have narrow tiles (4 rows), which read the panel from L2 for every
  // 64 multiply-adds per k, more than L2 sustained on the Xeon VM: they run blocks of kTiles
  // tiles x 64 columns of k, the panel's block (24-48 KB) staying in L1 across the block's
  // tiles. Narrower chunks ran faster unblocked (each tile over all of k). Either way each sum
  // runs over k in order, so both give the same bits.
  constexpr int kRows = rows_tile(V), kTiles = 8;
  const std::int64_t kc = V >= 5 ? 64 : in;
  alignas(64) float t[kTiles * kRows * kLanes * V];
  const auto put = [&](std::int64_t n0, std::int64_t rows, const float* from) {
    for (std::int64_t i = 0; i < rows; ++i)
      for (std::int64_t r = 0; r < m; ++r) y(m0 + r, n0 + i) = from[i * width + r];
  };
  const std::int64_t ldw = w.outerStride();
  std::int64_t n = 0;
  while (n + kRows <= out) {
    const std::int64_t tiles = std::min<std::int64_t>(kTiles, (out - n) / kRows);
    for (std::int64_t k0 = 0; k0 < in; k0 += kc)
      for (std::int64_t b = 0; b < tiles; ++b)
        tile<V, kRows>(xt + k0 * width, std::min(kc, in - k0),
                       w.data() + (n + b * kRows) * ldw + k0, ldw, t + b * kRows * width, k0 > 0);
    for (std::int64_t b = 0; b < tiles; ++b) put(n + b * kRows, kRows, t + b * kRows * width);
    n += tiles * kRows;
  }
  for (; n < out; ++n) {
    tile<V, 1>(xt, in, w.data() + n * ldw, ldw, t, false);
    put(n, 1, t);
  }
}

void gemm_avx512(const Eigen::Ref<const RowMatrixXf>& x, const Eigen::Ref<const RowMatrixXf>& w,
                 RowMatrixXf& y) {
  // Every chunk streams the whole weight once: as few chunks as 96-token panels allow, of equal
  // width (55 tokens: one chunk of 64, not 48 + 16 and two passes over the weight).
  std::vector<float> xt;
  const std::int64_t rows = x.rows(), full = kLanes * kMaxVecs;
  const std::int64_t chunks = (rows + full - 1) / full, width = (rows + chunks - 1) / chunks;
  for (std::int64_t m0 = 0; m0 < rows; m0 += width) {
    const std::int64_t m = std::min(width, rows - m0);
    switch ((m + kLanes - 1) / kLanes) {
      case 1:
        chunk<1>(x, m0, m, w, xt, y);
        break;
      case 2:
        chunk<2>(x, m0, m, w, xt, y);
        break;
      case 3:
        chunk<3>(x, m0, m, w, xt, y);
        break;
      case 4:
        chunk<4>(x, m0, m, w, xt, y);
        break;
      case 5:
        chunk<5>(x, m0, m, w, xt, y);
        break;
      default:
        chunk<6>(x, m0, m, w, xt, y);
        break;
    }
  }
}
#endif

}  // namespace

void gemm_weight_t(const Eigen::Ref<const RowMatrixXf>& x, const Eigen::Ref<const RowMatrixXf>& w,
                   RowMatrixXf& y) {
  V4SIM_REQUIRE("gemm_weight_t", x.cols() == w.cols(), "x and w must have the same width (in)");
  y.resize(x.rows(), w.rows());
#ifdef V4SIM_WEIGHT_GEMM_ISA
  if (x.rows() >= 2 && use_avx512()) return gemm_avx512(x, w, y);
#endif
  y.noalias() = x * w.transpose();
}

}  // namespace v4sim
