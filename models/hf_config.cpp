#include "models/hf_config.h"

#include <algorithm>
#include <filesystem>

#include "models/config/data_paths.h"

namespace v4sim::hf {
namespace {

using config::MapReader;

enum class Type { v3, v32, v4 };

/// Keys the configs carry that do not change parameters, FLOPs or KV bytes (tokenizer ids, norms'
/// epsilons, RoPE frequencies, initialisation, training-only switches, library metadata).
constexpr const char* kIgnored[] = {"architectures",
                                    "attention_bias",
                                    "attention_dropout",
                                    "auto_map",
                                    "aux_loss_alpha",
                                    "bos_token_id",
                                    "compress_rope_theta",
                                    "dtype",
                                    "eos_token_id",
                                    "ep_size",
                                    "hc_eps",
                                    "hidden_act",
                                    "initializer_range",
                                    "norm_topk_prob",
                                    "pad_token_id",
                                    "pretraining_tp",
                                    "rms_norm_eps",
                                    "rope_scaling",
                                    "rope_theta",
                                    "seq_aux",
                                    "swiglu_limit",
                                    "topk_method",
                                    "torch_dtype",
                                    "transformers_version",
                                    "use_cache"};

struct Builder {
  MapReader& m;
  YAML::Node out;
  std::vector<AssumedValue>& assumed;

  /// The config's own node for `key` (validated as an integer in [min, max]): errors and later
  /// checks point at config.json:line:col.
  YAML::Node integer(std::string_view key, std::int64_t min, std::int64_t max) {
    m.integer(key, min, max);
    return m.node(key);
  }
  std::int64_t value(std::string_view key, std::int64_t min, std::int64_t max) {
    return m.integer(key, min, max);
  }
  /// `key` if present, else `fallback` (an absence the Hugging Face format defines, e.g. no
  /// first_k_dense_replace = no dense layers).
  YAML::Node integer_or(std::string_view key, std::int64_t min, std::int64_t max,
                        std::int64_t fallback) {
    m.allow(key);
    if (m.has(key)) return integer(key, min, max);
    return YAML::Node(fallback);
  }
  void assume(std::string field, std::string value, std::string reason) {
    assumed.push_back({std::move(field), std::move(value), std::move(reason)});
  }
};

constexpr std::int64_t kMaxDim = 1 << 24;
constexpr std::int64_t kMaxCount = 1 << 16;

}  // namespace

bool is_config_json(std::string_view path) {
  return path.size() >= 5 && path.substr(path.size() - 5) == ".json";
}

config::Document to_catalogue(const config::Document& json, std::vector<AssumedValue>& assumed) {
  MapReader m(json.root, json.file, "");
  Builder b{m, YAML::Node(YAML::NodeType::Map), assumed};
  for (const char* key : kIgnored) m.allow(key);

  const std::string model_type = m.string("model_type");
  Type type{};
  if (model_type == "deepseek_v3") {
    type = Type::v3;
  } else if (model_type == "deepseek_v32") {
    type = Type::v32;
  } else if (model_type == "deepseek_v4") {
    type = Type::v4;
  } else {
    m.fail("model_type", "v4sim imports deepseek_v3, deepseek_v32 and deepseek_v4 configs");
  }
  m.allow("tie_word_embeddings");
  if (m.has("tie_word_embeddings") && m.boolean("tie_word_embeddings"))
    m.fail("tie_word_embeddings", "tied embeddings are not supported (DeepSeek models untie them)");
  m.allow("moe_layer_freq");
  if (m.has("moe_layer_freq") && m.integer("moe_layer_freq", 1, kMaxCount) != 1)
    m.fail("moe_layer_freq", "only 1 (every layer after the dense ones is MoE) is supported");

  // Shown in reports: relative to the data root or catalogue folder, never this machine's path.
  const std::string src = data::display_path(json.file) + " (Hugging Face config.json)";
  const std::filesystem::path file(json.file);
  const std::string name = file.parent_path().filename().string();
  YAML::Node& out = b.out;
  out["source"] = src;
  out["name"] = name.empty() ? std::string("hf-config") : name;
  out["display_name"] = (name.empty() ? std::string("hf-config") : name) + " (config.json)";
  out["architecture"] = type == Type::v4 ? "v4" : "mla";

  YAML::Node dims;
  dims["source"] = src;
  dims["hidden_size"] = b.integer("hidden_size", 1, kMaxDim);
  dims["num_layers"] = b.integer("num_hidden_layers", 1, 4096);
  dims["num_mtp_layers"] = b.integer_or("num_nextn_predict_layers", 0, 16, 0);
  dims["vocab_size"] = b.integer("vocab_size", 1, kMaxDim);
  dims["max_context_tokens"] = b.integer("max_position_embeddings", 1, std::int64_t{1} << 32);
  out["dims"] = dims;

  const std::int64_t heads = b.value("num_attention_heads", 1, kMaxCount);
  const std::int64_t kv_heads = b.value("num_key_value_heads", 1, kMaxCount);
  YAML::Node att;
  att["source"] = src;
  att["num_heads"] = m.node("num_attention_heads");
  att["rope_dim"] = b.integer("qk_rope_head_dim", 0, kMaxDim);
  bool has_csa = false;
  if (type == Type::v4) {
    if (kv_heads != 1)
      m.fail("num_key_value_heads", "DeepSeek V4 attention is shared-KV MQA: expected 1");
    att["head_dim"] = b.integer("head_dim", 1, kMaxDim);
    att["q_lora_rank"] = b.integer("q_lora_rank", 1, kMaxDim);
    att["o_groups"] = b.integer("o_groups", 1, kMaxCount);
    att["o_lora_rank"] = b.integer("o_lora_rank", 1, kMaxDim);
    att["sliding_window"] = b.integer("sliding_window", 1, kMaxDim);
    // The config lists each layer's ratio but not which ratio is which kind.
    att["csa_ratio"] = 4;
    att["hca_ratio"] = 128;
    att["estimate"] =
        "csa_ratio 4 and hca_ratio 128: a config.json lists per-layer compress_ratios without "
        "naming the kinds; DeepSeek-V4 report section 4.2.1 (CSA m = 4, HCA m' = 128) and the "
        "transformers DeepseekV4 default compress_rates";
    b.assume("attention.csa_ratio, attention.hca_ratio", "4, 128",
             "compress_ratios lists each layer's ratio without naming its kind; DeepSeek-V4 "
             "report section 4.2.1 (CSA m = 4, HCA m' = 128)");
    const auto ratios = m.integer_list("compress_ratios", 0, kMaxDim);
    has_csa = std::find(ratios.begin(), ratios.end(), 4) != ratios.end();
    att["compress_ratios"] = m.node("compress_ratios");
  } else {
    if (kv_heads != heads)
      m.fail("num_key_value_heads",
             "MLA keeps one latent per token: expected num_attention_heads (" +
                 std::to_string(heads) + ")");
    m.allow("q_lora_rank");
    // A null q_lora_rank (small MLA models) means a full-rank query projection.
    att["q_lora_rank"] = m.has("q_lora_rank") && !m.node("q_lora_rank").IsNull()
                             ? b.integer("q_lora_rank", 0, kMaxDim)
                             : YAML::Node(0);
    att["kv_lora_rank"] = b.integer("kv_lora_rank", 1, kMaxDim);
    att["qk_nope_dim"] = b.integer("qk_nope_head_dim", 1, kMaxDim);
    att["v_head_dim"] = b.integer("v_head_dim", 1, kMaxDim);
    m.allow("head_dim");  // some exports add head_dim = qk_rope_head_dim; MLA derives its own
    m.allow("qk_head_dim");
  }
  out["attention"] = att;

  if (type == Type::v32 || (type == Type::v4 && has_csa)) {
    YAML::Node ix;
    ix["source"] = src;
    ix["num_heads"] = b.integer("index_n_heads", 1, kMaxCount);
    ix["head_dim"] = b.integer("index_head_dim", 1, kMaxDim);
    ix["topk"] = b.integer("index_topk", 1, kMaxDim);
    out["indexer"] = ix;
  } else {
    for (const char* k : {"index_n_heads", "index_head_dim", "index_topk"}) m.allow(k);
  }

  YAML::Node moe;
  moe["source"] = src;
  moe["num_routed_experts"] = b.integer("n_routed_experts", 0, kMaxCount);
  moe["num_shared_experts"] = b.integer("n_shared_experts", 0, kMaxCount);
  moe["experts_per_token"] = b.integer("num_experts_per_tok", 0, kMaxCount);
  moe["expert_intermediate_size"] = b.integer("moe_intermediate_size", 0, kMaxDim);
  moe["num_hash_layers"] = b.integer_or("num_hash_layers", 0, kMaxCount, 0);
  moe["first_dense_layers"] = b.integer_or("first_k_dense_replace", 0, kMaxCount, 0);
  moe["dense_intermediate_size"] = b.integer_or("intermediate_size", 0, kMaxDim, 0);
  moe["num_groups"] = b.integer_or("n_group", 0, kMaxCount, 0);
  moe["groups_per_token"] = b.integer_or("topk_group", 0, kMaxCount, 0);
  // One group (n_group 1) is no group-limited routing.
  if (moe["num_groups"].as<std::int64_t>() == 1) {
    moe["num_groups"] = 0;
    moe["groups_per_token"] = 0;
  }
  moe["scoring"] = m.node("scoring_func");
  m.number("routed_scaling_factor", 1e-6, 1e6);
  moe["routed_scaling_factor"] = m.node("routed_scaling_factor");
  out["moe"] = moe;

  if (type == Type::v4) {
    YAML::Node mhc;
    mhc["source"] = src;
    mhc["streams"] = b.integer("hc_mult", 1, 64);
    mhc["sinkhorn_iters"] = b.integer("hc_sinkhorn_iters", 1, 1000);
    out["mhc"] = mhc;
  } else {
    for (const char* k : {"hc_mult", "hc_sinkhorn_iters"}) m.allow(k);
  }

  // Storage formats. quantization_config says which weights are FP8 (E4M3 in 128x128 blocks) but
  // not how their scales are stored: the checkpoints decide (V4 stores F8_E8M0 `.scale` tensors,
  // V3 and V3.2 fp32 `weight_scale_inv`).
  bool fp8 = false;
  m.allow("quantization_config");
  if (m.has("quantization_config")) {
    MapReader q = m.map("quantization_config");
    if (q.string("quant_method") != "fp8")
      q.fail("quant_method", "v4sim imports FP8 checkpoints (or unquantised ones)");
    q.allow("fmt");
    if (q.has("fmt") && q.string("fmt") != "e4m3") q.fail("fmt", "expected e4m3");
    const auto block = q.integer_list("weight_block_size", 1, kMaxDim);
    if (block != std::vector<std::int64_t>{128, 128})
      q.fail("weight_block_size",
             "v4sim models FP8 weights in 128x128 blocks: expected [128, 128]");
    q.allow("activation_scheme");
    if (q.has("activation_scheme") && q.string("activation_scheme") != "dynamic")
      q.fail("activation_scheme", "expected dynamic");
    q.allow("scale_fmt");
    if (q.has("scale_fmt")) q.string("scale_fmt");
    q.finish();
    fp8 = true;
  }
  std::string fp8_format = "bf16";
  if (fp8) {
    fp8_format = type == Type::v4 ? "fp8_block128_ue8m0" : "fp8_block128_fp32";
    b.assume(
        "weights.attention, weights.indexer, weights.shared_experts, weights.dense_ffn, "
        "weights.mtp_projections",
        fp8_format,
        "quantization_config names FP8 E4M3 in 128x128 blocks, not how the scales are "
        "stored; " +
            std::string(type == Type::v4
                            ? "the V4 checkpoints store UE8M0 per block (F8_E8M0 .scale "
                              "tensors)"
                            : "the V3 checkpoints store fp32 per block (weight_scale_inv, "
                              "DeepSeek-V3 README_WEIGHTS.md)"));
  } else {
    b.assume("weights", "bf16", "no quantization_config");
  }
  std::string experts = fp8_format;
  m.allow("expert_dtype");
  if (m.has("expert_dtype")) {
    const std::string e = m.string("expert_dtype");
    if (e != "fp4") m.fail("expert_dtype", "expected fp4 (MXFP4: E2M1 with a UE8M0 scale per 32)");
    experts = "mxfp4";
  } else if (type == Type::v4) {
    experts = "mxfp4";
    b.assume("weights.routed_experts", "mxfp4",
             "no expert_dtype; the DeepSeek-V4-Pro checkpoint stores its routed experts as packed "
             "E2M1 with F8_E8M0 scales per 32 (shared/reference/models.md section 1)");
  }
  YAML::Node w;
  w["source"] = src + " quantization_config, expert_dtype";
  w["estimate"] =
      "router, compressor, embedding and LM head in BF16 as the DeepSeek checkpoints store them "
      "(models/deepseek-v4-pro.yaml, models/deepseek-v3.yaml cite the headers)";
  w["attention"] = fp8_format;
  w["compressor"] = "bf16";
  w["indexer"] = fp8_format;
  w["routed_experts"] = experts;
  w["shared_experts"] = fp8_format;
  w["dense_ffn"] = fp8_format;
  w["router"] = "bf16";
  w["embedding"] = "bf16";
  w["lm_head"] = "bf16";
  w["mtp_projections"] = fp8_format;
  out["weights"] = w;
  b.assume("weights.router, weights.compressor, weights.embedding, weights.lm_head", "bf16",
           "a config.json does not name them; the DeepSeek checkpoints store them in BF16 "
           "(headers cited by models/deepseek-v4-pro.yaml, models/deepseek-v3.yaml)");

  // Compute precisions: what the deployed kernels run, which no config states (the same values
  // and sources as the catalogue entries).
  const std::string linear = fp8 ? "fp8" : "bf16";
  YAML::Node c;
  c["source"] =
      "defaults of models/hf_config.cpp, as models/deepseek-v4-pro.yaml and "
      "models/deepseek-v3.2.yaml state them with sources";
  c["estimate"] = "a config.json names storage formats, not the precisions kernels compute in";
  c["attention_projections"] = linear;
  c["core_attention"] = "bf16";
  c["compressor"] = "fp32";
  c["indexer_projections"] = linear;
  c["indexer_scoring"] = type == Type::v4 ? "fp4" : "fp8";
  c["routed_experts"] = linear;
  c["shared_experts"] = linear;
  c["dense_ffn"] = linear;
  c["router"] = "fp32";
  c["lm_head"] = "bf16";
  out["compute"] = c;
  const std::string why =
      "a config.json names storage formats, not the precisions kernels compute in; the catalogue "
      "entries' values";
  b.assume(
      "compute.attention_projections, compute.indexer_projections, compute.routed_experts, "
      "compute.shared_experts, compute.dense_ffn",
      linear, why);
  b.assume("compute.core_attention, compute.lm_head", "bf16", why);
  b.assume("compute.router, compute.compressor", "fp32", why);
  b.assume("compute.indexer_scoring", type == Type::v4 ? "fp4" : "fp8", why);

  // KV formats: the production kernels' layouts (FlashMLA, DeepGEMM), not part of a config.
  YAML::Node kv;
  kv["source"] = type == Type::v4
                     ? "FlashMLA MODEL1_FP8Sparse (584 B), DeepGEMM MXFP4 indexer cache (68 B)"
                     : "FlashMLA V32_FP8Sparse (656 B), V3.2 indexer k_cache FP8 + fp32 scale";
  kv["estimate"] = "compressor tail state in FP32 as in the reference inference code";
  YAML::Node deploy, bf16;
  deploy["main_entry"] = type == Type::v4 ? "v4_fp8_sparse" : "v32_fp8_sparse";
  bf16["main_entry"] = "bf16";
  if (out["indexer"]) {
    deploy["indexer_key"] = type == Type::v4 ? "mxfp4" : "fp8_fp32_scale";
    bf16["indexer_key"] = "bf16";
  }
  deploy["state_bytes_per_element"] = 4;
  bf16["state_bytes_per_element"] = 4;
  kv["deploy"] = deploy;
  kv["bf16"] = bf16;
  out["kv_cache"] = kv;
  const std::string no_kv = "a config.json has no KV-cache format; ";
  b.assume("kv_cache.deploy",
           type == Type::v4
               ? "main_entry v4_fp8_sparse (584 B), indexer_key mxfp4 (68 B), "
                 "state fp32"
               : "main_entry v32_fp8_sparse (656 B)" +
                     std::string(type == Type::v32 ? ", indexer_key fp8_fp32_scale (132 B)" : "") +
                     ", state fp32",
           no_kv + "the production kernels' layouts (FlashMLA, DeepGEMM)");
  b.assume(
      "kv_cache.bf16",
      "main_entry bf16" + std::string(out["indexer"] ? ", indexer_key bf16" : "") + ", state fp32",
      no_kv + "the unquantised reference layout");

  m.finish();
  return {json.file, out};
}

}  // namespace v4sim::hf
