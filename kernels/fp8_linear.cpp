#include "kernels/fp8_linear.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "kernels/host_isa.h"
#include "kernels/parallel_for.h"
#include "kernels/precondition.h"
#include "kernels/quant.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define V4SIM_FP8_ISA 1
#endif

namespace v4sim {
namespace {

constexpr std::int64_t kBlock = 128;     // scale block, both axes
constexpr std::int64_t kOutPiece = 256;  // output rows per parallel piece (a multiple of kTile)
constexpr std::int64_t kTile = 16;       // rows decoded at once (16 x 7168 floats = 458 KB)

// E4M3 value of every code (NaN codes decode to NaN).
const std::array<float, 256>& e4m3_table() {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (int c = 0; c < 256; ++c)
      t[static_cast<std::size_t>(c)] = fp8_e4m3_decode(static_cast<std::uint8_t>(c));
    return t;
  }();
  return table;
}

void decode_row_portable(const std::uint8_t* codes, std::int64_t n, float scale, float* out) {
  const std::array<float, 256>& t = e4m3_table();
  for (std::int64_t i = 0; i < n; ++i) out[i] = t[codes[i]] * scale;
}

#ifdef V4SIM_FP8_ISA
// 16 codes at a time: (c & 0x7F) << 7 puts exponent and mantissa into FP16 positions and the sign
// goes to bit 15, giving the E4M3 value times 2^-8 (biases 7 vs 15, subnormals included); the
// scale carries the 2^8. Codes 0x7F / 0xFF (E4M3 NaN) become FP16 Inf, never NaN; weights never
// hold them (quantize_fp8_weight saturates at 448).
__attribute__((target("avx512f,avx512bw,avx512vl"))) void decode_row_avx512(
    const std::uint8_t* codes, std::int64_t n, float scale, float* out) {
  const __m512 s = _mm512_set1_ps(scale * 256.0f);
  const __m256i magnitude = _mm256_set1_epi16(0x7F), sign = _mm256_set1_epi16(0x80);
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i c =
        _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + i)));
    const __m256i h = _mm256_or_si256(_mm256_slli_epi16(_mm256_and_si256(c, magnitude), 7),
                                      _mm256_slli_epi16(_mm256_and_si256(c, sign), 8));
    _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_cvtph_ps(h), s));
  }
  if (i < n) decode_row_portable(codes + i, n - i, scale, out + i);
}
#endif

// Rows [row0, row0 + rows) of an Fp8Weight (a group of a grouped projection), without copying.
struct Fp8View {
  const Fp8Weight* w;
  std::int64_t row0, rows;
  std::int64_t cols() const { return w->cols; }
  const std::uint8_t* row(std::int64_t r) const { return w->codes.data() + (row0 + r) * w->cols; }
  float scale(std::int64_t r, std::int64_t c) const { return w->scale(row0 + r, c); }
};

Fp8View view_of(const Fp8Weight& w) {
  return {&w, 0, w.rows};
}

// Rows [r0, r0 + n) of w, decoded into buf [n, cols].
void decode_rows(const Fp8View& w, std::int64_t r0, std::int64_t n, RowMatrixXf& buf, bool isa) {
  buf.resize(n, w.cols());
  for (std::int64_t r = 0; r < n; ++r) {
    const std::uint8_t* codes = w.row(r0 + r);
    float* out = buf.row(r).data();
    for (std::int64_t c0 = 0; c0 < w.cols(); c0 += kBlock) {
      const std::int64_t len = std::min(kBlock, w.cols() - c0);
      const float s = w.scale(r0 + r, c0);
#ifdef V4SIM_FP8_ISA
      if (isa) {
        decode_row_avx512(codes + c0, len, s, out + c0);
        continue;
      }
#endif
      (void)isa;
      decode_row_portable(codes + c0, len, s, out + c0);
    }
  }
}

// One token (decode): y[r] = sum over 128-column scale blocks b of s_b * (sum_{c in b} v'_c x'_c)
// with v' = E4M3 value * 2^-8 and x' = 256 x (so v' x' = v x exactly, for |x| < 2^120), never
// stored. The block sums run in 16 lanes: column c goes to lane (c mod 32) / 2, and each lane
// adds its columns in ascending order, one fused multiply-add each (lane l takes 32 t + 2 l, then
// 32 t + 2 l + 1, for t = 0, 1, ...; a block's last 32 columns, if it has fewer, are padded with
// 0 * 0). Each block's lane sum is added into the row's lane sum with one more fused multiply-add
// by s_b, and the 16 lanes are added in lane order at the end. The portable path takes the same
// steps with std::fma, so both give the same bits. (The lane order is the one the AVX-512 decode
// below produces: the even and the odd columns of 32 codes come out as two vectors.)
void gemv_portable(const Fp8View& w, const float* x, std::int64_t r0, std::int64_t n, float* y) {
  const std::array<float, 256>& t = e4m3_table();
  const std::int64_t cols = w.cols();
  for (std::int64_t r = r0; r < r0 + n; ++r) {
    const std::uint8_t* codes = w.row(r);
    std::array<float, 16> row{};
    for (std::int64_t c0 = 0; c0 < cols; c0 += kBlock) {
      std::array<float, 16> acc{};
      const std::int64_t len = std::min(kBlock, cols - c0), padded = (len + 31) / 32 * 32;
      for (std::int64_t c = 0; c < padded; ++c) {
        const float v = c < len ? t[codes[c0 + c]] * 0x1p-8f : 0.0f;
        const float xv = c < len ? x[c0 + c] * 256.0f : 0.0f;
        float& lane = acc[static_cast<std::size_t>((c % 32) / 2)];
        lane = std::fma(v, xv, lane);
      }
      const float s = w.scale(r, c0);
      for (std::size_t i = 0; i < 16; ++i) row[i] = std::fma(acc[i], s, row[i]);
    }
    float sum = 0;
    for (float v : row) sum += v;
    y[r - r0] = sum;
  }
}

#ifdef V4SIM_FP8_ISA
// x' = 256 x in the lanes' order: for each 32 columns, the 16 even ones, then the 16 odd ones;
// zeros past cols, up to a multiple of 32.
std::vector<float> lane_ordered_x(const float* x, std::int64_t cols) {
  std::vector<float> xp(static_cast<std::size_t>((cols + 31) / 32 * 32), 0.0f);
  for (std::int64_t t = 0; t < cols; t += 32) {
    float* out = xp.data() + t;
    for (std::int64_t l = 0; l < 16 && t + 2 * l < cols; ++l) {
      out[l] = x[t + 2 * l] * 256.0f;
      if (t + 2 * l + 1 < cols) out[16 + l] = x[t + 2 * l + 1] * 256.0f;
    }
  }
  return xp;
}

// The decode of 32 codes, sign-extended to 16 bits, into the upper halves of float32 (a BF16
// value): shifted left 4, the magnitude's exponent and mantissa bits land on the BF16 exponent's
// low 4 bits and the mantissa's top 3, and the sign on bit 15; the exponent's high 4 bits (copies
// of the sign) are replaced by 0111. That is E4M3 value * 2^-8 exactly for every normal code
// (exponent e + 112): one sign extension, one shift and one VPTERNLOG per 32 codes, then a shift
// (even codes) or a mask (odd codes) per 16 floats, 7 micro-operations on the two 512-bit vector
// ports per 32 codes with the two multiply-adds, where the FP16 conversion took 10 (VCVTPH2PS is
// two) and the VBMI byte tables 9 (VPERMI2B is two). The decode, not the memory, had bounded the
// kernel: with the weights in L2 (1024 x 1024, 256 x 4096, 128 x 8192; Xeon VM, one thread,
// 2026-12-07) the VBMI tables ran at 13.2-14.9 GB/s, this at 16.8-18.9, while the read stream
// from DRAM measured 13.4-17.4 GB/s in the runs of 2026-12-06. A code with exponent 0 (a
// subnormal or zero) would come out as 2^-15 (1 + m / 8): each group of codes is tested first
// (all_normal, one VPTESTMB per 64 codes and row) and one that holds such a code takes the FP16
// conversion (subnormal_step32), which is exact for them, in the same lane order (weights
// quantised from a uniform / normal distribution: 4e-5 / 1.5e-4 of the codes, 1.1 / 3.7 % of the
// groups of 4 rows x 64 codes). Codes 0x7F / 0xFF (E4M3 NaN) decode as 480 / -480; weights never
// hold them (quantize_fp8_weight saturates at 448).
struct Bf16Decode {
  __m512i keep, exponent, high_word, exponent_bits;
};

// The block sums of R rows, one vector of 16 lanes each.
template <int R>
struct Lanes {
  __m512 v[R];
};

template <int R>
__attribute__((target("avx512f,avx512bw,avx512vl"))) inline void normal_step32(
    const float* xp, const std::uint8_t* const* codes, std::int64_t at, const Bf16Decode& d,
    Lanes<R>& acc) {
  constexpr int kAndOr = 0xEA;  // VPTERNLOG: (a & b) | c
  const __m512 x_even = _mm512_loadu_ps(xp), x_odd = _mm512_loadu_ps(xp + 16);
  for (int i = 0; i < R; ++i) {
    const __m512i s =
        _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes[i] + at)));
    const __m512i h =
        _mm512_ternarylogic_epi32(_mm512_slli_epi16(s, 4), d.keep, d.exponent, kAndOr);
    acc.v[i] = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(h, 16)), x_even, acc.v[i]);
    acc.v[i] =
        _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(h, d.high_word)), x_odd, acc.v[i]);
  }
}

// The same lanes for codes with exponent 0 too (or a last group of n < 32 codes, the rest taken as
// 0 * 0): FP16 bits of E4M3 value * 2^-8 (sign-extended code shifted left 7, bit 14 and the low
// bits cleared), even words to the low half and odd ones to the high half, converted exactly.
// Rare, so out of line; the sums go in and out by value, so that the common path keeps them in
// registers.
template <int R>
__attribute__((target("avx512f,avx512bw,avx512vl"), noinline)) Lanes<R> subnormal_step32(
    const float* xp, const std::uint8_t* const* codes, std::int64_t at, int n, Lanes<R> acc) {
  alignas(64) static constexpr std::uint16_t kDeinterleave[32] = {
      0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30,
      1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31};
  const __m512i order = _mm512_load_si512(kDeinterleave);
  const __m512i keep = _mm512_set1_epi16(static_cast<short>(0xBF80));
  const __mmask32 m = n >= 32 ? ~__mmask32{0} : (__mmask32{1} << n) - 1;
  const __m512 x_even = _mm512_loadu_ps(xp), x_odd = _mm512_loadu_ps(xp + 16);
  for (int i = 0; i < R; ++i) {
    const __m512i s = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(m, codes[i] + at));
    const __m512i h =
        _mm512_permutexvar_epi16(order, _mm512_and_si512(_mm512_slli_epi16(s, 7), keep));
    // (Zero-masking forms: GCC 12 warns that the plain ones read an uninitialised register.)
    const __m512 even = _mm512_maskz_cvtph_ps(0xFFFF, _mm512_maskz_extracti64x4_epi64(0xFF, h, 0));
    const __m512 odd = _mm512_maskz_cvtph_ps(0xFFFF, _mm512_maskz_extracti64x4_epi64(0xFF, h, 1));
    acc.v[i] = _mm512_fmadd_ps(even, x_even, acc.v[i]);
    acc.v[i] = _mm512_fmadd_ps(odd, x_odd, acc.v[i]);
  }
  return acc;
}

// True when no code in [at, at + Bytes) of the R rows has exponent 0 (Bytes 32 or 64).
template <int R, int Bytes>
__attribute__((target("avx512f,avx512bw,avx512vl"))) inline bool all_normal(
    const std::uint8_t* const* codes, std::int64_t at, const Bf16Decode& d) {
  if constexpr (Bytes == 64) {
    __mmask64 k = ~__mmask64{0};
    for (int i = 0; i < R; ++i)
      k = _mm512_mask_test_epi8_mask(k, _mm512_loadu_si512(codes[i] + at), d.exponent_bits);
    return _kortestc_mask64_u8(k, k);
  } else {
    __mmask32 k = ~__mmask32{0};
    for (int i = 0; i < R; ++i)
      k = _mm256_mask_test_epi8_mask(
          k, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes[i] + at)),
          _mm512_castsi512_si256(d.exponent_bits));
    return _kortestc_mask32_u8(k, k);
  }
}

// Rows [r, r + R): the block sums of the portable path, R rows at a time (they share the loads of
// x'; each has its own chains).
template <int R>
__attribute__((target("avx512f,avx512bw,avx512vl"))) void gemv_rows_avx512(const Fp8View& w,
                                                                           const float* xp,
                                                                           std::int64_t r,
                                                                           float* y) {
  Bf16Decode d{_mm512_set1_epi16(static_cast<short>(0x87FF)), _mm512_set1_epi16(0x3800),
               _mm512_set1_epi32(static_cast<int>(0xFFFF0000u)), _mm512_set1_epi8(0x78)};
  // Opaque to the compiler, so that it keeps them in registers instead of broadcasting them
  // again inside the loop (on the shuffle port the decode needs).
  __asm__("" : "+v"(d.keep), "+v"(d.exponent), "+v"(d.high_word), "+v"(d.exponent_bits));
  const std::int64_t cols = w.cols();
  const std::int64_t blocks_per_row = (cols + kBlock - 1) / kBlock;
  __m512 row[R];
  const std::uint8_t* codes[R];
  const float* scales[R];  // the row's block scales (the index arithmetic hoisted out of the loop)
  for (int i = 0; i < R; ++i) {
    row[i] = _mm512_setzero_ps();
    codes[i] = w.row(r + i);
    scales[i] = w.w->scales.data() + ((w.row0 + r + i) / kBlock) * blocks_per_row;
  }
  // Short rows (kFarRowBytes or less): the group of R rows after the next, as offsets into the
  // codes (no pointer is formed past the matrix), is fetched into L2 in step with this group's
  // blocks, R * 128 bytes per block, so each block of the next group finds its lines already on
  // their way. Weights streamed from DRAM, one thread, the L1 prefetches alone (below) against
  // both, medians of 7 alternating runs in one process (Xeon VM, 2026-12-06, load 2.7-4):
  // 32768 x 1024 10.7 -> 12.5 GB/s, 7168 x 1536 11.2 -> 12.5, 8192 x 2048 11.7 -> 12.6; but
  // 4096 x 4096 13.4 -> 12.1 and 1536 x 7168 13.7 -> 11.4 (long rows keep the hardware
  // prefetcher going, and the extra requests only compete with it).
  constexpr std::int64_t kFarRowBytes = 2048;
  const std::int64_t ahead = (w.row0 + r + 2 * R) * cols;
  const std::int64_t total =
      cols <= kFarRowBytes ? static_cast<std::int64_t>(w.w->codes.size()) : 0;
  for (std::int64_t c0 = 0; c0 < cols; c0 += kBlock) {
    Lanes<R> acc;
    for (int i = 0; i < R; ++i) {
      acc.v[i] = _mm512_setzero_ps();
      // Several row streams at once defeat the hardware prefetcher (about 6 GB/s measured
      // without this): fetch the same block of the next R rows (one group ahead; the rows are
      // contiguous). Four blocks (512 bytes) ahead in each row gave 7.2-11.2 GB/s (short rows
      // start cold), one group ahead 9.7-12.9 (4096 x 4096 and 32768 x 1024, Xeon VM).
      _mm_prefetch(reinterpret_cast<const char*>(codes[i] + R * cols + c0), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(codes[i] + R * cols + c0 + 64), _MM_HINT_T0);
    }
    for (std::int64_t at = ahead + (c0 / kBlock) * R * kBlock, l = 0; l < 2 * R && at < total;
         ++l, at += 64)
      _mm_prefetch(reinterpret_cast<const char*>(w.w->codes.data() + at), _MM_HINT_T1);
    const std::int64_t len = std::min(kBlock, cols - c0);
    const float* xb = xp + c0;
    std::int64_t c = 0;
    for (; c + 64 <= len; c += 64) {
      if (all_normal<R, 64>(codes, c0 + c, d)) {
        normal_step32<R>(xb + c, codes, c0 + c, d, acc);
        normal_step32<R>(xb + c + 32, codes, c0 + c + 32, d, acc);
      } else {
        acc = subnormal_step32<R>(xb + c, codes, c0 + c, 32, acc);
        acc = subnormal_step32<R>(xb + c + 32, codes, c0 + c + 32, 32, acc);
      }
    }
    for (; c + 32 <= len; c += 32) {
      if (all_normal<R, 32>(codes, c0 + c, d)) {
        normal_step32<R>(xb + c, codes, c0 + c, d, acc);
      } else {
        acc = subnormal_step32<R>(xb + c, codes, c0 + c, 32, acc);
      }
    }
    if (c < len) acc = subnormal_step32<R>(xb + c, codes, c0 + c, static_cast<int>(len - c), acc);
    for (int i = 0; i < R; ++i)
      row[i] = _mm512_fmadd_ps(acc.v[i], _mm512_set1_ps(scales[i][c0 / kBlock]), row[i]);
  }
  for (int i = 0; i < R; ++i) {
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, row[i]);
    float sum = 0;
    for (float v : lanes) sum += v;
    y[i] = sum;
  }
}

// xp: lane_ordered_x of the product's x.
__attribute__((target("avx512f,avx512bw,avx512vl"))) void gemv_avx512(const Fp8View& w,
                                                                      const float* xp,
                                                                      std::int64_t r0,
                                                                      std::int64_t n, float* y) {
  std::int64_t r = r0;
  for (; r + 4 <= r0 + n; r += 4) gemv_rows_avx512<4>(w, xp, r, y + (r - r0));
  for (; r < r0 + n; ++r) gemv_rows_avx512<1>(w, xp, r, y + (r - r0));
}
#endif

}  // namespace

Fp8Weight quantize_fp8_weight(const Eigen::Ref<const RowMatrixXf>& w) {
  Fp8Weight q;
  q.rows = w.rows();
  q.cols = w.cols();
  const std::int64_t br = (q.rows + kBlock - 1) / kBlock, bc = (q.cols + kBlock - 1) / kBlock;
  q.codes.resize(static_cast<std::size_t>(q.rows * q.cols));
  q.scales.resize(static_cast<std::size_t>(br * bc));
  std::vector<float> block;
  for (std::int64_t i = 0; i < br; ++i)
    for (std::int64_t j = 0; j < bc; ++j) {
      const std::int64_t r0 = i * kBlock, c0 = j * kBlock;
      const std::int64_t nr = std::min(kBlock, q.rows - r0), nc = std::min(kBlock, q.cols - c0);
      block.clear();
      for (std::int64_t r = 0; r < nr; ++r)
        for (std::int64_t c = 0; c < nc; ++c) block.push_back(w(r0 + r, c0 + c));
      const float s = fp8_block_scale(block, Fp8ScaleRule::pow2);
      q.scales[static_cast<std::size_t>(i * bc + j)] = s;
      for (std::int64_t r = 0; r < nr; ++r)
        for (std::int64_t c = 0; c < nc; ++c)
          q.codes[static_cast<std::size_t>((r0 + r) * q.cols + c0 + c)] =
              fp8_e4m3_encode(w(r0 + r, c0 + c) / s);
    }
  return q;
}

RowMatrixXf dequantize(const Fp8Weight& w) {
  RowMatrixXf out;
  decode_rows(view_of(w), 0, w.rows, out, false);
  return out;
}

namespace {

void project_view(const Eigen::Ref<const RowMatrixXf>& x, const Fp8View& w, RowMatrixXf& y) {
  y.resize(x.rows(), w.rows);
  const std::int64_t pieces = (w.rows + kOutPiece - 1) / kOutPiece;
  const bool isa = use_avx512();
#ifdef V4SIM_FP8_ISA
  // One token: x' in the decode's lane order, once for all pieces (x is contiguous: a row of a
  // row-major matrix).
  const std::vector<float> xp =
      isa && x.rows() == 1 ? lane_ordered_x(x.data(), w.cols()) : std::vector<float>{};
#endif
  detail::parallel_pieces<RowMatrixXf>(pieces, [&](std::int64_t p, RowMatrixXf& buf) {
    const std::int64_t end = std::min(w.rows, (p + 1) * kOutPiece);
    const std::int64_t begin = p * kOutPiece;
    if (x.rows() == 1) {
      // The fused decode-and-dot.
      float* out = y.data() + begin;
#ifdef V4SIM_FP8_ISA
      if (isa) return gemv_avx512(w, xp.data(), begin, end - begin, out);
#endif
      return gemv_portable(w, x.data(), begin, end - begin, out);
    }
    // A chunk of tokens: decode a tile of rows once, multiply it by every token.
    for (std::int64_t r0 = begin; r0 < end; r0 += kTile) {
      const std::int64_t n = std::min(kTile, end - r0);
      decode_rows(w, r0, n, buf, isa);
      y.middleCols(r0, n).noalias() = x * buf.transpose();
    }
  });
}

}  // namespace

void fp8_project_rows(const Eigen::Ref<const RowMatrixXf>& x, const Fp8Weight& w, RowMatrixXf& y) {
  V4SIM_REQUIRE("fp8_project_rows", x.cols() == w.cols, "width mismatch");
  project_view(x, view_of(w), y);
}

void linear_fp8_forward(const Eigen::Ref<const RowMatrixXf>& x, const Fp8Weight& w,
                        std::int64_t groups, Precision compute, RowMatrixXf& y, Cost* cost) {
  const std::int64_t in = x.cols(), out = w.rows, tokens = x.rows();
  V4SIM_REQUIRE("linear_fp8_forward",
                groups >= 1 && in % groups == 0 && out % groups == 0 && w.cols == in / groups &&
                    w.rows * w.cols == static_cast<std::int64_t>(w.codes.size()),
                "weight does not match input and groups");
  if (groups == 1) {
    fp8_project_rows(x, w, y);
  } else {
    // Group g is rows [g * go, (g + 1) * go) of w.
    y.resize(tokens, out);
    const std::int64_t gi = in / groups, go = out / groups;
    RowMatrixXf part;
    for (std::int64_t g = 0; g < groups; ++g) {
      const Fp8View wg{&w, g * go, go};
      project_view(x.middleCols(g * gi, gi), wg, part);
      y.middleCols(g * go, go) = part;
    }
  }
  if (cost) {
    cost->flops_at(compute) += 2 * tokens * (out / groups) * (in / groups) * groups;
    cost->read(MemClass::weights) +=
        groups * weight_bytes(WeightFormat::fp8_block128_ue8m0, out / groups, in / groups);
    cost->read(MemClass::activations) += activation_bytes(compute, tokens * in);
    cost->written(MemClass::activations) += activation_bytes(Precision::bf16, tokens * out);
  }
}

}  // namespace v4sim
