#include "kernels/key_block.h"

#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/host_isa.h"
#include "kernels/token_selection.h"  // RowMatrixXf

#if defined(__x86_64__)
#include <immintrin.h>
#define V4SIM_KEY_BLOCK_ISA 1
#define V4SIM_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))
// The tiles are inlined into their loops: an outlined acc_tile<8, 3> kept its accumulators on the
// stack and stored all 24 every key (GCC 12), at half the rate.
#define V4SIM_TILE __attribute__((target("avx512f,avx512bw,avx512vl"), always_inline)) inline
#endif

namespace v4sim {
namespace {

constexpr std::int64_t kLanes = 16;  // floats per AVX-512 register

// {make(1), ..., make(N)}: the instances of a template over a count, so a run-time count c in
// [1, N] picks its instance as table[c - 1]. `make` takes std::integral_constant<int, c>.
template <int N, class Make>
constexpr auto instances(Make make) {
  return [&]<int... I>(std::integer_sequence<int, I...>) {
    return std::array{make(std::integral_constant<int, I + 1>{})...};
  }
  (std::make_integer_sequence<int, N>{});
}

bool contiguous(const float* const* rows, std::int64_t n, std::int64_t d) {
  for (std::int64_t j = 1; j < n; ++j)
    if (rows[j] != rows[0] + j * d) return false;
  return true;
}

// The keys as one [n, d] array: in place when contiguous, else copied into `gathered`.
const float* key_array(const float* const* rows, std::int64_t n, std::int64_t d,
                       std::vector<float>& gathered) {
  if (contiguous(rows, n, d)) return rows[0];
  gathered.resize(static_cast<std::size_t>(n * d));
  for (std::int64_t j = 0; j < n; ++j) std::copy_n(rows[j], d, gathered.data() + j * d);
  return gathered.data();
}

using StridedMap = Eigen::Map<RowMatrixXf, 0, Eigen::OuterStride<>>;
using ConstStridedMap = Eigen::Map<const RowMatrixXf, 0, Eigen::OuterStride<>>;

#ifdef V4SIM_KEY_BLOCK_ISA

// ---- scores: st [n, ld] = K Q^T, heads in the lanes ----
//
// A tile is R keys by V vectors of 16 heads (R * V accumulators, at most 24 of the 32
// registers); per dimension k it loads V vectors of the panel row k and broadcasts one element of
// each of its R keys. The dimensions go in chunks of kChunk: the panel's slice of a chunk (32 KiB
// at 128 heads, of a 48 KiB L1 here) stays in L1 while every key tile of the block passes over
// it, and the tiles' partial sums go to st and back between chunks (R * V loads and stores per
// kChunk * R * V FMAs). Chunks of 32 / 64 / 128 dimensions: 17.8-18.1 / 17.1-17.5 / 18.9-19.8 ms
// for a 1M-context V4-Pro HCA decode core (fastest of 9 cold runs, Xeon VM, one thread).
constexpr std::int64_t kChunk = 64;

constexpr int score_keys(int V) {
  return V <= 3 ? 8 : V == 4 ? 6 : V <= 6 ? 4 : 3;
}

template <int V, int R>
V4SIM_TILE void score_tile(const float* panel, std::int64_t ld, const float* const* rows,
                           std::int64_t k0, std::int64_t k1, float* st) {
  __m512 acc[R][V];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v)
      acc[r][v] = k0 == 0 ? _mm512_setzero_ps() : _mm512_loadu_ps(st + r * ld + v * kLanes);
  const float* key[R];
  for (int r = 0; r < R; ++r) key[r] = rows[r];
#pragma GCC unroll 2
  for (std::int64_t k = k0; k < k1; ++k) {
    const float* p = panel + k * ld;
    __m512 b[R];
    for (int r = 0; r < R; ++r) b[r] = _mm512_set1_ps(key[r][k]);
    for (int v = 0; v < V; ++v) {
      const __m512 q = _mm512_load_ps(p + v * kLanes);
      for (int r = 0; r < R; ++r) acc[r][v] = _mm512_fmadd_ps(b[r], q, acc[r][v]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) _mm512_storeu_ps(st + r * ld + v * kLanes, acc[r][v]);
}

// Lines [k, k + kChunk) of a key row, into L1 (T0) or L2 (T1). The keys come from memory (the
// HCA table is 16 MiB at 1M context) and a chunk's pass reads only 256 bytes of each 2 KiB row,
// a pattern the hardware prefetcher does not follow.
template <bool ToL1>
V4SIM_TARGET_AVX512 inline void fetch_chunk(const float* row, std::int64_t k, std::int64_t d) {
  const std::uintptr_t first = reinterpret_cast<std::uintptr_t>(row + k) & ~std::uintptr_t{63};
  const std::uintptr_t end = reinterpret_cast<std::uintptr_t>(row + std::min(d, k + kChunk));
  for (std::uintptr_t a = first; a < end; a += 64) {  // every line the range touches
    const char* line = reinterpret_cast<const char*>(a);
    if constexpr (ToL1)
      _mm_prefetch(line, _MM_HINT_T0);
    else
      _mm_prefetch(line, _MM_HINT_T1);
  }
}

// One group of V head vectors (panel and st at the group's first head) over all keys. `own`:
// fetch each tile's next chunk a pass ahead and, in the first pass, the chunk of the tile two
// ahead; `next`: in the last pass, fetch the first chunk of the next block's rows.
template <int V>
V4SIM_TARGET_AVX512 void score_group(const float* panel, std::int64_t ld, std::int64_t d,
                                     const float* const* rows, std::int64_t n, float* st, bool own,
                                     const float* const* next, std::int64_t next_n) {
  constexpr int R = score_keys(V);
  const std::int64_t tiles = (n + R - 1) / R;
  const std::int64_t next_per_tile = next == nullptr ? 0 : (next_n + tiles - 1) / tiles;
  for (std::int64_t k0 = 0; k0 < d; k0 += kChunk) {
    const std::int64_t k1 = std::min(d, k0 + kChunk);
    std::int64_t fetched = 0;  // rows of `next` fetched in this pass
    for (std::int64_t j = 0; j < n; j += R) {
      const std::int64_t rn = std::min<std::int64_t>(R, n - j);
      if (own) {
        for (std::int64_t r = 0; r < rn && k1 < d; ++r) fetch_chunk<false>(rows[j + r], k1, d);
        if (k0 == 0)
          for (std::int64_t r = j + 2 * R; r < std::min(n, j + 3 * R); ++r)
            fetch_chunk<true>(rows[r], 0, d);
      }
      if (k1 == d)
        for (std::int64_t i = 0; i < next_per_tile && fetched < next_n; ++i, ++fetched)
          fetch_chunk<false>(next[fetched], 0, d);
      if (rn == R) {
        score_tile<V, R>(panel, ld, rows + j, k0, k1, st + j * ld);
      } else {
        for (std::int64_t r = 0; r < rn; ++r)
          score_tile<V, 1>(panel, ld, rows + j + r, k0, k1, st + (j + r) * ld);
      }
    }
  }
}

constexpr std::int64_t kGroup = 8;  // head vectors per group: 128 heads
constexpr auto kScoreGroups =
    instances<kGroup>([](auto v) { return &score_group<decltype(v)::value>; });

V4SIM_TARGET_AVX512 void scores_avx512(const float* panel, std::int64_t ld, std::int64_t d,
                                       const float* const* rows, std::int64_t n, float* st,
                                       const float* const* next, std::int64_t next_n) {
  const std::int64_t vectors = ld / kLanes;
  for (std::int64_t g = 0; g < vectors; g += kGroup) {
    const bool own = g == 0, last = g + kGroup >= vectors;
    const float* p = panel + g * kLanes;
    float* s = st + g * kLanes;
    const float* const* nx = last ? next : nullptr;
    kScoreGroups[std::min(kGroup, vectors - g) - 1](p, ld, d, rows, n, s, own, nx, next_n);
  }
}

// ---- accumulate: acc [H, d] += P K, dimensions in the lanes ----
//
// A tile is M heads by CV vectors of 16 dimensions (M * CV accumulators, kept over all n keys);
// per key it loads CV vectors of the key row in place and broadcasts the M heads' weights, which
// are first copied out of pt into a small [n, M] array (8 KiB at 256 keys: pt's column, rows
// 512 bytes apart, would not stay in L1 while the tiles of a head group pass over it). The keys
// are in L2 after the scores; a tile of 8 heads by 3 vectors reads 3 key lines per 24 FMAs. (12
// heads by 2 vectors ran at half the rate, 4 by 6 and 6 by 4 slower too: 128 heads, d = 512.)
constexpr int kHeads = 8;
constexpr int kVectors = 3;
static_assert(kVectors <= 3, "acc_group takes the rest of the vectors in one tile of 1 or 2");

inline __mmask16 lanes_up_to(std::int64_t n) {
  return n >= kLanes ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}

template <int M, int CV>
V4SIM_TILE void acc_tile(const float* w, const float* const* rows, std::int64_t n, std::int64_t c0,
                         __mmask16 tail, float* acc, std::int64_t d) {
  __m512 a[M][CV];
  for (int r = 0; r < M; ++r)
    for (int v = 0; v < CV; ++v)
      a[r][v] = _mm512_maskz_loadu_ps(v == CV - 1 ? tail : static_cast<__mmask16>(0xFFFF),
                                      acc + r * d + c0 + v * kLanes);
  for (std::int64_t j = 0; j < n; ++j) {
    const float* key = rows[j] + c0;
    __m512 k[CV];
    for (int v = 0; v < CV; ++v)
      k[v] = _mm512_maskz_loadu_ps(v == CV - 1 ? tail : static_cast<__mmask16>(0xFFFF),
                                   key + v * kLanes);
    for (int r = 0; r < M; ++r) {
      const __m512 b = _mm512_set1_ps(w[j * M + r]);
      for (int v = 0; v < CV; ++v) a[r][v] = _mm512_fmadd_ps(b, k[v], a[r][v]);
    }
  }
  for (int r = 0; r < M; ++r)
    for (int v = 0; v < CV; ++v)
      _mm512_mask_storeu_ps(acc + r * d + c0 + v * kLanes,
                            v == CV - 1 ? tail : static_cast<__mmask16>(0xFFFF), a[r][v]);
}

// Heads [h0, h0 + M) over all d dimensions.
template <int M>
V4SIM_TARGET_AVX512 void acc_group(const float* pt, std::int64_t ld, std::int64_t h0,
                                   const float* const* rows, std::int64_t n, std::int64_t d,
                                   float* acc, std::vector<float>& w) {
  w.resize(static_cast<std::size_t>(n * M));
  for (std::int64_t j = 0; j < n; ++j) std::copy_n(pt + j * ld + h0, M, w.data() + j * M);
  float* out = acc + h0 * d;
  const std::int64_t vectors = (d + kLanes - 1) / kLanes;
  const __mmask16 tail = lanes_up_to(d - (vectors - 1) * kLanes);
  std::int64_t v = 0;
  for (; v + kVectors <= vectors; v += kVectors)
    acc_tile<M, kVectors>(w.data(), rows, n, v * kLanes,
                          v + kVectors == vectors ? tail : static_cast<__mmask16>(0xFFFF), out, d);
  // The rest (d = 512: 2 vectors) in one tile: one vector at a time would broadcast M weights
  // per M FMAs, at half the rate.
  if (vectors - v == 2) acc_tile<M, 2>(w.data(), rows, n, v * kLanes, tail, out, d);
  if (vectors - v == 1) acc_tile<M, 1>(w.data(), rows, n, v * kLanes, tail, out, d);
}

constexpr auto kAccGroups =
    instances<kHeads>([](auto m) { return &acc_group<decltype(m)::value>; });

V4SIM_TARGET_AVX512 void accumulate_avx512(const float* pt, std::int64_t ld, std::int64_t H,
                                           const float* const* rows, std::int64_t n, std::int64_t d,
                                           float* acc, std::vector<float>& w) {
  for (std::int64_t h0 = 0; h0 < H; h0 += kHeads)
    kAccGroups[std::min<std::int64_t>(kHeads, H - h0) - 1](pt, ld, h0, rows, n, d, acc, w);
}

#endif

}  // namespace

void KeyBlockKernel::set_query(const float* q, std::int64_t heads, std::int64_t dim) {
  q_ = q;
  heads_ = heads;
  dim_ = dim;
  stride_ = (heads + kLanes - 1) / kLanes * kLanes;
  avx512_ = false;
#ifdef V4SIM_KEY_BLOCK_ISA
  avx512_ = use_avx512();
  if (!avx512_) return;
  // The panel starts on a cache line, so no vector load of it straddles two.
  panel_buf_.assign(static_cast<std::size_t>(dim * stride_ + kLanes), 0.0f);
  panel_ = panel_buf_.data() +
           (kLanes - reinterpret_cast<std::uintptr_t>(panel_buf_.data()) % 64 / 4) % kLanes;
  for (std::int64_t h = 0; h < heads; ++h)
    for (std::int64_t k = 0; k < dim; ++k) panel_[k * stride_ + h] = q[h * dim + k];
#endif
}

void KeyBlockKernel::scores(const float* const* rows, std::int64_t n, float* st,
                            const float* const* next, std::int64_t next_n) {
  if (n <= 0) return;
#ifdef V4SIM_KEY_BLOCK_ISA
  if (avx512_)
    return scores_avx512(panel_, stride_, dim_, rows, n, st, next_n > 0 ? next : nullptr, next_n);
#endif
  (void)next;
  (void)next_n;
  const Eigen::Map<const RowMatrixXf> K(key_array(rows, n, dim_, gathered_), n, dim_);
  const Eigen::Map<const RowMatrixXf> Q(q_, heads_, dim_);
  StridedMap(st, n, heads_, Eigen::OuterStride<>(stride_)).noalias() = K * Q.transpose();
}

void KeyBlockKernel::accumulate(const float* pt, const float* const* rows, std::int64_t n,
                                float* acc) {
  if (n <= 0) return;
#ifdef V4SIM_KEY_BLOCK_ISA
  if (avx512_) return accumulate_avx512(pt, stride_, heads_, rows, n, dim_, acc, weights_);
#endif
  const Eigen::Map<const RowMatrixXf> K(key_array(rows, n, dim_, gathered_), n, dim_);
  const ConstStridedMap P(pt, n, heads_, Eigen::OuterStride<>(stride_));
  Eigen::Map<RowMatrixXf>(acc, heads_, dim_).noalias() += P.transpose() * K;
}

}  // namespace v4sim
