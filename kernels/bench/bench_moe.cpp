// MoE kernels at V4-Flash widths (D 4096, expert inter 2048, 256 experts, top-6, scale 1.5).
//
//   MoeGroupedExperts/<tokens>  the routed experts of one batch, grouped per expert (gather, three
//       GEMMs per expert, scatter): tokens routed top-6 over a handful (8) of resident experts,
//       as on one expert-parallel rank of 32 that holds 256 / 32 = 8 experts. Per-expert groups are
//       about 6/8 of the batch, so 1 token runs matrix-vector products and 512 tokens runs GEMMs
//       of ~384 rows.
//   MoeRouter/<tokens>          router logits over all 256 experts (fp32 [T, 4096] x [4096, 256])
//       and the sqrt-softplus top-6 selection with bias.
//
// Counters come from cost() of the shapes each benchmark runs (kernels/moe.h), never from the
// measured code: flop_per_s (all precisions), fp8eq_flop_per_s, bytes_per_s. Bytes are those of
// the deployment formats (MXFP4 experts, BF16 router); the kernels hold float32 weights, so they
// stream ~8x (experts) / 2x (router) more weight bytes than counted.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "kernels/moe.h"
#include "kernels/moe_forward.h"

namespace v4sim {
namespace {

constexpr std::int64_t kHidden = 4096, kInter = 2048, kExperts = 256, kTopk = 6;
constexpr std::int64_t kResident = 8;  // experts on one EP-32 rank
constexpr float kRouteScale = 1.5f;

// Uniform values with standard deviation sigma from a splitmix64 stream (fast enough for the
// ~800 MB of float expert weights; statistical quality is irrelevant here).
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

// The resident experts, built once for all token counts.
const std::vector<ExpertWeights>& resident_experts() {
  static const auto experts = [] {
    std::vector<ExpertWeights> e;
    for (std::int64_t i = 0; i < kResident; ++i) {
      const std::uint64_t s = 100 + 3 * static_cast<std::uint64_t>(i);
      e.push_back({random_matrix(kInter, kHidden, 1.0 / 64, s),
                   random_matrix(kInter, kHidden, 1.0 / 64, s + 1),
                   random_matrix(kHidden, kInter, 1.0 / 45, s + 2)});
    }
    return e;
  }();
  return experts;
}

MoeShape flash_shape(std::int64_t tokens, std::int64_t experts) {
  MoeShape s;  // MXFP4 experts, FP8 compute, BF16 router in fp32 (kernels/moe.h defaults)
  s.tokens = tokens;
  s.hidden = kHidden;
  s.inter = kInter;
  s.num_experts = experts;
  s.topk = kTopk;
  s.num_shared = 0;
  return s;
}

void BM_MoeGroupedExperts(benchmark::State& state) {
  const std::int64_t tokens = state.range(0);
  const auto& experts = resident_experts();
  std::vector<const ExpertWeights*> table;
  for (const auto& e : experts) table.push_back(&e);
  MoeShape s = flash_shape(tokens, kResident);
  const RowMatrixXf x = random_matrix(tokens, kHidden, 1.0, 7);
  const RouterParams router = v4_router(kTopk, kRouteScale);
  const Routing routing = moe_route_by_score(router, random_matrix(tokens, kResident, 1.0, 8), {});
  s.experts_touched = distinct_experts(routing);
  RowMatrixXf out(tokens, kHidden);
  for (auto _ : state) {
    out.setZero();
    moe_routed_forward(s, x, routing, table, 10.0f, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, routed_cost(s));
  state.counters["experts_touched"] = static_cast<double>(s.experts_touched);
}
BENCHMARK(BM_MoeGroupedExperts)
    ->Name("MoeGroupedExperts")
    ->Arg(1)
    ->Arg(8)
    ->Arg(64)
    ->Arg(512)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_MoeRouter(benchmark::State& state) {
  const std::int64_t tokens = state.range(0);
  const MoeShape s = flash_shape(tokens, kExperts);
  const RowMatrixXf x = random_matrix(tokens, kHidden, 1.0, 9);
  const RowMatrixXf gate = random_matrix(kExperts, kHidden, 1.0 / 64, 10);
  const RowMatrixXf bias_m = random_matrix(1, kExperts, 0.1, 11);
  const std::vector<float> bias(bias_m.data(), bias_m.data() + kExperts);
  const RouterParams router = v4_router(kTopk, kRouteScale);
  RowMatrixXf logits(tokens, kExperts);
  for (auto _ : state) {
    moe_router_logits(s, x, gate, logits);
    Routing r = moe_route_by_score(router, logits, bias);
    benchmark::DoNotOptimize(r.weights.data());
  }
  set_counters(state, router_cost(s));
}
BENCHMARK(BM_MoeRouter)
    ->Name("MoeRouter")
    ->Arg(1)
    ->Arg(64)
    ->Arg(512)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace
}  // namespace v4sim
