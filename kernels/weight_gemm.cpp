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
// (kernels/fp8_linear.cpp measured the same), so each row is fetched ahead. `rows_after`: how
// many rows w has after the tile's R (only those are fetched ahead).
template <int V, int R>
V4SIM_TARGET_AVX512 void tile(const float* xt, std::int64_t in, const float* w, std::int64_t ldw,
                              std::int64_t rows_after, float* t, bool resume) {
  __m512 acc[R][V];
  const float* row[R];
  for (int i = 0; i < R; ++i) {
    row[i] = w + i * ldw;
    for (int j = 0; j < V; ++j)
      acc[i][j] = resume ? _mm512_load_ps(t + (i * V + j) * kLanes) : _mm512_setzero_ps();
  }
  std::int64_t k = 0;
  for (; k + kLanes <= in; k += kLanes) {
    // The last kPrefetch columns fetch the start of the next tile's rows (the next R rows of
    // w, or the next block of k for them: the same offset), which would otherwise start cold:
    // 2-5 % on 44-54 tokens through 2048 x 4096 and 4096 x 2048 weights (Xeon VM, load 3-5).
    // Rows past w's last one are not fetched: their address would lie outside w.
    const bool next = k + kPrefetch >= in;
    const std::int64_t ahead = next ? R * ldw + k + kPrefetch - in : k + kPrefetch;
    const std::int64_t fetched = next ? std::min<std::int64_t>(R, rows_after) : R;
    for (std::int64_t i = 0; i < fetched; ++i)
      _mm_prefetch(reinterpret_cast<const char*>(row[i] + ahead), _MM_HINT_T0);
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

// R rows of w against T tokens (rows of x, stride ldx) with k in the lanes: 16 partial sums per
// output (lane i takes k = 16 j + i in order, a missing k adding 0 * 0), added by a fixed tree at
// the end into y[t * ldy + i]. For the few tokens past a chunk's last full vector: in the
// token-vectorised tile they would fill a vector of 16 lanes, here they cost T / 16 of it (at more
// loads per multiply-add, from L2: the rows were just read by the tile).
template <int R, int T>
V4SIM_TARGET_AVX512 void remainder_tile(const float* x, std::int64_t ldx, const float* w,
                                        std::int64_t ldw, std::int64_t in, float* y,
                                        std::int64_t ldy) {
  __m512 acc[R][T];
  for (int i = 0; i < R; ++i)
    for (int t = 0; t < T; ++t) acc[i][t] = _mm512_setzero_ps();
  // Written out, not as a lambda over acc: GCC kept the lambda's accumulators in registers but
  // also stored all R T of them to the stack after every step (R T 64-byte stores per 16
  // columns: the store port was the bound, and 5 tokens took as long as 15 of the tile's).
  std::int64_t k = 0;
  for (; k + kLanes <= in; k += kLanes) {
    __m512 wv[R];
    for (int i = 0; i < R; ++i) wv[i] = _mm512_loadu_ps(w + i * ldw + k);
    for (int t = 0; t < T; ++t) {
      const __m512 xv = _mm512_loadu_ps(x + t * ldx + k);
      for (int i = 0; i < R; ++i) acc[i][t] = _mm512_fmadd_ps(wv[i], xv, acc[i][t]);
    }
  }
  if (k < in) {
    const auto mask = static_cast<__mmask16>((1u << (in - k)) - 1u);
    __m512 wv[R];
    for (int i = 0; i < R; ++i) wv[i] = _mm512_maskz_loadu_ps(mask, w + i * ldw + k);
    for (int t = 0; t < T; ++t) {
      const __m512 xv = _mm512_maskz_loadu_ps(mask, x + t * ldx + k);
      for (int i = 0; i < R; ++i) acc[i][t] = _mm512_fmadd_ps(wv[i], xv, acc[i][t]);
    }
  }
  for (int i = 0; i < R; ++i)
    for (int t = 0; t < T; ++t) {
      // Halves added lane by lane down to one (a fixed tree): 16 -> 8 -> 4 -> 2 -> 1.
      alignas(64) float l[kLanes];
      _mm512_store_ps(l, acc[i][t]);
      for (int h = kLanes / 2; h >= 1; h /= 2)
        for (int j = 0; j < h; ++j) l[j] += l[j + h];
      y[t * ldy + i] = l[0];
    }
}

template <int T>
V4SIM_TARGET_AVX512 void remainder_rows_t(const float* x, std::int64_t ldx, const float* w,
                                          std::int64_t ldw, std::int64_t rows, std::int64_t in,
                                          float* y, std::int64_t ldy) {
  constexpr int R = 4;  // 4 T accumulators (at most 24), 4 + T loads per 4 T multiply-adds
  const std::int64_t tiles = rows / R;
  for (std::int64_t b = 0; b < tiles; ++b)
    remainder_tile<R, T>(x, ldx, w + b * R * ldw, ldw, in, y + b * R, ldy);
  for (std::int64_t i = tiles * R; i < rows; ++i)
    remainder_tile<1, T>(x, ldx, w + i * ldw, ldw, in, y + i, ldy);
}

// Tokens past the last full vector taken by remainder_tile (at most 6: 4 x 6 accumulators). On
// the Xeon VM (8 weights of 2048 x 4096, alternating runs in one process, load 5-7): 49 tokens
// 108-126 -> 137-147 GFLOP/s, 50 114-118 -> 129-140, 52 118-128 -> 126-132. Since the
// remainder keeps its accumulators in registers (above; 4 + 4 of 4096 x 2048 and 2048 x 4096
// weights, cold, load 3-4): 53 tokens 124-125 -> 136-143, and 54 tokens, padded to 64 lanes
// before, 119-124 -> 138-141 (padded with the same fix: 125-133).
constexpr int kMaxRemainder = 6;

// y(t, n0 + i) for i < rows and the `tokens` (<= kMaxRemainder) tokens starting at x's row m0.
void remainder_rows(const Eigen::Ref<const RowMatrixXf>& x, std::int64_t m0, std::int64_t tokens,
                    const Eigen::Ref<const RowMatrixXf>& w, std::int64_t n0, std::int64_t rows,
                    RowMatrixXf& y) {
  const float* xr = x.data() + m0 * x.outerStride();
  const float* wr = w.data() + n0 * w.outerStride();
  float* yr = y.data() + m0 * y.outerStride() + n0;
  const std::int64_t ldx = x.outerStride(), ldw = w.outerStride(), ldy = y.outerStride(),
                     in = x.cols();
  switch (tokens) {
    case 1:
      return remainder_rows_t<1>(xr, ldx, wr, ldw, rows, in, yr, ldy);
    case 2:
      return remainder_rows_t<2>(xr, ldx, wr, ldw, rows, in, yr, ldy);
    case 3:
      return remainder_rows_t<3>(xr, ldx, wr, ldw, rows, in, yr, ldy);
    case 4:
      return remainder_rows_t<4>(xr, ldx, wr, ldw, rows, in, yr, ldy);
    case 5:
      return remainder_rows_t<5>(xr, ldx, wr, ldw, rows, in, yr, ldy);
    default:
      return remainder_rows_t<6>(xr, ldx, wr, ldw, rows, in, yr, ldy);
  }
}

// The panel xt [in][width] (width = 16 V, tokens past m zero) from the m rows of x (stride ldx):
// 16 x 16 blocks transposed in registers, each block reading 16 whole cache lines of x at once.
// The scalar copy it replaces (k outer, one float of each of the m rows) kept m lines a multiple
// of 4 KB apart, so in one L1 set, live at a time; this took 44-54 tokens through 8 weights of
// 2048 x 4096 from 98-109 to 105-127 GFLOP/s (Xeon VM, alternating in one process).
V4SIM_TARGET_AVX512 void transpose_panel(const float* x, std::int64_t ldx, std::int64_t m,
                                         std::int64_t in, std::int64_t width, float* xt) {
  for (std::int64_t j = 0; j < width; j += kLanes)
    for (std::int64_t k = 0; k < in; k += kLanes) {
      const std::int64_t cols = std::min<std::int64_t>(kLanes, in - k);
      const auto mask = static_cast<__mmask16>((1u << cols) - 1u);
      __m512 r[kLanes], t[kLanes];
      for (int i = 0; i < kLanes; ++i)
        r[i] = j + i < m ? _mm512_maskz_loadu_ps(mask, x + (j + i) * ldx + k) : _mm512_setzero_ps();
      // Per 128-bit lane l: pairs of rows (columns 4l..4l+3 interleaved), then groups of four
      // rows per column, then the four groups of each column brought together across lanes.
      for (int i = 0; i < kLanes; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
      }
      for (int g = 0; g < kLanes; g += 4) {
        const __m512d a = _mm512_castps_pd(t[g]), b = _mm512_castps_pd(t[g + 1]),
                      c = _mm512_castps_pd(t[g + 2]), d = _mm512_castps_pd(t[g + 3]);
        r[g] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));      // column 4l
        r[g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));  // 4l + 1
        r[g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));  // 4l + 2
        r[g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));  // 4l + 3
      }
      for (int c = 0; c < 4; ++c) {
        const __m512 v0 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88),
                     w0 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xDD),
                     v1 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88),
                     w1 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xDD);
        t[c] = _mm512_shuffle_f32x4(v0, v1, 0x88);       // column c
        t[8 + c] = _mm512_shuffle_f32x4(v0, v1, 0xDD);   // 8 + c
        t[4 + c] = _mm512_shuffle_f32x4(w0, w1, 0x88);   // 4 + c
        t[12 + c] = _mm512_shuffle_f32x4(w0, w1, 0xDD);  // 12 + c
      }
      for (std::int64_t u = 0; u < cols; ++u) _mm512_store_ps(xt + (k + u) * width + j, t[u]);
    }
}

// Tokens [m0, m0 + m) (m <= 16 V) against every weight row, into y; then the `rem` tokens after
// them (remainder_tile), each row while it is still in cache.
template <int V>
V4SIM_TARGET_AVX512 void chunk(const Eigen::Ref<const RowMatrixXf>& x, std::int64_t m0,
                               std::int64_t m, std::int64_t rem,
                               const Eigen::Ref<const RowMatrixXf>& w, std::vector<float>& buf,
                               RowMatrixXf& y) {
  const std::int64_t in = x.cols(), out = w.rows(), width = kLanes * V;
  // The panel starts on a cache line, so no vector load of it straddles two.
  buf.resize(static_cast<std::size_t>(in * width + kLanes));
  float* xt =
      buf.data() + (kLanes - reinterpret_cast<std::uintptr_t>(buf.data()) % 64 / 4) % kLanes;
  transpose_panel(x.data() + m0 * x.outerStride(), x.outerStride(), m, in, width, xt);
  // Wide chunks (5-6 vectors) have narrow tiles (4 rows), which read the panel from L2 for every
  // 64 multiply-adds per k, more than L2 sustained on the Xeon VM: they run blocks of kTiles
  // tiles x 64 columns of k, the panel's block (24-48 KB) staying in L1 across the block's
  // tiles. Narrower chunks ran faster unblocked (each tile over all of k). Either way each sum
  // runs over k in order, so both give the same bits.
  constexpr int kRows = rows_tile(V), kTiles = 8;
  const std::int64_t kc = V >= 5 ? 64 : in;
  alignas(64) float t[kTiles * kRows * kLanes * V];
  // Row by row of y (the tiles' outputs are contiguous in t), so its writes are contiguous.
  const auto put = [&](std::int64_t n0, std::int64_t rows, const float* from) {
    for (std::int64_t r = 0; r < m; ++r) {
      float* to = &y(m0 + r, n0);
      for (std::int64_t i = 0; i < rows; ++i) to[i] = from[i * width + r];
    }
  };
  const std::int64_t ldw = w.outerStride();
  std::int64_t n = 0;
  while (n + kRows <= out) {
    const std::int64_t tiles = std::min<std::int64_t>(kTiles, (out - n) / kRows);
    for (std::int64_t k0 = 0; k0 < in; k0 += kc)
      for (std::int64_t b = 0; b < tiles; ++b) {
        const std::int64_t n0 = n + b * kRows;
        tile<V, kRows>(xt + k0 * width, std::min(kc, in - k0), w.data() + n0 * ldw + k0, ldw,
                       out - n0 - kRows, t + b * kRows * width, k0 > 0);
        if (rem > 0 && k0 + kc >= in) remainder_rows(x, m0 + m, rem, w, n + b * kRows, kRows, y);
      }
    put(n, tiles * kRows, t);
    n += tiles * kRows;
  }
  for (; n < out; ++n) {
    tile<V, 1>(xt, in, w.data() + n * ldw, ldw, out - n - 1, t, false);
    put(n, 1, t);
    if (rem > 0) remainder_rows(x, m0 + m, rem, w, n, 1, y);
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
    const std::int64_t all = std::min(width, rows - m0);
    // A last vector of at most kMaxRemainder tokens goes to remainder_tile (49 tokens: 3 vectors
    // and 1, not 4 vectors of which a quarter is zeros).
    const std::int64_t past = all % kLanes;
    const std::int64_t rem = all > kLanes && past <= kMaxRemainder ? past : 0, m = all - rem;
    switch ((m + kLanes - 1) / kLanes) {
      case 1:
        chunk<1>(x, m0, m, rem, w, xt, y);
        break;
      case 2:
        chunk<2>(x, m0, m, rem, w, xt, y);
        break;
      case 3:
        chunk<3>(x, m0, m, rem, w, xt, y);
        break;
      case 4:
        chunk<4>(x, m0, m, rem, w, xt, y);
        break;
      case 5:
        chunk<5>(x, m0, m, rem, w, xt, y);
        break;
      default:
        chunk<6>(x, m0, m, rem, w, xt, y);
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
