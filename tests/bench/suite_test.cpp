// The kernel suite: case lists per mode, costs equal to independently built cost() values, every
// case's counted work equal to its cost (smoke run), and the V4 vs V3.2 ratio bookkeeping.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "kernels/attention_layer.h"
#include "kernels/bench/suite.h"
#include "kernels/dsa_indexer_forward.h"
#include "kernels/mhc.h"
#include "kernels/mla_attention.h"

namespace v4sim::bench {
namespace {

const SuiteCase* find(const std::vector<SuiteCase>& cases, const std::string& name) {
  for (const SuiteCase& c : cases)
    if (c.name == name) return &c;
  return nullptr;
}

TEST(Suite, SmokeRunCountsExactlyItsCostForEveryCase) {
  const std::vector<SuiteCase> cases = suite_cases(SuiteMode::smoke);
  ASSERT_GE(cases.size(), 15u);
  const std::vector<CaseResult> results = run_suite(cases, suite_timing_policy(SuiteMode::smoke));
  ASSERT_EQ(results.size(), cases.size());
  for (const CaseResult& r : results) {
    EXPECT_EQ(r.counted, r.cost) << r.name;
    EXPECT_TRUE(r.counted_equals_cost()) << r.name;
    EXPECT_GT(r.cost.total_flops(), 0) << r.name;
    EXPECT_GE(r.timing.reps, 1) << r.name;
    EXPECT_GT(r.timing.min_s, 0) << r.name;
    // Same work, float32 storage: FLOPs equal, bytes never fewer than the deployment formats.
    EXPECT_EQ(r.host_cost.total_flops(), r.cost.total_flops()) << r.name;
    EXPECT_GE(r.host_cost.total_bytes(), r.cost.total_bytes()) << r.name;
  }
}

TEST(Suite, QuickAndFullCoverEveryKernelFamilyAtProductionShapes) {
  for (SuiteMode mode : {SuiteMode::quick, SuiteMode::full}) {
    const std::vector<SuiteCase> cases = suite_cases(mode);
    std::set<std::string> names, families;
    for (const SuiteCase& c : cases) {
      EXPECT_TRUE(names.insert(c.name).second) << "duplicate " << c.name;
      families.insert(c.family);
    }
    for (const char* f : {"attention-layer", "attention-core", "prefill", "moe", "mhc"})
      EXPECT_TRUE(families.count(f)) << to_string(mode) << " lacks " << f;
    for (const char* n :
         {"v4-flash-swa-layer/4k", "v4-flash-csa-layer/1m", "v4-flash-hca-layer/1m",
          "v4-pro-csa-core/1m", "v4-pro-hca-core/1m", "v3.2-mla-dsa-core/1m",
          "v3.2-mla-dsa-attn/4k", "gqa8-core/4k", "v4-flash-csa-prefill/128@4k",
          "moe-flash-experts/1", "moe-flash-experts/64", "mhc-flash/1", "mhc-flash/512"})
      EXPECT_TRUE(names.count(n)) << to_string(mode) << " lacks " << n;
  }
  const std::vector<SuiteCase> full = suite_cases(SuiteMode::full);
  for (const char* n : {"v4-pro-csa-layer/1m", "v3.2-mla-dsa-attn/1m", "moe-flash-experts/512",
                        "gqa8-core/128k", "mhc-pro/512"})
    EXPECT_TRUE(find(full, n)) << n;
}

TEST(Suite, CaseCostsEqualCostFunctionsBuiltHere) {
  const std::vector<SuiteCase> cases = suite_cases(SuiteMode::quick);
  // V4-Pro CSA core at 1M (models/deepseek-v4-pro.yaml widths).
  AttentionLayerShape s;
  s.kind = AttentionLayerKind::csa;
  s.hidden = 7168;
  s.num_heads = 128;
  s.q_lora_rank = 1536;
  s.o_groups = 16;
  s.o_lora_rank = 1024;
  s.topk = 1024;
  s.start_pos = 1 << 20;
  const SuiteCase* csa = find(cases, "v4-pro-csa-core/1m");
  ASSERT_TRUE(csa);
  EXPECT_EQ(csa->cost, cost(core_shape(s)) + cost(indexer_scoring_shape(s)));
  // Whole V4-Flash HCA layer decode at 4K.
  AttentionLayerShape f;
  f.kind = AttentionLayerKind::hca;
  f.hidden = 4096;
  f.num_heads = 64;
  f.q_lora_rank = 1024;
  f.o_groups = 8;
  f.o_lora_rank = 1024;
  f.topk = 512;
  f.start_pos = 4096;
  const SuiteCase* hca = find(cases, "v4-flash-hca-layer/4k");
  ASSERT_TRUE(hca);
  EXPECT_EQ(hca->cost, cost(f));
  // V3.2 core at 1M: DSA scoring over every token, MLA over the top 2048.
  DsaIndexerConfig cfg;
  MlaAttentionShape mla;
  mla.topk = 2048;
  mla.start_pos = (1 << 20) - 1;
  const SuiteCase* v32 = find(cases, "v3.2-mla-dsa-core/1m");
  ASSERT_TRUE(v32);
  EXPECT_EQ(v32->cost, cost(dsa_scoring_shape(cfg, (1 << 20) - 1, 1)) + cost(mla));
  // 64 tokens x top-6 x three [4096 x 2048] products.
  const SuiteCase* moe = find(cases, "moe-flash-experts/64");
  ASSERT_TRUE(moe);
  EXPECT_EQ(moe->cost.total_flops(), 2LL * 64 * 6 * 3 * 4096 * 2048);
  MhcShape m;
  m.tokens = 512;
  m.hidden = 4096;
  const SuiteCase* mhc = find(cases, "mhc-flash/512");
  ASSERT_TRUE(mhc);
  EXPECT_EQ(mhc->cost, cost(m));
  // The host cost prices the float32 weights the kernels hold: 4 bytes per parameter.
  EXPECT_EQ(moe->host_cost.read(MemClass::weights), 8LL * 3 * 4096 * 2048 * 4);
}

TEST(Suite, OpsOfACaseSumToItsHostCost) {
  for (SuiteMode mode : {SuiteMode::smoke, SuiteMode::quick, SuiteMode::full})
    for (const SuiteCase& c : suite_cases(mode)) {
      if (c.host_ops.empty()) continue;
      Cost sum;
      for (const HostOp& op : c.host_ops) sum += op.cost;
      EXPECT_EQ(sum, c.host_cost) << to_string(mode) << " " << c.name;
    }
}

TEST(Suite, OpSumRooflineAddsEachOpsLargerSide) {
  CaseResult r;
  Cost compute, memory;
  compute.flops_at(Precision::fp32) = 1000;  // 10 s at 100 FLOP/s
  compute.read(MemClass::weights) = 10;      // 1 s at 10 B/s
  memory.flops_at(Precision::fp32) = 100;    // 1 s
  memory.read(MemClass::weights) = 50;       // 5 s
  r.host_ops = {compute, memory};
  std::array<double, kNumPrecisions> rates{};
  rates[static_cast<int>(Precision::fp32)] = 100;
  EXPECT_DOUBLE_EQ(op_sum_roofline_s(r, rates, 10), 15.0);  // not max(11, 6) = 11
  memory.flops_at(Precision::bf16) = 1;                     // no bf16 rate: no roofline
  r.host_ops = {memory};
  EXPECT_EQ(op_sum_roofline_s(r, rates, 10), 0);
}

TEST(Suite, FilterKeepsMatchingNames) {
  const auto cases = filter_cases(suite_cases(SuiteMode::smoke), "mhc,gqa8");
  ASSERT_FALSE(cases.empty());
  for (const SuiteCase& c : cases)
    EXPECT_TRUE(c.name.find("mhc") != std::string::npos || c.name.find("gqa8") != std::string::npos)
        << c.name;
  EXPECT_TRUE(filter_cases(suite_cases(SuiteMode::smoke), "no-such-kernel").empty());
  EXPECT_EQ(filter_cases(suite_cases(SuiteMode::smoke), "").size(),
            suite_cases(SuiteMode::smoke).size());
}

TEST(Suite, ContextLabels) {
  EXPECT_EQ(context_label(4096), "4k");
  EXPECT_EQ(context_label(131072), "128k");
  EXPECT_EQ(context_label(1 << 20), "1m");
  EXPECT_EQ(context_label(1000), "1000");
  EXPECT_EQ(context_label(16), "16");
}

CaseResult fake(const std::string& name, std::int64_t context, double seconds, std::int64_t flops,
                std::int64_t bytes) {
  CaseResult r;
  r.name = name;
  r.context = context;
  r.timing.min_s = seconds;
  r.cost.flops_at(Precision::bf16) = flops;
  r.host_cost.flops_at(Precision::fp32) = flops;
  r.host_cost.read(MemClass::kv_cache) = bytes;
  return r;
}

TEST(Suite, RatiosPairTheLargestCommonContext) {
  const std::vector<CaseResult> results = {
      fake("v3.2-mla-dsa-core/4k", 4096, 2.0, 200, 10),
      fake("v3.2-mla-dsa-core/1m", 1 << 20, 8.0, 800, 40),
      fake("v4-pro-csa-core/4k", 4096, 1.0, 100, 10),
      fake("v4-pro-csa-core/1m", 1 << 20, 2.0, 200, 20),
      fake("v4-pro-hca-core/4k", 4096, 0.5, 50, 5),  // no 1m: pairs at 4k
  };
  const std::vector<SpeedRatio> r = v4_vs_v32_ratios(results);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].denominator, "v4-pro-csa-core/1m");
  EXPECT_EQ(r[0].context, 1 << 20);
  EXPECT_DOUBLE_EQ(r[0].measured, 4.0);
  EXPECT_DOUBLE_EQ(r[0].flops, 4.0);
  EXPECT_DOUBLE_EQ(r[0].host_bytes, 2.0);
  EXPECT_EQ(r[1].numerator, "v3.2-mla-dsa-core/4k");
  EXPECT_EQ(r[1].denominator, "v4-pro-hca-core/4k");
  EXPECT_DOUBLE_EQ(r[1].measured, 4.0);
}

// The alternating pass prepares each named case once, runs it once untimed and once per round,
// and gives every pair whose cases it has one median over all the rounds.
TEST(Suite, InterleavedRatiosRunEachCaseOncePerRound) {
  std::map<std::string, int> prepared, runs;
  const auto make = [&](const std::string& name, int work) {
    SuiteCase c;
    c.name = name;
    c.prepare = [&, name, work] {
      ++prepared[name];
      return CaseRun([&, name, work](Cost*) {
        ++runs[name];
        volatile double x = 0;
        for (int i = 0; i < work; ++i) x = x + 1.0;
      });
    };
    return c;
  };
  const std::vector<SuiteCase> cases = {make("v3.2-mla-dsa-core/4k", 40000),
                                        make("v4-pro-csa-core/4k", 10000),
                                        make("unrelated/4k", 10)};
  std::vector<SpeedRatio> pairs(2);
  pairs[0].numerator = "v3.2-mla-dsa-core/4k";
  pairs[0].denominator = "v4-pro-csa-core/4k";
  pairs[1].numerator = "v3.2-mla-dsa-core/4k";
  pairs[1].denominator = "v4-pro-hca-core/4k";  // not among the cases: left out
  const int rounds = 5;
  const std::vector<InterleavedRatio> r = interleaved_ratios(cases, pairs, TimingPolicy{}, rounds);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].numerator, "v3.2-mla-dsa-core/4k");
  EXPECT_EQ(r[0].denominator, "v4-pro-csa-core/4k");
  EXPECT_EQ(r[0].rounds, rounds);
  EXPECT_GT(r[0].median, 0);
  EXPECT_EQ(prepared,
            (std::map<std::string, int>{{"v3.2-mla-dsa-core/4k", 1}, {"v4-pro-csa-core/4k", 1}}));
  EXPECT_EQ(runs, (std::map<std::string, int>{{"v3.2-mla-dsa-core/4k", rounds + 1},
                                              {"v4-pro-csa-core/4k", rounds + 1}}));
}

}  // namespace
}  // namespace v4sim::bench
