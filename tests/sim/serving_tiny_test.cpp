// Serving on a tiny system priced by hand: tiny-v4 (tests/sim/data/tiny-v4.yaml) on two tiny
// accelerators (tiny-accelerator.yaml, tiny-system.yaml) with round figures and no measured
// tables, so every op is a roofline:
//   op_s = max(FLOPs / peak, bytes / HBM) + launch     peak 1 TFLOP/s on every path, HBM 1 TB/s,
//                                                       no derating, no ramp, launch 1 us.
// Mostly tp=1 dp=2 ep=1: each rank serves its own sequences with all four experts, so no token
// leaves its rank: no dispatch, combine or all-reduce, and overlap has nothing to hide. One case
// runs tp=2 with overlap off, where two all-reduces per layer over the one link add up by hand;
// MoE all-to-alls and the two-microbatch overlap are left to serving_test.cpp. The expected times
// below sum the op costs of the kernels' cost() functions (build_ops, routed_gate_up_cost,
// routed_down_cost) through the roofline written here, apart from sim/step_time.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "hardware/system.h"
#include "kernels/moe.h"
#include "models/model_loader.h"
#include "sim/op_list.h"
#include "sim/serving.h"

namespace v4sim {
namespace {

constexpr double kPeak = 1e12;    // FLOP/s, every path
constexpr double kHbm = 1e12;     // B/s
constexpr double kLaunch = 1e-6;  // s per kernel
constexpr std::int64_t kContext = 10;
constexpr std::int64_t kBatch = 4;  // sequences per dp group
constexpr std::int64_t kDp = 2;

std::string data(const char* file) {
  return std::string(V4SIM_TEST_DATA) + "/" + file;
}

double roofline_s(double flops, double bytes) {
  return std::max(flops / kPeak, bytes / kHbm) + kLaunch;
}

/// An op's time on a rank: `token_share` of its FLOPs and activations, `kv_share` of its KV and
/// state traffic, `weight_share` of its weights, each rounded to a whole count as a Cost holds.
double op_s(const Cost& per_sequence, double token_share, double kv_share,
            double weight_share = 1.0) {
  const auto part = [](std::int64_t v, double f) {
    return static_cast<double>(std::llround(static_cast<double>(v) * f));
  };
  double flops = 0, bytes = 0;
  for (Precision p : kAllPrecisions) flops += part(per_sequence.flops_at(p), token_share);
  for (MemClass m :
       {MemClass::weights, MemClass::kv_cache, MemClass::state, MemClass::activations}) {
    const double f = m == MemClass::weights       ? weight_share
                     : m == MemClass::activations ? token_share
                                                  : kv_share;
    bytes += part(per_sequence.read(m), f) + part(per_sequence.written(m), f);
  }
  return roofline_s(flops, bytes);
}

/// The routed experts of one MoE layer on a rank that gets `pairs` token-expert pairs and reads
/// `touched` of its four experts (BF16 weights, FP8 products): their gate/up and down GEMMs.
struct Routed {
  Cost gate_up, down;
};
Routed routed(std::int64_t pairs, std::int64_t touched) {
  MoeShape m;
  m.tokens = pairs;
  m.hidden = 16;
  m.inter = 8;
  m.num_experts = 4;
  m.topk = 1;
  m.experts_touched = touched;
  m.expert_weight = WeightFormat::bf16;
  m.expert_compute = Precision::fp8;
  return {routed_gate_up_cost(m), routed_down_cost(m)};
}

/// Split over tp (sim/serving.h): the attention (but wq_a and wkv, which the engines replicate),
/// the LM head, the shared experts; each rank reads 1/tp of their weights and the whole KV of its
/// group. The rest (wq_a, wkv, the indexer, mHC, compressors, router) is replicated and runs on
/// every token of the group.
bool tp_split(const Op& op) {
  const bool replicated_projection = op.name.ends_with("wq_a") || op.name.ends_with("wkv");
  return (op.component == OpComponent::attention_projections && !replicated_projection) ||
         op.component == OpComponent::core_attention || op.component == OpComponent::lm_head ||
         op.component == OpComponent::shared_experts;
}

/// The ops of one pass of tiny-v4 (kernels' cost()) for `seqs` sequences of the group, each
/// priced on one of `tp` ranks: a tensor-parallel op's share of the work and weights, a replicated
/// op (router, compressor, mHC) every token of the group with whole weights; routed experts at
/// the rank's pairs.
double ops_s(const ModelSpec& spec, const Pass& pass, std::int64_t seqs, bool prefill,
             const Routed& routed_layer, std::int64_t tp = 1) {
  OpOptions o;
  o.prefill = prefill;
  o.logits_for_all_tokens = !prefill;
  const double b = static_cast<double>(seqs), t = static_cast<double>(tp);
  double sum = 0;
  for (const Op& op : build_ops(spec, pass, o)) {
    if (op.component == OpComponent::routed_experts)
      sum += op_s(op.kernel.ffn_down ? routed_layer.down : routed_layer.gate_up, 1, 1);
    else if (tp_split(op))
      sum += op_s(op.cost, b / t, b, 1 / t);
    else
      sum += op_s(op.cost, b, b, 1);
  }
  return sum;
}

/// The element-wise kernels of the 4 layers (sim/elementwise.h, sim/ffn_activation.h) for T
/// tokens of the group and P token-expert pairs on the rank, each bytes / HBM + launch (above the
/// 1 us floor, the launch gap when no table gives a smallest kernel). With mHC streams (2) a norm
/// reads and writes one D = 16 wide BF16 row per token:
///   attn_norm, ffn_norm  2 x (2 x 32 T)        latent_norm  2 x (4 + 8) x 2 T = 48 T
///   ffn.topk (layers 1-3; layer 0 routes by hash)  4 x 4 T read + 8 x 2 T written = 32 T
///   shared_act  2 x 8 x 2 = 32 B read + 8 + 4 (one FP32 scale per 128) = 12 B written per token
///               (tp = 2 halves the intermediate: 2 x 4 x 2 = 16 + 4 + 4 = 24 B: `shared`)
///   routed_act  44 B per pair (the whole intermediate).
///   ffn.permute, ffn.unpermute (ep = 1: a rank permutes its own tokens' pairs around the grouped
///               GEMM, sim/moe_permutation.h): an FP8 input row with its FP32 scale read and
///               written, 2 x (16 + 4) = 40 B, and a BF16 output row read and written,
///               2 x 16 x 2 = 64 B, per pair.
/// Kernels: 4 x 7 + 3 = 31; bytes: 4 x (64 T + 64 T + 48 T + shared T + (44 + 40 + 64) P)
/// + 3 x 32 T.
double elementwise_s(std::int64_t T, std::int64_t P, double shared = 44) {
  const double t = static_cast<double>(T), p = static_cast<double>(P);
  const double bytes = 4 * (64 * t + 64 * t + 48 * t + shared * t + 148 * p) + 3 * 32 * t;
  return 31 * kLaunch + bytes / kHbm;
}

class TinySystem : public ::testing::Test {
 protected:
  ModelSpec spec = load_model(data("tiny-v4.yaml"));
  PreparedModel model = prepare(spec);
  SystemSpec system = load_system(data("tiny-system.yaml"));
  ServingConfig config;
  Workload workload;

  void SetUp() override {
    config.layout = Layout{1, kDp, 1, 1};
    config.expert_imbalance = 1.0;   // the busiest rank gets the mean: P = stage tokens x 2 / 2
    config.measured_tables = false;  // the roofline only (see MeasuredTablesDoNotApply)
    workload.phase = Phase::decode;
    workload.context_tokens = kContext;
    workload.batch = kBatch;
  }
};

TEST_F(TinySystem, FixtureReadsAsWritten) {
  const Accelerator& a = system.accelerator;
  EXPECT_EQ(system.devices_per_node, 2);
  for (ComputePath p : kAllComputePaths) EXPECT_EQ(a.peak_flops_per_s(p), kPeak);
  EXPECT_EQ(a.hbm_bytes_per_s(), kHbm);
  EXPECT_EQ(a.launch_overhead_s, kLaunch);
  EXPECT_EQ(a.compute_efficiency.max_fraction, 1.0);
  EXPECT_EQ(a.compute_efficiency.ramp_s, 0.0);
  EXPECT_EQ(a.memory_efficiency, 1.0);
}

// Decode, b = 4 sequences per rank at context 10 (pass {9, 1}): the 8 tokens of the stage make
// 8 x 2 / 2 = 8 token-expert pairs per rank; each of a rank's 4 experts sees Poisson(8 x 2 / (4 x 2
// replicas) = 2) tokens, so llround(4 x (1 - e^-2) = 3.46) = 3 are read.
// TTFT: one prompt of 10 tokens per dp group (pass {0, 10}): 20 stage tokens, 20 pairs per rank,
// Poisson(20 x 2 / 8 = 5): llround(4 x (1 - e^-5) = 3.97) = 4 experts read.
TEST_F(TinySystem, DecodeStepTpotAndTtftByHand) {
  const double step_s = ops_s(spec, {kContext - 1, 1}, kBatch, false, routed(8, 3)) +
                        elementwise_s(/*T=*/kBatch, /*P=*/8);
  const double ttft_s =
      ops_s(spec, {0, kContext}, 1, true, routed(20, 4)) + elementwise_s(/*T=*/kContext, /*P=*/20);

  const ServingResult r = predict(model, system, 1, config, workload);
  ASSERT_TRUE(r.feasible) << r.reason;
  EXPECT_EQ(r.devices, 2);
  EXPECT_EQ(r.sequences, kBatch * kDp);
  EXPECT_NEAR(r.step_s, step_s, 1e-12 * step_s);
  EXPECT_NEAR(r.tpot_s, step_s, 1e-12 * step_s);  // no MTP: one token per step
  EXPECT_NEAR(r.ttft_s, ttft_s, 1e-12 * ttft_s);
  EXPECT_EQ(r.breakdown.communication_s, 0.0);
  EXPECT_NEAR(r.throughput_tokens_per_s, 8 / step_s, 1e-12 * 8 / step_s);
  EXPECT_NEAR(r.time_sources.roofline_s, r.step_s, 1e-12 * step_s);
}

/// Kernels of a step, from its op timings (calls per step).
std::int64_t kernels(const ServingResult& r) {
  std::int64_t n = 0;
  for (const OpTiming& op : r.ops) n += op.calls;
  return n;
}

// The step is its kernel count in launch gaps plus each kernel's roofline. Kernels: layer 0 (SWA,
// hash-routed) hc_attn, wq_a, wq_b, wkv, wo_a, wo_b, core_attention, hc_ffn, router, the routed
// experts' gate-up and down and the shared expert's gate-up and down = 13; layer 2 (HCA) those
// and its compressor = 14; layers 1 and 3 (CSA) 14 and the indexer's wq_b, weights_proj,
// compressor and scoring = 18 each; hc_head and lm_head = 2; 63 + 2 = 65 ops and 31 element-wise
// kernels = 96. The rest, the sum over kernels of
// max(compute, memory), lies between the larger and the sum of the step's whole compute time
// (mfu x step) and memory time (mbu x step).
TEST_F(TinySystem, StepIsKernelsTimesLaunchPlusRoofline) {
  const ServingResult r = predict(model, system, 1, config, workload);
  ASSERT_TRUE(r.feasible) << r.reason;
  EXPECT_EQ(kernels(r), 96);
  const double roofline_part = r.step_s - 96 * kLaunch;
  const double compute_s = r.mfu * r.step_s, memory_s = r.mbu * r.step_s;
  EXPECT_GT(compute_s, 0.0);
  EXPECT_GT(memory_s, 0.0);
  EXPECT_GE(roofline_part, std::max(compute_s, memory_s) * (1 - 1e-12));
  EXPECT_LE(roofline_part, (compute_s + memory_s) * (1 + 1e-12));
}

// A batch twice as large adds only FLOPs and bytes: the same 96 kernels, and more experts read.
TEST_F(TinySystem, BatchAddsWorkNotKernels) {
  const ServingResult small = predict(model, system, 1, config, workload);
  workload.batch = 2 * kBatch;
  const ServingResult large = predict(model, system, 1, config, workload);
  ASSERT_TRUE(small.feasible && large.feasible);
  // 16 stage tokens: 16 pairs per rank, Poisson(16 x 2 / 8 = 4): llround(4 x (1 - e^-4) = 3.93)
  // = 4 experts read.
  const double step_s = ops_s(spec, {kContext - 1, 1}, 2 * kBatch, false, routed(16, 4)) +
                        elementwise_s(2 * kBatch, 16);
  EXPECT_NEAR(large.step_s, step_s, 1e-12 * step_s);
  EXPECT_EQ(kernels(large), kernels(small));
  EXPECT_GT(large.step_s, small.step_s);
}

// tp = 2 on both devices (one dp group, ep = 1 <= tp: every rank runs its experts on all the
// group's tokens, nothing is dispatched) adds two all-reduces per layer of the group's BF16
// hidden states (attention output, FFN output). Over the one 100 GB/s link with 1 us latency an
// all-reduce of B bytes is a reduce-scatter and an all-gather, each one step sending B / 2 each
// way: 2 x (1 us + B / 2 / 100 GB/s) = 2 us + B / 1e11. Overlap off: the step is compute +
// communication (the two-microbatch windows are sim/step_time.cpp's own business).
TEST_F(TinySystem, TensorParallelStepAndTtftByHand) {
  config.layout = Layout{2, 1, 1, 1};
  config.overlap = false;
  const auto all_reduces_s = [](double bytes) { return 2 * 4 * (2e-6 + bytes / 1e11); };
  // Decode b = 4: 4 stage tokens, 4 x 2 / 2 = 4 pairs per rank, Poisson(4 x 2 / (4 x 2
  // replicas) = 1): llround(4 x (1 - e^-1) = 2.53) = 3 experts read; all-reduce 4 x 16 x 2 B.
  const double step_s = ops_s(spec, {kContext - 1, 1}, kBatch, false, routed(4, 3), 2) +
                        elementwise_s(kBatch, 4, 24) + all_reduces_s(4 * 32);
  // TTFT, one prompt of 10: 10 pairs per rank, Poisson(2.5): llround(3.67) = 4; 10 x 32 B.
  const double ttft_s = ops_s(spec, {0, kContext}, 1, true, routed(10, 4), 2) +
                        elementwise_s(kContext, 10, 24) + all_reduces_s(10 * 32);

  const ServingResult r = predict(model, system, 1, config, workload);
  ASSERT_TRUE(r.feasible) << r.reason;
  EXPECT_EQ(r.sequences, kBatch);
  EXPECT_NEAR(r.breakdown.communication_s, all_reduces_s(4 * 32), 1e-12 * step_s);
  EXPECT_NEAR(r.step_s, step_s, 1e-12 * step_s);
  EXPECT_NEAR(r.tpot_s, step_s, 1e-12 * step_s);
  EXPECT_NEAR(r.ttft_s, ttft_s, 1e-12 * ttft_s);
}

// The tiny accelerator's vendor has no measured tables and no measured sibling, so asking for
// tables changes nothing: every op is still the roofline.
TEST_F(TinySystem, MeasuredTablesDoNotApply) {
  const ServingResult roofline = predict(model, system, 1, config, workload);
  config.measured_tables = true;
  const ServingResult tables = predict(model, system, 1, config, workload);
  EXPECT_EQ(tables.step_s, roofline.step_s);
  EXPECT_EQ(tables.ttft_s, roofline.ttft_s);
  EXPECT_EQ(tables.time_sources.measured_s, 0.0);
  EXPECT_EQ(tables.time_sources.transferred_s, 0.0);
}

}  // namespace
}  // namespace v4sim
