// The BF16 (AVX512_BF16) and INT8 (AVX512_VNNI) kernels: each path against a naive double
// reference on random shapes (printed seeds), the ISA path against the portable path that a host
// without the instructions runs (forced with PortableKernels), and counted work == cost().
//
// Tolerances:
//   BF16 products   every product of two BF16 values is exact in float32, so a k-long sum is off
//                   from the exact sum of the same BF16 inputs by at most k * 2^-24 * sum |a b|
//                   (float32 recursive summation); checked against that bound with k + 2.
//   BF16 attention  probabilities rounded to BF16 (2^-9 each) and renormalised: each weight off by
//                   about 2^-8 of itself, so |out - exact| <= 2^-8 max |key| plus float32 noise;
//                   checked at 2^-8 of the largest key value, measured about 2^-10 (against the
//                   exact softmax over the same BF16-rounded queries and keys).
//   FP8 weights     decode(code) * scale is exact in float32, so both decode paths give the same
//                   floats and the products the same bits; against x . dequantised W in double
//                   within the float32 summation bound (k + 2) 2^-24 sum |x w|. Quantisation:
//                   |W - dequantised| <= 2^-4 |W| + 2^-10 s per element (half an E4M3 step,
//                   normal and subnormal).
//   INT8            int32 sums are exact: equal to the double reference of the same codes, and
//                   the two paths bit for bit; the dequantised output within 2^-22 relative of
//                   acc * sx * sw in double.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernels/attention_layer_forward.h"
#include "kernels/bf16_gemm.h"
#include "kernels/fp8_linear.h"
#include "kernels/host_isa.h"
#include "kernels/int8_gemm.h"
#include "kernels/linear.h"
#include "kernels/parallel.h"
#include "kernels/quant.h"
#include "kernels/sparse_attention_forward.h"
#include "tests/kernels/reference/v4_core_attention_ref.h"
#include "tests/support/closeness.h"
#include "tests/support/random.h"

namespace v4sim {
namespace {

using test_support::SeededRng;

std::vector<std::uint16_t> bf16_of(const RowMatrixXf& m) {
  std::vector<std::uint16_t> b(static_cast<std::size_t>(m.size()));
  to_bf16(std::span<const float>(m.data(), b.size()), b);
  return b;
}

std::vector<const std::uint16_t*> row_pointers(const std::vector<std::uint16_t>& v,
                                               std::int64_t rows, std::int64_t cols) {
  std::vector<const std::uint16_t*> p;
  for (std::int64_t r = 0; r < rows; ++r) p.push_back(v.data() + r * cols);
  return p;
}

// Runs f() on the ISA path (when the CPU has it) and on the portable path.
template <class F>
auto both_paths(F f) {
  auto isa = f();
  PortableKernels portable;
  auto port = f();
  return std::pair{isa, port};
}

TEST(HostIsa, AgreesWithProcCpuinfo) {
  std::ifstream in("/proc/cpuinfo");
  std::string line, flags;
  while (std::getline(in, line))
    if (line.rfind("flags", 0) == 0) {
      flags = line + " ";
      break;
    }
  if (flags.empty()) GTEST_SKIP() << "no /proc/cpuinfo flags";
  const auto has = [&](const char* f) {
    return flags.find(std::string(" ") + f + " ") != std::string::npos;
  };
  const HostIsa& h = host_isa();
  std::printf("[isa] %s\n", h.names().c_str());
  EXPECT_EQ(h.avx2, has("avx2"));
  EXPECT_EQ(h.avx512f, has("avx512f"));
  EXPECT_EQ(h.avx512_bf16, has("avx512_bf16"));
  EXPECT_EQ(h.avx512_vnni, has("avx512_vnni"));
  EXPECT_EQ(h.avx512_vbmi, has("avx512vbmi"));
}

TEST(HostIsa, PortableGuardSelectsTheFallback) {
  {
    PortableKernels guard;
    EXPECT_FALSE(use_avx512_bf16());
    EXPECT_FALSE(use_avx512_vnni());
    EXPECT_FALSE(use_avx512());
    EXPECT_EQ(bf16_path_name(), "portable");
    EXPECT_EQ(int8_path_name(), "portable");
  }
  EXPECT_EQ(use_avx512_bf16(), host_isa().avx512_bf16 && host_isa().avx512bw);
  EXPECT_EQ(use_avx512_vnni(), host_isa().avx512_vnni && host_isa().avx512bw);
  EXPECT_EQ(use_avx512(), host_isa().avx512f && host_isa().avx512bw && host_isa().avx512vl);
}

TEST(Bf16, RoundsToNearestEven) {
  EXPECT_EQ(bf16_from_float(1.0f), 0x3F80);
  const auto from_bits = [](std::uint32_t u) {
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
  };
  EXPECT_EQ(bf16_from_float(from_bits(0x3F808000u)), 0x3F80);  // tie, even below
  EXPECT_EQ(bf16_from_float(from_bits(0x3F818000u)), 0x3F82);  // tie, even above
  EXPECT_EQ(bf16_from_float(from_bits(0x3F808001u)), 0x3F81);
  EXPECT_EQ(bf16_from_float(-2.0f), 0xC000);
  EXPECT_TRUE(std::isnan(bf16_to_float(bf16_from_float(std::nanf("")))));
  EXPECT_EQ(bf16_to_float(bf16_from_float(3.0e38f)), bf16_to_float(0x7F62));
}

TEST(Bf16, DotRowsMatchDoubleReferenceOnBothPaths) {
  SeededRng rng("bf16.dot_rows", 1501);
  struct Case {
    std::int64_t m, n, k;
  };
  // Tiles of 4 and their remainders; k below, at and across the 32-lane width.
  for (const Case c : {Case{1, 1, 1}, Case{4, 4, 32}, Case{5, 7, 33}, Case{9, 6, 512},
                       Case{3, 13, 100}, Case{8, 8, 31}}) {
    SCOPED_TRACE(::testing::Message() << c.m << "x" << c.n << "x" << c.k);
    const auto a = bf16_of(rng.normal(c.m, c.k)), b = bf16_of(rng.normal(c.n, c.k));
    const auto ar = row_pointers(a, c.m, c.k), br = row_pointers(b, c.n, c.k);
    const auto run = [&] {
      std::vector<float> out(static_cast<std::size_t>(c.m * c.n));
      bf16_dot_rows(ar.data(), c.m, br.data(), c.n, c.k, out.data(), c.n);
      return out;
    };
    const auto [isa, port] = both_paths(run);
    double worst = 0;
    for (std::int64_t i = 0; i < c.m; ++i)
      for (std::int64_t j = 0; j < c.n; ++j) {
        double exact = 0, mag = 0;
        for (std::int64_t t = 0; t < c.k; ++t) {
          const double p = double(bf16_to_float(ar[i][t])) * bf16_to_float(br[j][t]);
          exact += p;
          mag += std::fabs(p);
        }
        const double bound = double(c.k + 2) * std::ldexp(1.0, -24) * mag;
        const std::size_t at = static_cast<std::size_t>(i * c.n + j);
        EXPECT_LE(std::fabs(isa[at] - exact), bound);
        EXPECT_LE(std::fabs(port[at] - exact), bound);
        worst = std::max(worst, std::fabs(isa[at] - exact) / std::max(bound, 1e-300));
      }
    std::printf("[error] worst |isa - exact| / bound: %.3g\n", worst);
  }
}

TEST(Bf16, PairGemmAccumulatesLikeDoubleReferenceOnBothPaths) {
  SeededRng rng("bf16.pair_gemm", 1502);
  struct Case {
    std::int64_t m, k, n;
  };
  // m not a multiple of 4, odd k (the zero pair row), n not a multiple of 16 or 64.
  for (const Case c :
       {Case{1, 1, 1}, Case{4, 2, 16}, Case{6, 7, 70}, Case{9, 128, 512}, Case{3, 33, 130}}) {
    SCOPED_TRACE(::testing::Message() << c.m << "x" << c.k << "x" << c.n);
    const auto a = bf16_of(rng.normal(c.m, c.k)), b = bf16_of(rng.normal(c.k, c.n));
    const RowMatrixXf c0 = rng.normal(c.m, c.n);
    Bf16Pairs packed;
    pack_bf16_pairs(row_pointers(b, c.k, c.n).data(), c.k, c.n, packed);
    const auto run = [&] {
      RowMatrixXf out = c0;
      bf16_pair_gemm(a.data(), c.k, c.m, packed, out.data(), c.n);
      return out;
    };
    const auto [isa, port] = both_paths(run);
    for (std::int64_t i = 0; i < c.m; ++i)
      for (std::int64_t j = 0; j < c.n; ++j) {
        double exact = c0(i, j), mag = std::fabs(c0(i, j));
        for (std::int64_t t = 0; t < c.k; ++t) {
          const double p = double(bf16_to_float(a[static_cast<std::size_t>(i * c.k + t)])) *
                           bf16_to_float(b[static_cast<std::size_t>(t * c.n + j)]);
          exact += p;
          mag += std::fabs(p);
        }
        const double bound = double(c.k + 2) * std::ldexp(1.0, -24) * mag;
        EXPECT_LE(std::fabs(isa(i, j) - exact), bound) << i << "," << j;
        EXPECT_LE(std::fabs(port(i, j) - exact), bound) << i << "," << j;
      }
  }
}

// The model's key sets of a decode or a chunk: window ring, chunk entries and a selection.
struct CoreCase {
  SparseAttentionShape shape;
  WindowRing ring;
  EntryTable compressed;
  RowMatrixXf chunk_kv, q;
  EntrySelection selection;
  std::vector<float> sink;
};

CoreCase make_core_case(SeededRng& rng, std::int64_t heads, std::int64_t ratio, std::int64_t topk,
                        std::int64_t start, std::int64_t tokens) {
  CoreCase c;
  SparseAttentionShape& s = c.shape;
  s.num_heads = heads;
  s.compress_ratio = ratio;
  s.topk = topk;
  s.start_pos = start;
  s.num_tokens = tokens;
  c.ring = WindowRing(s.window, s.head_dim);
  for (std::int64_t p = std::max<std::int64_t>(0, start - s.window); p < start; ++p) {
    c.ring.length = p;
    const RowMatrixXf e = rng.normal(1, s.head_dim);
    c.ring.append(std::span<const float>(e.data(), static_cast<std::size_t>(s.head_dim)));
  }
  c.ring.length = start;
  c.compressed = EntryTable(s.head_dim);
  const std::int64_t n = ratio > 0 ? (start + tokens) / ratio : 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const RowMatrixXf e = rng.normal(1, s.head_dim);
    c.compressed.append(std::span<const float>(e.data(), static_cast<std::size_t>(s.head_dim)));
  }
  c.chunk_kv = rng.normal(tokens, s.head_dim);
  c.q = rng.normal(tokens, heads * s.head_dim, 3.0);  // logits spread over a few units
  for (std::int64_t i = 0; i < tokens; ++i) {
    const std::int64_t visible = ratio > 0 ? (start + i + 1) / ratio : 0;
    const std::int64_t take = topk > 0 ? std::min(visible, topk) : visible;
    for (std::int64_t j = 0; j < take; ++j)
      c.selection.indices.push_back(topk > 0 ? rng.uniform_int(0, visible - 1) : j);
    c.selection.offsets.push_back(static_cast<std::int64_t>(c.selection.indices.size()));
  }
  const RowMatrixXf sk = rng.normal(1, heads);
  c.sink.assign(sk.data(), sk.data() + heads);
  return c;
}

struct Bf16Run {
  RowMatrixXf out;
  Cost counted;
};

Bf16Run run_bf16_core(const CoreCase& c, RowMatrixXf* q_used = nullptr,
                      std::vector<std::vector<Eigen::VectorXd>>* keys_used = nullptr) {
  const SparseAttentionShape& s = c.shape;
  const bool compressed = s.compress_ratio > 0;
  const KeySets keys = model_key_sets(s, c.ring, c.chunk_kv, compressed ? &c.compressed : nullptr,
                                      compressed ? &c.selection : nullptr);
  Bf16KeyCopies copies(s.head_dim);
  copies.add(c.ring.slots.data(), c.ring.slots.rows());
  copies.add(c.compressed.data.data(), c.compressed.rows);
  copies.add(c.chunk_kv.data(), c.chunk_kv.rows());
  const Bf16KeySets bkeys = copies.key_sets(keys);
  Bf16Run r;
  r.out.resize(s.num_tokens, s.num_heads * s.head_dim);
  sparse_attention_core_bf16(s, c.q, bkeys, c.sink, make_rope_table(v4_compressed_rope()), r.out,
                             &r.counted);
  if (q_used) {
    *q_used = c.q;
    for (Eigen::Index i = 0; i < q_used->size(); ++i)
      q_used->data()[i] = bf16_to_float(bf16_from_float(q_used->data()[i]));
  }
  if (keys_used) {
    keys_used->clear();
    for (std::int64_t i = 0; i < s.num_tokens; ++i) {
      keys_used->emplace_back();
      for (std::int64_t j = bkeys.offsets[i]; j < bkeys.offsets[i + 1]; ++j) {
        Eigen::VectorXd k(s.head_dim);
        for (std::int64_t t = 0; t < s.head_dim; ++t) k(t) = bf16_to_float(bkeys.rows[j][t]);
        keys_used->back().push_back(k);
      }
    }
  }
  return r;
}

TEST(Bf16Attention, MatchesDoubleReferenceAndCountsCostOnBothPaths) {
  SeededRng rng("bf16.core", 1503);
  const RopeTable rope = make_rope_table(v4_compressed_rope());
  struct Case {
    std::int64_t heads, ratio, topk, start, tokens;
  };
  // Window-only, CSA (top-k below and above the visible count) and HCA; decode (many pieces at
  // 1100 keys) and prefill chunks; t below the window; odd key counts (a zero pair row).
  const std::vector<Case> cases = {
      {4, 0, 0, 0, 1},  {8, 0, 0, 5, 3},      {16, 4, 64, 41, 1},    {4, 4, 1024, 4001, 1},
      {8, 4, 8, 37, 5}, {64, 128, 0, 300, 1}, {4, 128, 0, 70000, 1}, {128, 4, 512, 2790, 1}};
  for (const Case& k : cases) {
    SCOPED_TRACE(::testing::Message() << "H " << k.heads << " ratio " << k.ratio << " k " << k.topk
                                      << " start " << k.start << " T " << k.tokens);
    const CoreCase c = make_core_case(rng, k.heads, k.ratio, k.topk, k.start, k.tokens);
    RowMatrixXf q_bf16;
    std::vector<std::vector<Eigen::VectorXd>> keys;
    const Bf16Run isa = run_bf16_core(c, &q_bf16, &keys);
    Bf16Run port;
    {
      PortableKernels guard;
      port = run_bf16_core(c);
    }
    EXPECT_EQ(isa.counted, cost(c.shape));
    EXPECT_EQ(port.counted, cost(c.shape));
    double key_max = 0;
    for (const auto& ks : keys)
      for (const auto& kv : ks) key_max = std::max(key_max, kv.cwiseAbs().maxCoeff());
    const std::vector<double> sink(c.sink.begin(), c.sink.end());
    double worst_isa = 0, worst_port = 0;
    for (std::int64_t i = 0; i < c.shape.num_tokens; ++i) {
      const Eigen::VectorXd ref = reference::core_attention_ref(
          q_bf16.row(i).transpose().cast<double>(), keys[static_cast<std::size_t>(i)], sink,
          c.shape.start_pos + i, rope.frequencies);
      worst_isa = std::max(worst_isa,
                           (isa.out.row(i).transpose().cast<double>() - ref).cwiseAbs().maxCoeff());
      worst_port = std::max(
          worst_port, (port.out.row(i).transpose().cast<double>() - ref).cwiseAbs().maxCoeff());
    }
    std::printf("[error] bf16 core / max|key|: isa %.3g, portable %.3g (tolerance 2^-8)\n",
                worst_isa / key_max, worst_port / key_max);
    EXPECT_LE(worst_isa, std::ldexp(key_max, -8));
    EXPECT_LE(worst_port, std::ldexp(key_max, -8));
  }
}

TEST(Bf16Attention, KeyCopiesRejectForeignRows) {
  Bf16KeyCopies copies(4);
  const std::vector<float> table(8, 1.0f), other(4, 2.0f);
  copies.add(table.data(), 2);
  KeySets keys;
  keys.add(table.data() + 4);
  keys.end_query();
  EXPECT_EQ(copies.key_sets(keys).rows[0][0], bf16_from_float(1.0f));
  keys.add(other.data());
  keys.end_query();
  EXPECT_THROW(copies.key_sets(keys), std::invalid_argument);
}

TEST(Int8, GemmIsExactOnBothPaths) {
  SeededRng rng("int8.gemm", 1504);
  struct Case {
    std::int64_t m, n, k;
  };
  for (const Case c :
       {Case{1, 1, 1}, Case{4, 4, 64}, Case{5, 67, 65}, Case{9, 130, 1000}, Case{3, 5, 63}}) {
    SCOPED_TRACE(::testing::Message() << c.m << "x" << c.n << "x" << c.k);
    const Int8Rows a = quantize_int8_rows(rng.normal(c.m, c.k));
    const Int8Rows b = quantize_int8_rows(rng.normal(c.n, c.k));
    const auto run = [&] {
      std::vector<std::int32_t> out(static_cast<std::size_t>(c.m * c.n));
      int8_gemm_nt(a, b, out.data());
      return out;
    };
    const auto [isa, port] = both_paths(run);
    EXPECT_EQ(isa, port);
    for (std::int64_t i = 0; i < c.m; ++i)
      for (std::int64_t j = 0; j < c.n; ++j) {
        double exact = 0;
        for (std::int64_t t = 0; t < c.k; ++t)
          exact += double(a.q[static_cast<std::size_t>(i * c.k + t)]) *
                   double(b.q[static_cast<std::size_t>(j * c.k + t)]);
        EXPECT_EQ(double(isa[static_cast<std::size_t>(i * c.n + j)]), exact);
      }
  }
}

TEST(Int8, ExtremeCodesDoNotOverflow) {
  // All codes at +-127 over a long reduction: the unsigned offset (x + 128 up to 255) must not
  // wrap the int32 lanes.
  RowMatrixXf x = RowMatrixXf::Constant(2, 4096, -1.0f), w = RowMatrixXf::Constant(3, 4096, 1.0f);
  x(1, 0) = 1.0f;
  const Int8Rows a = quantize_int8_rows(x), b = quantize_int8_rows(w);
  std::vector<std::int32_t> c(6);
  int8_gemm_nt(a, b, c.data());
  EXPECT_EQ(c[0], -127 * 127 * 4096);
  EXPECT_EQ(c[3], -127 * 127 * 4094);
}

TEST(Int8, LinearMatchesReferenceAndCountsCost) {
  SeededRng rng("int8.linear", 1505);
  for (std::int64_t tokens : {1, 7, 64}) {
    SCOPED_TRACE(::testing::Message() << "tokens " << tokens);
    const std::int64_t in = 300, out = 90;
    const RowMatrixXf x = rng.normal(tokens, in), wf = rng.normal(out, in, 0.05);
    RowMatrixXf x_zero_row = x;
    x_zero_row.row(0).setZero();  // a zero token: scale 1, codes 0, output 0
    const Int8Rows w = quantize_int8_rows(wf);
    const auto run = [&] {
      Bf16Run r;  // out and counted
      r.out.resize(tokens, out);
      linear_int8_forward(x_zero_row, w, r.out, &r.counted);
      return r;
    };
    const auto [isa, port] = both_paths(run);
    EXPECT_TRUE(std::memcmp(isa.out.data(), port.out.data(),
                            sizeof(float) * static_cast<std::size_t>(isa.out.size())) == 0);
    EXPECT_EQ(isa.counted,
              cost(LinearShape{tokens, in, out, 1, WeightFormat::int8_channel, Precision::int8}));
    const Int8Rows xq = quantize_int8_rows(x_zero_row);
    double worst = 0, worst_float = 0, float_bound = 0;
    for (std::int64_t t = 0; t < tokens; ++t)
      for (std::int64_t o = 0; o < out; ++o) {
        double acc = 0, exact = 0, mag = 0;
        for (std::int64_t i = 0; i < in; ++i) {
          acc += double(xq.q[static_cast<std::size_t>(t * in + i)]) *
                 double(w.q[static_cast<std::size_t>(o * in + i)]);
          exact += double(x_zero_row(t, i)) * wf(o, i);
          mag += std::fabs(double(x_zero_row(t, i))) * std::fabs(double(wf(o, i)));
        }
        const double ref =
            acc * xq.scale[static_cast<std::size_t>(t)] * w.scale[static_cast<std::size_t>(o)];
        worst = std::max(worst, std::fabs(isa.out(t, o) - ref) / std::max(std::fabs(ref), 1e-30));
        // Quantisation: each code is off by at most half a step (s / 2), so each product by at
        // most (sx |w| + sw |x|) / 2 + sx sw / 4, summed over the reduction.
        const double sx = xq.scale[static_cast<std::size_t>(t)],
                     sw = w.scale[static_cast<std::size_t>(o)];
        double bound = 0;
        for (std::int64_t i = 0; i < in; ++i)
          bound +=
              0.5 * (sx * std::fabs(wf(o, i)) + sw * std::fabs(x_zero_row(t, i))) + 0.25 * sx * sw;
        EXPECT_LE(std::fabs(isa.out(t, o) - exact), bound + 1e-6 * mag);
        worst_float = std::max(worst_float, std::fabs(isa.out(t, o) - exact));
        float_bound = std::max(float_bound, bound);
      }
    std::printf(
        "[error] int8 linear vs dequantised reference (relative): %.3g; vs float: %.3g "
        "(largest bound %.3g)\n",
        worst, worst_float, float_bound);
    EXPECT_LE(worst, std::ldexp(1.0, -22));
    EXPECT_TRUE(isa.out.row(0).isZero(0));
  }
}

TEST(Fp8Weights, QuantisationStaysWithinHalfAStep) {
  SeededRng rng("fp8.quantise", 1506);
  const RowMatrixXf w = rng.normal(300, 200, 0.02);
  const Fp8Weight q = quantize_fp8_weight(w);
  EXPECT_EQ(q.scales.size(), 3u * 2u);
  const RowMatrixXf d = dequantize(q);
  for (Eigen::Index r = 0; r < w.rows(); ++r)
    for (Eigen::Index c = 0; c < w.cols(); ++c)
      EXPECT_LE(std::fabs(d(r, c) - w(r, c)),
                std::ldexp(std::fabs(w(r, c)), -4) + std::ldexp(q.scale(r, c), -10))
          << r << "," << c;
}

TEST(Fp8Weights, ProjectionMatchesDoubleReferenceAndPathsAgreeBitForBit) {
  SeededRng rng("fp8.project", 1507);
  struct Case {
    std::int64_t tokens, in, out;
  };
  // Rows not a multiple of the 16-row tile or the 256-row piece; columns not a multiple of 128
  // or 16 (the decode's table tail); a decode's last block of 44 (32 + 12 masked) and 48 (32 +
  // 16) columns.
  for (const Case k :
       {Case{1, 300, 270}, Case{5, 128, 16}, Case{1, 7, 3}, Case{3, 1000, 513}, Case{1, 176, 9}}) {
    SCOPED_TRACE(::testing::Message() << k.tokens << " x " << k.in << " -> " << k.out);
    const RowMatrixXf x = rng.normal(k.tokens, k.in), w = rng.normal(k.out, k.in, 0.05);
    const Fp8Weight q = quantize_fp8_weight(w);
    const auto run = [&] {
      RowMatrixXf y;
      fp8_project_rows(x, q, y);
      return y;
    };
    const auto [isa, port] = both_paths(run);
    ASSERT_EQ(isa.rows(), k.tokens);
    ASSERT_EQ(isa.cols(), k.out);
    EXPECT_TRUE(std::memcmp(isa.data(), port.data(), sizeof(float) * std::size_t(isa.size())) == 0);
    const Eigen::MatrixXd exact = x.cast<double>() * dequantize(q).cast<double>().transpose();
    const Eigen::MatrixXd mag =
        x.cast<double>().cwiseAbs() * dequantize(q).cast<double>().cwiseAbs().transpose();
    for (Eigen::Index t = 0; t < exact.rows(); ++t)
      for (Eigen::Index o = 0; o < exact.cols(); ++o)
        EXPECT_LE(std::fabs(isa(t, o) - exact(t, o)),
                  double(k.in + 2) * std::ldexp(1.0, -24) * mag(t, o));
  }
}

// Codes drawn directly (not through quantisation): a share of them with exponent 0 (subnormals
// and zeros, which the one-token AVX-512 decode sends to its FP16 conversion) and the rest any
// normal code; scales any power of two from 2^-20 to 2^5. Shapes with row counts off the 4-row
// groups, the 128-row scale blocks and the 256-row pieces, and column counts off the 32-column
// groups and the 128-column blocks. Each path against the other bit for bit and against the
// double reference within the float32 summation bound (k + 2) 2^-24 sum |x w|.
Fp8Weight random_codes(SeededRng& rng, std::int64_t rows, std::int64_t cols,
                       double subnormal_share) {
  Fp8Weight w;
  w.rows = rows;
  w.cols = cols;
  w.codes.resize(static_cast<std::size_t>(rows * cols));
  std::bernoulli_distribution subnormal(subnormal_share);
  for (std::uint8_t& c : w.codes) {
    const auto sign = static_cast<std::uint8_t>(rng.uniform_int(0, 1) << 7);
    c = subnormal(rng.gen()) ? static_cast<std::uint8_t>(sign | rng.uniform_int(0, 7))
                             : static_cast<std::uint8_t>(sign | rng.uniform_int(8, 0x7E));
  }
  w.scales.resize(static_cast<std::size_t>(((rows + 127) / 128) * ((cols + 127) / 128)));
  for (float& s : w.scales) s = std::ldexp(1.0f, static_cast<int>(rng.uniform_int(-20, 5)));
  return w;
}

TEST(Fp8Weights, OneTokenProjectionOverAnyCodesAgreesAcrossPathsAndWithDouble) {
  SeededRng rng("fp8.gemv_codes", 1510);
  struct Case {
    std::int64_t rows, cols;
    double subnormal_share;
  };
  for (const Case k :
       {Case{1, 1, 0.5}, Case{3, 31, 0.0}, Case{5, 33, 0.02}, Case{9, 64, 0.0}, Case{4, 95, 0.3},
        Case{7, 128, 0.01}, Case{13, 129, 1.0}, Case{6, 200, 0.001}, Case{17, 1000, 0.05},
        Case{258, 300, 0.002}, Case{131, 4096, 0.0005}}) {
    SCOPED_TRACE(::testing::Message()
                 << k.rows << " x " << k.cols << ", exponent-0 share " << k.subnormal_share);
    const Fp8Weight w = random_codes(rng, k.rows, k.cols, k.subnormal_share);
    const RowMatrixXf x = rng.normal(1, k.cols);
    const auto [isa, port] = both_paths([&] {
      RowMatrixXf y;
      fp8_project_rows(x, w, y);
      return y;
    });
    ASSERT_EQ(isa.cols(), k.rows);
    EXPECT_TRUE(std::memcmp(isa.data(), port.data(), sizeof(float) * std::size_t(isa.size())) == 0);
    const Eigen::MatrixXd d = dequantize(w).cast<double>();
    const Eigen::VectorXd exact = d * x.cast<double>().transpose();
    const Eigen::VectorXd mag = d.cwiseAbs() * x.cast<double>().cwiseAbs().transpose();
    for (Eigen::Index o = 0; o < exact.size(); ++o)
      EXPECT_LE(std::fabs(isa(0, o) - exact(o)), double(k.cols + 2) * std::ldexp(1.0, -24) * mag(o))
          << "row " << o;
  }
}

// Every code but the two NaNs, at a shuffled column of one 256-wide row (a second row holds the
// same codes in reverse, so both rows of a 4-row group differ): multiplied by a one-hot x, each
// output is the code's E4M3 value times the scale, exactly, on both paths.
TEST(Fp8Weights, OneTokenProjectionDecodesEveryCodeExactly) {
  SeededRng rng("fp8.gemv_every_code", 1511);
  Fp8Weight w;
  w.rows = 2;
  w.cols = 256;
  std::vector<std::uint8_t> codes;
  for (int c = 0; c < 256; ++c)
    if ((c & 0x7F) != 0x7F) codes.push_back(static_cast<std::uint8_t>(c));
  codes.push_back(0x00);
  codes.push_back(0x80);
  std::shuffle(codes.begin(), codes.end(), rng.gen());
  w.codes = codes;
  w.codes.insert(w.codes.end(), codes.rbegin(), codes.rend());
  w.scales = {0.25f, 8.0f};
  for (const bool portable : {false, true}) {
    std::unique_ptr<PortableKernels> guard;
    if (portable) guard = std::make_unique<PortableKernels>();
    for (std::int64_t j = 0; j < w.cols; ++j) {
      RowMatrixXf x = RowMatrixXf::Zero(1, w.cols), y;
      x(0, j) = 3.0f;
      fp8_project_rows(x, w, y);
      const std::uint8_t first = w.codes[static_cast<std::size_t>(j)];
      const std::uint8_t second = w.codes[static_cast<std::size_t>(w.cols + j)];
      EXPECT_EQ(y(0, 0), fp8_e4m3_decode(first) * w.scale(0, j) * 3.0f)
          << "code " << int(first) << (portable ? " portable" : " isa");
      EXPECT_EQ(y(0, 1), fp8_e4m3_decode(second) * w.scale(1, j) * 3.0f)
          << "code " << int(second) << (portable ? " portable" : " isa");
    }
  }
}

TEST(Fp8Weights, GroupedProjectionCountsItsCost) {
  SeededRng rng("fp8.grouped", 1508);
  const std::int64_t tokens = 2, in = 512, out = 192, groups = 4;  // 48 rows per group
  const RowMatrixXf x = rng.normal(tokens, in), w = rng.normal(out, in / groups, 0.05);
  const Fp8Weight q = quantize_fp8_weight(w);
  RowMatrixXf y;
  Cost counted;
  linear_fp8_forward(x, q, groups, Precision::fp8, y, &counted);
  EXPECT_EQ(counted, cost(LinearShape{tokens, in, out, groups, WeightFormat::fp8_block128_ue8m0,
                                      Precision::fp8}));
  const RowMatrixXf d = dequantize(q);
  for (std::int64_t g = 0; g < groups; ++g) {
    const RowMatrixXf ref = x.middleCols(g * in / groups, in / groups) *
                            d.middleRows(g * out / groups, out / groups).transpose();
    EXPECT_TRUE(test_support::relatively_close(
        "fp8 group vs dequantised float", y.middleCols(g * out / groups, out / groups), ref, 1e-5))
        << "group " << g;
  }
}

TEST(Fp8Weights, LayerOnFp8ProjectionsCountsCostAndEqualsTheDequantisedLayer) {
  SeededRng rng("fp8.layer", 1509);
  AttentionLayerShape s;
  s.kind = AttentionLayerKind::csa;
  s.hidden = 256;
  s.num_heads = 4;
  s.q_lora_rank = 64;
  s.o_groups = 2;
  s.o_lora_rank = 32;
  s.topk = 8;
  s.indexer_heads = 4;
  s.start_pos = 301;
  AttentionLayerWeights w = random_layer_weights(s, 77);
  with_fp8_projections(w);
  const RowMatrixXf x = rng.normal(1, s.hidden);
  AttentionLayerCache cache = random_layer_cache(s, s.start_pos, 78);
  const AttentionLayerCache start = cache;
  Cost counted;
  const RowMatrixXf y = attention_layer_forward(s, w, {}, x, cache, &counted);
  EXPECT_EQ(counted, cost(s));
  // The same layer on float32 weights equal to the dequantised FP8 ones: the same function.
  AttentionLayerWeights d = w;
  d.fp8.reset();
  d.wq_a = dequantize(w.fp8->wq_a);
  d.wq_b = dequantize(w.fp8->wq_b);
  d.wkv = dequantize(w.fp8->wkv);
  d.wo_a = dequantize(w.fp8->wo_a);
  d.wo_b = dequantize(w.fp8->wo_b);
  AttentionLayerCache cache2 = start;
  const RowMatrixXf y2 = attention_layer_forward(s, d, {}, x, cache2);
  EXPECT_TRUE(test_support::relatively_close("layer fp8 vs dequantised float", y, y2, 1e-5));
}

}  // namespace
}  // namespace v4sim
