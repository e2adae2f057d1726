#include "kernels/int8_gemm.h"

#include <algorithm>
#include <cmath>

#include "kernels/host_isa.h"
#include "kernels/parallel_for.h"
#include "kernels/precondition.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define V4SIM_VNNI_ISA 1
#define V4SIM_TARGET_VNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))
#endif

namespace v4sim {
namespace {

// Output columns (rows of b) per parallel piece: fixed by the shape, so any thread count
// computes the same pieces (the sums are exact anyway).
constexpr std::int64_t kColumnsPerPiece = 64;

void gemm_portable(const Int8Rows& a, const Int8Rows& b, std::int64_t j0, std::int64_t j1,
                   std::int32_t* c) {
  const std::int64_t k = a.cols;
  for (std::int64_t i = 0; i < a.rows; ++i)
    for (std::int64_t j = j0; j < j1; ++j) {
      const std::int8_t* x = a.q.data() + i * k;
      const std::int8_t* w = b.q.data() + j * k;
      std::int32_t s = 0;
      for (std::int64_t t = 0; t < k; ++t) s += std::int32_t{x[t]} * std::int32_t{w[t]};
      c[i * b.rows + j] = s;
    }
}

#ifdef V4SIM_VNNI_ISA

inline __mmask64 lanes64(std::int64_t r) {
  return r >= 64 ? ~__mmask64{0} : ((__mmask64{1} << r) - 1);
}

// The 16 lanes summed (exact). (GCC 12's _mm512_reduce_add_epi32 trips -Wuninitialized inside
// its own header, PR 105593.)
V4SIM_TARGET_VNNI inline std::int32_t lane_sum(__m512i v) {
  alignas(64) std::int32_t lanes[16];
  _mm512_store_si512(lanes, v);
  std::int32_t s = 0;
  for (std::int32_t x : lanes) s += x;
  return s;
}

// Sum over k of (x + 128) * w for R rows of a and C rows of b; the caller subtracts 128 * sum(w).
// Masked-off tail bytes load as 0 in both, and (0 ^ 0x80) * 0 adds nothing.
template <int R, int C>
V4SIM_TARGET_VNNI void tile(const std::int8_t* a, const std::int8_t* b, std::int64_t k,
                            std::int32_t* out, std::int64_t ldo) {
  __m512i acc[R][C];
  for (auto& r : acc)
    for (auto& v : r) v = _mm512_setzero_si512();
  const __m512i offset = _mm512_set1_epi8(static_cast<char>(0x80));
  for (std::int64_t t = 0; t < k; t += 64) {
    const __mmask64 m = lanes64(k - t);
    __m512i av[R], bv[C];
    for (int x = 0; x < R; ++x)
      av[x] = _mm512_maskz_mov_epi8(
          m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, a + x * k + t), offset));
    for (int y = 0; y < C; ++y) bv[y] = _mm512_maskz_loadu_epi8(m, b + y * k + t);
    for (int x = 0; x < R; ++x)
      for (int y = 0; y < C; ++y) acc[x][y] = _mm512_dpbusd_epi32(acc[x][y], av[x], bv[y]);
  }
  for (int x = 0; x < R; ++x)
    for (int y = 0; y < C; ++y) out[x * ldo + y] = lane_sum(acc[x][y]);
}

V4SIM_TARGET_VNNI void gemm_vnni(const Int8Rows& a, const Int8Rows& b, std::int64_t j0,
                                 std::int64_t j1, std::int32_t* c) {
  const std::int64_t k = a.cols, n = b.rows;
  const std::int8_t* A = a.q.data();
  const std::int8_t* B = b.q.data();
  std::int64_t i = 0;
  for (; i + 4 <= a.rows; i += 4) {
    std::int64_t j = j0;
    for (; j + 4 <= j1; j += 4) tile<4, 4>(A + i * k, B + j * k, k, c + i * n + j, n);
    for (; j < j1; ++j) tile<4, 1>(A + i * k, B + j * k, k, c + i * n + j, n);
  }
  for (; i < a.rows; ++i) {
    std::int64_t j = j0;
    for (; j + 4 <= j1; j += 4) tile<1, 4>(A + i * k, B + j * k, k, c + i * n + j, n);
    for (; j < j1; ++j) tile<1, 1>(A + i * k, B + j * k, k, c + i * n + j, n);
  }
  for (std::int64_t r = 0; r < a.rows; ++r)
    for (std::int64_t j = j0; j < j1; ++j)
      c[r * n + j] -= 128 * b.row_sums[static_cast<std::size_t>(j)];
}

#endif  // V4SIM_VNNI_ISA

}  // namespace

Int8Rows quantize_int8_rows(const Eigen::Ref<const RowMatrixXf>& x) {
  Int8Rows r;
  r.rows = x.rows();
  r.cols = x.cols();
  r.q.resize(static_cast<std::size_t>(r.rows * r.cols));
  r.scale.resize(static_cast<std::size_t>(r.rows));
  r.row_sums.resize(static_cast<std::size_t>(r.rows));
  for (std::int64_t i = 0; i < r.rows; ++i) {
    const float amax = x.row(i).cwiseAbs().maxCoeff();
    const float s = amax > 0 ? amax / 127.0f : 1.0f;
    std::int32_t sum = 0;
    for (std::int64_t t = 0; t < r.cols; ++t) {
      const float v = std::nearbyint(x(i, t) / s);
      const auto q = static_cast<std::int8_t>(std::clamp(v, -127.0f, 127.0f));
      r.q[static_cast<std::size_t>(i * r.cols + t)] = q;
      sum += q;
    }
    r.scale[static_cast<std::size_t>(i)] = s;
    r.row_sums[static_cast<std::size_t>(i)] = sum;
  }
  return r;
}

void int8_gemm_nt(const Int8Rows& a, const Int8Rows& b, std::int32_t* c) {
  V4SIM_REQUIRE("int8_gemm_nt", a.cols == b.cols, "a and b differ in k");
  V4SIM_REQUIRE("int8_gemm_nt", a.cols <= kInt8MaxReduction,
                "k beyond the int32 range of the sums");
  const std::int64_t pieces = (b.rows + kColumnsPerPiece - 1) / kColumnsPerPiece;
  const bool vnni = use_avx512_vnni();
  detail::parallel_pieces<int>(pieces, [&](std::int64_t p, int&) {
    const std::int64_t j0 = p * kColumnsPerPiece;
    const std::int64_t j1 = std::min(b.rows, j0 + kColumnsPerPiece);
#ifdef V4SIM_VNNI_ISA
    if (vnni) return gemm_vnni(a, b, j0, j1, c);
#endif
    (void)vnni;
    gemm_portable(a, b, j0, j1, c);
  });
}

void linear_int8_forward(const Eigen::Ref<const RowMatrixXf>& x, const Int8Rows& w,
                         Eigen::Ref<RowMatrixXf> y, Cost* cost) {
  const std::int64_t T = x.rows(), in = x.cols(), out = w.rows;
  V4SIM_REQUIRE("linear_int8_forward", w.cols == in, "x and w differ in width");
  V4SIM_REQUIRE("linear_int8_forward", y.rows() == T && y.cols() == out,
                "y must be [tokens, out_features]");
  const Int8Rows xq = quantize_int8_rows(x);
  std::vector<std::int32_t> acc(static_cast<std::size_t>(T * out));
  int8_gemm_nt(xq, w, acc.data());
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t o = 0; o < out; ++o)
      y(t, o) = static_cast<float>(acc[static_cast<std::size_t>(t * out + o)]) *
                xq.scale[static_cast<std::size_t>(t)] * w.scale[static_cast<std::size_t>(o)];
  if (cost) {
    // What ran: one multiply-add per (token, input, output); the INT8 weight bytes and its fp32
    // row scales, read once; the INT8 input codes; the output written back as BF16.
    cost->flops_at(Precision::int8) += 2 * T * in * out;
    cost->read(MemClass::weights) += static_cast<std::int64_t>(w.q.size() + 4 * w.scale.size());
    cost->read(MemClass::activations) += static_cast<std::int64_t>(xq.q.size());
    cost->written(MemClass::activations) += 2 * T * out;
  }
}

}  // namespace v4sim
