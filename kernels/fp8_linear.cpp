#include "kernels/fp8_linear.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

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

// One token (decode): y[r] = sum over 128-blocks b of (s_b 2^8) * (sum_{c in b} v'_c x_c) with
// v' = E4M3 value * 2^-8, decoded in registers and never stored. The sums run in 16 lanes (lane i
// takes columns c = 16 j + i of a block, one fused multiply-add per step, a missing column adding
// 0 * 0), each block's lane sum is added into the row's lane sum with one more fused
// multiply-add by s_b 2^8, and the 16 lanes are added in lane order at the end. The portable path
// takes the same steps with std::fma, so both give the same bits.
void gemv_portable(const Fp8View& w, const float* x, std::int64_t r0, std::int64_t n, float* y) {
  const std::array<float, 256>& t = e4m3_table();
  const std::int64_t cols = w.cols();
  for (std::int64_t r = r0; r < r0 + n; ++r) {
    const std::uint8_t* codes = w.row(r);
    std::array<float, 16> row{};
    for (std::int64_t c0 = 0; c0 < cols; c0 += kBlock) {
      std::array<float, 16> acc{};
      const std::int64_t len = std::min(kBlock, cols - c0);
      for (std::int64_t c = 0; c < len; ++c)
        acc[static_cast<std::size_t>(c % 16)] =
            std::fma(t[codes[c0 + c]] * 0x1p-8f, x[c0 + c], acc[static_cast<std::size_t>(c % 16)]);
      const float s = w.scale(r, c0) * 256.0f;
      for (std::size_t i = 0; i < 16; ++i) row[i] = std::fma(acc[i], s, row[i]);
    }
    float sum = 0;
    for (float v : row) sum += v;
    y[r - r0] = sum;
  }
}

#ifdef V4SIM_FP8_ISA
// Four rows at a time share the loads of x; each has its own chains. Decode of 16 codes:
// sign-extend to 16 bits, shift left 7 (exponent and mantissa into FP16 positions, the sign to
// bit 15), clear bit 14 (a copy of the sign) and the low bits, convert FP16 -> FP32 (exact).
// 16 columns of R rows: acc[i] += decode(codes[i][at .. at + 16)) * x[0 .. 16) (the first
// popcount(m) columns when not Full; a lambda here would not inherit the target attribute).
template <int R, bool Full>
__attribute__((target("avx512f,avx512bw,avx512vl"))) inline void gemv_step(
    const float* x, const std::uint8_t* const* codes, std::int64_t at, __mmask16 m, __m512* acc) {
  const __m256i keep = _mm256_set1_epi16(static_cast<short>(0xBF80));
  const __m512 xv = Full ? _mm512_loadu_ps(x) : _mm512_maskz_loadu_ps(m, x);
  for (int i = 0; i < R; ++i) {
    const __m128i b = Full ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(codes[i] + at))
                           : _mm_maskz_loadu_epi8(m, codes[i] + at);
    const __m256i h = _mm256_and_si256(_mm256_slli_epi16(_mm256_cvtepi8_epi16(b), 7), keep);
    acc[i] = _mm512_fmadd_ps(_mm512_cvtph_ps(h), xv, acc[i]);
  }
}

// 32 columns at once, the same two steps as gemv_step<R, true> at `at` and `at + 16` (the same
// multiply-adds in the same order, so the same bits) with one sign-extension, shift and mask per
// 32 codes: 5 vector-port operations per 16 codes instead of 6 (VCVTPH2PS is two), where the
// decode, not the memory, set the rate (11.6-13 GB/s with the codes in L2, Xeon VM).
template <int R>
__attribute__((target("avx512f,avx512bw,avx512vl"))) inline void gemv_step32(
    const float* x, const std::uint8_t* const* codes, std::int64_t at, __m512* acc) {
  const __m512i keep = _mm512_set1_epi16(static_cast<short>(0xBF80));
  const __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
  for (int i = 0; i < R; ++i) {
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes[i] + at));
    const __m512i h = _mm512_and_si512(_mm512_slli_epi16(_mm512_cvtepi8_epi16(b), 7), keep);
    acc[i] = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm512_castsi512_si256(h)), x0, acc[i]);
    acc[i] =
        _mm512_fmadd_ps(_mm512_cvtph_ps(_mm512_maskz_extracti64x4_epi64(0xFF, h, 1)), x1, acc[i]);
  }
}

// The VBMI decode, 64 codes per row at once, 8 vector-port operations per 64 codes before the
// four multiply-adds instead of 16 (the FP16 route's VCVTPH2PS is two each): a 128-entry byte
// table lookup (VPERMI2B, the code's low 7 bits) gives each of the upper two bytes of the float32
// of the magnitude times 2^-8 (every E4M3 value has at most 4 significant bits, so the low 16
// bits are zero; subnormals come out exact as normal floats), the sign is or-ed in, and shifts
// and masks assemble the floats. The codes are first permuted (VPERMB) so that the four vectors
// of floats are columns [0, 16), [16, 32), [32, 48), [48, 64) in lane order: the same
// multiply-adds in the same order as four gemv_step<R, true>, so the same bits.
struct Fp8ByteTables {
  alignas(64) std::uint8_t lo[128];    // bits 16-23 of the float32 of E4M3 magnitude c times 2^-8
  alignas(64) std::uint8_t hi[128];    // bits 24-31
  alignas(64) std::uint8_t order[64];  // byte 4k + q takes code 16q + k
};

const Fp8ByteTables& fp8_byte_tables() {
  static const Fp8ByteTables tables = [] {
    Fp8ByteTables t{};
    for (int c = 0; c < 128; ++c) {
      const float v = e4m3_table()[static_cast<std::size_t>(c)] * 0x1p-8f;
      std::uint32_t bits = 0;
      std::memcpy(&bits, &v, sizeof bits);
      t.lo[c] = static_cast<std::uint8_t>(bits >> 16);
      t.hi[c] = static_cast<std::uint8_t>(bits >> 24);
    }
    for (int k = 0; k < 16; ++k)
      for (int q = 0; q < 4; ++q) t.order[4 * k + q] = static_cast<std::uint8_t>(16 * q + k);
    return t;
  }();
  return tables;
}

struct VbmiDecode {
  __m512i order, lo0, lo1, hi0, hi1;
};

template <int R>
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi"))) inline void gemv_step64_vbmi(
    const float* x, const std::uint8_t* const* codes, std::int64_t at, const VbmiDecode& d,
    __m512* acc) {
  const __m512i sign = _mm512_set1_epi8(static_cast<char>(0x80));
  const __m512i low_byte = _mm512_set1_epi16(0x00FF), high_byte = _mm512_set1_epi16(-256);
  const __m512i high_word = _mm512_set1_epi32(-65536);
  constexpr int kOrOfAnd = 0xF8;  // VPTERNLOG: a | (b & c)
  const __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
  const __m512 x2 = _mm512_loadu_ps(x + 32), x3 = _mm512_loadu_ps(x + 48);
  for (int i = 0; i < R; ++i) {
    const __m512i b = _mm512_permutexvar_epi8(d.order, _mm512_loadu_si512(codes[i] + at));
    const __m512i lo = _mm512_permutex2var_epi8(d.lo0, b, d.lo1);
    const __m512i hi =
        _mm512_ternarylogic_epi32(_mm512_permutex2var_epi8(d.hi0, b, d.hi1), b, sign, kOrOfAnd);
    // Words of the even bytes (hi << 8 | lo) and of the odd ones.
    const __m512i even =
        _mm512_ternarylogic_epi32(_mm512_slli_epi16(hi, 8), lo, low_byte, kOrOfAnd);
    const __m512i odd =
        _mm512_ternarylogic_epi32(_mm512_srli_epi16(lo, 8), hi, high_byte, kOrOfAnd);
    acc[i] = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(even, 16)), x0, acc[i]);
    acc[i] = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(odd, 16)), x1, acc[i]);
    acc[i] = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(even, high_word)), x2, acc[i]);
    acc[i] = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(odd, high_word)), x3, acc[i]);
  }
}

// Vbmi: full 64-column steps through gemv_step64_vbmi (the target attribute only lets the
// compiler emit the instructions; the function runs only where use_avx512_vbmi() holds).
template <int R, bool Vbmi>
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi"))) void gemv_rows_avx512(
    const Fp8View& w, const float* x, std::int64_t r, float* y, const VbmiDecode& vbmi) {
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
    __m512 acc[R];
    for (int i = 0; i < R; ++i) {
      acc[i] = _mm512_setzero_ps();
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
    std::int64_t c = 0;
    if constexpr (Vbmi)
      for (; c + 64 <= len; c += 64) gemv_step64_vbmi<R>(x + c0 + c, codes, c0 + c, vbmi, acc);
    for (; c + 32 <= len; c += 32) gemv_step32<R>(x + c0 + c, codes, c0 + c, acc);
    for (; c + 16 <= len; c += 16) gemv_step<R, true>(x + c0 + c, codes, c0 + c, 0xFFFF, acc);
    if (c < len)
      gemv_step<R, false>(x + c0 + c, codes, c0 + c, static_cast<__mmask16>((1u << (len - c)) - 1u),
                          acc);
    for (int i = 0; i < R; ++i)
      row[i] = _mm512_fmadd_ps(acc[i], _mm512_set1_ps(scales[i][c0 / kBlock] * 256.0f), row[i]);
  }
  for (int i = 0; i < R; ++i) {
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, row[i]);
    float sum = 0;
    for (float v : lanes) sum += v;
    y[i] = sum;
  }
}

template <bool Vbmi>
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi"))) void gemv_avx512(
    const Fp8View& w, const float* x, std::int64_t r0, std::int64_t n, float* y) {
  const Fp8ByteTables& t = fp8_byte_tables();
  const VbmiDecode d{_mm512_load_si512(t.order), _mm512_load_si512(t.lo),
                     _mm512_load_si512(t.lo + 64), _mm512_load_si512(t.hi),
                     _mm512_load_si512(t.hi + 64)};
  std::int64_t r = r0;
  for (; r + 4 <= r0 + n; r += 4) gemv_rows_avx512<4, Vbmi>(w, x, r, y + (r - r0), d);
  for (; r < r0 + n; ++r) gemv_rows_avx512<1, Vbmi>(w, x, r, y + (r - r0), d);
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
  const bool isa = use_avx512(), vbmi = use_avx512_vbmi();
  detail::parallel_pieces<RowMatrixXf>(pieces, [&](std::int64_t p, RowMatrixXf& buf) {
    const std::int64_t end = std::min(w.rows, (p + 1) * kOutPiece);
    const std::int64_t begin = p * kOutPiece;
    if (x.rows() == 1) {
      // x is contiguous (a row of a row-major matrix): the fused decode-and-dot.
      float* out = y.data() + begin;
#ifdef V4SIM_FP8_ISA
      if (isa && vbmi) return gemv_avx512<true>(w, x.data(), begin, end - begin, out);
      if (isa) return gemv_avx512<false>(w, x.data(), begin, end - begin, out);
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
