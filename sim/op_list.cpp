#include "sim/op_list.h"

#include <algorithm>
#include <functional>

#include "kernels/compressor.h"
#include "kernels/gqa_attention.h"
#include "kernels/indexer_scoring.h"
#include "kernels/linear.h"
#include "kernels/mhc.h"
#include "kernels/mla_attention.h"
#include "kernels/moe.h"
#include "kernels/sparse_attention.h"
#include "models/weights.h"

namespace v4sim {
namespace {

struct OpBuilder {
  const ModelSpec& spec;
  const Pass& pass;
  const KvFormat& kv;
  bool prefill = false;
  std::int64_t attention_tp = 1;
  const std::function<void(Op&)>& sink;
  OpNames names = OpNames::full;
  OpSelect select = OpSelect::all;
  std::int64_t layer = -1;
  bool in_mtp = false;

  bool fixed_ops() const { return select != OpSelect::positional; }
  bool positional_ops() const { return select != OpSelect::fixed; }

  /// The op handed to the sink, filled in place for each push: a fresh Op per push (its string,
  /// and a copy of it into the sink) was much of an analytic evaluation's time.
  Op op{};

  void push(std::string_view name, OpComponent component, const Cost& cost, OpKernel kernel = {},
            TpSplit tp = TpSplit::columns) {
    op.name.clear();
    if (names == OpNames::full && layer >= 0)
      op.name.append(in_mtp ? "mtp." : "layers.").append(std::to_string(layer)).append(".");
    if (names == OpNames::in_layer && in_mtp) op.name = "mtp.";
    if (names != OpNames::none) op.name += name;
    op.component = in_mtp ? OpComponent::mtp : component;
    op.kind = component;
    op.tp = tp;
    op.layer = layer;
    op.cost = cost;
    op.kernel = kernel;
    sink(op);
  }

  static OpKernel gemm(std::int64_t tokens, std::int64_t n, std::int64_t k) {
    return {true, KernelClass::gemm, tokens, n, k, 0, 0};
  }
  /// A per-token op (compressor, mHC) timed by its rows: `tokens` of them per sequence.
  OpKernel rows(KernelClass kernel, std::int64_t tokens = -1) const {
    return {true, kernel, tokens < 0 ? pass.num_tokens : tokens, 0, 0, 0, 0};
  }
  OpKernel attention(KernelClass kernel, std::int64_t heads) const {
    return {true,
            kernel,
            pass.num_tokens,
            0,
            0,
            heads,
            pass.start_pos + pass.num_tokens,
            kv.main_entry != KvEntryFormat::bf16};
  }

  void linear(const WeightTensor& w, std::int64_t tokens) {
    if (!fixed_ops()) return;
    Precision p = spec.compute.attention_projections;
    OpComponent c = OpComponent::attention_projections;
    if (w.component == ParamComponent::indexer) {
      p = spec.compute.indexer_projections;
      c = OpComponent::indexer_projections;
    } else if (w.component == ParamComponent::lm_head) {
      p = spec.compute.lm_head;
      c = OpComponent::lm_head;
    }
    const std::string_view name = std::string_view(w.name).substr(w.name.find_last_of('.') + 1);
    push(name == "head" ? "lm_head" : name, c,
         cost(LinearShape{tokens, w.cols, w.rows, w.groups, w.format, p}),
         gemm(tokens, w.rows, w.cols / w.groups), w.tp);
  }

  /// Two projections of the same input run as one GEMM: outputs side by side (the same FLOPs and
  /// weight bytes as the two, the input read once), placed as `a` is over tp.
  void fused_linear(std::string_view name, const WeightTensor& a, const WeightTensor& b,
                    std::int64_t tokens) {
    if (!fixed_ops()) return;
    const Precision p = spec.compute.attention_projections;
    const std::int64_t out = a.rows + b.rows;
    push(name, OpComponent::attention_projections,
         cost(LinearShape{tokens, a.cols, out, 1, a.format, p}), gemm(tokens, out, a.cols), a.tp);
  }

  void v4_attention(const LayerSpec& l) {
    if (!positional_ops()) return;
    const AttentionSpec& a = spec.attention;
    SparseAttentionShape core{a.num_heads,      a.head_dim,
                              a.rope_dim,       a.sliding_window,
                              l.compress_ratio, 0,
                              pass.start_pos,   pass.num_tokens,
                              kv.main_entry,    spec.compute.core_attention};
    if (l.attention == AttentionKind::csa) core.topk = spec.indexer.topk;
    // Decode runs a sparse FlashMLA-style kernel over the selected and window entries; no
    // published table covers V4's prefill core, so it stays on the roofline.
    push("core_attention", OpComponent::core_attention, cost(core),
         prefill ? OpKernel{} : attention(KernelClass::dsa_decode, a.num_heads));
    if (l.attention == AttentionKind::swa) return;
    const bool csa = l.attention == AttentionKind::csa;
    const CompressorShape main{spec.hidden_size,
                               a.head_dim,
                               a.rope_dim,
                               l.compress_ratio,
                               csa,
                               pass.start_pos,
                               pass.num_tokens,
                               spec.weights.compressor,
                               spec.compute.compressor,
                               kv.main_entry};
    push("compressor", OpComponent::compressor, cost(main), rows(KernelClass::compressor));
    if (!csa) return;
    const IndexerSpec& ix = spec.indexer;
    // The indexer's keys are 128-d with RoPE on the last 64 dims (reference/kernels.md §3.4).
    const CompressorShape keys{spec.hidden_size,
                               ix.head_dim,
                               a.rope_dim,
                               a.csa_ratio,
                               true,
                               pass.start_pos,
                               pass.num_tokens,
                               spec.weights.compressor,
                               spec.compute.compressor,
                               kv.indexer_key};
    push("indexer.compressor", OpComponent::compressor, cost(keys), rows(KernelClass::compressor));
    const IndexerScoringShape scoring{ix.num_heads,
                                      ix.head_dim,
                                      a.csa_ratio,
                                      pass.start_pos,
                                      pass.num_tokens,
                                      kv.indexer_key,
                                      spec.compute.indexer_scoring};
    push("indexer.scoring", OpComponent::indexer_scoring, cost(scoring),
         prefill ? OpKernel{} : attention(KernelClass::indexer_logits, ix.num_heads));
  }

  // Dense MLA prefill: wkv_b expands every cached entry (instead of the per-token absorptions
  // the layer's wkv_b linear stands for) and the core runs 192-deep MHA.
  static bool expanded_form(const ModelSpec& spec, const LayerSpec& l, bool prefill) {
    return prefill && spec.architecture == Architecture::mla &&
           l.attention != AttentionKind::mla_dsa;
  }

  void mla_expanded_attention(const WeightTensor& wkv_b) {
    if (!positional_ops()) return;
    const AttentionSpec& a = spec.attention;
    MlaExpandedShape s;
    s.num_heads = a.num_heads;
    s.latent_dim = a.kv_lora_rank;
    s.rope_dim = a.rope_dim;
    s.nope_dim = a.qk_nope_dim;
    s.v_dim = a.v_head_dim;
    s.start_pos = pass.start_pos;
    s.num_tokens = pass.num_tokens;
    s.kv_format = kv.main_entry;
    s.compute = spec.compute.core_attention;
    s.expand_weight = wkv_b.format;
    s.expand_compute = spec.compute.attention_projections;
    push("wkv_b", OpComponent::attention_projections, expansion_cost(s),
         gemm(s.start_pos + s.num_tokens, a.num_heads * (a.qk_nope_dim + a.v_head_dim),
              a.kv_lora_rank));
    push("core_attention", OpComponent::core_attention, cost(s),
         attention(KernelClass::mla_prefill, a.num_heads));
  }

  void mla_attention(const LayerSpec& l) {
    if (!positional_ops()) return;
    const AttentionSpec& a = spec.attention;
    const std::int64_t topk = l.attention == AttentionKind::mla_dsa ? spec.indexer.topk : 0;
    const MlaAttentionShape core{
        a.num_heads,    a.kv_lora_rank,  a.rope_dim,    topk,
        pass.start_pos, pass.num_tokens, kv.main_entry, spec.compute.core_attention};
    // Absorbed MLA: FlashMLA's dense or sparse decode kernel. In prefill the DSA layers run the
    // same sparse kernel over a chunk, which no table measures: roofline there.
    const KernelClass decode_class = topk > 0 ? KernelClass::dsa_decode : KernelClass::mla_decode;
    // A decode pass's queries of one sequence share the kernel's tiles of 64 query rows on each
    // of the attention's tp ranks (folded_queries; the op's cost covers every rank's heads).
    constexpr std::int64_t kDecodeTileRows = 64;
    const MlaAttentionShape run =
        prefill ? core
                : folded_queries(core, kDecodeTileRows * std::max<std::int64_t>(1, attention_tp));
    push("core_attention", OpComponent::core_attention, cost(run),
         prefill ? OpKernel{} : attention(decode_class, a.num_heads));
    if (topk == 0) return;
    const IndexerSpec& ix = spec.indexer;
    const IndexerScoringShape scoring{ix.num_heads,
                                      ix.head_dim,
                                      1,
                                      pass.start_pos,
                                      pass.num_tokens,
                                      kv.indexer_key,
                                      spec.compute.indexer_scoring};
    push("indexer.scoring", OpComponent::indexer_scoring, cost(scoring),
         prefill ? OpKernel{} : attention(KernelClass::indexer_logits, ix.num_heads));
  }

  void gqa_attention() {
    if (!positional_ops()) return;
    const AttentionSpec& a = spec.attention;
    const GqaAttentionShape core{a.num_heads,
                                 a.num_kv_heads,
                                 a.head_dim,
                                 pass.start_pos,
                                 pass.num_tokens,
                                 kv.main_entry,
                                 spec.compute.core_attention};
    push("core_attention", OpComponent::core_attention, cost(core),
         prefill ? OpKernel{} : attention(KernelClass::gqa_decode, a.num_heads));
  }

  void ffn(const LayerSpec& l) {
    if (!fixed_ops()) return;
    const MoeSpec& m = spec.moe;
    if (l.ffn == FfnKind::dense) {
      swiglu("ffn", OpComponent::dense_ffn, m.dense_intermediate_size, 1, spec.weights.dense_ffn,
             spec.compute.dense_ffn);
      return;
    }
    MoeShape moe;
    moe.tokens = pass.num_tokens;
    moe.hidden = spec.hidden_size;
    moe.inter = m.expert_intermediate_size;
    moe.num_experts = m.num_routed_experts;
    moe.topk = m.experts_per_token;
    moe.num_shared = m.num_shared_experts;
    moe.expert_weight = spec.weights.routed_experts;
    moe.shared_weight = spec.weights.shared_experts;
    moe.router_weight = spec.weights.router;
    moe.expert_compute = spec.compute.routed_experts;
    moe.shared_compute = spec.compute.shared_experts;
    moe.router_compute = spec.compute.router;
    push("ffn.router", OpComponent::router, router_cost(moe),
         gemm(pass.num_tokens, m.num_routed_experts, spec.hidden_size));
    // Two grouped GEMMs, as the engines launch them: every expert's gate/up projection, then its
    // down projection. The serving model fills the expert count and tokens per expert of a rank.
    const std::int64_t inter = m.expert_intermediate_size;
    push("ffn.routed_experts", OpComponent::routed_experts, routed_gate_up_cost(moe),
         {true, KernelClass::grouped_gemm, pass.num_tokens, 2 * inter, spec.hidden_size, 0, 0});
    OpKernel down{true, KernelClass::grouped_gemm, pass.num_tokens, spec.hidden_size, inter, 0, 0};
    down.ffn_down = true;
    push("ffn.routed_experts.down", OpComponent::routed_experts, routed_down_cost(moe), down);
    if (m.num_shared_experts > 0)
      swiglu("ffn.shared_experts", OpComponent::shared_experts, m.expert_intermediate_size,
             m.num_shared_experts, spec.weights.shared_experts, spec.compute.shared_experts);
  }

  /// `count` SwiGLU FFNs of intermediate width `inter` side by side (a dense FFN, the shared
  /// experts): the gate and up projections as one column-parallel GEMM (`name`), the down
  /// projection as a row-parallel one (`name`.down), two kernels as every engine runs them.
  /// Together they cost kernels/moe.h's shared_cost().
  void swiglu(std::string_view name, OpComponent c, std::int64_t inter, std::int64_t count,
              WeightFormat w, Precision p) {
    const std::int64_t D = spec.hidden_size, T = pass.num_tokens, width = count * inter;
    push(name, c, swiglu_gate_up_cost(T, D, inter, w, p) * count, gemm(T, 2 * width, D));
    push(std::string(name) + ".down", c, swiglu_down_cost(T, D, inter, w, p) * count,
         gemm(T, D, width), TpSplit::rows);
  }

  void mhc(std::string_view name, std::int64_t tokens, bool head) {
    if (spec.mhc.streams <= 1 || !fixed_ops()) return;
    const MhcShape s{tokens, spec.hidden_size, spec.mhc.streams, spec.mhc.sinkhorn_iters, head};
    push(name, OpComponent::mhc, cost(s), rows(KernelClass::mhc, tokens));
  }

  // `linears` index the layer's per-token projections in `weights`.
  void layer_ops(const std::vector<WeightTensor>& weights, const std::vector<std::size_t>& linears,
                 std::int64_t index) {
    layer = index;
    const LayerSpec& l = spec.layers[index];
    mhc("hc_attn", pass.num_tokens, false);
    const bool expanded = expanded_form(spec, l, prefill);
    const WeightTensor* wkv_b = nullptr;
    // MLA's low-rank query and latent KV projections read the same input: the engines run them
    // as one GEMM (SGLang's fused_qkv_a_proj_with_mqa, vLLM's fused_qkv_a_proj, TensorRT-LLM's
    // fused_a), one launch for both.
    const WeightTensor* wq_a = nullptr;
    for (std::size_t i : linears) {
      const WeightTensor& w = weights[i];
      if (expanded && w.name.ends_with(".attn.wkv_b")) {
        wkv_b = &w;
        continue;
      }
      if (spec.architecture == Architecture::mla && w.name.ends_with(".attn.wq_a")) {
        wq_a = &w;
        continue;
      }
      if (wq_a != nullptr && w.name.ends_with(".attn.wkv_a")) {
        fused_linear("wqkv_a", *wq_a, w, pass.num_tokens);
        wq_a = nullptr;
        continue;
      }
      linear(w, pass.num_tokens);
    }
    if (wq_a != nullptr) linear(*wq_a, pass.num_tokens);
    switch (spec.architecture) {
      case Architecture::v4:
        v4_attention(l);
        break;
      case Architecture::mla:
        if (wkv_b != nullptr)
          mla_expanded_attention(*wkv_b);
        else
          mla_attention(l);
        break;
      case Architecture::gqa:
        gqa_attention();
        break;
    }
    mhc("hc_ffn", pass.num_tokens, false);
    ffn(l);
  }
};

}  // namespace

std::string_view to_string(OpComponent c) {
  switch (c) {
    case OpComponent::attention_projections:
      return "attention_projections";
    case OpComponent::core_attention:
      return "core_attention";
    case OpComponent::indexer_projections:
      return "indexer_projections";
    case OpComponent::indexer_scoring:
      return "indexer_scoring";
    case OpComponent::compressor:
      return "compressor";
    case OpComponent::router:
      return "router";
    case OpComponent::routed_experts:
      return "routed_experts";
    case OpComponent::shared_experts:
      return "shared_experts";
    case OpComponent::dense_ffn:
      return "dense_ffn";
    case OpComponent::mhc:
      return "mhc";
    case OpComponent::lm_head:
      return "lm_head";
    case OpComponent::mtp:
      return "mtp";
  }
  return "?";
}

std::vector<LayerGroup> layer_groups(const ModelSpec& spec) {
  std::vector<LayerGroup> groups;
  for (std::int64_t i = 0; i < spec.num_layers; ++i) {
    const LayerSpec& l = spec.layers[i];
    bool found = false;
    for (LayerGroup& g : groups) {
      const LayerSpec& f = spec.layers[g.first];
      if (f.attention == l.attention && f.compress_ratio == l.compress_ratio && f.ffn == l.ffn &&
          f.mtp == l.mtp) {
        ++g.count;
        found = true;
        break;
      }
    }
    if (!found) groups.push_back({i, 1});
  }
  return groups;
}

std::vector<LayerGroup> positional_layer_groups(const ModelSpec& spec) {
  std::vector<LayerGroup> groups;
  for (std::int64_t i = 0; i < spec.num_layers; ++i) {
    const LayerSpec& l = spec.layers[i];
    const auto same = [&](const LayerGroup& g) {
      const LayerSpec& f = spec.layers[g.first];
      return f.attention == l.attention && f.compress_ratio == l.compress_ratio;
    };
    const auto g = std::find_if(groups.begin(), groups.end(), same);
    if (g != groups.end())
      ++g->count;
    else
      groups.push_back({i, 1});
  }
  return groups;
}

std::vector<Op> build_ops(const ModelSpec& spec, const Pass& pass, const OpOptions& options) {
  return build_ops(spec, enumerate_weights(spec), pass, options);
}

WeightIndex index_weights(const ModelSpec& spec, const std::vector<WeightTensor>& weights) {
  WeightIndex index;
  index.linears.resize(spec.layers.size());
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const WeightTensor& w = weights[i];
    if (w.component == ParamComponent::lm_head) index.head = i;
    if (w.layer >= 0 && w.linear) index.linears[static_cast<std::size_t>(w.layer)].push_back(i);
  }
  return index;
}

std::vector<Op> build_ops(const ModelSpec& spec, const std::vector<WeightTensor>& weights,
                          const Pass& pass, const OpOptions& options) {
  return build_ops(spec, weights, index_weights(spec, weights), pass, options);
}

void for_each_op(const ModelSpec& spec, const std::vector<WeightTensor>& weights,
                 const WeightIndex& index, const Pass& pass, const OpOptions& options,
                 const std::function<void(Op&)>& sink) {
  const KvFormat& kv = spec.kv_format(options.kv_format);
  const WeightTensor* head = index.head ? &weights[*index.head] : nullptr;
  const std::int64_t logit_tokens = options.logits_for_all_tokens ? pass.num_tokens : 1;

  OpBuilder b{spec,          pass,          kv, options.prefill, options.attention_tp, sink,
              options.names, options.select};
  if (!options.main_layers) {
    // A draft pass: the MTP blocks below only.
  } else if (options.layers.empty()) {
    for (std::int64_t i = 0; i < spec.num_layers; ++i)
      b.layer_ops(weights, index.linears[static_cast<std::size_t>(i)], i);
  } else {
    for (std::int64_t i : options.layers)
      if (i >= 0 && i < spec.num_layers)
        b.layer_ops(weights, index.linears[static_cast<std::size_t>(i)], i);
  }
  b.layer = -1;
  if (options.main_layers) {
    b.mhc("hc_head", logit_tokens, true);
    if (head) b.linear(*head, logit_tokens);
  }
  if (!options.include_mtp) return;

  // One MTP draft step per token: e/h projections, one block, its hc-head and the shared LM head.
  b.in_mtp = true;
  for (std::int64_t k = 0; k < spec.num_mtp_layers; ++k) {
    const std::int64_t mtp_layer = spec.num_layers + k;
    b.layer_ops(weights, index.linears[static_cast<std::size_t>(mtp_layer)], mtp_layer);
    b.mhc("hc_head", logit_tokens, true);
    if (head) b.linear(*head, logit_tokens);
  }
}

std::vector<Op> build_ops(const ModelSpec& spec, const std::vector<WeightTensor>& weights,
                          const WeightIndex& index, const Pass& pass, const OpOptions& options) {
  std::vector<Op> ops;
  ops.reserve(64);
  for_each_op(spec, weights, index, pass, options,
              [&ops](Op& op) { ops.push_back(std::move(op)); });
  return ops;
}

}  // namespace v4sim
