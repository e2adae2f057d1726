// The serving engine: hand-checkable capacity, and the properties a demanding user relies on.
#include <gtest/gtest.h>

#include <cmath>

#include "hardware/perf_model.h"
#include "hardware/system.h"
#include "kernels/linear.h"
#include "models/config/input_error.h"
#include "models/model_loader.h"
#include "sim/activation_quant.h"
#include "sim/economics.h"
#include "sim/exchange_quant.h"
#include "sim/mla_key_assembly.h"
#include "sim/moe_permutation.h"
#include "sim/optimize.h"
#include "sim/serving.h"
#include "sim/weight_sums.h"

namespace v4sim {
namespace {

struct Fixture {
  PreparedModel flash = prepare(load_model("deepseek-v4-flash"));
  SystemSpec h200 = load_system("hgx-h200");
};

Workload decode(std::int64_t context, std::int64_t batch = 0) {
  Workload w;
  w.phase = Phase::decode;
  w.context_tokens = context;
  w.batch = batch;
  return w;
}

ServingConfig full_ep(std::int64_t devices) {
  ServingConfig c;
  c.layout = Layout{1, devices, 1, devices};
  return c;
}

TEST(Serving, WeightsPerRankByHand) {
  // Flash on 8 ranks with ep = 8: each rank holds 256 / 8 = 32 of every layer's routed experts and
  // a full copy of everything else (tp = 1). MTP is off, so its block is not loaded.
  Fixture f;
  const ServingResult r = predict(f.flash, f.h200, 1, full_ep(8), decode(4096, 1));
  const ParamTotals& p = f.flash.params;
  const double routed =
      static_cast<double>(p.bytes[static_cast<int>(ParamComponent::routed_experts)]);
  const double expected = static_cast<double>(p.weight_bytes) - routed + routed / 8.0;
  EXPECT_NEAR(r.memory.weights_bytes, expected, 1.0);
  // Usable HBM: 141 GB x (1 - 10% reserved).
  EXPECT_DOUBLE_EQ(r.memory.capacity_bytes, 141e9 * 0.9);
  // KV per rank = batch x KV per sequence (pp = 1, whole model on the rank).
  EXPECT_DOUBLE_EQ(r.memory.kv_bytes, r.memory.kv_bytes_per_sequence);
}

// Expert parallelism wider than the routed experts (CloudMatrix-Infer's EP320 over DeepSeek's 256):
// every rank holds one routed expert of each MoE layer, the slots beyond the 256 hold copies, and
// the step is priced like any other (the busiest rank's pairs are the mean times the imbalance).
TEST(Serving, ExpertParallelismWiderThanTheExpertsHoldsOneExpertPerRank) {
  const PreparedModel v3 = prepare(load_model("deepseek-v3"));
  const SystemSpec cm384 = load_system("cloudmatrix384");
  ServingConfig c;
  c.layout = Layout{1, 320, 1, 320};
  c.devices = 320;
  const ServingResult wide = predict(v3, cm384, 48, c, decode(4096, 32));
  ASSERT_TRUE(wide.feasible) << wide.reason;
  const double routed =
      static_cast<double>(v3.params.bytes[static_cast<int>(ParamComponent::routed_experts)]);
  const double others = static_cast<double>(v3.params.weight_bytes) - routed;
  EXPECT_NEAR(wide.memory.weights_bytes, others + routed / 256.0, 1.0);
  // Fewer routed weights per rank than at EP256 (one expert either way), the same pairs per rank
  // up to the ranks' count: a rank's step is no slower than on 256 ranks.
  c.layout = Layout{1, 256, 1, 256};
  c.devices = 256;
  const ServingResult narrow = predict(v3, cm384, 48, c, decode(4096, 32));
  ASSERT_TRUE(narrow.feasible) << narrow.reason;
  EXPECT_NEAR(narrow.memory.weights_bytes, wide.memory.weights_bytes, 1.0);
  EXPECT_LE(wide.breakdown.moe_s, narrow.breakdown.moe_s * (1.0 + 1e-9));
}

TEST(Serving, LargestBatchFillsMemory) {
  Fixture f;
  const ServingResult r = predict(f.flash, f.h200, 1, full_ep(8), decode(131072));
  ASSERT_TRUE(r.feasible) << r.reason;
  EXPECT_GE(r.memory.free_bytes(), 0);
  // One more sequence would not fit: its KV and activations exceed what is left.
  const ServingResult more = predict(f.flash, f.h200, 1, full_ep(8), decode(131072, r.batch + 1));
  EXPECT_FALSE(more.feasible);
  EXPECT_EQ(more.why, Infeasible::memory) << more.reason;
  EXPECT_NE(more.reason.find("exceed"), std::string::npos) << more.reason;
  EXPECT_EQ(r.why, Infeasible::none);
}

TEST(Serving, ThroughputTimesTimeIsTokens) {
  Fixture f;
  const ServingResult r = predict(f.flash, f.h200, 1, full_ep(8), decode(32768, 64));
  ASSERT_TRUE(r.feasible) << r.reason;
  // Every sequence emits one token per TPOT.
  EXPECT_NEAR(r.throughput_tokens_per_s * r.tpot_s, static_cast<double>(r.sequences), 1e-6);
  EXPECT_NEAR(r.throughput_tokens_per_s_per_device * r.devices, r.throughput_tokens_per_s, 1e-6);
  EXPECT_EQ(r.sequences, 64 * 8);
  EXPECT_GT(r.mfu, 0);
  EXPECT_LE(r.mfu, 1.0);
  EXPECT_GT(r.mbu, 0);
  EXPECT_LE(r.mbu, 1.0);
}

TEST(Serving, MoreHbmNeverLowersTheFeasibleBatch) {
  Fixture f;
  std::int64_t last = 0;
  for (double gb : {80.0, 96.0, 141.0, 192.0, 288.0}) {
    SystemSpec s = f.h200;
    s.accelerator.hbm_capacity_gb = Range::exactly(gb);
    const std::int64_t b = max_batch_that_fits(f.flash, s, 1, full_ep(8), decode(65536));
    EXPECT_GE(b, last) << gb;
    last = b;
  }
  EXPECT_GT(last, 0);
}

TEST(Serving, MoreBandwidthNeverSlowsAStep) {
  Fixture f;
  double last = 1e30;
  for (double tb : {2.0, 3.35, 4.8, 8.0}) {
    SystemSpec s = f.h200;
    s.accelerator.hbm_bandwidth_tb_per_s = Range::exactly(tb);
    const ServingResult r = predict(f.flash, s, 1, full_ep(8), decode(65536, 32));
    ASSERT_TRUE(r.feasible) << r.reason;
    EXPECT_LE(r.step_s, last) << tb;
    last = r.step_s;
  }
}

TEST(Serving, LongerContextNeverLowersCostPerOutputToken) {
  Fixture f;
  const DeviceHour hour = device_hour(f.h200, 1, PriceAssumptions{});
  double last = 0;
  for (std::int64_t n : {4096, 16384, 65536, 262144, 1048576}) {
    const ServingResult r = predict(f.flash, f.h200, 1, full_ep(8), decode(n));
    ASSERT_TRUE(r.feasible) << n << ": " << r.reason;
    const double usd =
        usd_per_million_tokens(hour.usd_per_hour, r.throughput_tokens_per_s_per_device);
    EXPECT_GE(usd, last) << n;
    last = usd;
  }
}

TEST(Serving, InfeasibleLayoutsSayWhy) {
  Fixture f;
  ServingConfig c;
  c.layout = Layout{1, 16, 1, 16};  // 16 ranks on an 8-GPU node
  const ServingResult r = predict(f.flash, f.h200, 1, c, decode(4096));
  EXPECT_FALSE(r.feasible);
  EXPECT_EQ(r.why, Infeasible::layout);
  EXPECT_NE(r.reason.find("16 devices"), std::string::npos) << r.reason;
  c.layout = Layout{3, 1, 1, 3};
  EXPECT_FALSE(predict(f.flash, f.h200, 1, c, decode(4096)).feasible);
  // V3.2's KV at 160K does not leave room on one 80 GB H800 node's ranks for many sequences, and a
  // 1-rank slice of the weights cannot hold V4-Pro at all:
  const PreparedModel pro = prepare(load_model("deepseek-v4-pro"));
  const ServingResult one = predict(pro, f.h200, 1, full_ep(8), decode(4096));
  EXPECT_FALSE(one.feasible);
  EXPECT_EQ(one.why, Infeasible::memory);
  EXPECT_NE(one.reason.find("usable HBM"), std::string::npos) << one.reason;
}

TEST(Serving, SlosBoundTheBatch) {
  Fixture f;
  Workload w = decode(32768);
  const ServingResult free = predict(f.flash, f.h200, 1, full_ep(8), w);
  ASSERT_TRUE(free.feasible);
  w.slo_tpot_s = free.tpot_s / 2;  // half the TPOT of the memory-limited batch
  const ServingResult bounded = predict(f.flash, f.h200, 1, full_ep(8), w);
  if (bounded.feasible) {
    EXPECT_LE(bounded.tpot_s, *w.slo_tpot_s);
    EXPECT_LT(bounded.batch, free.batch);
  } else {
    EXPECT_EQ(bounded.why, Infeasible::tpot_slo) << bounded.reason;
  }
  w.slo_tpot_s = 1e-9;  // impossible
  const ServingResult impossible = predict(f.flash, f.h200, 1, full_ep(8), w);
  EXPECT_FALSE(impossible.feasible);
  EXPECT_EQ(impossible.why, Infeasible::tpot_slo) << impossible.reason;
  EXPECT_NE(impossible.reason.find("SLO"), std::string::npos) << impossible.reason;
  // A TTFT target no prefill can meet.
  Workload t = decode(32768);
  t.slo_ttft_s = 1e-9;
  const ServingResult slow = predict(f.flash, f.h200, 1, full_ep(8), t);
  EXPECT_FALSE(slow.feasible);
  EXPECT_EQ(slow.why, Infeasible::ttft_slo) << slow.reason;
}

TEST(Serving, InfeasibleNamesAreOnePerValue) {
  EXPECT_EQ(to_string(Infeasible::none), "none");
  EXPECT_EQ(to_string(Infeasible::memory), "memory");
  EXPECT_EQ(to_string(Infeasible::tpot_slo), "tpot_slo");
  EXPECT_EQ(to_string(Infeasible::beyond_max_context), "beyond_max_context");
}

TEST(Serving, MtpRaisesTokensPerStep) {
  Fixture f;
  ServingConfig c = full_ep(8);
  const ServingResult base = predict(f.flash, f.h200, 1, c, decode(16384, 16));
  c.mtp_acceptance = 0.8;
  const ServingResult mtp = predict(f.flash, f.h200, 1, c, decode(16384, 16));
  ASSERT_TRUE(base.feasible && mtp.feasible);
  EXPECT_NEAR(mtp.tpot_s, mtp.step_s / 1.8, 1e-12);
  EXPECT_GT(mtp.step_s, base.step_s);  // the step verifies two positions and runs the MTP block
}

TEST(Serving, AnMtpBlockIsPlacedAsAMainLayer) {
  // The MTP block's experts spread over the ep group and its tokens are dispatched and combined
  // as a main MoE layer's: per call, the same times, its norms and activations too; at tp 2 its
  // shared experts split as theirs do and it adds its two all-reduces. Booked under its own
  // names.
  Fixture f;
  ServingConfig c;
  c.layout = Layout{2, 4, 1, 8};
  c.mtp_acceptance = 0.8;
  const ServingResult r = predict(f.flash, f.h200, 1, c, decode(4096, 32));
  ASSERT_TRUE(r.feasible) << r.reason;
  const auto per_call = [&r](const std::string& name) {
    for (const OpTiming& op : r.ops)
      if (op.name == name) return op.time_s / static_cast<double>(op.calls);
    ADD_FAILURE() << name << " not booked";
    return 0.0;
  };
  for (const std::string op : {"ffn.routed_experts", "ffn.shared_experts", "ffn.dispatch",
                               "ffn.combine", "ffn_norm", "ffn.routed_act"})
    EXPECT_DOUBLE_EQ(per_call("mtp." + op), per_call(op)) << op;
  std::int64_t reduces = 0;
  for (const OpTiming& op : r.ops)
    if (op.name == "attn.all_reduce") reduces = op.calls;
  EXPECT_EQ(reduces, 2 * (f.flash.spec.num_layers + f.flash.spec.num_mtp_layers));
}

TEST(Serving, MtpDraftTokensEachNeedTheirPredecessors) {
  // K = 3 drafts at acceptance 0.5: 1 + 0.5 + 0.25 + 0.125 = 1.875 tokens per step, and the
  // step verifies 4 query positions per sequence, so it is no faster than with one draft.
  Fixture f;
  ServingConfig c = full_ep(8);
  c.mtp_acceptance = 0.5;
  c.mtp_tokens = 3;
  const ServingResult three = predict(f.flash, f.h200, 1, c, decode(4096, 16));
  c.mtp_tokens = 1;
  const ServingResult one = predict(f.flash, f.h200, 1, c, decode(4096, 16));
  ASSERT_TRUE(three.feasible && one.feasible);
  EXPECT_DOUBLE_EQ(three.tokens_per_step, 1.875);
  EXPECT_DOUBLE_EQ(one.tokens_per_step, 1.5);
  EXPECT_GE(three.step_s, one.step_s);
  EXPECT_DOUBLE_EQ(three.tpot_s, three.step_s / 1.875);
}

TEST(Serving, EveryOpSaysWhereItsTimeCameFrom) {
  Fixture f;
  const ServingResult r = predict(f.flash, f.h200, 1, full_ep(8), decode(4096, 64));
  ASSERT_TRUE(r.feasible) << r.reason;
  double ops = 0;
  for (const OpTiming& o : r.ops) {
    ops += o.time_s;
    EXPECT_TRUE(o.efficiency_source == "measured" || o.efficiency_source == "roofline" ||
                o.efficiency_source.starts_with("transferred from "))
        << o.name << ": " << o.efficiency_source;
    EXPECT_EQ(o.table.empty(), o.efficiency_source == "roofline") << o.name;
  }
  EXPECT_NEAR(ops, r.time_sources.total_s(), 1e-12 * ops);
  // H200 has its own GEMM tables: more of a decode step rests on its own measurements than on
  // transfers (V4's experts and sparse cores, from H800) or on the roofline (element-wise kernels,
  // compressors, mHC).
  EXPECT_GT(r.time_sources.measured_s, r.time_sources.transferred_s);
  EXPECT_GT(r.time_sources.measured_s, r.time_sources.roofline_s);
  // Without tables everything is the roofline.
  ServingConfig roofline = full_ep(8);
  roofline.measured_tables = false;
  const ServingResult spec = predict(f.flash, f.h200, 1, roofline, decode(4096, 64));
  EXPECT_DOUBLE_EQ(spec.time_sources.roofline_s, spec.time_sources.total_s());
}

TEST(Serving, PrecisionFallbacksAreTypedInTheOrderMet) {
  // Ascend 910C has no FP8 path (FP8 runs as INT8) and no FP32 one (as BF16): V3.2's FP8 GEMMs
  // and FP32 router/indexer products fall back, each listed once however many ops hit it.
  const PreparedModel v32 = prepare(load_model("deepseek-v3.2"));
  const SystemSpec cm = load_system("cloudmatrix384");
  ServingConfig c;
  c.layout = Layout{1, 32, 1, 32};
  const ServingResult r = predict(v32, cm, 2, c, decode(4096, 8));
  ASSERT_TRUE(r.feasible) << r.reason;
  const std::vector<PrecisionFallback> expected = {{Precision::fp8, ComputePath::int8},
                                                   {Precision::fp32, ComputePath::bf16}};
  EXPECT_EQ(r.precision_fallbacks, expected);
  EXPECT_EQ(r.precision_fallback, "fp8 as int8, fp32 as bf16");
  EXPECT_EQ(to_string(std::vector<PrecisionFallback>{}), "");
  // The text is the typed list formatted, on another device too.
  Fixture f;
  const ServingResult h = predict(f.flash, f.h200, 1, full_ep(8), decode(4096, 1));
  EXPECT_EQ(h.precision_fallback, to_string(h.precision_fallbacks));
}

TEST(Serving, OverlapNeverSlowerThanComputePlusCommunicationOfTwoHalves) {
  // Overlap runs each op twice at half size; a window lasts as long as its longer side, so the
  // step lies between the larger of compute and communication and their sum.
  Fixture f;
  const ServingResult r = predict(f.flash, f.h200, 1, full_ep(8), decode(4096, 64));
  ASSERT_TRUE(r.feasible);
  const StepBreakdown& b = r.breakdown;
  EXPECT_GE(b.total_s, std::max(b.compute_s, b.communication_s) - 1e-15);
  EXPECT_LE(b.total_s, b.compute_s + b.communication_s + 1e-15);
}

TEST(Serving, DenseLayersHideNoExchange) {
  // DeepSeek-V3's first three layers have a dense FFN and send nothing; with two microbatches
  // their compute runs before the first MoE layer's dispatch, so a step whose MoE layers are
  // communication-bound (EP72 decode over nine H100 nodes) lasts at least every exchange plus
  // those layers' FFNs (sim/overlap_schedule.h LayerRun).
  const PreparedModel v3 = prepare(load_model("deepseek-v3"));
  const SystemSpec h100 = load_system("hgx-h100");
  ServingConfig c = full_ep(72);
  c.kv_format = "bf16";
  const ServingResult r = predict(v3, h100, 9, c, decode(2000, 256));
  ASSERT_TRUE(r.feasible);
  const StepBreakdown& b = r.breakdown;
  ASSERT_GT(b.communication_s, b.compute_s);  // the case this is about
  double dense_ffn_s = 0;
  for (const OpTiming& op : r.ops)
    if (op.component == "dense_ffn") dense_ffn_s += op.time_s;
  ASSERT_GT(dense_ffn_s, 0);
  EXPECT_GE(b.total_s, b.communication_s + dense_ffn_s);
}

TEST(Serving, ASliceOfAServerIsItsOwnDeployment) {
  // TP4 on 4 of the 8 GPUs of one HGX H200: four ranks, half the node's power, each rank holding
  // a quarter of the attention weights and of the routed experts.
  Fixture f;
  ServingConfig slice;
  slice.devices = 4;
  slice.layout = Layout{4, 1, 1, 4};
  const ServingResult r = predict(f.flash, f.h200, 1, slice, decode(4096, 8));
  ASSERT_TRUE(r.feasible) << r.reason;
  EXPECT_EQ(r.devices, 4);
  const ServingResult whole = predict(f.flash, f.h200, 1, full_ep(8), decode(4096, 8));
  EXPECT_DOUBLE_EQ(r.power_w, whole.power_w / 2);
  // A layout for more ranks than the slice has is infeasible with the reason; more ranks than the
  // nodes hold is bad input.
  slice.layout = Layout{1, 8, 1, 8};
  EXPECT_FALSE(predict(f.flash, f.h200, 1, slice, decode(4096, 8)).feasible);
  slice.devices = 9;
  EXPECT_THROW(predict(f.flash, f.h200, 1, slice, decode(4096, 8)), InputError);
}

const OpTiming* find_op(const ServingResult& r, const std::string& name) {
  for (const OpTiming& o : r.ops)
    if (o.name == name) return &o;
  return nullptr;
}

TEST(Serving, EachDraftAfterTheFirstRunsTheMtpBlockOnItsOwn) {
  // Three drafts: the step's MTP pass over its four positions drafts the first, then the block
  // runs twice more on one token per sequence, each after the other (no microbatches). Without
  // overlap every op adds up, so an MTP op's time is its call at four tokens per sequence (the
  // main layer's same op in this step) plus two calls at one (the main layer's op without MTP);
  // the step grows by the two passes. Position-free ops only (their shapes do not see where the
  // pass starts).
  Fixture f;
  ServingConfig c = full_ep(8);
  c.overlap = false;
  const ServingResult plain = predict(f.flash, f.h200, 1, c, decode(4096, 16));
  c.mtp_acceptance = 0.5;
  c.mtp_tokens = 3;
  const ServingResult three = predict(f.flash, f.h200, 1, c, decode(4096, 16));
  ASSERT_TRUE(plain.feasible && three.feasible);
  const auto op = [](const ServingResult& r, const std::string& name) {
    const OpTiming* o = find_op(r, name);
    EXPECT_NE(o, nullptr) << name << " not booked";
    return o ? *o : OpTiming{};
  };
  const auto per_call = [&](const ServingResult& r, const std::string& name) {
    const OpTiming o = op(r, name);
    return o.time_s / static_cast<double>(o.calls);
  };
  for (const std::string name : {"ffn.router", "ffn.shared_experts", "ffn.routed_experts",
                                 "ffn.dispatch", "ffn.combine", "ffn_norm"}) {
    EXPECT_EQ(op(three, "mtp." + name).calls, 3) << name;
    EXPECT_NEAR(op(three, "mtp." + name).time_s, per_call(three, name) + 2 * per_call(plain, name),
                1e-12)
        << name;
  }
  // The model's LM head (logits at all four positions) once; the block's own head three times.
  EXPECT_EQ(op(three, "lm_head").calls, 1);
  EXPECT_EQ(op(three, "mtp.lm_head").calls, 3);
  EXPECT_NEAR(op(three, "mtp.lm_head").time_s,
              per_call(three, "lm_head") + 2 * per_call(plain, "lm_head"), 1e-12);
  // One draft: no chain.
  c.mtp_tokens = 1;
  const ServingResult one = predict(f.flash, f.h200, 1, c, decode(4096, 16));
  EXPECT_EQ(op(one, "mtp.ffn.router").calls, 1);
}

TEST(Serving, ExpertsInsideATensorParallelGroupNeedNoAllToAll) {
  // TP8 + EP8 without DP attention: every rank holds all tokens after the attention all-reduce,
  // runs its experts on them and the FFN all-reduce sums the outputs. With attention DP the
  // tokens live on one rank each and are dispatched.
  Fixture f;
  ServingConfig tp;
  tp.layout = Layout{8, 1, 1, 8};
  const ServingResult r = predict(f.flash, f.h200, 1, tp, decode(4096, 8));
  ASSERT_TRUE(r.feasible) << r.reason;
  EXPECT_EQ(find_op(r, "ffn.dispatch"), nullptr);
  EXPECT_EQ(find_op(r, "ffn.combine"), nullptr);
  ASSERT_NE(find_op(r, "ffn.all_reduce"), nullptr);
  const ServingResult dp = predict(f.flash, f.h200, 1, full_ep(8), decode(4096, 8));
  ASSERT_TRUE(dp.feasible) << dp.reason;
  EXPECT_NE(find_op(dp, "ffn.dispatch"), nullptr);
  EXPECT_EQ(find_op(dp, "ffn.all_reduce"), nullptr);
}

TEST(Serving, AllGatherExchangeGathersEveryRanksTokensAndReduceScattersTheOutputs) {
  // Flash (hidden 4096, top-6, FP8 experts) on 8 H200 ranks, 64 sequences each: every rank
  // gathers 8 x 64 tokens of 4096 BF16 values plus 6 int32 ids and 6 fp32 weights, and
  // reduce-scatters 8 x 64 BF16 rows of 4096; no dispatch or combine. The NCCL tables of H200
  // time both at those whole-buffer sizes.
  Fixture f;
  ServingConfig c = full_ep(8);
  c.overlap = false;
  c.moe_exchange = MoeExchange::all_gather;
  const ServingResult r = predict(f.flash, f.h200, 1, c, decode(4096, 64));
  ASSERT_TRUE(r.feasible) << r.reason;
  EXPECT_EQ(find_op(r, "ffn.dispatch"), nullptr);
  EXPECT_EQ(find_op(r, "ffn.combine"), nullptr);
  const OpTiming* ag = find_op(r, "ffn.all_gather");
  const OpTiming* rs = find_op(r, "ffn.reduce_scatter");
  ASSERT_NE(ag, nullptr);
  ASSERT_NE(rs, nullptr);
  EXPECT_EQ(ag->table, "all-gather-fp16");
  EXPECT_EQ(rs->table, "reduce-scatter-fp16");
  const PerfModel tables(f.h200.accelerator);
  KernelCall call;
  call.ranks = 8;
  call.kernel = KernelClass::all_gather;
  call.message_bytes = 8.0 * 64 * (4096 * 2 + 6 * (4 + 4));
  double ag_s = 0;
  ASSERT_TRUE(tables.estimate(call, ag_s).found);
  EXPECT_NEAR(ag->time_s / static_cast<double>(ag->calls), ag_s, 1e-12 * ag_s);
  call.kernel = KernelClass::reduce_scatter;
  call.message_bytes = 8.0 * 64 * 4096 * 2;
  double rs_s = 0;
  ASSERT_TRUE(tables.estimate(call, rs_s).found);
  EXPECT_NEAR(rs->time_s / static_cast<double>(rs->calls), rs_s, 1e-12 * rs_s);

  // Routing skew loads the busiest rank's experts, not the exchange: every rank gets every token.
  c.expert_imbalance = 2.0;
  const ServingResult skewed = predict(f.flash, f.h200, 1, c, decode(4096, 64));
  ASSERT_TRUE(skewed.feasible) << skewed.reason;
  EXPECT_EQ(find_op(skewed, "ffn.all_gather")->time_s, ag->time_s);
  EXPECT_GT(skewed.step_s, r.step_s);

  // FP4 experts take their input quantised before the gather: fewer bytes on the wire.
  c.expert_imbalance = 1.0;
  c.weights = WeightsOverride::fp4;
  const ServingResult fp4 = predict(f.flash, f.h200, 1, c, decode(4096, 64));
  ASSERT_TRUE(fp4.feasible) << fp4.reason;
  call.kernel = KernelClass::all_gather;
  call.message_bytes =
      8.0 * 64 * (static_cast<double>(quantised_row_bytes(4096, Precision::fp4)) + 6 * (4 + 4));
  double fp4_s = 0;
  ASSERT_TRUE(tables.estimate(call, fp4_s).found);
  const OpTiming* fp4_ag = find_op(fp4, "ffn.all_gather");
  ASSERT_NE(fp4_ag, nullptr);
  EXPECT_NEAR(fp4_ag->time_s / static_cast<double>(fp4_ag->calls), fp4_s, 1e-12 * fp4_s);
  EXPECT_LT(fp4_s, ag_s);
}

TEST(Serving, RoutedPairsArePermutedUnlessTheLowLatencyDispatchLaysThemOut) {
  // Flash (hidden 4096, top-6, FP8 experts) on 8 H200 ranks, 64 sequences each. DeepEP's
  // low-latency dispatch writes the masked per-expert layout: nothing to permute in decode. The
  // gathered exchange and a normal-mode prefill permute each token-expert pair's row and sum the
  // outputs back (sim/moe_permutation.h): a decode step's 8 x 64 x 6 / 8 = 384 pairs per rank.
  Fixture f;
  ServingConfig c = full_ep(8);
  c.overlap = false;
  c.expert_imbalance = 1.0;
  const ServingResult ll = predict(f.flash, f.h200, 1, c, decode(4096, 64));
  ASSERT_TRUE(ll.feasible) << ll.reason;
  EXPECT_EQ(find_op(ll, "ffn.permute"), nullptr);
  EXPECT_EQ(find_op(ll, "ffn.unpermute"), nullptr);

  c.moe_exchange = MoeExchange::all_gather;
  const ServingResult gathered = predict(f.flash, f.h200, 1, c, decode(4096, 64));
  ASSERT_TRUE(gathered.feasible) << gathered.reason;
  const OpTiming* permute = find_op(gathered, "ffn.permute");
  const OpTiming* unpermute = find_op(gathered, "ffn.unpermute");
  const OpTiming* act = find_op(gathered, "ffn.routed_act");
  ASSERT_NE(permute, nullptr);
  ASSERT_NE(unpermute, nullptr);
  ASSERT_NE(act, nullptr);
  EXPECT_EQ(permute->calls, act->calls);  // once per MoE layer
  EXPECT_EQ(permute->efficiency_source, "roofline");
  const Accelerator& device = f.h200.accelerator;
  const PerfModel tables(device);
  const double floor_s = smallest_kernel_s(&tables, device);
  const LayerSpec& moe_layer = f.flash.spec.layers.back();
  const auto kernels = moe_permutation_kernels(f.flash.spec, moe_layer, 384);
  ASSERT_EQ(kernels.size(), 2u);
  const double permute_s = elementwise_time_s(device, kernels[0].cost, floor_s);
  const double unpermute_s = elementwise_time_s(device, kernels[1].cost, floor_s);
  EXPECT_NEAR(permute->time_s / static_cast<double>(permute->calls), permute_s, 1e-12 * permute_s);
  EXPECT_NEAR(unpermute->time_s / static_cast<double>(unpermute->calls), unpermute_s,
              1e-12 * unpermute_s);

  Workload prompt;
  prompt.phase = Phase::prefill;
  prompt.context_tokens = 4096;
  prompt.batch = 1;
  c.moe_exchange = MoeExchange::all_to_all;
  const ServingResult prefill = predict(f.flash, f.h200, 1, c, prompt);
  ASSERT_TRUE(prefill.feasible) << prefill.reason;
  EXPECT_NE(find_op(prefill, "ffn.permute"), nullptr);
  EXPECT_NE(find_op(prefill, "ffn.unpermute"), nullptr);
}

TEST(Serving, AFusedMoeTableTimesTheRoutedExpertsAndTheirGlue) {
  // V4-Pro on 8 B300 ranks (dp 8, ep 8), one sequence each: 8 tokens make 8 x 6 / 8 = 6 pairs on
  // a rank, 6 / 48 experts per expert, all six experts touched (Poisson(1/8) over 48: llround(5.6)).
  // That is the measured row of moe_ep 8 at 8 tokens of grouped-gemm-fused-fp8-v4pro (52.072 us,
  // the mean of the source's two measurements): the gate/up and down ops share it by their ideal
  // times, and the fused kernel's top-k and activation run inside it, not apart.
  const PreparedModel pro = prepare(load_model("deepseek-v4-pro"));
  const SystemSpec b300 = load_system("hgx-b300");
  ServingConfig c = full_ep(8);
  c.expert_imbalance = 1.0;
  c.overlap = false;
  const ServingResult r = predict(pro, b300, 1, c, decode(4096, 1));
  ASSERT_TRUE(r.feasible) << r.reason;
  const OpTiming* up = find_op(r, "ffn.routed_experts");
  const OpTiming* down = find_op(r, "ffn.routed_experts.down");
  ASSERT_NE(up, nullptr);
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(up->table, "grouped-gemm-fused-fp8-v4pro");
  EXPECT_EQ(up->efficiency_source, "measured");
  EXPECT_EQ(up->calls, down->calls);
  EXPECT_NEAR((up->time_s + down->time_s) / static_cast<double>(up->calls), 52.072e-6, 1e-12);
  for (const char* glue : {"ffn.topk", "ffn.routed_act", "ffn.permute", "ffn.unpermute"})
    EXPECT_EQ(find_op(r, glue), nullptr) << glue;
  EXPECT_NE(find_op(r, "ffn.shared_act"), nullptr);  // the shared expert is not in the MoE table

  // V3 on the same GPU has no fused table of its shape: its experts stay composed (transferred
  // from H800's grouped GEMMs) and launch their top-k and activation.
  const PreparedModel v3 = prepare(load_model("deepseek-v3"));
  const ServingResult composed = predict(v3, b300, 1, c, decode(4096, 1));
  ASSERT_TRUE(composed.feasible) << composed.reason;
  const OpTiming* v3_up = find_op(composed, "ffn.routed_experts");
  ASSERT_NE(v3_up, nullptr);
  EXPECT_NE(v3_up->table, "grouped-gemm-fused-fp8-v4pro");
  EXPECT_NE(find_op(composed, "ffn.topk"), nullptr);
  EXPECT_NE(find_op(composed, "ffn.routed_act"), nullptr);
}

TEST(Serving, TensorParallelismSplitsAsTheEnginesDo) {
  // SGLang and vLLM replicate MLA's low-rank query and latent KV projections and the indexer
  // (ReplicatedLinear), split wq_b, wkv_b and the LM head by output columns and the output
  // projection by input rows (RowParallelLinear); V4 likewise its wq_a and wkv, and wo_b by rows.
  const auto tp_of = [](const ModelSpec& spec, std::string_view suffix) {
    for (const WeightTensor& w : enumerate_weights(spec))
      if (w.layer == 3 && w.name.ends_with(suffix)) return std::pair{w.tp, split_over_tp(w)};
    ADD_FAILURE() << suffix;
    return std::pair{TpSplit::columns, false};
  };
  const ModelSpec v32 = load_model("deepseek-v3.2");
  EXPECT_EQ(tp_of(v32, "attn.wq_a"), std::pair(TpSplit::replicated, false));
  EXPECT_EQ(tp_of(v32, "attn.wkv_a"), std::pair(TpSplit::replicated, false));
  EXPECT_EQ(tp_of(v32, "attn.wq_b"), std::pair(TpSplit::columns, true));
  EXPECT_EQ(tp_of(v32, "attn.wkv_b"), std::pair(TpSplit::columns, true));
  EXPECT_EQ(tp_of(v32, "attn.wo"), std::pair(TpSplit::rows, true));
  EXPECT_FALSE(tp_of(v32, "attn.indexer.wq_b").second);
  EXPECT_FALSE(tp_of(v32, "attn.indexer.wk").second);
  const ModelSpec v4 = load_model("deepseek-v4-flash");
  EXPECT_EQ(tp_of(v4, "attn.wq_a"), std::pair(TpSplit::replicated, false));
  EXPECT_EQ(tp_of(v4, "attn.wkv"), std::pair(TpSplit::replicated, false));
  EXPECT_EQ(tp_of(v4, "attn.wo_a"), std::pair(TpSplit::columns, true));
  EXPECT_EQ(tp_of(v4, "attn.wo_b"), std::pair(TpSplit::rows, true));

  // V3 at tp 8 on H200, 64 sequences: each rank's wo is the (64 x 2048) x (2048 x 7168) slice of
  // the 16384-deep product, looked up as that GEMM (the row 64,7168,2048 of gemm-fp8) with the
  // rank's share of the cost, not as a 896-wide column slice of the whole depth; the same for the
  // shared expert's down projection; the fused low-rank projection is whole on every rank.
  const PreparedModel v3 = prepare(load_model("deepseek-v3"));
  const SystemSpec h200 = load_system("hgx-h200");
  ServingConfig c;
  c.layout = Layout{8, 1, 1, 8};
  c.overlap = false;
  const ServingResult r = predict(v3, h200, 1, c, decode(4096, 64));
  ASSERT_TRUE(r.feasible) << r.reason;
  const OpTiming* wo = find_op(r, "wo");
  ASSERT_NE(wo, nullptr);
  KernelCall call;
  call.kernel = KernelClass::gemm;
  call.m = 64;
  call.n = 7168;
  call.k = 16384 / 8;
  call.batch = 64;
  call.precision = Precision::fp8;
  call.cost =
      shared(cost(LinearShape{1, 16384, 7168, 1, v3.spec.weights.attention, Precision::fp8}),
             64.0 / 8, 64, 1.0 / 8);
  const PerfModel tables(h200.accelerator);
  const auto per_call_matches = [&](const std::string& name, const KernelCall& c) {
    const OpTiming* op = find_op(r, name);
    ASSERT_NE(op, nullptr) << name;
    double expected_s = 0;
    const PerfEstimate& e = tables.estimate(c, expected_s);
    ASSERT_TRUE(e.found && e.includes_launch_gap && e.includes_activation_quantisation) << name;
    EXPECT_NEAR(op->time_s / static_cast<double>(op->calls), expected_s, 1e-12 * expected_s)
        << name;
  };
  per_call_matches("wo", call);
  // The shared expert's down projection, row-parallel too: 2048 / 8 deep.
  call.n = 7168;
  call.k = 2048.0 / 8;
  call.cost =
      shared(cost(LinearShape{1, 2048, 7168, 1, v3.spec.weights.shared_experts, Precision::fp8}),
             64.0 / 8, 64, 1.0 / 8);
  per_call_matches("ffn.shared_experts.down", call);
  // wq_a and wkv_a, one replicated GEMM of 1536 + 576 outputs on every token of the group.
  call.n = 1536 + 576;
  call.k = 7168;
  call.cost =
      shared(cost(LinearShape{1, 7168, 1536 + 576, 1, v3.spec.weights.attention, Precision::fp8}),
             64, 64, 1);
  per_call_matches("wqkv_a", call);
  EXPECT_EQ(find_op(r, "wq_a"), nullptr);
}

TEST(Serving, NormalModeDispatchSendsTokensQuantisedFirst) {
  // Flash (FP8 experts) on 8 H200 ranks: a prefill of one 4096-token prompt per rank sends its
  // 4096 tokens through DeepEP's normal dispatch as FP8 rows, quantised by a kernel of its own
  // in each MoE layer (sim/exchange_quant.h); the low-latency decode dispatch casts inside.
  Fixture f;
  ServingConfig c = full_ep(8);
  c.overlap = false;
  Workload prompt;
  prompt.phase = Phase::prefill;
  prompt.context_tokens = 4096;
  prompt.batch = 1;
  const ServingResult prefill = predict(f.flash, f.h200, 1, c, prompt);
  ASSERT_TRUE(prefill.feasible) << prefill.reason;
  const OpTiming* quant = find_op(prefill, "ffn.exchange.quant");
  const OpTiming* dispatch = find_op(prefill, "ffn.dispatch");
  ASSERT_NE(quant, nullptr);
  ASSERT_NE(dispatch, nullptr);
  EXPECT_EQ(quant->calls, dispatch->calls);  // once per MoE layer
  EXPECT_EQ(quant->component, "router");
  const Accelerator& device = f.h200.accelerator;
  const PerfModel tables(device);
  const auto kernels =
      exchange_quant_kernels(f.flash.spec, f.flash.spec.layers.back(), 4096, Precision::fp8);
  ASSERT_EQ(kernels.size(), 1u);
  const double quant_s =
      elementwise_time_s(device, kernels[0].cost, smallest_kernel_s(&tables, device));
  EXPECT_NEAR(quant->time_s / static_cast<double>(quant->calls), quant_s, 1e-12 * quant_s);
  const ServingResult step = predict(f.flash, f.h200, 1, c, decode(4096, 64));
  ASSERT_TRUE(step.feasible) << step.reason;
  EXPECT_EQ(find_op(step, "ffn.exchange.quant"), nullptr);
}

TEST(Serving, DenseMlaPrefillAssemblesItsKeys) {
  // DeepSeek-V3 on 8 H200 ranks with tp = 2: one 2,048-token prompt per dp group in two chunks of
  // 1,024. Each chunk ropes its 1,024 queries and assembles the keys of every entry so far (1,024,
  // then 2,048) on 64 heads a rank (sim/mla_key_assembly.h), once per layer. Decode attends the
  // latent cache in the absorbed form and assembles nothing.
  const PreparedModel v3 = prepare(load_model("deepseek-v3"));
  const SystemSpec h200 = load_system("hgx-h200");
  ServingConfig c;
  c.layout = Layout{2, 4, 1, 8};
  c.overlap = false;
  c.prefill_chunk_tokens = 1024;
  Workload prompt;
  prompt.phase = Phase::prefill;
  prompt.context_tokens = 2048;
  prompt.batch = 1;
  const ServingResult r = predict(v3, h200, 1, c, prompt);
  ASSERT_TRUE(r.feasible) << r.reason;
  const OpTiming* q_rope = find_op(r, "attn.q_rope");
  const OpTiming* k_assemble = find_op(r, "attn.k_assemble");
  ASSERT_NE(q_rope, nullptr);
  ASSERT_NE(k_assemble, nullptr);
  EXPECT_EQ(k_assemble->efficiency_source, "roofline");
  const Accelerator& device = h200.accelerator;
  const PerfModel tables(device);
  const double floor_s = smallest_kernel_s(&tables, device);
  const LayerSpec& layer = v3.spec.layers.front();
  const double layers = static_cast<double>(v3.spec.num_layers);
  double k_s = 0, q_s = 0;
  for (const std::int64_t entries : {1024, 2048}) {
    const auto ks = mla_key_assembly_kernels(v3.spec, layer, 1024, entries, 2);
    ASSERT_EQ(ks.size(), 2u);
    q_s += elementwise_time_s(device, ks[0].cost, floor_s) * layers;
    k_s += elementwise_time_s(device, ks[1].cost, floor_s) * layers;
  }
  EXPECT_NEAR(q_rope->time_s, q_s, 1e-12 * q_s);
  EXPECT_NEAR(k_assemble->time_s, k_s, 1e-12 * k_s);
  const ServingResult step = predict(v3, h200, 1, c, decode(2048, 8));
  ASSERT_TRUE(step.feasible) << step.reason;
  EXPECT_EQ(find_op(step, "attn.k_assemble"), nullptr);
}

TEST(Serving, TensorParallelAllReducesUseTheEnginesKernelAndLaunch) {
  // Inside one HGX node: the custom all-reduce, replayed from a CUDA graph in decode; without
  // graphs the eager measurement, whose Python-side launch costs tens of microseconds.
  Fixture f;
  ServingConfig tp;
  tp.layout = Layout{8, 1, 1, 8};
  tp.overlap = false;  // so the all-reduces add to the step rather than hide behind attention
  const ServingResult graph = predict(f.flash, f.h200, 1, tp, decode(4096, 8));
  const OpTiming* g = find_op(graph, "attn.all_reduce");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->table, "all-reduce-bf16-custom-graph");
  tp.cuda_graph = false;
  const ServingResult eager = predict(f.flash, f.h200, 1, tp, decode(4096, 8));
  const OpTiming* e = find_op(eager, "attn.all_reduce");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->table, "all-reduce-bf16-custom-eager");
  EXPECT_GT(e->time_s, g->time_s);
  EXPECT_GT(eager.step_s, graph.step_s);
}

TEST(Serving, PrefillAndCacheHits) {
  Fixture f;
  Workload w;
  w.phase = Phase::prefill;
  w.context_tokens = 65536;
  w.batch = 1;
  ServingConfig c = full_ep(8);
  const ServingResult cold = predict(f.flash, f.h200, 1, c, w);
  c.cache_hit_rate = 0.5;
  const ServingResult warm = predict(f.flash, f.h200, 1, c, w);
  ASSERT_TRUE(cold.feasible && warm.feasible);
  EXPECT_LT(warm.ttft_s, cold.ttft_s);  // half the prompt is skipped
  EXPECT_GT(cold.mfu, 0.2);             // a long prefill is compute-bound
}

TEST(Serving, Fp4FfnOverrideKeepsAttentionInBf16) {
  // NVIDIA's FP4 DeepSeek-R1 recipe: FFN weights FP4, attention projections BF16; what the
  // override does not name (router, LM head, embedding) keeps the model's own format.
  const ModelSpec v3 = load_model("deepseek-v3");
  const ModelSpec s = with_weights(v3, WeightsOverride::fp4_ffn);
  EXPECT_EQ(s.weights.attention, WeightFormat::bf16);
  EXPECT_EQ(s.compute.attention_projections, Precision::bf16);
  for (WeightFormat w : {s.weights.routed_experts, s.weights.shared_experts, s.weights.dense_ffn})
    EXPECT_EQ(w, WeightFormat::mxfp4);
  for (Precision p : {s.compute.routed_experts, s.compute.shared_experts, s.compute.dense_ffn})
    EXPECT_EQ(p, Precision::fp4);
  EXPECT_EQ(s.weights.router, v3.weights.router);
  EXPECT_EQ(s.weights.lm_head, v3.weights.lm_head);
  EXPECT_EQ(s.compute.router, v3.compute.router);
}

// The names tables of the choices a file or flag gives read both ways.
TEST(Serving, ChoiceNamesRoundTrip) {
  for (WeightsOverride w : {WeightsOverride::fp8, WeightsOverride::int8, WeightsOverride::fp4,
                            WeightsOverride::fp4_ffn, WeightsOverride::bf16})
    EXPECT_EQ(parse_weights_override(to_string(w)), w);
  EXPECT_EQ(to_string(WeightsOverride::bf16), "bf16");
  for (PriceBasis b : {PriceBasis::rental, PriceBasis::tco})
    EXPECT_EQ(parse_price_basis(to_string(b)), b);
  EXPECT_EQ(to_string(PriceBasis::tco), "tco");
  EXPECT_EQ(parse_price_basis("TCO"), std::nullopt);
}

TEST(Serving, BadRequestsThrow) {
  Fixture f;
  ServingConfig c = full_ep(8);
  c.mtp_acceptance = 1.5;
  EXPECT_THROW(predict(f.flash, f.h200, 1, c, decode(4096)), InputError);
  EXPECT_EQ(parse_weights_override("fp6"), std::nullopt);
  EXPECT_EQ(parse_weights_override("int8"), WeightsOverride::int8);
  EXPECT_THROW(predict(f.flash, f.h200, 1, full_ep(8), decode(0)), InputError);
  EXPECT_THROW(parse_layout("tp=2,dp"), InputError);
  EXPECT_THROW(parse_layout("tp=0"), InputError);
  EXPECT_THROW(parse_layout("tq=2"), InputError);
  EXPECT_THROW(parse_layout("tp=2,tp=2"), InputError);
  // Each value fits; their product (10^21) would overflow int64 (issue 7).
  EXPECT_THROW(parse_layout("tp=9999999,dp=9999999,pp=9999999"), InputError);
  EXPECT_EQ(parse_layout("tp=2,dp=4").ep, 8);
}

TEST(Serving, DpAttentionLayoutSpreadsExpertsAsWideAsTheyAllow) {
  // 256 experts over 8 or 64 ranks: every rank holds some; over 384 ranks the widest ep that
  // divides 384 and leaves each rank an expert is 192; dense models (0 experts) use every rank.
  EXPECT_EQ(to_string(dp_attention_layout(8, 256)), to_string(Layout{1, 8, 1, 8}));
  EXPECT_EQ(dp_attention_layout(64, 256).ep, 64);
  EXPECT_EQ(dp_attention_layout(384, 256).ep, 192);
  EXPECT_EQ(dp_attention_layout(16, 0).ep, 16);
  EXPECT_EQ(dp_attention_layout(7, 4).ep, 1);
}

TEST(Serving, DisaggregatedPrefillAddsKvTransferToTtft) {
  // Flash on 2 HGX H200 nodes: 8 decode ranks on node 0, 8 prefill ranks on node 1; each sequence's
  // KV crosses the 50 GB/s scale-out link. KV at 64K ~ 0.25 GB -> about 5 ms at 50 GB/s.
  Fixture f;
  ServingConfig c;
  c.layout = Layout{1, 8, 1, 8};
  c.prefill_devices = 8;
  const ServingResult r = predict(f.flash, f.h200, 2, c, decode(65536, 16));
  ASSERT_TRUE(r.feasible) << r.reason;
  EXPECT_EQ(r.devices, 16);
  EXPECT_EQ(r.prefill_devices, 8);
  const double link = f.h200.accelerator.scale_out_gb_per_s.nominal * 1e9 *
                      f.h200.accelerator.scale_out_usable_fraction;
  EXPECT_NEAR(r.kv_transfer_s, r.memory.kv_bytes_per_sequence / link,
              0.2 * r.memory.kv_bytes_per_sequence / link);
  EXPECT_GT(r.ttft_s, r.kv_transfer_s);
  // Per-device throughput counts both pools: half the ranks decode.
  const ServingResult colocated = predict(f.flash, f.h200, 1, full_ep(8), decode(65536, 16));
  EXPECT_NEAR(r.throughput_tokens_per_s_per_device,
              colocated.throughput_tokens_per_s_per_device / 2,
              0.05 * colocated.throughput_tokens_per_s_per_device);
  c.prefill_devices = 16;
  EXPECT_THROW(predict(f.flash, f.h200, 2, c, decode(65536, 16)), InputError);
}

TEST(Optimize, FrontierAndCheapestPoint) {
  Fixture f;
  Workload w = decode(32768);
  w.slo_tpot_s = 0.05;
  const DeviceHour hour = device_hour(f.h200, 1, PriceAssumptions{});
  const OptimizeResult o = optimize(f.flash, f.h200, 1, ServingConfig{}, w, hour);
  ASSERT_FALSE(o.frontier.empty());
  ASSERT_TRUE(o.cheapest.has_value());
  const OptimizePoint& best = o.points[*o.cheapest];
  EXPECT_LE(best.result.tpot_s, 0.05);
  for (const OptimizePoint& p : o.points) {
    if (p.meets_slo) {
      EXPECT_GE(p.usd_per_million_tokens, best.usd_per_million_tokens);
    }
  }
  // Along the frontier, more speed per user costs throughput per device.
  for (std::size_t i = 1; i < o.frontier.size(); ++i) {
    EXPECT_LE(o.points[o.frontier[i]].result.throughput_tokens_per_s_per_device,
              o.points[o.frontier[i - 1]].result.throughput_tokens_per_s_per_device);
  }
}

TEST(Optimize, DeviceCountsAreSlicesThenWholeNodes) {
  Fixture f;
  EXPECT_EQ(candidate_device_counts(f.h200, 64),
            (std::vector<std::int64_t>{1, 2, 4, 8, 16, 32, 64}));
  EXPECT_EQ(candidate_device_counts(f.h200, 6), (std::vector<std::int64_t>{1, 2, 4}));
}

TEST(Optimize, SearchFindsADeploymentTheDefaultNodeCannotServe) {
  // V3.2 at 128K on H800 (issue 12): one 8-GPU node cannot hold the model with any 128K batch, a
  // larger expert-parallel deployment serves it; the search finds that size and says which.
  const PreparedModel v32 = prepare(load_model("deepseek-v3.2"));
  const SystemSpec h800 = load_system("hgx-h800");
  Workload w = decode(131072);
  w.slo_tpot_s = 0.05;
  const DeviceHour hour = device_hour(h800, 1, PriceAssumptions{});
  const OptimizeResult one_node = optimize(v32, h800, 1, ServingConfig{}, w, hour);
  EXPECT_FALSE(one_node.cheapest.has_value());
  const DeploymentSearch s = search_deployments(v32, h800, ServingConfig{}, w, hour, 64);
  ASSERT_TRUE(s.result.cheapest.has_value());
  const ServingResult& best = s.result.points[*s.result.cheapest].result;
  EXPECT_GT(best.devices, 8);
  EXPECT_LE(best.tpot_s, 0.05);
  EXPECT_FALSE(s.nearest.has_value());
  // An SLO nothing meets: no cheapest point, and the closest one is named.
  w.slo_tpot_s = 1e-4;
  const DeploymentSearch none = search_deployments(v32, h800, ServingConfig{}, w, hour, 64);
  EXPECT_FALSE(none.result.cheapest.has_value());
  ASSERT_TRUE(none.nearest.has_value());
  for (const OptimizePoint& p : none.result.points)
    EXPECT_GE(p.result.tpot_s, none.result.points[*none.nearest].result.tpot_s);
}

TEST(Optimize, ApplyingTargetsEqualsSearchingWithThem) {
  // Points are evaluated without the targets, so re-ranking a search for other targets (the
  // purchase plan does, for its plans without the TTFT target) equals searching again.
  Fixture f;
  const DeviceHour hour = device_hour(f.h200, 1, PriceAssumptions{});
  Workload w = decode(8192);
  const DeploymentSearch unbounded =
      search_deployments(f.flash, f.h200, ServingConfig{}, w, hour, 16);
  for (double slo : {0.02, 0.05, 1e-4}) {
    w.slo_tpot_s = slo;
    const DeploymentSearch direct =
        search_deployments(f.flash, f.h200, ServingConfig{}, w, hour, 16);
    DeploymentSearch reranked = unbounded;
    apply_targets(reranked, w);
    EXPECT_EQ(reranked.result.cheapest, direct.result.cheapest) << slo;
    EXPECT_EQ(reranked.nearest, direct.nearest) << slo;
    EXPECT_EQ(reranked.result.frontier, direct.result.frontier) << slo;
  }
  EXPECT_TRUE(unbounded.result.cheapest.has_value());  // no targets: every point meets them
}

}  // namespace
}  // namespace v4sim
