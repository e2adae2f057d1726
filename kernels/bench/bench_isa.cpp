// The BF16 (AVX512_BF16) and INT8 (AVX512_VNNI) kernels against their portable paths and against
// Eigen's float32 GEMM, at the shapes the host ceilings and the suite use.
//
//   Bf16PairGemm/<n>/<isa>    C [n, n] += A B in BF16 (B packed in pairs once): the BF16 ceiling
//   Int8GemmNt/<n>/<isa>      exact int32 C = A B^T of INT8 codes: the INT8 ceiling
//   Fp32EigenGemm/<n>         Eigen float32 C = A B^T (the fp32 ceiling, this build's SIMD)
//   Bf16CoreDecode/<keys>/<isa>  V4-Pro core attention (128 heads, d 512) of one query over
//                             `keys` BF16 keys (CSA at 1M: 128 window + 1024 top-k = 1152;
//                             HCA at 1M: 128 + 8192 = 8320)
//   W8a8Linear/<tokens>/<isa> a V4-Flash expert W1 (4096 -> 2048) as W8A8
// <isa> = 1: the AVX512 path (when the CPU has it), 0: the portable path forced (PortableKernels).
// Counters: flop_per_s (ops for INT8) from the work each benchmark does; the kernels' own counts
// equal cost() (tests/kernels/isa_kernels_test.cpp).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "kernels/bf16_gemm.h"
#include "kernels/host_isa.h"
#include "kernels/int8_gemm.h"
#include "kernels/random_fill.h"
#include "kernels/rope.h"
#include "kernels/sparse_attention_forward.h"

namespace v4sim {
namespace {

std::vector<std::uint16_t> bf16_copy(const RowMatrixXf& m) {
  std::vector<std::uint16_t> b(static_cast<std::size_t>(m.size()));
  to_bf16(std::span<const float>(m.data(), b.size()), b);
  return b;
}

void flop_rate(benchmark::State& state, double flops) {
  state.counters["flop_per_s"] =
      benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}

// The portable guard for arg 0; skips arg 1 on a CPU without the instructions.
std::optional<PortableKernels> path_for(benchmark::State& state, bool isa_available) {
  if (state.range(1) == 0) return std::make_optional<PortableKernels>();
  if (!isa_available) state.SkipWithError("the CPU lacks the instructions");
  return std::nullopt;
}

void Bf16PairGemm(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const auto guard = path_for(state, host_isa().avx512_bf16);
  const auto a = bf16_copy(random_matrix(n, n, 1.0f, 1)),
             b = bf16_copy(random_matrix(n, n, 1.0f, 2));
  std::vector<const std::uint16_t*> rows;
  for (std::int64_t r = 0; r < n; ++r) rows.push_back(b.data() + r * n);
  Bf16Pairs packed;
  pack_bf16_pairs(rows.data(), n, n, packed);
  RowMatrixXf c = RowMatrixXf::Zero(n, n);
  for (auto _ : state) {
    bf16_pair_gemm(a.data(), n, n, packed, c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  flop_rate(state, 2.0 * n * n * n);
}
BENCHMARK(Bf16PairGemm)->ArgsProduct({{256, 512, 1024}, {0, 1}})->UseRealTime();

void Int8GemmNt(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const auto guard = path_for(state, host_isa().avx512_vnni);
  const Int8Rows a = quantize_int8_rows(random_matrix(n, n, 1.0f, 3));
  const Int8Rows b = quantize_int8_rows(random_matrix(n, n, 1.0f, 4));
  std::vector<std::int32_t> c(static_cast<std::size_t>(n * n));
  for (auto _ : state) {
    int8_gemm_nt(a, b, c.data());
    benchmark::DoNotOptimize(c.data());
  }
  flop_rate(state, 2.0 * n * n * n);
}
BENCHMARK(Int8GemmNt)->ArgsProduct({{256, 512, 1024}, {0, 1}})->UseRealTime();

void Fp32EigenGemm(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const RowMatrixXf a = random_matrix(n, n, 1.0f, 5), b = random_matrix(n, n, 1.0f, 6);
  RowMatrixXf c(n, n);
  for (auto _ : state) {
    c.noalias() = a * b.transpose();
    benchmark::DoNotOptimize(c.data());
  }
  flop_rate(state, 2.0 * n * n * n);
}
BENCHMARK(Fp32EigenGemm)->Arg(256)->Arg(512)->Arg(1024)->UseRealTime();

void Bf16CoreDecode(benchmark::State& state) {
  const std::int64_t keys = state.range(0), H = 128, d = 512;
  const auto guard = path_for(state, host_isa().avx512_bf16);
  const auto table = bf16_copy(random_matrix(keys, d, 1.0f, 7));
  Bf16KeySets sets;
  for (std::int64_t j = 0; j < keys; ++j) sets.add(table.data() + j * d);
  sets.end_query();
  SparseAttentionShape s;
  s.num_heads = H;
  s.compress_ratio = 4;
  s.topk = keys;
  s.start_pos = 1 << 20;
  const RopeTable rope = make_rope_table(v4_compressed_rope());
  const RowMatrixXf q = random_matrix(1, H * d, 1.0f, 8);
  const std::vector<float> sink(static_cast<std::size_t>(H), 0.0f);
  RowMatrixXf out(1, H * d);
  for (auto _ : state) {
    sparse_attention_core_bf16(s, q, sets, sink, rope, out);
    benchmark::DoNotOptimize(out.data());
  }
  flop_rate(state, 4.0 * H * d * keys);
  state.counters["key_bytes_per_s"] =
      benchmark::Counter(2.0 * d * keys, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(Bf16CoreDecode)->ArgsProduct({{1152, 8320}, {0, 1}})->UseRealTime();

void W8a8Linear(benchmark::State& state) {
  const std::int64_t tokens = state.range(0), in = 4096, out = 2048;
  const auto guard = path_for(state, host_isa().avx512_vnni);
  const RowMatrixXf x = random_matrix(tokens, in, 1.0f, 9);
  const Int8Rows w = quantize_int8_rows(random_matrix(out, in, 1.0f, 10));
  RowMatrixXf y(tokens, out);
  for (auto _ : state) {
    linear_int8_forward(x, w, y);
    benchmark::DoNotOptimize(y.data());
  }
  flop_rate(state, 2.0 * tokens * in * out);
}
BENCHMARK(W8a8Linear)->ArgsProduct({{1, 64, 512}, {0, 1}})->UseRealTime();

}  // namespace
}  // namespace v4sim
