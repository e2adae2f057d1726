// The analytic model: hand-derivable costs on a tiny config, closed-form prefill sums equal to
// brute-force sums of decode steps, monotonicity, and the published KV figures.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/mla_attention.h"
#include "kernels/moe.h"
#include "models/config/input_error.h"
#include "models/model_loader.h"
#include "sim/analytic.h"
#include "sim/op_list.h"

namespace v4sim {
namespace {

ModelSpec tiny() {
  return load_model(std::string(V4SIM_TEST_DATA) + "/tiny-v4.yaml");
}

Cost component(const AnalyticResult& r, OpComponent c) {
  return r.by_component[static_cast<int>(c)];
}

TEST(TinyModel, DecodeCostsByHand) {
  // Layers: [SWA, CSA, HCA, CSA] + MTP SWA; H 2, d 8, window 4, CSA ratio 4 with top-2, HCA 16.
  const AnalyticResult r = analyze(tiny(), {10, Phase::decode, "deploy", false});
  // Token at t = 9 sees 10 tokens. Keys: SWA 4; CSA 4 + min(floor(10/4) = 2, 2) = 6;
  // HCA 4 + floor(10/16) = 4. Core 4 * H * d * keys = 64 * (4 + 6 + 4 + 6) = 1280.
  EXPECT_EQ(component(r, OpComponent::core_attention).flops_at(Precision::bf16), 1280);
  // Projections per layer (MACs): wq_a 4x16 = 64, wq_b 16x4 = 64, wkv 8x16 = 128,
  // wo_a 2 groups of [4, 8] = 64, wo_b 16x8 = 128 -> 448 MACs = 896 FLOPs, x 4 layers.
  EXPECT_EQ(component(r, OpComponent::attention_projections).flops_at(Precision::fp8), 3584);
  // Indexer projections per CSA layer: wq_b [8, 4] = 32 + weights_proj [2, 16] = 32 MACs; x 2.
  EXPECT_EQ(component(r, OpComponent::indexer_projections).total_flops(), 2 * 2 * 64);
  // Indexer scoring per CSA layer: 2 keys x (2 heads x 4 dims) x 2 = 32 in fp4, 2 x 2 x 2 = 8 fp32.
  EXPECT_EQ(component(r, OpComponent::indexer_scoring).flops_at(Precision::fp4), 2 * 32);
  EXPECT_EQ(component(r, OpComponent::indexer_scoring).flops_at(Precision::fp32), 2 * 8);
  // MoE per layer: router 2 * 4 * 16 = 128; routed 2 * 2 * 3 * 16 * 8 = 1536; shared 768.
  EXPECT_EQ(component(r, OpComponent::router).total_flops(), 4 * 128);
  EXPECT_EQ(component(r, OpComponent::routed_experts).total_flops(), 4 * 1536);
  EXPECT_EQ(component(r, OpComponent::shared_experts).total_flops(), 4 * 768);
  // LM head 2 * 10 * 16 = 320.
  EXPECT_EQ(component(r, OpComponent::lm_head).total_flops(), 320);
  EXPECT_EQ(component(r, OpComponent::mtp).total_flops(), 0);  // MTP off
}

// A dense FFN and the shared experts are two ops each, the gate-up and the down GEMM the engines
// launch; together they cost what kernels/moe.h's shared_cost() does, exactly.
TEST(OpList, SwiGluFfnsAreTwoGemmsCostingTheirKernel) {
  const ModelSpec v3 = load_model("deepseek-v3");
  OpOptions o;
  Cost dense, shared;
  for (const Op& op : build_ops(v3, Pass{4095, 8}, o)) {
    if (op.layer == 0 && (op.name.ends_with(".ffn") || op.name.ends_with(".ffn.down")))
      dense += op.cost;
    if (op.layer == 3 &&
        (op.name.ends_with("ffn.shared_experts") || op.name.ends_with("ffn.shared_experts.down")))
      shared += op.cost;
  }
  MoeShape d;
  d.tokens = 8;
  d.hidden = v3.hidden_size;
  d.inter = v3.moe.dense_intermediate_size;
  d.num_shared = 1;
  d.shared_weight = v3.weights.dense_ffn;
  d.shared_compute = v3.compute.dense_ffn;
  EXPECT_EQ(dense, shared_cost(d));
  MoeShape m = d;
  m.inter = v3.moe.expert_intermediate_size;
  m.num_shared = v3.moe.num_shared_experts;
  m.shared_weight = v3.weights.shared_experts;
  m.shared_compute = v3.compute.shared_experts;
  EXPECT_EQ(shared, shared_cost(m));
  EXPECT_GT(shared.total_flops(), 0);
}

// The routed experts likewise: two grouped GEMMs, gate/up (n = 2 x inter, k = hidden) then down
// (n = hidden, k = inter), costing routed_cost() together.
TEST(OpList, RoutedExpertsAreTwoGroupedGemmsCostingTheirKernel) {
  const ModelSpec v3 = load_model("deepseek-v3");
  const std::int64_t D = v3.hidden_size, inter = v3.moe.expert_intermediate_size;
  Cost routed;
  int gemms = 0;
  for (const Op& op : build_ops(v3, Pass{4095, 8}, OpOptions{})) {
    if (op.layer != 3 || op.kind != OpComponent::routed_experts) continue;
    ++gemms;
    routed += op.cost;
    ASSERT_TRUE(op.kernel.has_class);
    EXPECT_EQ(op.kernel.kernel, KernelClass::grouped_gemm);
    const bool down = op.name.ends_with("ffn.routed_experts.down");
    EXPECT_TRUE(down || op.name.ends_with("ffn.routed_experts")) << op.name;
    EXPECT_EQ(op.kernel.ffn_down, down);
    EXPECT_EQ(op.kernel.n, down ? D : 2 * inter);
    EXPECT_EQ(op.kernel.k, down ? inter : D);
  }
  EXPECT_EQ(gemms, 2);
  MoeShape m;
  m.tokens = 8;
  m.hidden = D;
  m.inter = inter;
  m.num_experts = v3.moe.num_routed_experts;
  m.topk = v3.moe.experts_per_token;
  m.expert_weight = v3.weights.routed_experts;
  m.expert_compute = v3.compute.routed_experts;
  EXPECT_EQ(routed, routed_cost(m));
}

// An MTP verify step's four queries of one sequence at positions 4095..4098: V3's 128 heads split
// over tp 8 leave 16 per rank, so the four share a 64-row decode tile and the latent cache is read
// once, up to the last position; whole on one rank the heads fill two tiles per query and each
// query reads its own keys. Prefill keeps the expanded form, which folds nothing.
TEST(OpList, DecodeQueriesShareTheirRanksTiles) {
  const ModelSpec v3 = load_model("deepseek-v3");
  const auto core = [&](std::int64_t tp, bool prefill) {
    OpOptions o;
    o.attention_tp = tp;
    o.prefill = prefill;
    for (const Op& op : build_ops(v3, Pass{4095, 4}, o))
      if (op.layer == 0 && op.name.ends_with("core_attention")) return op.cost;
    return Cost{};
  };
  MlaAttentionShape each{v3.attention.num_heads,
                         v3.attention.kv_lora_rank,
                         v3.attention.rope_dim,
                         0,
                         4095,
                         4,
                         v3.kv_format("deploy").main_entry,
                         v3.compute.core_attention};
  EXPECT_EQ(core(1, false), cost(each));
  MlaAttentionShape tile = each;
  tile.num_heads = 4 * each.num_heads;
  tile.start_pos = 4098;
  tile.num_tokens = 1;
  EXPECT_EQ(core(8, false), cost(tile));
  const std::int64_t entry = core(8, false).read(MemClass::kv_cache) / 4099;
  EXPECT_EQ(core(8, false).read(MemClass::kv_cache), 4099 * entry);
  EXPECT_EQ(core(1, false).read(MemClass::kv_cache), (4096 + 4097 + 4098 + 4099) * entry);
  EXPECT_EQ(core(8, true), core(1, true));
}

TEST(TinyModel, KvCacheByHand) {
  const ModelSpec s = tiny();
  // BF16 entries: 8 dims = 16 B; indexer keys 4 dims = 8 B. After 10 tokens:
  //   window 4 entries per layer x 4 layers = 16 x 16 B = 256
  //   CSA: floor(10/4) = 2 entries (+ 2 keys) per CSA layer: 2 x (2 x 16 + 2 x 8) = 96
  //   HCA: floor(10/16) = 0
  //   state: CSA main 2 x 2 x 4 x 16 x 4 = 1024 + indexer 2 x 2 x 4 x 8 x 4 = 512, per CSA layer;
  //          HCA 2 x 1 x 16 x 8 x 4 = 1024  -> 2 x 1536 + 1024 = 4096
  const KvCacheBytes kv = kv_cache_per_sequence(s, 10, s.kv_format("deploy"));
  EXPECT_EQ(kv.window, 256);
  EXPECT_EQ(kv.compressed, 2 * 2 * 16);
  EXPECT_EQ(kv.indexer_keys, 2 * 2 * 8);
  EXPECT_EQ(kv.state, 4096);
  EXPECT_EQ(kv.total(), 256 + 64 + 32 + 4096);
  EXPECT_EQ(kv_cache_per_sequence(s, 10, s.kv_format("deploy"), true).window, 256 + 64);  // + MTP
}

// Sum of decode passes over positions 0..T-1 equals one prefill pass of T tokens, for every op
// and every FLOP precision and KV byte (weights are read once per pass, so they are excluded).
void expect_prefill_equals_sum_of_decodes(const ModelSpec& spec, std::int64_t start,
                                          std::int64_t T) {
  OpOptions o;
  o.logits_for_all_tokens = true;
  o.include_mtp = true;
  const std::vector<Op> prefill = build_ops(spec, {start, T}, o);
  std::vector<Cost> summed(prefill.size());
  for (std::int64_t t = start; t < start + T; ++t) {
    const std::vector<Op> step = build_ops(spec, {t, 1}, o);
    ASSERT_EQ(step.size(), prefill.size());
    for (std::size_t i = 0; i < step.size(); ++i) summed[i] += step[i].cost;
  }
  for (std::size_t i = 0; i < prefill.size(); ++i) {
    SCOPED_TRACE(spec.name + " " + prefill[i].name + " start=" + std::to_string(start) +
                 " T=" + std::to_string(T));
    EXPECT_EQ(prefill[i].cost.flops, summed[i].flops);
    EXPECT_EQ(prefill[i].cost.read(MemClass::kv_cache), summed[i].read(MemClass::kv_cache));
    EXPECT_EQ(prefill[i].cost.written(MemClass::kv_cache), summed[i].written(MemClass::kv_cache));
  }
}

TEST(ClosedForms, PrefillEqualsBruteForceAtBoundaries) {
  const ModelSpec s = tiny();
  for (std::int64_t T : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100})
    expect_prefill_equals_sum_of_decodes(s, 0, T);
  for (std::int64_t start : {1, 3, 4, 15, 16, 17})
    expect_prefill_equals_sum_of_decodes(s, start, 21);
}

TEST(ClosedForms, PrefillEqualsBruteForceOnFlash) {
  // Window 128, CSA 4 (top-512 reached at 2048 tokens), HCA 128: boundaries around each.
  const ModelSpec s = load_model("deepseek-v4-flash");
  for (std::int64_t T : {127, 128, 129, 131}) expect_prefill_equals_sum_of_decodes(s, 0, T);
  expect_prefill_equals_sum_of_decodes(s, 2040, 20);  // top-k saturates at floor(2052/4) = 513
  const ModelSpec v32 = load_model("deepseek-v3.2");
  expect_prefill_equals_sum_of_decodes(v32, 2040, 20);  // DSA top-2048 saturates at t = 2047
}

// Everything but the compressor grows with context. The compressor is the one exception, by design:
// the token that completes a block (n a multiple of 4 or 128) pools it, so a decode step's compressor
// work is a sawtooth in n (tested below); a prefill's total still grows.
TEST(Properties, NonDecreasingInContext) {
  const std::vector<std::int64_t> contexts = {
      1, 2, 3, 4, 5, 127, 128, 129, 4095, 4096, 4097, 65536, 131072, 163840, 524288, 1048576};
  for (const char* name :
       {"deepseek-v4-pro", "deepseek-v4-flash", "deepseek-v3.2", "deepseek-v3"}) {
    const ModelSpec s = load_model(name);
    for (Phase phase : {Phase::decode, Phase::prefill}) {
      double last_flops = 0;
      std::int64_t last_kv = 0;
      for (std::int64_t n : contexts) {
        if (n > s.max_context_tokens) break;
        const AnalyticResult r = analyze(s, {n, phase, "deploy", false});
        double flops = static_cast<double>(r.total.total_flops());
        if (phase == Phase::decode) flops -= component(r, OpComponent::compressor).total_flops();
        SCOPED_TRACE(std::string(name) + " " + std::string(to_string(phase)) +
                     " n=" + std::to_string(n));
        EXPECT_GE(flops, last_flops);
        EXPECT_GE(r.kv_cache.total(), last_kv);
        last_flops = flops;
        last_kv = r.kv_cache.total();
      }
    }
  }
}

TEST(Properties, DecodeCompressorWorkIsPeriodic) {
  // Flash: projections run every token; a CSA entry is pooled when n % 4 == 0, an HCA entry when
  // n % 128 == 0. So n = 129 costs what n = 5 costs, and n = 128 the most.
  const ModelSpec s = load_model("deepseek-v4-flash");
  auto compressor = [&](std::int64_t n) {
    return component(analyze(s, {n, Phase::decode, "deploy", false}), OpComponent::compressor)
        .total_flops();
  };
  EXPECT_EQ(compressor(129), compressor(5));
  EXPECT_EQ(compressor(4096 + 4), compressor(8));
  EXPECT_EQ(compressor(1 << 20), compressor(128));
  EXPECT_GT(compressor(128), compressor(124));
  EXPECT_GT(compressor(124), compressor(125));
}

Cost layer_op(const ModelSpec& s, std::int64_t n, const std::string& name) {
  for (const Op& op : build_ops(s, {n - 1, 1}, {})) {
    if (op.name == name) return op.cost;
  }
  ADD_FAILURE() << "no op " << name;
  return {};
}

TEST(Properties, HcaCoreGrowsAsContextOver128) {
  // Pro layer 3 is HCA: every 128 more tokens add exactly one key for each of 128 heads:
  // 4 * 128 heads * 512 dims = 262,144 FLOPs.
  const ModelSpec s = load_model("deepseek-v4-pro");
  for (std::int64_t n : {128, 4096, 100000, 1000000}) {
    const auto a = layer_op(s, n, "layers.3.core_attention").total_flops();
    const auto b = layer_op(s, n + 128, "layers.3.core_attention").total_flops();
    EXPECT_EQ(b - a, 4 * 128 * 512) << n;
  }
}

TEST(Properties, TopKCapsCsaCore) {
  // Pro layer 2 is CSA with top-1024: once floor(n/4) >= 1024 the core sees 128 + 1024 keys.
  const ModelSpec s = load_model("deepseek-v4-pro");
  const auto cap = 4LL * 128 * 512 * (128 + 1024);
  EXPECT_EQ(layer_op(s, 4096, "layers.2.core_attention").total_flops(), cap);
  EXPECT_EQ(layer_op(s, 1048576, "layers.2.core_attention").total_flops(), cap);
  EXPECT_LT(layer_op(s, 4095, "layers.2.core_attention").total_flops(), cap);
  // ... while the indexer keeps scoring every compressed entry: 2 * 64 * 128 * floor(n/4) in FP4.
  EXPECT_EQ(layer_op(s, 1048576, "layers.2.indexer.scoring").flops_at(Precision::fp4),
            2LL * 64 * 128 * 262144);
}

TEST(KvCache, ReproducesTheV4ReportFigures) {
  const std::int64_t n = 1 << 20;
  // Pro, deploy: 30 CSA x 262,144 x (584 + 68) + 31 HCA x 8,192 x 584 + 61 x 128 x 584
  //            = 5,127,536,640 + 148,307,968 + 4,559,872 = 5,280,404,480 B = 4.918 GiB
  const ModelSpec pro = load_model("deepseek-v4-pro");
  const KvCacheBytes kp = kv_cache_per_sequence(pro, n, pro.kv_format("deploy"));
  EXPECT_EQ(kp.window + kp.compressed + kp.indexer_keys, 5'280'404'480);
  // Flash: 21 x 262,144 x 652 + 20 x 8,192 x 584 + 43 x 128 x 584 = 3,688,172,544 B = 3.435 GiB
  const ModelSpec flash = load_model("deepseek-v4-flash");
  const KvCacheBytes kf = kv_cache_per_sequence(flash, n, flash.kv_format("deploy"));
  EXPECT_EQ(kf.window + kf.compressed + kf.indexer_keys, 3'688'172'544);
  // V3.2: 61 x (656 + 132) B per token = 48,068 B/token; 50.4 GB at 2^20.
  const ModelSpec v32 = load_model("deepseek-v3.2");
  EXPECT_EQ(kv_cache_per_sequence(v32, n, v32.kv_format("deploy")).total(), 48'068LL * n);
  // The report's ratios (9.5x Pro, 13.7x Flash), to the precision it quotes:
  const double v32_bytes = 48'068.0 * n;
  EXPECT_NEAR(v32_bytes / 5'280'404'480.0, 9.5, 0.05);
  EXPECT_NEAR(v32_bytes / 3'688'172'544.0, 13.7, 0.05);
  // BF16 everywhere, Pro: 30 x 262,144 x (1024 + 256) + 31 x 8,192 x 1024 + 61 x 128 x 1024
  //                       = 10,334,371,840 B = 9.62 GiB (vLLM's figure)
  const KvCacheBytes kb = kv_cache_per_sequence(pro, n, pro.kv_format("bf16"));
  EXPECT_EQ(kb.window + kb.compressed + kb.indexer_keys, 10'334'371'840);
}

/// kv_cache_per_sequence prices each layer kind once and scales it; summing one-layer models must
/// give the same bytes, part by part.
KvCacheBytes layer_by_layer(const ModelSpec& spec, std::int64_t n, const KvFormat& f, bool mtp) {
  KvCacheBytes sum;
  for (const LayerSpec& l : spec.layers) {
    ModelSpec one = spec;
    one.layers = {l};
    const KvCacheBytes kv = kv_cache_per_sequence(one, n, f, mtp);
    sum.window += kv.window;
    sum.compressed += kv.compressed;
    sum.indexer_keys += kv.indexer_keys;
    sum.state += kv.state;
    sum.latent += kv.latent;
    sum.kv_heads += kv.kv_heads;
    for (std::size_t k = 0; k < sum.by_layer_kind.size(); ++k)
      sum.by_layer_kind[k] += kv.by_layer_kind[k];
  }
  return sum;
}

void expect_same_kv(const KvCacheBytes& a, const KvCacheBytes& b) {
  EXPECT_EQ(a.window, b.window);
  EXPECT_EQ(a.compressed, b.compressed);
  EXPECT_EQ(a.indexer_keys, b.indexer_keys);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.latent, b.latent);
  EXPECT_EQ(a.kv_heads, b.kv_heads);
  EXPECT_EQ(a.by_layer_kind, b.by_layer_kind);
}

TEST(KvCache, KindsPricedOnceEqualTheLayerByLayerSum) {
  for (const std::string& name : list_models()) {
    SCOPED_TRACE(name);
    const ModelSpec s = load_model(name);
    for (const KvFormat& format : s.kv_formats)
      for (std::int64_t n : {1, 127, 128, 129, 4096, 1'000'003})
        for (bool mtp : {false, true})
          expect_same_kv(kv_cache_per_sequence(s, n, format, mtp),
                         layer_by_layer(s, n, format, mtp));
  }
  // A kind whose layers do not share one compression ratio takes the per-layer path.
  ModelSpec mixed = load_model("deepseek-v4-flash");
  int changed = 0;
  for (LayerSpec& l : mixed.layers)
    if (l.attention == AttentionKind::hca && changed++ % 2 == 0) l.compress_ratio = 64;
  ASSERT_GT(changed, 1);
  const KvFormat& f = mixed.kv_format("deploy");
  expect_same_kv(kv_cache_per_sequence(mixed, 65536, f), layer_by_layer(mixed, 65536, f, false));
  EXPECT_NE(kv_cache_per_sequence(mixed, 65536, f).compressed,
            kv_cache_per_sequence(load_model("deepseek-v4-flash"), 65536, f).compressed);
}

TEST(Errors, ContextAndFormat) {
  const ModelSpec s = tiny();
  EXPECT_THROW(analyze(s, {0, Phase::decode, "deploy", false}), InputError);
  EXPECT_THROW(analyze(s, {1001, Phase::decode, "deploy", false}), InputError);
  EXPECT_NO_THROW(analyze(s, {1001, Phase::decode, "deploy", false, true}));
  EXPECT_THROW(analyze(s, {10, Phase::decode, "fp2", false}), InputError);
}

}  // namespace
}  // namespace v4sim
