#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hardware/perf_internal.h"
#include "hardware/perf_model.h"
#include "kernels/attention_layer.h"
#include "kernels/compressor.h"
#include "kernels/gqa_attention.h"
#include "kernels/indexer_scoring.h"
#include "kernels/linear.h"
#include "kernels/mhc.h"
#include "kernels/mla_attention.h"
#include "kernels/moe.h"
#include "kernels/sparse_attention.h"
#include "kernels/storage.h"

namespace v4sim {
namespace {

WeightFormat weight_format_for(Precision p) {
  switch (p) {
    case Precision::fp8:
      return WeightFormat::fp8_block128_ue8m0;
    case Precision::fp4:
      return WeightFormat::mxfp4;
    case Precision::int8:
      return WeightFormat::int8_channel;
    case Precision::fp32:
      return WeightFormat::fp32;
    case Precision::bf16:
      break;
  }
  return WeightFormat::bf16;
}

KvEntryFormat kv_format_for(const PerfTable& t) {
  return t.word_or("kv_dtype", "bf16") == "fp8" ? KvEntryFormat::v32_fp8_sparse
                                                : KvEntryFormat::bf16;
}

/// A V4 table's cache format: fp8 is V4's 584 B entry (FP8 NoPE + BF16 RoPE), fp4 the indexer's
/// MXFP4 key, else BF16.
KvEntryFormat v4_kv_format_for(const PerfTable& t, KvEntryFormat fallback) {
  const std::string w = t.word_or("kv_dtype", "");
  if (w == "fp8") return KvEntryFormat::v4_fp8_sparse;
  if (w == "fp4") return KvEntryFormat::mxfp4;
  if (w == "bf16") return KvEntryFormat::bf16;
  return fallback;
}

std::int64_t whole(double v) {
  return std::max<std::int64_t>(1, std::llround(v));
}

}  // namespace

namespace perf_detail {

WeightFormat table_weight_format(const PerfTable& t) {
  Precision p = t.precision;
  if (t.fixed_words.count("weight_dtype")) parse_precision(t.word_or("weight_dtype", ""), p);
  return weight_format_for(p);
}

double table_compress_ratio(const PerfTable& t) {
  return t.fixed_or("compress_ratio", 1);
}

double fixed_distance(const PerfTable& t, const KernelCall& c) {
  double d = 0;
  if (c.kernel == KernelClass::all_reduce) {
    // Another implementation ranks after every table of the call's own; another launch mode
    // after every table of its own launch (shape distances stay well below 1).
    if ((t.word_or("implementation", "nccl") == "custom") != c.custom_all_reduce) d += 100;
    if ((t.word_or("launch", "graph") == "graph") != c.cuda_graph) d += 10;
  }

  // Compute classes with several fixed shapes on one device (the host's tables): a call that
  // states its shape takes the table of that shape first.
  // A CSA module and an HCA module are different layers.
  if (c.kernel == KernelClass::attention_module && c.compress_ratio > 0 &&
      std::abs(std::log(c.compress_ratio / table_compress_ratio(t))) > 1e-9)
    d += 10;
  if (c.compress_ratio > 0 &&
      (c.kernel == KernelClass::mla_decode || c.kernel == KernelClass::dsa_decode ||
       c.kernel == KernelClass::indexer_logits || c.kernel == KernelClass::compressor)) {
    d += std::abs(std::log(c.compress_ratio / table_compress_ratio(t)));
    // A V4 core (compressed entries) and an MLA core are different kernels.
    if (c.kernel != KernelClass::indexer_logits && c.kernel != KernelClass::compressor &&
        (t.word_or("core", "mla") == "v4_sparse") != (c.compress_ratio > 1))
      d += 10;
  }
  if (c.head_dim > 0 && c.kernel == KernelClass::compressor && t.fixed.count("head_dim"))
    d += std::abs(std::log(c.head_dim / t.fixed.at("head_dim")));
  if (c.weight_bytes > 0 && c.kernel == KernelClass::gemm &&
      std::abs(std::log(c.weight_bytes / weight_bytes_per_element(table_weight_format(t)))) > 1e-3)
    d += 10;
  if (c.hidden > 0 && t.fixed.count("hidden"))
    d += std::abs(std::log(c.hidden / t.fixed.at("hidden")));
  if (c.topk > 0 && t.fixed.count("topk")) d += std::abs(std::log(c.topk / t.fixed.at("topk")));
  return d;
}

}  // namespace perf_detail

using perf_detail::table_compress_ratio;
using perf_detail::table_weight_format;

Cost row_cost(const PerfTable& t, const std::vector<double>& row) {
  const auto col = [&](std::string_view name, double fallback) {
    const int i = t.column(name);
    return i >= 0 ? row[i] : fallback;
  };
  switch (t.kernel) {
    case KernelClass::gemm:
      return cost(LinearShape{whole(col("m", 1)), whole(col("k", 1)), whole(col("n", 1)), 1,
                              table_weight_format(t), t.precision});
    case KernelClass::grouped_gemm: {
      const WeightFormat w = table_weight_format(t);
      if (t.word_or("ffn", "gemm") == "fused_moe") {
        // The routed experts' work on the rank: experts x tokens_per_expert token-expert pairs
        // (below one per expert: that many experts, one pair each), reading the weights of
        // min(pairs, experts) experts.
        MoeShape m;
        m.num_experts = whole(col("experts", 1));
        m.tokens = std::max<std::int64_t>(
            1, std::llround(col("experts", 1) * col("tokens_per_expert", 1)));
        m.topk = 1;
        m.experts_touched = std::min(m.tokens, m.num_experts);
        m.hidden = whole(t.fixed_or("hidden", 1));
        m.inter = whole(t.fixed_or("inter", 1));
        m.expert_weight = w;
        m.expert_compute = t.precision;
        return routed_cost(m);
      }
      const std::int64_t rows = whole(col("tokens_per_expert", 1)), n = whole(col("n", 1)),
                         k = whole(col("k", 1));
      Cost one = cost(LinearShape{rows, k, n, 1, w, t.precision});
      // swiglu: the row times the whole expert, gate/up (n = 2 x inter) and down (inter -> k).
      if (t.word_or("ffn", "gemm") == "swiglu")
        one += cost(LinearShape{rows, std::max<std::int64_t>(1, n / 2), k, 1, w, t.precision});
      return one * whole(col("experts", 1));
    }
    case KernelClass::mla_decode:
    case KernelClass::dsa_decode: {
      if (t.word_or("core", "mla") == "v4_sparse") {
        SparseAttentionShape s;
        s.num_heads = whole(col("heads", t.fixed_or("heads", 128)));
        s.head_dim = whole(t.fixed_or("head_dim", 512));
        s.rope_dim = whole(t.fixed_or("rope_dim", 64));
        s.window = whole(t.fixed_or("window", 128));
        s.compress_ratio = std::llround(t.fixed_or("compress_ratio", 0));
        s.topk = std::llround(t.fixed_or("topk", 0));
        s.num_tokens = whole(t.fixed_or("query_tokens", 1));
        s.start_pos = whole(col("kv_len", 1)) - s.num_tokens;
        s.kv_format = v4_kv_format_for(t, KvEntryFormat::v4_fp8_sparse);
        s.compute = t.precision;
        return cost(s) * whole(col("batch", 1));
      }
      MlaAttentionShape s;
      s.num_heads = whole(col("heads", t.fixed_or("heads", 128)));
      s.latent_dim = whole(t.fixed_or("latent_dim", 512));
      s.rope_dim = whole(t.fixed_or("rope_dim", 64));
      s.topk = t.kernel == KernelClass::dsa_decode ? whole(t.fixed_or("topk", 2048)) : 0;
      s.num_tokens = whole(t.fixed_or("query_tokens", 1));
      s.start_pos = whole(col("kv_len", 1)) - s.num_tokens;
      s.kv_format = kv_format_for(t);
      s.compute = t.precision;
      return cost(s) * whole(col("batch", 1));
    }
    case KernelClass::mla_prefill: {
      MlaExpandedShape s;
      s.num_heads = whole(col("heads", t.fixed_or("heads", 128)));
      s.nope_dim = whole(t.fixed_or("qk_head_dim", 192)) - s.rope_dim;
      s.v_dim = whole(t.fixed_or("v_head_dim", 128));
      s.start_pos = 0;
      s.num_tokens = whole(col("seq_len", 1));
      s.compute = t.precision;
      Cost c = cost(s);
      // A row whose kernel read fewer K/V heads than query heads read only theirs: aiconfigurator's
      // collector runs SGLang's RadixAttention with one shared K/V head (num_kv_heads = 1), the
      // same FLOPs as the expanded form over a 1/H of its K and V bytes.
      const std::int64_t kv_heads = whole(t.fixed_or("kv_heads", static_cast<double>(s.num_heads)));
      if (kv_heads < s.num_heads)
        c.read(MemClass::activations) -= activation_bytes(
            Precision::bf16,
            checked_mul(s.num_heads - kv_heads, expanded_entries(s), s.nope_dim + s.v_dim));
      return c * whole(col("batch", 1));
    }
    case KernelClass::indexer_logits: {
      IndexerScoringShape s;
      s.num_heads = whole(t.fixed_or("heads", 64));
      s.head_dim = whole(t.fixed_or("head_dim", 128));
      s.ratio = whole(t.fixed_or("compress_ratio", 1));
      s.start_pos = whole(col("kv_len", 1)) - 1;
      s.num_tokens = 1;
      s.key_format = v4_kv_format_for(t, KvEntryFormat::fp8_fp32_scale);
      if (s.key_format == KvEntryFormat::v4_fp8_sparse || s.key_format == KvEntryFormat::bf16)
        s.key_format = KvEntryFormat::fp8_fp32_scale;  // fp8 indexer keys: 128 B + an fp32 scale
      s.compute = t.precision;
      return cost(s) * whole(col("batch", 1));
    }
    case KernelClass::gqa_decode: {
      GqaAttentionShape s;
      s.q_heads = whole(col("heads", t.fixed_or("heads", 64)));
      s.kv_heads = whole(t.fixed_or("kv_heads", 8));
      s.head_dim = whole(t.fixed_or("head_dim", 128));
      s.num_tokens = whole(t.fixed_or("query_tokens", 1));
      s.start_pos = whole(col("kv_len", 1)) - s.num_tokens;
      s.kv_format = KvEntryFormat::bf16;
      s.compute = t.precision;
      return cost(s) * whole(col("batch", 1));
    }
    case KernelClass::compressor: {
      CompressorShape s;
      s.hidden = whole(col("hidden", 1));
      s.head_dim = whole(t.fixed_or("head_dim", 512));
      s.rope_dim = whole(t.fixed_or("rope_dim", 64));
      s.ratio = whole(t.fixed_or("compress_ratio", 4));
      s.overlap = t.fixed_or("overlap", s.ratio == 4 ? 1 : 0) > 0;
      s.start_pos = std::llround(t.fixed_or("start_pos", 0));
      s.num_tokens = whole(col("tokens", 1));
      s.weight = table_weight_format(t);
      s.compute = t.precision;
      s.out_format = v4_kv_format_for(t, KvEntryFormat::v4_fp8_sparse);
      return cost(s);
    }
    case KernelClass::attention_module: {
      // The V4 attention sublayer of the table's shape at the catalogue's deploy formats (the
      // struct's defaults: FP8 projections and entries, MXFP4 indexer keys), for `batch`
      // sequences on one rank of tp-way tensor parallelism, placed as the step model places
      // its ops (sim/op_on_rank.h): every op's FLOPs and activations over tp, the cache read
      // whole on each rank, the projections', core's and indexer's weights split over tp and the
      // compressors' whole. A call's cost is the sum of those ops on its rank.
      // Every dimension is required by the loader (hardware/perf_table.cpp).
      const auto dim = [&t](const char* key) { return whole(t.fixed.at(key)); };
      AttentionLayerShape s;
      const std::int64_t ratio = dim("compress_ratio");
      // The model's heads over the row's (rank-local) heads: the row's tensor parallelism.
      const std::int64_t local_heads = whole(col("heads", t.fixed.at("heads")));
      const std::int64_t tp = std::max<std::int64_t>(1, dim("heads") / local_heads);
      // 4 or 128 (the loader says): the struct's CSA and HCA ratios.
      s.kind = ratio == 4 ? AttentionLayerKind::csa : AttentionLayerKind::hca;
      s.hidden = dim("hidden");
      s.num_heads = local_heads * tp;
      s.head_dim = dim("head_dim");
      s.rope_dim = dim("rope_dim");
      s.q_lora_rank = dim("q_lora_rank");
      s.o_groups = dim("o_groups");
      s.o_lora_rank = dim("o_lora_rank");
      s.window = dim("window");
      s.indexer_heads = dim("indexer_heads");
      s.indexer_dim = dim("indexer_dim");
      s.topk = std::llround(t.fixed_or("topk", 0));  // CSA only (required there)
      s.num_tokens = 1;
      s.start_pos = whole(col("kv_len", 1)) - 1;
      s.projections = t.precision;
      // Each op placed on its own, as the step model rounds them.
      const double batch = static_cast<double>(whole(col("batch", 1)));
      const double token_share = batch / static_cast<double>(tp);
      const auto split = [&](const Cost& c) {
        return shared(c, token_share, batch, 1.0 / static_cast<double>(tp));
      };
      // Replicated ops run on every token of the group on each rank.
      const auto whole_weights = [&](const Cost& c) { return shared(c, batch, batch, 1.0); };
      // As the engines (and the step model, sim/op_on_rank.h) place them: wq_b, wo_a and wo_b
      // split over tp, wq_a and wkv replicated, and the indexer's projections and scoring
      // replicated (projection_shapes' order: wq_a, wq_b, wkv, wo_a, wo_b, then the indexer's).
      Cost sum;
      const std::vector<LinearShape> projections = projection_shapes(s);
      for (std::size_t i = 0; i < projections.size(); ++i) {
        const bool replicated = i == 0 || i == 2 || i >= 5;
        sum += replicated ? whole_weights(cost(projections[i])) : split(cost(projections[i]));
      }
      sum += split(cost(core_shape(s)));
      sum += whole_weights(cost(compressor_shape(s)));
      if (s.kind == AttentionLayerKind::csa) {
        sum += whole_weights(cost(indexer_compressor_shape(s)));
        sum += whole_weights(cost(indexer_scoring_shape(s)));
      }
      return sum;
    }
    case KernelClass::mhc: {
      MhcShape s;
      s.tokens = whole(col("tokens", 1));
      s.hidden = whole(col("hidden", 1));
      s.streams = whole(t.fixed_or("streams", 4));
      s.sinkhorn_iters = whole(t.fixed_or("sinkhorn_iters", 20));
      s.head = t.fixed_or("head", 0) > 0;
      return cost(s);
    }
    case KernelClass::dispatch:
    case KernelClass::combine:
    case KernelClass::all_reduce:
    case KernelClass::all_gather:
    case KernelClass::reduce_scatter:
      break;
  }
  return Cost{};
}

KernelCall call_for_row(const PerfTable& t, const std::vector<double>& row) {
  KernelCall c;
  c.kernel = t.kernel;
  c.precision = t.precision;
  for (std::size_t i = 0; i + 1 < t.columns.size(); ++i) {
    const std::string& name = t.columns[i];
    const double v = row[i];
    if (name == "m") c.m = v;
    if (name == "n") c.n = v;
    if (name == "k") c.k = v;
    if (name == "experts") c.experts = v;
    if (name == "tokens_per_expert") c.tokens_per_expert = v;
    if (name == "batch") c.batch = v;
    if (name == "kv_len") c.kv_len = v;
    if (name == "seq_len") c.seq_len = v;
    if (name == "heads") c.heads = v;
    if (name == "ep") c.ep = v;
    if (name == "tokens_per_rank") c.tokens_per_rank = v;
    if (name == "ranks") c.ranks = v;
    if (name == "message_bytes") c.message_bytes = v;
    if (name == "tokens") c.m = v;
    if (name == "hidden") c.hidden = v;
  }
  // The table's own fixed shape, so that the row is asked of this table among its class's others.
  if (t.kernel != KernelClass::gemm && t.kernel != KernelClass::grouped_gemm &&
      !is_communication(t.kernel) && t.kernel != KernelClass::mhc)
    c.compress_ratio = table_compress_ratio(t);
  if (t.kernel == KernelClass::compressor) c.head_dim = t.fixed_or("head_dim", 512);
  if (t.kernel == KernelClass::gemm)
    c.weight_bytes = weight_bytes_per_element(table_weight_format(t));
  if (t.fixed.count("topk")) c.topk = t.fixed.at("topk");
  if (t.fixed.count("hidden")) c.hidden = t.fixed.at("hidden");
  c.masked = t.word_or("layout", "masked") == "masked";
  c.low_latency = t.word_or("mode", "low_latency") == "low_latency";
  c.payload_bytes_per_token =
      t.fixed_or("hidden", 1) * t.fixed_or("topk", 1) * t.fixed_or("bytes_per_element", 1);
  if (!is_communication(t.kernel)) c.cost = row_cost(t, row);
  // The links the row itself crossed.
  if (is_communication(t.kernel)) {
    c.scale_up_ranks = t.scale_up_ranks;
    c.spans_nodes = (c.ep > 0 ? c.ep : c.ranks) > t.scale_up_ranks;
  }
  return c;
}

}  // namespace v4sim
