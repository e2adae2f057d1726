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

/// cost(s) op by op, in the order the layer runs them (they sum to cost(s),
/// kernels/attention_layer.h).
std::vector<Cost> layer_ops(const AttentionLayerShape& s) {
  std::vector<Cost> ops;
  for (const LinearShape& l : projection_shapes(s)) ops.push_back(cost(l));
  ops.push_back(cost(core_shape(s)));
  if (s.kind == AttentionLayerKind::swa) return ops;
  ops.push_back(cost(compressor_shape(s)));
  if (s.kind != AttentionLayerKind::csa) return ops;
  ops.push_back(cost(indexer_compressor_shape(s)));
  ops.push_back(cost(indexer_scoring_shape(s)));
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

RowMatrixXf random_inputs(std::int64_t rows, std::int64_t cols, std::uint64_t seed) {
  RowMatrixXf x(rows, cols);
  fill_uniform(std::span<float>(x.data(), static_cast<std::size_t>(x.size())), 1.7f, seed);
  return x;
}

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
  const std::vector<Cost> ops = layer_ops(as_run_on_host(s));
  c.host_ops.assign(ops.begin(), ops.end());
  c.prepare = [m, s, in]() -> CaseRun {
    auto w = weights_for(*in, m, s);
    auto cache = cache_for(*in, s, s.start_pos);
    auto x = std::make_shared<const RowMatrixXf>(random_inputs(s.num_tokens, m.hidden, 7002));
    const Rewind rewind{s.start_pos, cache->compressed.rows, cache->indexer_keys.rows};
    return [s, w, cache, x, rewind](Cost* counted) {
      const RowMatrixXf y = attention_layer_forward(s, *w, {}, *x, *cache, counted);
      rewind(*cache);
    };
  };
  return c;
}

SuiteCase core_case(const V4Dims& m, AttentionLayerKind kind, std::int64_t context,
                    const Inputs& in) {
  const AttentionLayerShape s = layer_shape(m, kind, context, 1);
  const bool csa = kind == AttentionLayerKind::csa;
  SuiteCase c;
  c.name = std::string(m.model) + "-" + kind_name(kind) + "-core/" + context_label(context);
  c.family = "attention-core";
  c.model = m.model;
  c.context = context;
  c.cost = cost(core_shape(s));
  c.host_cost = cost(core_shape(as_run_on_host(s)));
  c.host_ops = {c.host_cost};
  if (csa) {
    c.cost += cost(indexer_scoring_shape(s));
    c.host_ops.push_back(cost(indexer_scoring_shape(as_run_on_host(s))));
    c.host_cost += c.host_ops.back().cost;
  }
  c.prepare = [m, s, context, csa, in]() -> CaseRun {
    auto cache = cache_for(*in, s, context);
    struct Data {
      SparseAttentionShape core;
      IndexerScoringShape scoring;
      RopeTable rope;
      RowMatrixXf q, kv, out;
      IndexerQueries iq;
      EntrySelection all;
      std::vector<float> sink;
    };
    auto d = std::make_shared<Data>();
    d->core = core_shape(s);
    d->rope = layer_rope_table(s);
    d->q = random_inputs(1, m.heads * s.head_dim, 7003);
    d->kv = random_inputs(1, s.head_dim, 7004);
    d->out.resize(1, m.heads * s.head_dim);
    d->sink.resize(static_cast<std::size_t>(m.heads));
    fill_uniform(d->sink, 1.0f, 7005);
    if (csa) {
      d->scoring = indexer_scoring_shape(s);
      d->iq.q = random_inputs(1, s.indexer_heads * s.indexer_dim, 7006);
      d->iq.w = random_inputs(1, s.indexer_heads, 7007);
    } else {
      d->all = all_visible_selection(d->core);
    }
    return [s, context, csa, cache, d](Cost* counted) {
      EntrySelection topk;
      if (csa) topk = indexer_topk(d->scoring, d->iq, cache->indexer_keys, s.topk, counted);
      const bool compressed = s.kind != AttentionLayerKind::swa;
      sparse_attention_forward(
          d->core, d->q, d->kv, cache->window, compressed ? &cache->compressed : nullptr,
          csa ? &topk : (compressed ? &d->all : nullptr), d->sink, d->rope, d->out, counted);
      cache->window.length = context;
    };
  };
  return c;
}

// The core of core_case in BF16: the indexer (CSA) as there, in float32; the attention over BF16
// copies of the window ring and the compressed entries (copied in prepare, not timed), so the
// case holds and reads 2 bytes per cached value.
SuiteCase core_bf16_case(const V4Dims& m, AttentionLayerKind kind, std::int64_t context,
                         const Inputs& in) {
  const AttentionLayerShape s = layer_shape(m, kind, context, 1);
  const bool csa = kind == AttentionLayerKind::csa;
  SparseAttentionShape host_core = core_shape(as_run_on_host(s));
  host_core.compute = Precision::bf16;
  host_core.kv_format = KvEntryFormat::bf16;
  SuiteCase c;
  c.name = std::string(m.model) + "-" + kind_name(kind) + "-core-bf16/" + context_label(context);
  c.family = "attention-core";
  c.model = m.model;
  c.context = context;
  c.cost = cost(core_shape(s));
  c.host_cost = cost(host_core);
  c.host_ops = {c.host_cost};
  if (csa) {
    c.cost += cost(indexer_scoring_shape(s));
    c.host_ops.push_back(cost(indexer_scoring_shape(as_run_on_host(s))));
    c.host_cost += c.host_ops.back().cost;
  }
  c.prepare = [m, s, context, csa, in]() -> CaseRun {
    auto cache = cache_for(*in, s, context);
    struct Data {
      SparseAttentionShape core;
      IndexerScoringShape scoring;
      RopeTable rope;
      RowMatrixXf q, kv, out;
      IndexerQueries iq;
      EntrySelection all;
      std::vector<float> sink;
      std::unique_ptr<Bf16KeyCopies> copies;
    };
    auto d = std::make_shared<Data>();
    d->core = core_shape(s);
    d->rope = layer_rope_table(s);
    d->q = random_inputs(1, m.heads * s.head_dim, 7003);
    d->kv = random_inputs(1, s.head_dim, 7004);
    d->out.resize(1, m.heads * s.head_dim);
    d->sink.resize(static_cast<std::size_t>(m.heads));
    fill_uniform(d->sink, 1.0f, 7005);
    if (csa) {
      d->scoring = indexer_scoring_shape(s);
      d->iq.q = random_inputs(1, s.indexer_heads * s.indexer_dim, 7006);
      d->iq.w = random_inputs(1, s.indexer_heads, 7007);
    } else {
      d->all = all_visible_selection(d->core);
    }
    d->copies = std::make_unique<Bf16KeyCopies>(s.head_dim);
    d->copies->add(cache->window.slots.data(), cache->window.slots.rows());
    d->copies->add(cache->compressed.data.data(), cache->compressed.rows);
    d->copies->add(d->kv.data(), 1);
    return [s, csa, cache, d](Cost* counted) {
      EntrySelection topk;
      if (csa) topk = indexer_topk(d->scoring, d->iq, cache->indexer_keys, s.topk, counted);
      const bool compressed = s.kind != AttentionLayerKind::swa;
      // The key sets and their BF16 rows are built inside the timed run, as the float32 core
      // builds its own (model_key_sets); the new token's entry is its own row, not the ring's.
      const KeySets keys =
          model_key_sets(d->core, cache->window, d->kv, compressed ? &cache->compressed : nullptr,
                         csa ? &topk : (compressed ? &d->all : nullptr));
      sparse_attention_core_bf16(d->core, d->q, d->copies->key_sets(keys), d->sink, d->rope, d->out,
                                 counted);
    };
  };
  return c;
}

}  // namespace

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
          out.push_back(core_case(*m, kind, ctx, in));
          out.push_back(core_bf16_case(*m, kind, ctx, in));
        }
      }
      const bool prefill = full || (is_flash && kind == K::csa);
      if (prefill) out.push_back(block_case(*m, kind, prefill_at, chunk, in));
    }
  }
}

}  // namespace v4sim::bench::detail
