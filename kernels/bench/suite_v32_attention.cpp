// Suite cases of DeepSeek V3.2's attention (MLA in absorbed form + DSA token-level indexer) and of
// the dense GQA-8 baseline, at V3.2's widths (hidden 7168, 128 heads, 576-d latents, top-2048,
// indexer 64 x 128):
//   v3.2-mla-dsa-core/<ctx>    indexer scoring + top-2048 over ctx FP8 keys (132 B), then the MLA
//                              core over the selected packed latents (656 B); query at ctx - 1
//   v3.2-mla-dsa-attn/<ctx>    the attention step of the token at position ctx: indexer projections
//                              and key append, scoring, both absorptions, MLA core (not the
//                              q / kv / o projections of the block)
//   gqa8-core/<ctx>            dense causal GQA core: 64 query heads, 8 KV heads of 128, float K/V
// Caches hold the deployment byte layouts, filled with a block of distinct random entries tiled
// over the context (random content, the right format and size).
#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "kernels/bench/suite_cases.h"
#include "kernels/dsa_indexer_forward.h"
#include "kernels/gqa_attention_forward.h"
#include "kernels/mla_attention_forward.h"
#include "kernels/quant.h"
#include "kernels/random_fill.h"

namespace v4sim::bench::detail {
namespace {

struct V32Dims {
  std::int64_t hidden, q_lora_rank, heads, indexer_heads, topk;
};
constexpr V32Dims kV32{7168, 1536, 128, 64, 2048};
constexpr V32Dims kToyV32{256, 64, 4, 4, 64};
constexpr std::int64_t kLatent = 512, kRope = 64, kEntry = kLatent + kRope, kNope = 128, kV = 128;
constexpr std::int64_t kDistinct = 4096;  // distinct random entries tiled over a long cache

// Repeats the first `period` elements of v until it holds n elements.
template <class T>
void tile_to(std::vector<T>& v, std::size_t period, std::size_t n) {
  v.resize(n);
  for (std::size_t i = period; i < n; i += period)
    std::copy_n(v.begin(), std::min(period, n - i), v.begin() + static_cast<std::ptrdiff_t>(i));
}

struct V32Caches {
  DsaKeyCache keys{128, false};
  MlaPackedCache latents{KvEntryFormat::v32_fp8_sparse, kEntry, kRope};
};

// n FP8 indexer keys and n packed latents, min(n, kDistinct) distinct random ones repeated.
V32Caches random_caches(std::int64_t n) {
  V32Caches c;
  const std::int64_t distinct = std::min(n, kDistinct);
  const RowMatrixXf keys = random_matrix(distinct, 128, uniform_half_width(1.0), 1);
  const RowMatrixXf entries = random_matrix(distinct, kEntry, uniform_half_width(1.0), 2);
  c.keys.reserve(n + 1);
  c.latents.reserve(n + 1);
  for (std::int64_t s = 0; s < distinct; ++s) {
    c.keys.append(std::span<const float>(keys.row(s).data(), 128));
    c.latents.append(std::span<const float>(entries.row(s).data(), kEntry));
  }
  const auto un = static_cast<std::size_t>(n), ud = static_cast<std::size_t>(distinct);
  tile_to(c.keys.codes, ud * 128, un * 128);
  tile_to(c.keys.scales, ud, un);
  c.keys.rows = n;
  const auto eb = static_cast<std::size_t>(c.latents.entry_bytes());
  tile_to(c.latents.bytes, ud * eb, un * eb);
  c.latents.rows = n;
  return c;
}

struct V32Inputs {
  Slot<V32Caches> caches;
};
using Inputs = std::shared_ptr<V32Inputs>;

std::shared_ptr<V32Caches> caches_for(V32Inputs& in, std::int64_t context) {
  return in.caches.get(std::to_string(context), [&] { return random_caches(context); });
}

MlaAttentionShape mla_shape(const V32Dims& m, std::int64_t position) {
  MlaAttentionShape s;
  s.num_heads = m.heads;
  s.latent_dim = kLatent;
  s.rope_dim = kRope;
  s.topk = m.topk;
  s.start_pos = position;
  s.num_tokens = 1;
  return s;
}

DsaIndexerConfig indexer_config(const V32Dims& m) {
  DsaIndexerConfig cfg;
  cfg.num_heads = m.indexer_heads;
  cfg.topk = m.topk;
  return cfg;
}

// The table calls of the ops (hardware/perf/README.md): one sequence, the keys visible to the
// query (position + 1), token-level (compress ratio 1: the V3.2 tables, not the V4 ones).
OpCall scoring_call(const IndexerScoringShape& s) {
  OpCall c{"indexer_logits", s.compute, 0, 0, 0, 1, static_cast<double>(s.start_pos + 1)};
  c.heads = static_cast<double>(s.num_heads);
  c.compress_ratio = 1;
  return c;
}
OpCall mla_call(const MlaAttentionShape& s) {
  OpCall c{"dsa_decode", s.compute, 0, 0, 0, 1, static_cast<double>(s.start_pos + 1)};
  c.heads = static_cast<double>(s.num_heads);
  c.topk = static_cast<double>(s.topk);
  c.compress_ratio = 1;
  return c;
}

// One indexer query at `position`: FP8-representable values, small head weights.
DsaQueries random_queries(const V32Dims& m, std::int64_t position) {
  DsaQueries q;
  q.start_pos = position;
  q.q = random_matrix(1, m.indexer_heads * 128, uniform_half_width(100.0), 3);  // E4M3-range values
  for (Eigen::Index j = 0; j < q.q.size(); ++j)
    q.q.data()[j] = fp8_e4m3_decode(fp8_e4m3_encode(q.q.data()[j]));
  q.w = random_matrix(1, m.indexer_heads, uniform_half_width(1e-3), 4);
  return q;
}

SuiteCase core_case(const V32Dims& m, std::int64_t context, const Inputs& in) {
  const DsaIndexerConfig cfg = indexer_config(m);
  const IndexerScoringShape scoring = dsa_scoring_shape(cfg, context - 1, 1);
  const MlaAttentionShape mla = mla_shape(m, context - 1);
  IndexerScoringShape host_scoring = scoring;
  MlaAttentionShape host_mla = mla;
  host_scoring.compute = host_mla.compute = Precision::fp32;  // key / latent formats are real
  SuiteCase c;
  c.name = "v3.2-mla-dsa-core/" + context_label(context);
  c.family = "attention-core";
  c.model = "v3.2";
  c.context = context;
  c.cost = cost(scoring) + cost(mla);
  c.host_ops = {{cost(host_scoring), scoring_call(host_scoring)},
                {cost(host_mla), mla_call(host_mla)}};
  c.host_cost = c.host_ops[0].cost + c.host_ops[1].cost;
  c.prepare = [m, context, scoring, mla, in]() -> CaseRun {
    auto caches = caches_for(*in, context);
    struct Data {
      DsaQueries q;
      RowMatrixXf q_abs, out;
      AttentionWorkspace buffers;  // the core's scratch, kept from run to run
    };
    auto d = std::make_shared<Data>();
    d->q = random_queries(m, context - 1);
    d->q_abs = random_matrix(1, m.heads * kEntry, uniform_half_width(0.05), 5);
    d->out.resize(1, m.heads * kLatent);
    return [m, scoring, mla, caches, d](Cost* counted) {
      const TokenSelection sel = dsa_indexer_topk(scoring, d->q, caches->keys, m.topk, counted);
      mla_core_forward(mla, d->q_abs, caches->latents, &sel, mla_softmax_scale(), d->out, counted,
                       &d->buffers);
    };
  };
  return c;
}

SuiteCase attention_case(const V32Dims& m, std::int64_t context, const Inputs& in) {
  const DsaIndexerConfig cfg = indexer_config(m);
  const MlaAttentionShape mla = mla_shape(m, context);  // the token at position `context`
  const DsaIndexerFormats fmt;
  const MlaAbsorptionFormat absorb;
  DsaIndexerFormats host_fmt;
  host_fmt.wq_b = host_fmt.wk = host_fmt.weights_proj = WeightFormat::fp32;
  host_fmt.projections = Precision::fp32;
  MlaAbsorptionFormat host_absorb;
  host_absorb.weight = WeightFormat::fp32;
  host_absorb.compute = Precision::fp32;
  MlaAttentionShape host_mla = mla;
  host_mla.compute = Precision::fp32;
  SuiteCase c;
  c.name = "v3.2-mla-dsa-attn/" + context_label(context);
  c.family = "attention-layer";
  c.model = "v3.2";
  c.context = context;
  c.cost = dsa_indexer_cost(cfg, fmt, m.hidden, m.q_lora_rank, context, 1) +
           mla_attention_cost(mla, kNope, kV, absorb);
  c.host_cost = dsa_indexer_cost(cfg, host_fmt, m.hidden, m.q_lora_rank, context, 1) +
                mla_attention_cost(host_mla, kNope, kV, host_absorb);
  // The same sums op by op (kernels/dsa_indexer_forward.h, kernels/mla_attention_forward.h).
  const std::int64_t dim = cfg.head_dim, heads = cfg.num_heads;
  const LinearShape wk{1, m.hidden, dim, 1, host_fmt.wk, host_fmt.projections};
  const LinearShape wq_b{1, m.q_lora_rank, heads * dim, 1, host_fmt.wq_b, host_fmt.projections};
  const LinearShape weights_proj{
      1, m.hidden, heads, 1, host_fmt.weights_proj, host_fmt.projections};
  const IndexerScoringShape scoring = dsa_scoring_shape(cfg, context, 1);
  c.host_ops = {{cost(wk), linear_call(wk)},
                {cost(wq_b), linear_call(wq_b)},
                {cost(weights_proj), linear_call(weights_proj)},
                {cost(scoring), scoring_call(scoring)},
                cost(mla_query_absorption_shape(host_mla, kNope, host_absorb)),
                {cost(host_mla), mla_call(host_mla)},
                cost(mla_output_absorption_shape(host_mla, kV, host_absorb))};
  c.prepare = [m, cfg, fmt, absorb, mla, context, in]() -> CaseRun {
    auto caches = caches_for(*in, context);
    struct Data {
      DsaIndexerWeights w;
      RopeTable rope;
      RowMatrixXf w_uk, w_uv, x, c_q, q_nope, q_rope, entry, q_abs, latent, out;
      AttentionWorkspace buffers;  // the core's scratch, kept from run to run
    };
    auto d = std::make_shared<Data>();
    d->w.wq_b =
        random_matrix(cfg.num_heads * cfg.head_dim, m.q_lora_rank, uniform_half_width(0.025), 10);
    d->w.wk = random_matrix(cfg.head_dim, m.hidden, uniform_half_width(0.012), 11);
    d->w.k_norm_weight = Eigen::VectorXf::Ones(cfg.head_dim);
    d->w.k_norm_bias = Eigen::VectorXf::Zero(cfg.head_dim);
    d->w.weights_proj = random_matrix(cfg.num_heads, m.hidden, uniform_half_width(0.012), 12);
    d->rope = make_rope_table(v32_rope_config());
    d->w_uk = random_matrix(m.heads * kNope, kLatent, uniform_half_width(0.044), 13);
    d->w_uv = random_matrix(m.heads * kV, kLatent, uniform_half_width(0.044), 14);
    d->x = random_matrix(1, m.hidden, uniform_half_width(1.0), 17);
    d->c_q = random_matrix(1, m.q_lora_rank, uniform_half_width(1.0), 18);
    d->q_nope = random_matrix(1, m.heads * kNope, uniform_half_width(1.0), 19);
    d->q_rope = random_matrix(1, m.heads * kRope, uniform_half_width(1.0), 20);
    d->entry = random_matrix(1, kEntry, uniform_half_width(1.0), 21);  // the new token's latent
    d->q_abs.resize(1, m.heads * kEntry);
    d->latent.resize(1, m.heads * kLatent);
    d->out.resize(1, m.heads * kV);
    return [cfg, fmt, absorb, mla, context, caches, d](Cost* counted) {
      caches->latents.append(std::span<const float>(d->entry.data(), kEntry));
      const TokenSelection sel =
          dsa_indexer_forward(cfg, fmt, d->w, d->rope, d->c_q, d->x, caches->keys, counted);
      mla_absorb_query(mla, d->q_nope, d->q_rope, d->w_uk, d->q_abs, absorb, counted);
      mla_core_forward(mla, d->q_abs, caches->latents, &sel, mla_softmax_scale(), d->latent,
                       counted, &d->buffers);
      mla_absorb_output(mla, d->latent, d->w_uv, d->out, absorb, counted);
      caches->keys.truncate(context);  // undo the step: every run decodes the same position
      caches->latents.truncate(context);
    };
  };
  return c;
}

OpCall gqa_call(const GqaAttentionShape& s) {
  OpCall c{"gqa_decode", s.compute, 0, 0, 0, 1, static_cast<double>(s.start_pos + 1)};
  c.heads = static_cast<double>(s.q_heads);
  return c;
}

// The dense GQA-8 core's shape (toy widths in smoke mode) for a query at `position`; K/V float
// (the host_cost convention: kv_format stays BF16, no float32 entry format exists).
GqaAttentionShape gqa_shape(bool smoke, std::int64_t position) {
  GqaAttentionShape s;
  s.q_heads = smoke ? 4 : 64;
  s.kv_heads = smoke ? 2 : 8;
  s.head_dim = smoke ? 32 : 128;
  s.start_pos = position;
  s.num_tokens = 1;
  return s;
}

CaseRun gqa_run(const GqaAttentionShape& s, std::int64_t context) {
  struct Data {
    RowMatrixXf k, v, q, out;
  };
  auto d = std::make_shared<Data>();
  d->k = random_matrix(context, s.kv_heads * s.head_dim, uniform_half_width(1.0), 30);
  d->v = random_matrix(context, s.kv_heads * s.head_dim, uniform_half_width(1.0), 31);
  d->q = random_matrix(1, s.q_heads * s.head_dim, uniform_half_width(0.1), 32);
  d->out.resize(1, s.q_heads * s.head_dim);
  return [s, d](Cost* counted) { gqa_attention_forward(s, d->q, d->k, d->v, d->out, counted); };
}

SuiteCase gqa_case(bool smoke, std::int64_t context) {
  const GqaAttentionShape s = gqa_shape(smoke, context - 1);
  GqaAttentionShape host = s;
  host.compute = Precision::fp32;  // K/V are float here; kv_format (BF16) has no float32 entry
  SuiteCase c;
  c.name = "gqa8-core/" + context_label(context);
  c.family = "attention-core";
  c.model = "gqa8";
  c.context = context;
  c.cost = cost(s);
  c.host_cost = cost(host);
  c.host_ops = {{c.host_cost, gqa_call(host)}};
  c.prepare = [s, context]() -> CaseRun { return gqa_run(s, context); };
  return c;
}

// kv_len of the tables: between and beyond the suite's contexts (1024 smoke; 4096, 64K, 128K,
// 1M), never one of them nor one past (the attention step's position + 1).
std::vector<std::int64_t> table_kv_lens(SuiteMode mode) {
  switch (mode) {
    case SuiteMode::smoke:
      return {300, 3000};
    case SuiteMode::quick:
      return {3000, 24000, 200000};
    case SuiteMode::full:
      return {3000, 24000, 200000, 700000};
  }
  return {};
}

}  // namespace

void add_v32_tables(SuiteMode mode, std::vector<TableSpec>& out) {
  const V32Dims& m = mode == SuiteMode::smoke ? kToyV32 : kV32;
  const DsaIndexerConfig cfg = indexer_config(m);
  auto in = std::make_shared<V32Inputs>();
  TableSpec mla;
  mla.kernel = "dsa_decode";
  mla.precision = Precision::fp32;
  mla.stem = "dsa-decode-fp32-kv-fp8";
  mla.columns = {"batch", "kv_len"};
  mla.fixed = {{"heads", std::to_string(m.heads)},
               {"latent_dim", std::to_string(kLatent)},
               {"rope_dim", std::to_string(kRope)},
               {"query_tokens", "1"},
               {"kv_dtype", "fp8"},
               {"topk", std::to_string(m.topk)}};
  mla.what =
      "mla_core_forward (V3.2 absorbed MLA core, float32 arithmetic) of one query over the top-k "
      "packed 656 B latents chosen by the indexer (selection made before timing)";
  TableSpec scoring;
  scoring.kernel = "indexer_logits";
  scoring.precision = Precision::fp32;
  scoring.stem = "indexer-logits-fp32";
  scoring.columns = {"batch", "kv_len"};
  scoring.fixed = {{"heads", std::to_string(cfg.num_heads)},
                   {"head_dim", std::to_string(cfg.head_dim)},
                   {"compress_ratio", "1"}};
  scoring.what =
      "dsa_indexer_topk (V3.2 lightning indexer: float32 scores of one query over FP8 keys with "
      "float32 scales, then the top-k selection)";
  for (std::int64_t kv : table_kv_lens(mode)) {
    const std::vector<double> keys = {1.0, static_cast<double>(kv)};
    const IndexerScoringShape shape = dsa_scoring_shape(cfg, kv - 1, 1);
    const MlaAttentionShape core = mla_shape(m, kv - 1);
    mla.points.push_back(
        {keys, [m, kv, shape, core, in]() -> CaseRun {
           auto caches = caches_for(*in, kv);
           struct Data {
             TokenSelection sel;
             RowMatrixXf q_abs, out;
             AttentionWorkspace buffers;  // the core's scratch, kept from run to run
           };
           auto d = std::make_shared<Data>();
           d->sel = dsa_indexer_topk(shape, random_queries(m, kv - 1), caches->keys, m.topk);
           d->q_abs = random_matrix(1, m.heads * kEntry, uniform_half_width(0.05), 5);
           d->out.resize(1, m.heads * kLatent);
           return [core, caches, d](Cost* counted) {
             mla_core_forward(core, d->q_abs, caches->latents, &d->sel, mla_softmax_scale(), d->out,
                              counted, &d->buffers);
           };
         }});
    scoring.points.push_back({keys, [m, kv, shape, in]() -> CaseRun {
                                auto caches = caches_for(*in, kv);
                                auto q = std::make_shared<DsaQueries>(random_queries(m, kv - 1));
                                return [m, shape, caches, q](Cost* counted) {
                                  dsa_indexer_topk(shape, *q, caches->keys, m.topk, counted);
                                };
                              }});
  }
  out.push_back(std::move(mla));
  out.push_back(std::move(scoring));
}

void add_gqa_table(SuiteMode mode, std::vector<TableSpec>& out) {
  const bool smoke = mode == SuiteMode::smoke;
  const GqaAttentionShape s = gqa_shape(smoke, 0);
  TableSpec t;
  t.kernel = "gqa_decode";
  t.precision = Precision::fp32;
  t.stem = "gqa-decode-fp32";
  t.columns = {"batch", "kv_len"};
  t.fixed = {{"heads", std::to_string(s.q_heads)},
             {"kv_heads", std::to_string(s.kv_heads)},
             {"head_dim", std::to_string(s.head_dim)},
             {"query_tokens", "1"},
             {"kv_dtype", "bf16"}};
  t.what =
      "gqa_attention_forward (dense causal GQA core, float32 arithmetic over float32 K/V, "
      "priced as the BF16 cache the kernels' cost() names) of one query over kv_len keys";
  // GQA's float K/V take 8 KiB per token: the grid stops below the suite's largest context in
  // full mode (128K) and spans the quick suite's (32K).
  const std::vector<std::int64_t> kv_lens =
      smoke                      ? std::vector<std::int64_t>{300, 3000}
      : mode == SuiteMode::quick ? std::vector<std::int64_t>{3000, 12000, 50000}
                                 : std::vector<std::int64_t>{3000, 24000, 90000, 160000};
  for (std::int64_t kv : kv_lens) {
    const GqaAttentionShape at = gqa_shape(smoke, kv - 1);
    t.points.push_back({{1.0, static_cast<double>(kv)}, [at, kv] { return gqa_run(at, kv); }});
  }
  out.push_back(std::move(t));
}

void add_v32_attention_cases(SuiteMode mode, std::vector<SuiteCase>& out) {
  const bool smoke = mode == SuiteMode::smoke, full = mode == SuiteMode::full;
  const V32Dims& m = smoke ? kToyV32 : kV32;
  auto in = std::make_shared<V32Inputs>();
  for (std::int64_t ctx : decode_contexts(mode)) {
    out.push_back(core_case(m, ctx, in));
    if (full || smoke || ctx == 4096) out.push_back(attention_case(m, ctx, in));
  }
  // GQA's float K/V grow 8 KiB per token (8.6 GB at 1M): up to 128K.
  const std::vector<std::int64_t> gqa = smoke  ? std::vector<std::int64_t>{1024}
                                        : full ? std::vector<std::int64_t>{4096, 65536, 131072}
                                               : std::vector<std::int64_t>{4096, 32768};
  for (std::int64_t ctx : gqa) out.push_back(gqa_case(smoke, ctx));
}

}  // namespace v4sim::bench::detail
