// mHC around one sublayer at V4-Flash and V4-Pro widths (n = 4 streams, 20 Sinkhorn iterations):
//
//   Mhc/<model>/<tokens>   mappings (RMS, [24, 4D] product, pre / post, Sinkhorn), collapse and
//                          expand for 1 (decode) and 512 (prefill chunk) tokens.
//
// Counters come from cost() of the shape (kernels/mhc.h), never from the measured code:
// flop_per_s, fp8eq_flop_per_s, bytes_per_s (BF16 streams, fp32 parameters; the kernel holds the
// streams in float32, so it moves 2x the counted activation bytes).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "kernels/mhc.h"
#include "kernels/mhc_forward.h"

namespace v4sim {
namespace {

// Uniform values with standard deviation sigma from a splitmix64 stream.
RowMatrixXf random_matrix(std::int64_t rows, std::int64_t cols, double sigma, std::uint64_t seed) {
  RowMatrixXf m(rows, cols);
  const float half = static_cast<float>(1.7320508075688772 * sigma);
  std::uint64_t z = seed;
  for (Eigen::Index i = 0; i < m.size(); ++i) {
    z += 0x9E3779B97F4A7C15ull;
    std::uint64_t r = z;
    r = (r ^ (r >> 30)) * 0xBF58476D1CE4E5B9ull;
    r = (r ^ (r >> 27)) * 0x94D049BB133111EBull;
    r ^= r >> 31;
    m.data()[i] = half * (static_cast<float>(r >> 40) * 0x1p-23f - 1.0f);
  }
  return m;
}

void set_counters(benchmark::State& state, const Cost& c) {
  using benchmark::Counter;
  state.counters["flop_per_s"] =
      Counter(static_cast<double>(c.total_flops()), Counter::kIsIterationInvariantRate);
  state.counters["fp8eq_flop_per_s"] =
      Counter(c.fp8_equivalent_flops(), Counter::kIsIterationInvariantRate);
  state.counters["bytes_per_s"] =
      Counter(static_cast<double>(c.total_bytes()), Counter::kIsIterationInvariantRate);
}

void BM_Mhc(benchmark::State& state, std::int64_t hidden) {
  MhcShape s;
  s.tokens = state.range(0);
  s.hidden = hidden;
  const std::int64_t n = s.streams, rows = (2 + n) * n;
  MhcParams p;
  p.fn = random_matrix(rows, n * hidden, 1.0 / 128, 1);
  const RowMatrixXf base = random_matrix(1, rows, 1.0, 2);
  p.base.assign(base.data(), base.data() + rows);
  p.scale = {0.5f, 0.5f, 1.0f};
  const RowMatrixXf streams = random_matrix(s.tokens, n * hidden, 1.0, 3);
  const RowMatrixXf f = random_matrix(s.tokens, hidden, 1.0, 4);
  RowMatrixXf x(s.tokens, hidden), out(s.tokens, n * hidden);
  for (auto _ : state) {
    const MhcMappings m = mhc_pre(s, p, streams, x);
    mhc_expand(s, streams, f, m, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, cost(s));
}
BENCHMARK_CAPTURE(BM_Mhc, flash, 4096)
    ->Name("Mhc/flash")
    ->Arg(1)
    ->Arg(512)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Mhc, pro, 7168)
    ->Name("Mhc/pro")
    ->Arg(1)
    ->Arg(512)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace
}  // namespace v4sim
