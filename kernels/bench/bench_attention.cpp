// Decode and prefill of one DeepSeek V4 attention block (SWA, CSA, HCA) at Flash and Pro widths.
//
//   V4Layer_Decode/<model>/<kind>/<context>   one token at position `context` against a cache of
//       `context` tokens: projections, compressor(s), indexer (CSA), core attention, output.
//   V4Core_Decode/<model>/<kind>/<context>    only the context-dependent part of the same step:
//       indexer scoring + top-k (CSA) and the core attention over window + compressed entries.
//   V4Layer_Prefill/<model>/<kind>            a chunk of 128 tokens at position 4096.
//
// Caches hold only what the model caches (window ring, compressed entries, indexer keys,
// compressor tails), filled with random values of the right shapes (random_layer_cache), not by
// running a million tokens through the layer. Every iteration starts from the same cache state
// (decode positions emit no entry: 4096 + 1 and 2^k + 1 are not multiples of 4 or 128).
// Counters come from cost() of the shape each benchmark runs, never from the measured code:
// flop_per_s (all precisions), fp8eq_flop_per_s and bytes_per_s. Bytes are those of the
// deployment formats (584 B entries, 68 B MXFP4 indexer keys, FP8 weights); the kernels here hold
// float32 copies, so they move 2-4x more bytes than counted.
// Dims: models/deepseek-v4-{flash,pro}.yaml (config.json values, reference/kernels.md §0).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <string>

#include "kernels/attention_layer_forward.h"
#include "kernels/random_fill.h"

namespace v4sim {
namespace {

struct ModelDims {
  const char* name;
  std::int64_t hidden, heads, q_lora_rank, o_groups, topk;
};
constexpr ModelDims kFlash{"flash", 4096, 64, 1024, 8, 512};
constexpr ModelDims kPro{"pro", 7168, 128, 1536, 16, 1024};

AttentionLayerShape layer_shape(const ModelDims& m, AttentionLayerKind kind, std::int64_t start,
                                std::int64_t tokens) {
  AttentionLayerShape s;  // defaults: d 512, RoPE 64, window 128, ratios 4/128, deploy formats
  s.kind = kind;
  s.hidden = m.hidden;
  s.num_heads = m.heads;
  s.q_lora_rank = m.q_lora_rank;
  s.o_groups = m.o_groups;
  s.o_lora_rank = 1024;
  s.topk = m.topk;
  s.start_pos = start;
  s.num_tokens = tokens;
  return s;
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

// One layer's weights and one cache kept between benchmarks (a Pro CSA layer is 1.3 GB of floats,
// a 1M-token CSA cache 0.65 GB): rebuilt only when the model, kind or context changes.
struct Fixture {
  std::string weights_key, cache_key;
  std::unique_ptr<AttentionLayerWeights> weights;
  std::unique_ptr<AttentionLayerCache> cache;

  void prepare(const ModelDims& m, AttentionLayerKind kind, std::int64_t context) {
    const AttentionLayerShape s = layer_shape(m, kind, context, 1);
    const std::string wk = std::string(m.name) + std::to_string(int(kind));
    const std::string ck = wk + "@" + std::to_string(context);
    if (wk != weights_key) {
      cache.reset();
      weights.reset();
      weights = std::make_unique<AttentionLayerWeights>(random_layer_weights(s, 7000));
      weights_key = wk;
    }
    if (ck != cache_key) {
      cache.reset();
      cache = std::make_unique<AttentionLayerCache>(random_layer_cache(s, context, 7001));
      cache_key = ck;
    }
  }
  // Back to `context` tokens: the step only appended to the ring / tails and (prefill) entries.
  void rewind(std::int64_t context, std::int64_t compressed, std::int64_t keys) {
    cache->window.length = context;
    cache->compressor.next_pos = context;
    cache->indexer_compressor.next_pos = context;
    cache->compressed.rows = compressed;
    cache->indexer_keys.rows = keys;
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

RowMatrixXf random_inputs(std::int64_t tokens, std::int64_t hidden, std::uint64_t seed) {
  RowMatrixXf x(tokens, hidden);
  fill_uniform(std::span<float>(x.data(), static_cast<std::size_t>(x.size())), 1.7f, seed);
  return x;
}

void BM_V4Layer_Decode(benchmark::State& state, ModelDims m, AttentionLayerKind kind) {
  const std::int64_t context = state.range(0);
  Fixture& f = fixture();
  f.prepare(m, kind, context);
  const AttentionLayerShape s = layer_shape(m, kind, context, 1);
  const RowMatrixXf x = random_inputs(1, m.hidden, 7002);
  const std::int64_t compressed = f.cache->compressed.rows, keys = f.cache->indexer_keys.rows;
  for (auto _ : state) {
    RowMatrixXf y = attention_layer_forward(s, *f.weights, {}, x, *f.cache);
    benchmark::DoNotOptimize(y.data());
    f.rewind(context, compressed, keys);
  }
  set_counters(state, cost(s));
}

// Core attention (+ CSA indexer scoring and top-k) of one decode step, inputs prepared outside
// the timed loop.
void BM_V4Core_Decode(benchmark::State& state, ModelDims m, AttentionLayerKind kind) {
  const std::int64_t context = state.range(0);
  Fixture& f = fixture();
  f.prepare(m, kind, context);
  const AttentionLayerShape s = layer_shape(m, kind, context, 1);
  const SparseAttentionShape core = core_shape(s);
  const RopeTable rope = layer_rope_table(s);
  const RowMatrixXf q = random_inputs(1, m.heads * 512, 7003);
  const RowMatrixXf kv = random_inputs(1, 512, 7004);
  IndexerQueries iq;
  IndexerScoringShape scoring;
  Cost expected = cost(core);
  if (kind == AttentionLayerKind::csa) {
    scoring = indexer_scoring_shape(s);
    iq.q = random_inputs(1, 64 * 128, 7005);
    iq.w = random_inputs(1, 64, 7006);
    expected += cost(scoring);
  }
  const bool compressed = kind != AttentionLayerKind::swa;
  const EntrySelection all = all_visible_selection(core);
  RowMatrixXf out(1, m.heads * 512);
  for (auto _ : state) {
    EntrySelection sel;
    if (kind == AttentionLayerKind::csa)
      sel = indexer_topk(scoring, iq, f.cache->indexer_keys, s.topk);
    sparse_attention_forward(core, q, kv, f.cache->window,
                             compressed ? &f.cache->compressed : nullptr,
                             kind == AttentionLayerKind::csa ? &sel
                             : compressed                    ? &all
                                                             : nullptr,
                             f.weights->sink, rope, out);
    benchmark::DoNotOptimize(out.data());
    f.cache->window.length = context;
  }
  set_counters(state, expected);
}

void BM_V4Layer_Prefill(benchmark::State& state, ModelDims m, AttentionLayerKind kind) {
  constexpr std::int64_t kStart = 4096, kChunk = 128;
  Fixture& f = fixture();
  f.prepare(m, kind, kStart);
  const AttentionLayerShape s = layer_shape(m, kind, kStart, kChunk);
  const RowMatrixXf x = random_inputs(kChunk, m.hidden, 7007);
  const std::int64_t compressed = f.cache->compressed.rows, keys = f.cache->indexer_keys.rows;
  for (auto _ : state) {
    RowMatrixXf y = attention_layer_forward(s, *f.weights, {}, x, *f.cache);
    benchmark::DoNotOptimize(y.data());
    f.rewind(kStart, compressed, keys);
  }
  set_counters(state, cost(s));
}

void contexts(benchmark::internal::Benchmark* b) {
  for (std::int64_t c : {4096, 65536, 131072, 1 << 20}) b->Arg(c);
  // Real time: the kernels may run on several threads (kernels/parallel.h).
  b->Unit(benchmark::kMillisecond)->ArgName("context")->UseRealTime();
}

#define V4_ATTENTION_BENCH(model, kind)                                                     \
  BENCHMARK_CAPTURE(BM_V4Layer_Decode, model##_##kind, k##model, AttentionLayerKind::kind)  \
      ->Apply(contexts);                                                                    \
  BENCHMARK_CAPTURE(BM_V4Core_Decode, model##_##kind, k##model, AttentionLayerKind::kind)   \
      ->Apply(contexts);                                                                    \
  BENCHMARK_CAPTURE(BM_V4Layer_Prefill, model##_##kind, k##model, AttentionLayerKind::kind) \
      ->Unit(benchmark::kMillisecond)                                                       \
      ->UseRealTime()

V4_ATTENTION_BENCH(Flash, swa);
V4_ATTENTION_BENCH(Flash, csa);
V4_ATTENTION_BENCH(Flash, hca);
V4_ATTENTION_BENCH(Pro, swa);
V4_ATTENTION_BENCH(Pro, csa);
V4_ATTENTION_BENCH(Pro, hca);

}  // namespace
}  // namespace v4sim
