// Suite cases of the V4 attention block (kernels/attention_layer_forward.h), at the widths of
// models/deepseek-v4-{flash,pro}.yaml:
//   <model>-<kind>-layer/<ctx>     one decode step of the whole block at position ctx: projections,
//                                  compressor(s), indexer (CSA), core attention, output
//   <model>-<kind>-core/<ctx>      its context-dependent part: indexer scoring + top-k (CSA) and
//                                  the core attention over window + compressed entries
//   <model>-<kind>-core-bf16/<ctx> the same core in BF16 arithmetic (sparse_attention_core_bf16)
//                                  over a BF16 copy of the cache: what the deployed kernel runs
//   <model>-<kind>-prefill/<n>@<ctx>  a chunk of n tokens at position ctx
// Layer cases run the five attention projections from FP8 copies of the weights (the deployed
// format, 1 byte per weight as cost() counts; kernels/fp8_linear.h), the rest in float32.
// Caches hold what the model caches, filled with random values (random_layer_cache), not built by
// running a million tokens; every run starts from the same cache state (a decode at ctx = 4096 or
// 2^k emits no compressed entry; the caches are rewound after each run).
#include <memory>
#include <span>
#include <string>

#include "kernels/attention_layer_forward.h"
#include "kernels/bench/suite_cases.h"
#include "kernels/fp8_linear.h"
#include "kernels/random_fill.h"

namespace v4sim::bench::detail {
namespace {

struct V4Dims {
  const char* model;
  std::int64_t hidden, heads, q_lora_rank, o_groups, o_lora_rank, topk, indexer_heads;
};
constexpr V4Dims kFlash{"v4-flash", 4096, 64, 1024, 8, 1024, 512, 64};
constexpr V4Dims kPro{"v4-pro", 7168, 128, 1536, 16, 1024, 1024, 64};
// Smoke mode: the same code paths at toy widths (head_dim 512 / rope 64 / indexer 128 stay, the
// entry layouts and the Hadamard-128 need them).
constexpr V4Dims kToyFlash{"v4-flash", 256, 4, 64, 2, 32, 8, 4};
constexpr V4Dims kToyPro{"v4-pro", 384, 8, 96, 2, 32, 16, 4};

struct V4Inputs {
  Slot<AttentionLayerWeights> weights;
  Slot<AttentionLayerCache> cache;
};
using Inputs = std::shared_ptr<V4Inputs>;

const char* kind_name(AttentionLayerKind k) {
  switch (k) {
    case AttentionLayerKind::swa:
      return "swa";
    case AttentionLayerKind::csa:
      return "csa";
    case AttentionLayerKind::hca:
      return "hca";
  }
  return "?";
}

AttentionLayerShape layer_shape(const V4Dims& m, AttentionLayerKind kind, std::int64_t start,
                                std::int64_t tokens) {
  AttentionLayerShape s;  // defaults: d 512, RoPE 64, window 128, ratios 4 / 128, deploy formats
  s.kind = kind;
  s.hidden = m.hidden;
  s.num_heads = m.heads;
  s.q_lora_rank = m.q_lora_rank;
  s.o_groups = m.o_groups;
  s.o_lora_rank = m.o_lora_rank;
  s.topk = m.topk;
  s.indexer_heads = m.indexer_heads;
  s.start_pos = start;
  s.num_tokens = tokens;
  return s;
}

// The table calls of the ops (hardware/perf/README.md), as sim/op_list.cpp asks for them: the
// core of a decode step is dsa_decode (CSA / HCA: a sparse core over the window and the selected
// compressed entries), the indexer's scores indexer_logits, the compressors their class, the
// projections gemm. A prefill chunk's core and scores have no table class (as in sim/), nor has
// the SWA core (window only: no host table measures it).
OpCall core_call(const SparseAttentionShape& c) {
  if (c.compress_ratio == 0 || c.num_tokens != 1) return {};
  OpCall k{"dsa_decode", c.compute, 0, 0, 0, 1, static_cast<double>(c.start_pos + 1)};
  k.heads = static_cast<double>(c.num_heads);
  k.topk = static_cast<double>(c.topk);
  k.compress_ratio = static_cast<double>(c.compress_ratio);
  return k;
}
OpCall scoring_call(const IndexerScoringShape& s) {
  if (s.num_tokens != 1) return {};
  OpCall k{"indexer_logits", s.compute, 0, 0, 0, 1, static_cast<double>(s.start_pos + 1)};
  k.heads = static_cast<double>(s.num_heads);
  k.compress_ratio = static_cast<double>(s.ratio);
  return k;
}
OpCall compressor_call(const CompressorShape& s) {
  OpCall k{"compressor", s.compute, static_cast<double>(s.num_tokens)};
  k.hidden = static_cast<double>(s.hidden);
  k.compress_ratio = static_cast<double>(s.ratio);
  k.head_dim = static_cast<double>(s.head_dim);
  return k;
}

/// cost(s) op by op, in the order the layer runs them (they sum to cost(s),
/// kernels/attention_layer.h), each with its table call.
std::vector<HostOp> layer_ops(const AttentionLayerShape& s) {
  std::vector<HostOp> ops;
  for (const LinearShape& l : projection_shapes(s)) ops.emplace_back(cost(l), linear_call(l));
  ops.emplace_back(cost(core_shape(s)), core_call(core_shape(s)));
  if (s.kind == AttentionLayerKind::swa) return ops;
  ops.emplace_back(cost(compressor_shape(s)), compressor_call(compressor_shape(s)));
  if (s.kind != AttentionLayerKind::csa) return ops;
  ops.emplace_back(cost(indexer_compressor_shape(s)), compressor_call(indexer_compressor_shape(s)));
  ops.emplace_back(cost(indexer_scoring_shape(s)), scoring_call(indexer_scoring_shape(s)));
  return ops;
}

/// The shape as the reference kernel holds it on the host: float32 arithmetic; the five attention
/// projections in their FP8 format (the layer cases run them from FP8 copies,
/// with_fp8_projections), every other weight in float32.
AttentionLayerShape as_run_on_host(AttentionLayerShape s) {
  s.compressor_weights = s.indexer_weights = WeightFormat::fp32;
  s.projections = s.core = s.compressor = s.indexer_projections = s.indexer_scoring =
      Precision::fp32;
  return s;
}

constexpr float kInputHalfWidth = 1.7f;  // activations and queries: uniform, sigma about 1

std::shared_ptr<AttentionLayerWeights> weights_for(V4Inputs& in, const V4Dims& m,
                                                   const AttentionLayerShape& s) {
  return in.weights.get(std::string(m.model) + "-" + kind_name(s.kind), [&] {
    AttentionLayerWeights w = random_layer_weights(s, 7000);
    with_fp8_projections(w);
    return w;
  });
}

// The cache depends on the kind and context only (entry widths are the same in both models).
std::shared_ptr<AttentionLayerCache> cache_for(V4Inputs& in, const AttentionLayerShape& s,
                                               std::int64_t context) {
  return in.cache.get(std::string(kind_name(s.kind)) + "@" + std::to_string(context),
                      [&] { return random_layer_cache(s, context, 7001); });
}

/// Back to `context` tokens: a run only appended to the ring, the tails and (prefill) the tables.
struct Rewind {
  std::int64_t context = 0, compressed = 0, keys = 0;
  void operator()(AttentionLayerCache& c) const {
    c.window.length = context;
    c.compressor.next_pos = context;
    c.indexer_compressor.next_pos = context;
    c.compressed.rows = compressed;
    c.indexer_keys.rows = keys;
  }
};

SuiteCase block_case(const V4Dims& m, AttentionLayerKind kind, std::int64_t context,
                     std::int64_t tokens, const Inputs& in) {
  const AttentionLayerShape s = layer_shape(m, kind, context, tokens);
  SuiteCase c;
  c.name = std::string(m.model) + "-" + kind_name(kind) +
           (tokens == 1 ? "-layer/" + context_label(context)
                        : "-prefill/" + std::to_string(tokens) + "@" + context_label(context));
  c.family = tokens == 1 ? "attention-layer" : "prefill";
  c.model = m.model;
  c.context = context;
  c.tokens = tokens;
  c.cost = cost(s);
  c.host_cost = cost(as_run_on_host(s));
  c.host_ops = layer_ops(as_run_on_host(s));
  c.prepare = [m, s, in]() -> CaseRun {
    auto w = weights_for(*in, m, s);
    auto cache = cache_for(*in, s, s.start_pos);
    auto x = std::make_shared<const RowMatrixXf>(
        random_matrix(s.num_tokens, m.hidden, kInputHalfWidth, 7002));
    const Rewind rewind{s.start_pos, cache->compressed.rows, cache->indexer_keys.rows};
    return [s, w, cache, x, rewind](Cost* counted) {
      const RowMatrixXf y = attention_layer_forward(s, *w, {}, *x, *cache, counted);
      rewind(*cache);
    };
  };
  return c;
}

// What one decode query's core reads besides the cache (seeds 7003 to 7005), and (bf16) BF16
// copies of the window ring, the compressed entries and the new token's entry, made before
// timing.
struct CoreInputs {
  SparseAttentionShape core;
  RopeTable rope;
  RowMatrixXf q, kv, out;
  std::vector<float> sink;
  std::unique_ptr<Bf16KeyCopies> copies;
  AttentionWorkspace buffers;  // the core's scratch, kept from run to run
};
std::shared_ptr<CoreInputs> core_inputs(const V4Dims& m, const AttentionLayerShape& s,
                                        const AttentionLayerCache& cache, bool bf16) {
  auto d = std::make_shared<CoreInputs>();
  d->core = core_shape(s);
  d->rope = layer_rope_table(s);
  d->q = random_matrix(1, m.heads * s.head_dim, kInputHalfWidth, 7003);
  d->kv = random_matrix(1, s.head_dim, kInputHalfWidth, 7004);
  d->out.resize(1, m.heads * s.head_dim);
  d->sink.resize(static_cast<std::size_t>(m.heads));
  fill_uniform(d->sink, 1.0f, 7005);
  if (bf16) {
    d->copies = std::make_unique<Bf16KeyCopies>(s.head_dim);
    d->copies->add(cache.window.slots.data(), cache.window.slots.rows());
    d->copies->add(cache.compressed.data.data(), cache.compressed.rows);
    d->copies->add(d->kv.data(), 1);
  }
  return d;
}

// The indexer's query of that step (seeds 7006, 7007).
IndexerQueries indexer_queries(const AttentionLayerShape& s) {
  IndexerQueries iq;
  iq.q = random_matrix(1, s.indexer_heads * s.indexer_dim, kInputHalfWidth, 7006);
  iq.w = random_matrix(1, s.indexer_heads, kInputHalfWidth, 7007);
  return iq;
}

// The core over the cache's window and `selection` of its compressed entries: float32
// (sparse_attention_forward, which appends the new entry to the ring: rewound here), or BF16 over
// d.copies, the key sets and their BF16 rows built in the run as the float32 core builds its own
// (model_key_sets); the new token's entry is its own row, not the ring's.
void run_core(CoreInputs& d, AttentionLayerCache& cache, const EntrySelection* selection,
              Cost* counted) {
  const EntryTable* compressed = selection ? &cache.compressed : nullptr;
  if (d.copies) {
    const KeySets keys = model_key_sets(d.core, cache.window, d.kv, compressed, selection);
    sparse_attention_core_bf16(d.core, d.q, d.copies->key_sets(keys), d.sink, d.rope, d.out,
                               counted, &d.buffers);
    return;
  }
  const std::int64_t context = cache.window.length;
  sparse_attention_forward(d.core, d.q, d.kv, cache.window, compressed, selection, d.sink, d.rope,
                           d.out, counted, &d.buffers);
  cache.window.length = context;
}

// The context-dependent part of a decode step: the indexer (CSA, float32) and the core, float32
// or (bf16) in BF16 over BF16 copies of the cache (copied in prepare, not timed), so the bf16
// case holds and reads 2 bytes per cached value.
SuiteCase core_case(const V4Dims& m, AttentionLayerKind kind, std::int64_t context, bool bf16,
                    const Inputs& in) {
  const AttentionLayerShape s = layer_shape(m, kind, context, 1);
  const bool csa = kind == AttentionLayerKind::csa;
  SparseAttentionShape host_core = core_shape(as_run_on_host(s));
  if (bf16) {
    host_core.compute = Precision::bf16;
    host_core.kv_format = KvEntryFormat::bf16;
  }
  SuiteCase c;
  c.name = std::string(m.model) + "-" + kind_name(kind) + (bf16 ? "-core-bf16/" : "-core/") +
           context_label(context);
  c.family = "attention-core";
  c.model = m.model;
  c.context = context;
  c.cost = cost(core_shape(s));
  c.host_cost = cost(host_core);
  c.host_ops = {{c.host_cost, core_call(host_core)}};
  if (csa) {
    c.cost += cost(indexer_scoring_shape(s));
    const IndexerScoringShape scoring = indexer_scoring_shape(as_run_on_host(s));
    c.host_ops.emplace_back(cost(scoring), scoring_call(scoring));
    c.host_cost += c.host_ops.back().cost;
  }
  c.prepare = [m, s, context, csa, bf16, in]() -> CaseRun {
    auto cache = cache_for(*in, s, context);
    auto d = core_inputs(m, s, *cache, bf16);
    auto iq = std::make_shared<const IndexerQueries>(csa ? indexer_queries(s) : IndexerQueries{});
    const bool compressed = s.kind != AttentionLayerKind::swa;
    auto all = std::make_shared<const EntrySelection>(
        compressed && !csa ? all_visible_selection(d->core) : EntrySelection{});
    const IndexerScoringShape scoring = csa ? indexer_scoring_shape(s) : IndexerScoringShape{};
    return [s, csa, compressed, scoring, cache, d, iq, all](Cost* counted) {
      EntrySelection topk;
      if (csa) topk = indexer_topk(scoring, *iq, cache->indexer_keys, s.topk, counted);
      run_core(*d, *cache, csa ? &topk : (compressed ? all.get() : nullptr), counted);
    };
  };
  return c;
}

// ---- Host tables (kernels/bench/host_tables.h): the same kernels on a grid off the suite's shapes.

// kv_len of the core and indexer tables: between and beyond the suite's contexts (1024 smoke;
// 4096, 64K, 128K, 1M), never one of them nor one past. Not a multiple of 4: the query at
// kv_len - 1 then completes no compressed block, so the random cache holds every entry it sees.
std::vector<std::int64_t> table_kv_lens(SuiteMode mode) {
  switch (mode) {
    case SuiteMode::smoke:
      return {301, 3001};
    case SuiteMode::quick:
      return {3001, 24001, 200001};
    case SuiteMode::full:
      return {3001, 24001, 200001, 700001};
  }
  return {};
}

// The core alone (CSA: over a top-k chosen before timing; HCA: every visible entry) of a query
// at s.start_pos, float32 or over BF16 copies of the cache, as core_case runs it.
CaseRun core_only_run(const V4Dims& m, const AttentionLayerShape& s, bool bf16, const Inputs& in) {
  auto cache = cache_for(*in, s, s.start_pos);
  auto d = core_inputs(m, s, *cache, bf16);
  auto selection = std::make_shared<const EntrySelection>(
      s.kind == AttentionLayerKind::csa
          ? indexer_topk(indexer_scoring_shape(s), indexer_queries(s), cache->indexer_keys, s.topk)
          : all_visible_selection(d->core));
  return [cache, d, selection](Cost* counted) { run_core(*d, *cache, selection.get(), counted); };
}

// The indexer's scores and top-k of a query at s.start_pos (the CSA core case's first op).
CaseRun indexer_only_run(const AttentionLayerShape& s, const Inputs& in) {
  auto cache = cache_for(*in, s, s.start_pos);
  auto iq = std::make_shared<const IndexerQueries>(indexer_queries(s));
  const IndexerScoringShape scoring = indexer_scoring_shape(s);
  return [s, scoring, cache, iq](Cost* counted) {
    indexer_topk(scoring, *iq, cache->indexer_keys, s.topk, counted);
  };
}

TableSpec core_table(const V4Dims& m, AttentionLayerKind kind, bool bf16, SuiteMode mode,
                     const Inputs& in) {
  const AttentionLayerShape s0 = layer_shape(m, kind, 0, 1);
  const SparseAttentionShape core = core_shape(s0);
  TableSpec t;
  t.kernel = "dsa_decode";
  t.precision = bf16 ? Precision::bf16 : Precision::fp32;
  t.stem = std::string("dsa-decode-") + (bf16 ? "bf16" : "fp32") + "-v4-" + kind_name(kind);
  t.columns = {"batch", "kv_len"};
  t.fixed = {{"core", "v4_sparse"},
             {"heads", std::to_string(core.num_heads)},
             {"head_dim", std::to_string(core.head_dim)},
             {"rope_dim", std::to_string(core.rope_dim)},
             {"window", std::to_string(core.window)},
             {"compress_ratio", std::to_string(core.compress_ratio)},
             {"query_tokens", "1"},
             {"kv_dtype", bf16 ? "bf16" : "fp8"}};
  if (core.topk > 0) t.fixed.emplace_back("topk", std::to_string(core.topk));
  t.what =
      bf16 ? "sparse_attention_core_bf16 (V4 " + std::string(kind_name(kind)) +
                 " core, BF16 products over BF16 copies of the window and compressed "
                 "entries, key sets built in the run)"
           : "sparse_attention_forward (V4 " + std::string(kind_name(kind)) +
                 " core, float32, over the window and the compressed entries" +
                 (kind == AttentionLayerKind::csa ? " chosen by the indexer before timing)" : ")");
  for (std::int64_t kv : table_kv_lens(mode)) {
    const AttentionLayerShape s = layer_shape(m, kind, kv - 1, 1);
    t.points.push_back({{1.0, static_cast<double>(kv)},
                        [m, s, bf16, in] { return core_only_run(m, s, bf16, in); }});
  }
  return t;
}

TableSpec indexer_table(const V4Dims& m, SuiteMode mode, const Inputs& in) {
  const IndexerScoringShape scoring =
      indexer_scoring_shape(layer_shape(m, AttentionLayerKind::csa, 0, 1));
  TableSpec t;
  t.kernel = "indexer_logits";
  t.precision = Precision::fp32;
  t.stem = "indexer-logits-fp32-v4";
  t.columns = {"batch", "kv_len"};
  t.fixed = {{"heads", std::to_string(scoring.num_heads)},
             {"head_dim", std::to_string(scoring.head_dim)},
             {"compress_ratio", std::to_string(scoring.ratio)},
             {"kv_dtype", "fp4"}};
  t.what =
      "indexer_topk (V4 lightning indexer: float32 scores of one query over the compressed "
      "indexer keys, stored as MXFP4 as cost() counts them and decoded to float32 block by "
      "block, then the top-k)";
  for (std::int64_t kv : table_kv_lens(mode)) {
    const AttentionLayerShape s = layer_shape(m, AttentionLayerKind::csa, kv - 1, 1);
    t.points.push_back(
        {{1.0, static_cast<double>(kv)}, [s, in] { return indexer_only_run(s, in); }});
  }
  return t;
}

// The compressors of a layer of `hidden` width, from position 1024 (a random cache there).
struct CompressorGrid {
  std::vector<std::int64_t> hidden, tokens;
};
CompressorGrid compressor_grid(SuiteMode mode) {
  // Suite widths 256 / 384 (smoke), 4096 / 7168; tokens 1 (decode) and 16 / 128 (prefill).
  if (mode == SuiteMode::smoke) return {{200, 320}, {1, 3}};
  return {{3072, 6144}, {1, 8, 48, 200}};
}
constexpr std::int64_t kCompressorStart = 1024;

CaseRun compressor_run(const AttentionLayerShape& layer, bool indexer) {
  struct Data {
    CompressorShape shape;
    CompressorWeights w;
    RopeTable rope;
    RowMatrixXf x;
    AttentionLayerCache cache;
  };
  auto d = std::make_shared<Data>();
  const AttentionLayerShape host = as_run_on_host(layer);
  d->shape = indexer ? indexer_compressor_shape(host) : compressor_shape(host);
  d->w = random_compressor_weights(d->shape, 7010);
  d->rope = layer_rope_table(layer);
  d->x = random_matrix(d->shape.num_tokens, d->shape.hidden, kInputHalfWidth, 7011);
  d->cache = random_layer_cache(layer, layer.start_pos, 7012);
  CompressorOptions options;
  options.kind = indexer ? EntryKind::indexer_key : EntryKind::attention;
  return [d, options, indexer](Cost* counted) {
    CompressorState& state = indexer ? d->cache.indexer_compressor : d->cache.compressor;
    const auto run = [&](auto& entries) {
      const std::int64_t rows = entries.rows;
      compressor_forward(d->shape, d->w, options, d->rope, d->x, state, entries, counted);
      entries.rows = rows;
    };
    if (indexer) {
      run(d->cache.indexer_keys);
    } else {
      run(d->cache.compressed);
    }
    state.next_pos = d->shape.start_pos;  // every run compresses the same tokens
  };
}

TableSpec compressor_table(const V4Dims& m, AttentionLayerKind kind, bool indexer, SuiteMode mode) {
  const CompressorShape c0 =
      indexer ? indexer_compressor_shape(layer_shape(m, kind, kCompressorStart, 1))
              : compressor_shape(layer_shape(m, kind, kCompressorStart, 1));
  TableSpec t;
  t.kernel = "compressor";
  t.precision = Precision::fp32;
  t.stem = std::string("compressor-fp32-") + (indexer ? "indexer" : kind_name(kind));
  t.columns = {"tokens", "hidden"};
  t.fixed = {
      {"head_dim", std::to_string(c0.head_dim)},       {"rope_dim", std::to_string(c0.rope_dim)},
      {"compress_ratio", std::to_string(c0.ratio)},    {"overlap", c0.overlap ? "1" : "0"},
      {"start_pos", std::to_string(kCompressorStart)}, {"kv_dtype", indexer ? "fp4" : "fp8"}};
  t.what = std::string("compressor_forward (V4 ") + (indexer ? "indexer-key" : kind_name(kind)) +
           " compressor: float32 wkv / wgate projections, gated pooling, entries finished in "
           "float32) of `tokens` tokens from position " +
           std::to_string(kCompressorStart) + " of a random cache";
  const CompressorGrid g = compressor_grid(mode);
  for (std::int64_t hidden : g.hidden)
    for (std::int64_t tokens : g.tokens) {
      V4Dims dims = m;
      dims.hidden = hidden;
      const AttentionLayerShape layer = layer_shape(dims, kind, kCompressorStart, tokens);
      t.points.push_back({{static_cast<double>(tokens), static_cast<double>(hidden)},
                          [layer, indexer] { return compressor_run(layer, indexer); }});
    }
  return t;
}

// The FP8-weight projections (linear_fp8_forward, float32 arithmetic): weight shapes between and
// beside the V4 attention projections (n x k per group: 512..65536 x 1024..16384), none of them.
TableSpec fp8_gemm_table(SuiteMode mode) {
  struct Grid {
    std::vector<std::pair<std::int64_t, std::int64_t>> n_k;
    std::vector<std::int64_t> m;
  };
  const Grid g =
      mode == SuiteMode::smoke
          ? Grid{{{24, 40}, {72, 136}}, {1, 3}}
          : Grid{{{1536, 3072}, {12288, 1024}, {3072, 6144}, {4096, 12288}}, {1, 4, 32, 200}};
  TableSpec t;
  t.kernel = "gemm";
  t.precision = Precision::fp32;
  t.stem = "gemm-fp32-w-fp8";
  t.columns = {"m", "n", "k"};
  t.fixed = {{"weight_dtype", "fp8"}};
  t.what =
      "linear_fp8_forward (y = x W^T, FP8 E4M3 weights with a UE8M0 scale per 128 x 128 block, "
      "decoded in the product, float32 x and arithmetic, groups 1)";
  for (const auto& [n, k] : g.n_k)
    for (std::int64_t rows : g.m) {
      t.points.push_back(
          {{static_cast<double>(rows), static_cast<double>(n), static_cast<double>(k)},
           [rows, n = n, k = k]() -> CaseRun {
             struct Data {
               RowMatrixXf x, y;
               Fp8Weight w;
             };
             auto d = std::make_shared<Data>();
             d->x = random_matrix(rows, k, kInputHalfWidth, 7020);
             d->w = quantize_fp8_weight(random_matrix(n, k, kInputHalfWidth, 7021) * (1.0f / 64));
             d->y.resize(rows, n);
             return [d](Cost* counted) {
               linear_fp8_forward(d->x, d->w, 1, Precision::fp32, d->y, counted);
             };
           }});
    }
  return t;
}

}  // namespace

void add_v4_tables(SuiteMode mode, std::vector<TableSpec>& out) {
  using K = AttentionLayerKind;
  const V4Dims& pro = mode == SuiteMode::smoke ? kToyPro : kPro;
  auto in = std::make_shared<V4Inputs>();
  out.push_back(fp8_gemm_table(mode));
  for (K kind : {K::csa, K::hca})
    for (bool bf16 : {false, true}) out.push_back(core_table(pro, kind, bf16, mode, in));
  out.push_back(indexer_table(pro, mode, in));
  out.push_back(compressor_table(pro, K::csa, false, mode));
  out.push_back(compressor_table(pro, K::hca, false, mode));
  out.push_back(compressor_table(pro, K::csa, true, mode));
}

void add_v4_attention_cases(SuiteMode mode, std::vector<SuiteCase>& out) {
  using K = AttentionLayerKind;
  auto in = std::make_shared<V4Inputs>();
  const bool smoke = mode == SuiteMode::smoke, full = mode == SuiteMode::full;
  const std::vector<std::int64_t> contexts = decode_contexts(mode);
  const std::int64_t prefill_at = smoke ? 1024 : 4096, chunk = smoke ? 16 : 128;
  const V4Dims& flash = smoke ? kToyFlash : kFlash;
  const V4Dims& pro = smoke ? kToyPro : kPro;
  // quick: whole layers of Flash, cores of Pro (the V3.2 comparison: same D and 128 heads).
  for (const V4Dims* m : {&flash, &pro}) {
    const bool is_flash = m == &flash;
    const bool layers = full || smoke || is_flash;
    const bool cores = full || smoke || !is_flash;
    for (K kind : {K::swa, K::csa, K::hca}) {
      for (std::int64_t ctx : contexts) {
        if (layers) out.push_back(block_case(*m, kind, ctx, 1, in));
        if (cores && kind != K::swa) {
          out.push_back(core_case(*m, kind, ctx, false, in));
          out.push_back(core_case(*m, kind, ctx, true, in));
        }
      }
      const bool prefill = full || (is_flash && kind == K::csa);
      if (prefill) out.push_back(block_case(*m, kind, prefill_at, chunk, in));
    }
  }
}

}  // namespace v4sim::bench::detail
