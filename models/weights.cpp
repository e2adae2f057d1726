#include "models/weights.h"

#include <utility>

namespace v4sim {
namespace {

using C = ParamComponent;

struct Builder {
  const ModelSpec& spec;
  std::vector<WeightTensor>& out;
  std::string prefix;
  bool mtp = false;
  std::int64_t layer_index = -1;

  void add(const std::string& name, C component, std::int64_t rows, std::int64_t cols,
           WeightFormat format, std::int64_t groups = 1) {
    WeightTensor w;
    w.name = prefix + name;
    w.component = component;
    w.rows = rows;
    w.cols = cols;
    w.groups = groups;
    w.format = format;
    w.mtp = mtp;
    w.layer = layer_index;
    out.push_back(std::move(w));
  }
  void linear(const std::string& name, C component, std::int64_t rows, std::int64_t cols,
              WeightFormat format, std::int64_t groups = 1, TpSplit tp = TpSplit::columns) {
    add(name, component, rows, cols, format, groups);
    out.back().linear = true;
    out.back().tp = tp;
  }
  // Norm gains are BF16 and small vectors (sinks, biases, positional biases, mHC) fp32
  // (reference/kernels.md §6.5).
  void norm(const std::string& name, std::int64_t width) {
    add(name, C::norms, 1, width, WeightFormat::bf16);
  }

  void v4_attention(const LayerSpec& layer) {
    const AttentionSpec& a = spec.attention;
    const std::int64_t D = spec.hidden_size, H = a.num_heads, d = a.head_dim;
    const WeightFormat f = spec.weights.attention;
    // The engines replicate the low-rank query and the one KV head's projections (SGLang's
    // MQALayer, vLLM's DeepseekV4 attention: ReplicatedLinear) and split wo_b by rows.
    linear("attn.wq_a", C::attention, a.q_lora_rank, D, f, 1, TpSplit::replicated);
    norm("attn.q_norm", a.q_lora_rank);
    linear("attn.wq_b", C::attention, H * d, a.q_lora_rank, f);
    linear("attn.wkv", C::attention, d, D, f, 1, TpSplit::replicated);
    norm("attn.kv_norm", d);
    linear("attn.wo_a", C::attention, a.o_groups * a.o_lora_rank, H * d, f, a.o_groups);
    linear("attn.wo_b", C::attention, D, a.o_groups * a.o_lora_rank, f, 1, TpSplit::rows);
    add("attn.attn_sink", C::attention, 1, H, WeightFormat::fp32);
    if (layer.attention == AttentionKind::swa) return;
    const bool overlap = layer.attention == AttentionKind::csa;
    compressor("attn.compressor.", C::compressor, d, layer.compress_ratio, overlap);
    if (layer.attention != AttentionKind::csa) return;
    const IndexerSpec& ix = spec.indexer;
    linear("attn.indexer.wq_b", C::indexer, ix.num_heads * ix.head_dim, a.q_lora_rank,
           spec.weights.indexer);
    linear("attn.indexer.weights_proj", C::indexer, ix.num_heads, D, WeightFormat::bf16);
    compressor("attn.indexer.compressor.", C::indexer, ix.head_dim, a.csa_ratio, true);
  }

  void compressor(const std::string& name, C component, std::int64_t width, std::int64_t ratio,
                  bool overlap) {
    const std::int64_t w = (overlap ? 2 : 1) * width;
    add(name + "wkv", component, w, spec.hidden_size, spec.weights.compressor);
    add(name + "wgate", component, w, spec.hidden_size, spec.weights.compressor);
    add(name + "ape", component, ratio, w, WeightFormat::fp32);
    add(name + "norm", C::norms, 1, width, WeightFormat::bf16);
  }

  void mla_attention() {
    const AttentionSpec& a = spec.attention;
    const std::int64_t D = spec.hidden_size, H = a.num_heads;
    const WeightFormat f = spec.weights.attention;
    // The engines replicate the low-rank query and the latent KV projections (SGLang's
    // fused_qkv_a_proj_with_mqa, vLLM's: ReplicatedLinear) and split wo by rows.
    if (a.q_lora_rank > 0) {
      linear("attn.wq_a", C::attention, a.q_lora_rank, D, f, 1, TpSplit::replicated);
      norm("attn.q_norm", a.q_lora_rank);
      linear("attn.wq_b", C::attention, H * a.head_dim, a.q_lora_rank, f);
    } else {
      linear("attn.wq", C::attention, H * a.head_dim, D, f);
    }
    linear("attn.wkv_a", C::attention, a.kv_lora_rank + a.rope_dim, D, f, 1, TpSplit::replicated);
    norm("attn.kv_norm", a.kv_lora_rank);
    // Absorbed (MQA) form: wkv_b's key half multiplies into each head's query (128 -> 512) and its
    // value half out of each head's output (512 -> 128): per token exactly one pass over the
    // matrix. (A dense-MLA prefill expands every cached entry through it instead: sim/op_list.cpp.)
    linear("attn.wkv_b", C::attention, H * (a.qk_nope_dim + a.v_head_dim), a.kv_lora_rank, f);
    linear("attn.wo", C::attention, D, H * a.v_head_dim, f, 1, TpSplit::rows);
    if (!spec.indexer.present) return;
    const IndexerSpec& ix = spec.indexer;
    linear("attn.indexer.wq_b", C::indexer, ix.num_heads * ix.head_dim, a.q_lora_rank,
           spec.weights.indexer);
    linear("attn.indexer.wk", C::indexer, ix.head_dim, D, spec.weights.indexer);
    add("attn.indexer.k_norm", C::norms, 2, ix.head_dim, WeightFormat::bf16);  // LayerNorm w + b
    linear("attn.indexer.weights_proj", C::indexer, ix.num_heads, D, WeightFormat::bf16);
  }

  void gqa_attention() {
    const AttentionSpec& a = spec.attention;
    const std::int64_t D = spec.hidden_size;
    const WeightFormat f = spec.weights.attention;
    linear("attn.wq", C::attention, a.num_heads * a.head_dim, D, f);
    linear("attn.wk", C::attention, a.num_kv_heads * a.head_dim, D, f);
    linear("attn.wv", C::attention, a.num_kv_heads * a.head_dim, D, f);
    linear("attn.wo", C::attention, D, a.num_heads * a.head_dim, f, 1, TpSplit::rows);
  }

  void ffn(const LayerSpec& layer) {
    const MoeSpec& m = spec.moe;
    const std::int64_t D = spec.hidden_size;
    if (layer.ffn == FfnKind::dense) {
      const std::int64_t I = m.dense_intermediate_size;
      add("ffn.w1", C::dense_ffn, I, D, spec.weights.dense_ffn);
      add("ffn.w3", C::dense_ffn, I, D, spec.weights.dense_ffn);
      add("ffn.w2", C::dense_ffn, D, I, spec.weights.dense_ffn);
      return;
    }
    const std::int64_t I = m.expert_intermediate_size;
    add("ffn.gate.weight", C::router, m.num_routed_experts, D, spec.weights.router);
    if (layer.ffn == FfnKind::moe_scored)  // hash layers have no selection bias
      add("ffn.gate.bias", C::router, 1, m.num_routed_experts, WeightFormat::fp32);
    for (const char* w : {"w1", "w3", "w2"}) {
      const bool down = std::string(w) == "w2";
      add(std::string("ffn.experts.") + w, C::routed_experts, down ? D : I, down ? I : D,
          spec.weights.routed_experts);
      out.back().copies = m.num_routed_experts;
      out.back().active_copies = m.experts_per_token;
      if (m.num_shared_experts == 0) continue;
      add(std::string("ffn.shared_experts.") + w, C::shared_experts, down ? D : I, down ? I : D,
          spec.weights.shared_experts);
      out.back().copies = out.back().active_copies = m.num_shared_experts;
    }
  }

  void mhc(const std::string& name, bool head) {
    if (spec.mhc.streams <= 1) return;
    const std::int64_t n = spec.mhc.streams;
    const std::int64_t rows = head ? n : (2 + n) * n;
    add(name + "_fn", C::mhc, rows, n * spec.hidden_size, WeightFormat::fp32);
    add(name + "_base", C::mhc, 1, rows, WeightFormat::fp32);
    add(name + "_scale", C::mhc, 1, head ? 1 : 3, WeightFormat::fp32);
  }

  void layer(const LayerSpec& l) {
    norm("attn_norm", spec.hidden_size);
    switch (spec.architecture) {
      case Architecture::v4:
        v4_attention(l);
        break;
      case Architecture::mla:
        mla_attention();
        break;
      case Architecture::gqa:
        gqa_attention();
        break;
    }
    norm("ffn_norm", spec.hidden_size);
    ffn(l);
    mhc("hc_attn", false);
    mhc("hc_ffn", false);
  }
};

}  // namespace

std::string_view to_string(ParamComponent c) {
  switch (c) {
    case C::embedding:
      return "embedding";
    case C::attention:
      return "attention";
    case C::compressor:
      return "compressor";
    case C::indexer:
      return "indexer";
    case C::routed_experts:
      return "routed_experts";
    case C::shared_experts:
      return "shared_experts";
    case C::dense_ffn:
      return "dense_ffn";
    case C::router:
      return "router";
    case C::mhc:
      return "mhc";
    case C::norms:
      return "norms";
    case C::lm_head:
      return "lm_head";
    case C::mtp_projections:
      return "mtp_projections";
  }
  return "?";
}

std::vector<WeightTensor> enumerate_weights(const ModelSpec& spec) {
  std::vector<WeightTensor> out;
  Builder b{spec, out, "", false};
  const std::int64_t D = spec.hidden_size;
  for (std::int64_t i = 0; i < spec.num_layers; ++i) {
    b.prefix = "layers." + std::to_string(i) + ".";
    b.layer_index = i;
    b.layer(spec.layers[i]);
  }
  b.prefix = "";
  b.layer_index = -1;
  b.add("embed", C::embedding, spec.vocab_size, D, spec.weights.embedding);
  out.back().active = false;
  b.norm("norm", D);
  b.mhc("hc_head", true);
  b.linear("head", C::lm_head, spec.vocab_size, D, spec.weights.lm_head);
  // MTP blocks: e/h projections and their norms, one ordinary block, their own hc-head and norm;
  // the embedding and LM head are shared with the main model (reference/kernels.md §5).
  b.mtp = true;
  for (std::int64_t k = 0; k < spec.num_mtp_layers; ++k) {
    b.prefix = "mtp." + std::to_string(k) + ".";
    b.layer_index = spec.num_layers + k;
    b.linear("e_proj", C::mtp_projections, D, D, spec.weights.mtp_projections);
    b.linear("h_proj", C::mtp_projections, D, D, spec.weights.mtp_projections);
    b.norm("enorm", D);
    b.norm("hnorm", D);
    b.layer(spec.layers[spec.num_layers + k]);
    b.mhc("hc_head", true);
    b.norm("norm", D);
  }
  return out;
}

ParamTotals count_parameters(const ModelSpec& spec) {
  return count_parameters(enumerate_weights(spec));
}

ParamTotals count_parameters(const std::vector<WeightTensor>& weights) {
  ParamTotals t;
  for (const WeightTensor& w : weights) {
    auto add = [](std::int64_t& sum, std::int64_t v) { sum = checked_add(sum, v); };
    if (w.mtp) {
      add(t.mtp_params, w.parameters());
      add(t.mtp_active_params, w.active_parameters());
      add(t.mtp_weight_bytes, w.bytes());
      continue;
    }
    const int c = static_cast<int>(w.component);
    add(t.total[c], w.parameters());
    add(t.active[c], w.active_parameters());
    add(t.bytes[c], w.bytes());
    add(t.total_params, w.parameters());
    add(t.active_params, w.active_parameters());
    add(t.weight_bytes, w.bytes());
  }
  return t;
}

}  // namespace v4sim
