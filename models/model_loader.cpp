#include "models/model_loader.h"

#include <algorithm>

#include "models/config/data_paths.h"
#include "models/config/strict_yaml.h"
#include "models/hf_config.h"

namespace v4sim {
namespace {

using config::MapReader;
using config::read_provenance;
constexpr std::int64_t kMaxDim = 1 << 24;    // no real width comes near 16M
constexpr std::int64_t kMaxCount = 1 << 16;  // heads, experts
// 67x V4's 61 layers. Every layer becomes weight tensors and ops, so the bound also keeps one
// analysis of an absurd file to about a second (65,536 layers took 30 s under the sanitizers).
constexpr std::int64_t kMaxLayers = 4096;

Precision read_precision(MapReader& m, std::string_view key) {
  Precision p{};
  if (!parse_precision(m.string(key), p)) m.fail(key, "expected one of fp32, bf16, fp8, fp4, int8");
  return p;
}

WeightFormat read_weight_format(MapReader& m, std::string_view key) {
  WeightFormat f{};
  if (!parse_weight_format(m.string(key), f))
    m.fail(
        key,
        "expected one of fp32, bf16, fp8_block128_ue8m0, fp8_block128_fp32, mxfp4, int8_channel");
  return f;
}

KvEntryFormat read_kv_entry(MapReader& m, std::string_view key) {
  KvEntryFormat f{};
  if (!parse_kv_entry_format(m.string(key), f))
    m.fail(key, "expected one of bf16, v4_fp8_sparse, v32_fp8_sparse, mxfp4, fp8_fp32_scale");
  return f;
}

void read_attention(MapReader& a, ModelSpec& spec, std::vector<std::int64_t>& ratios) {
  read_provenance(a);
  AttentionSpec& at = spec.attention;
  at.num_heads = a.integer("num_heads", 1, kMaxCount);
  at.rope_dim = a.integer("rope_dim", 0, kMaxDim);
  if (at.rope_dim % 2 != 0) a.fail("rope_dim", "RoPE rotates pairs: must be even");
  switch (spec.architecture) {
    case Architecture::v4:
      at.head_dim = a.integer("head_dim", 1, kMaxDim);
      at.q_lora_rank = a.integer("q_lora_rank", 1, kMaxDim);
      at.o_groups = a.integer("o_groups", 1, kMaxCount);
      at.o_lora_rank = a.integer("o_lora_rank", 1, kMaxDim);
      at.sliding_window = a.integer("sliding_window", 1, kMaxDim);
      at.csa_ratio = a.integer("csa_ratio", 2, kMaxDim);
      at.hca_ratio = a.integer("hca_ratio", 2, kMaxDim);
      if (at.num_heads % at.o_groups != 0)
        a.fail("o_groups",
               "num_heads (" + std::to_string(at.num_heads) + ") must be divisible by o_groups");
      if (at.csa_ratio == at.hca_ratio) a.fail("hca_ratio", "must differ from csa_ratio");
      ratios = a.integer_list("compress_ratios", 0, kMaxDim);
      break;
    case Architecture::mla:
      at.q_lora_rank = a.integer("q_lora_rank", 0, kMaxDim);
      at.kv_lora_rank = a.integer("kv_lora_rank", 1, kMaxDim);
      at.qk_nope_dim = a.integer("qk_nope_dim", 1, kMaxDim);
      at.v_head_dim = a.integer("v_head_dim", 1, kMaxDim);
      at.head_dim = at.qk_nope_dim + at.rope_dim;
      break;
    case Architecture::gqa:
      at.head_dim = a.integer("head_dim", 1, kMaxDim);
      at.num_kv_heads = a.integer("num_kv_heads", 1, kMaxCount);
      if (at.num_heads % at.num_kv_heads != 0)
        a.fail("num_kv_heads", "num_heads (" + std::to_string(at.num_heads) +
                                   ") must be divisible by num_kv_heads");
      break;
  }
  if (at.rope_dim > at.head_dim) a.fail("rope_dim", "must not exceed the head width");
  a.finish();
}

void read_moe(MapReader& m, ModelSpec& spec) {
  read_provenance(m);
  MoeSpec& moe = spec.moe;
  moe.num_routed_experts = m.integer("num_routed_experts", 0, kMaxCount);
  moe.num_shared_experts = m.integer("num_shared_experts", 0, kMaxCount);
  moe.experts_per_token = m.integer("experts_per_token", 0, kMaxCount);
  moe.expert_intermediate_size = m.integer("expert_intermediate_size", 0, kMaxDim);
  moe.num_hash_layers = m.integer("num_hash_layers", 0, kMaxCount);
  moe.first_dense_layers = m.integer("first_dense_layers", 0, kMaxCount);
  moe.dense_intermediate_size = m.integer("dense_intermediate_size", 0, kMaxDim);
  moe.num_groups = m.integer("num_groups", 0, kMaxCount);
  moe.groups_per_token = m.integer("groups_per_token", 0, kMaxCount);
  moe.scoring = m.string("scoring");
  moe.routed_scaling_factor = m.number("routed_scaling_factor", 1e-6, 1e6);
  const std::vector<std::string> scorings = {"sqrtsoftplus", "sigmoid", "softmax", "none"};
  if (std::find(scorings.begin(), scorings.end(), moe.scoring) == scorings.end())
    m.fail("scoring", "expected one of sqrtsoftplus, sigmoid, softmax, none");
  if (moe.experts_per_token > moe.num_routed_experts)
    m.fail("experts_per_token",
           "more than num_routed_experts (" + std::to_string(moe.num_routed_experts) + ")");
  if (moe.num_routed_experts > 0 &&
      (moe.experts_per_token == 0 || moe.expert_intermediate_size == 0))
    m.fail("experts_per_token",
           "a model with routed experts needs experts_per_token and "
           "expert_intermediate_size > 0");
  if (moe.num_groups > 0) {
    if (moe.num_routed_experts % moe.num_groups != 0)
      m.fail("num_groups", "num_routed_experts must be divisible by num_groups");
    if (moe.groups_per_token < 1 || moe.groups_per_token > moe.num_groups)
      m.fail("groups_per_token", "must be in [1, num_groups]");
  }
  if (moe.num_hash_layers > spec.num_layers) m.fail("num_hash_layers", "more than num_layers");
  if (moe.first_dense_layers > spec.num_layers)
    m.fail("first_dense_layers", "more than num_layers");
  const bool all_dense = moe.num_routed_experts == 0;
  if ((moe.first_dense_layers > 0 || all_dense) && moe.dense_intermediate_size == 0)
    m.fail("dense_intermediate_size", "dense FFN layers need a width > 0");
  m.finish();
}

void read_weights(MapReader& w, WeightFormats& f) {
  read_provenance(w);
  f.attention = read_weight_format(w, "attention");
  f.compressor = read_weight_format(w, "compressor");
  f.indexer = read_weight_format(w, "indexer");
  f.routed_experts = read_weight_format(w, "routed_experts");
  f.shared_experts = read_weight_format(w, "shared_experts");
  f.dense_ffn = read_weight_format(w, "dense_ffn");
  f.router = read_weight_format(w, "router");
  f.embedding = read_weight_format(w, "embedding");
  f.lm_head = read_weight_format(w, "lm_head");
  f.mtp_projections = read_weight_format(w, "mtp_projections");
  w.finish();
}

void read_compute(MapReader& c, ComputePrecisions& p) {
  read_provenance(c);
  p.attention_projections = read_precision(c, "attention_projections");
  p.core_attention = read_precision(c, "core_attention");
  p.compressor = read_precision(c, "compressor");
  p.indexer_projections = read_precision(c, "indexer_projections");
  p.indexer_scoring = read_precision(c, "indexer_scoring");
  p.routed_experts = read_precision(c, "routed_experts");
  p.shared_experts = read_precision(c, "shared_experts");
  p.dense_ffn = read_precision(c, "dense_ffn");
  p.router = read_precision(c, "router");
  p.lm_head = read_precision(c, "lm_head");
  c.finish();
}

void read_kv_formats(MapReader& k, bool has_indexer, std::vector<KvFormat>& out) {
  read_provenance(k);
  for (const char* name : {"deploy", "bf16"}) {
    MapReader f = k.map(name);
    KvFormat kv;
    kv.name = name;
    kv.main_entry = read_kv_entry(f, "main_entry");
    f.allow("indexer_key");
    if (has_indexer) {
      kv.indexer_key = read_kv_entry(f, "indexer_key");
    } else if (f.has("indexer_key")) {
      f.fail("indexer_key", "the model has no indexer section");
    }
    kv.state_bytes_per_element = f.integer("state_bytes_per_element", 1, 8);
    f.finish();
    out.push_back(kv);
  }
  k.finish();
}

FfnKind ffn_kind(const ModelSpec& spec, std::int64_t layer) {
  const MoeSpec& moe = spec.moe;
  if (moe.num_routed_experts == 0 || layer < moe.first_dense_layers) return FfnKind::dense;
  if (layer < moe.num_hash_layers) return FfnKind::moe_hash;
  return FfnKind::moe_scored;  // MTP blocks have layer index >= num_layers: score-routed
}

void build_layers(MapReader& attention, ModelSpec& spec, const std::vector<std::int64_t>& ratios) {
  const std::int64_t n = spec.num_layers + spec.num_mtp_layers;
  if (spec.architecture == Architecture::v4 && static_cast<std::int64_t>(ratios.size()) != n)
    attention.fail("compress_ratios",
                   "has " + std::to_string(ratios.size()) +
                       " entries; expected num_layers + num_mtp_layers = " + std::to_string(n));
  for (std::int64_t i = 0; i < n; ++i) {
    LayerSpec layer;
    layer.mtp = i >= spec.num_layers;
    layer.ffn = ffn_kind(spec, i);
    switch (spec.architecture) {
      case Architecture::v4: {
        const std::int64_t r = ratios[i];
        layer.compress_ratio = r;
        if (r == 0) {
          layer.attention = AttentionKind::swa;
        } else if (r == spec.attention.csa_ratio) {
          layer.attention = AttentionKind::csa;
        } else if (r == spec.attention.hca_ratio) {
          layer.attention = AttentionKind::hca;
        } else {
          attention.fail("compress_ratios", "entry " + std::to_string(i) + " is " +
                                                std::to_string(r) +
                                                "; expected 0, csa_ratio or hca_ratio");
        }
        break;
      }
      case Architecture::mla:
        layer.attention = spec.indexer.present ? AttentionKind::mla_dsa : AttentionKind::mla;
        break;
      case Architecture::gqa:
        layer.attention = AttentionKind::gqa;
        break;
    }
    spec.layers.push_back(layer);
  }
}

ModelSpec read_model(const config::Document& doc) {
  MapReader root(doc.root, doc.file, "");
  ModelSpec spec;
  spec.file = doc.file;
  read_provenance(root);
  spec.name = root.string("name");
  spec.display_name = root.string("display_name");
  const std::string arch = root.string("architecture");
  if (arch == "v4") {
    spec.architecture = Architecture::v4;
  } else if (arch == "mla") {
    spec.architecture = Architecture::mla;
  } else if (arch == "gqa") {
    spec.architecture = Architecture::gqa;
  } else {
    root.fail("architecture", "expected v4, mla or gqa");
  }
  root.allow("released");
  if (root.has("released")) root.string("released");

  MapReader dims = root.map("dims");
  read_provenance(dims);
  spec.hidden_size = dims.integer("hidden_size", 1, kMaxDim);
  spec.num_layers = dims.integer("num_layers", 1, kMaxLayers);
  spec.num_mtp_layers = dims.integer("num_mtp_layers", 0, 16);
  spec.vocab_size = dims.integer("vocab_size", 1, kMaxDim);
  spec.max_context_tokens = dims.integer("max_context_tokens", 1, std::int64_t{1} << 32);
  dims.finish();

  std::vector<std::int64_t> ratios;
  MapReader attention = root.map("attention");
  read_attention(attention, spec, ratios);

  root.allow("indexer");
  if (root.has("indexer")) {
    if (spec.architecture == Architecture::gqa)
      root.fail("indexer", "a gqa model has no lightning indexer");
    MapReader ix = root.map("indexer");
    read_provenance(ix);
    spec.indexer.present = true;
    spec.indexer.num_heads = ix.integer("num_heads", 1, kMaxCount);
    spec.indexer.head_dim = ix.integer("head_dim", 1, kMaxDim);
    spec.indexer.topk = ix.integer("topk", 1, kMaxDim);
    ix.finish();
  }
  MapReader moe = root.map("moe");
  read_moe(moe, spec);

  root.allow("mhc");
  if (root.has("mhc")) {
    MapReader mhc = root.map("mhc");
    read_provenance(mhc);
    spec.mhc.streams = mhc.integer("streams", 1, 64);
    spec.mhc.sinkhorn_iters = mhc.integer("sinkhorn_iters", 1, 1000);
    mhc.finish();
  }
  MapReader weights = root.map("weights");
  read_weights(weights, spec.weights);
  MapReader compute = root.map("compute");
  read_compute(compute, spec.compute);
  MapReader kv = root.map("kv_cache");
  read_kv_formats(kv, spec.indexer.present, spec.kv_formats);

  // A model card's headline totals; a Hugging Face config.json has none (models/hf_config.h).
  root.allow("published");
  if (root.has("published") || !hf::is_config_json(doc.file)) {
    MapReader pub = root.map("published");
    read_provenance(pub);
    spec.published.total_params = pub.number("total_params", 1, 1e15);
    spec.published.active_params = pub.number("active_params", 1, 1e15);
    if (spec.published.active_params > spec.published.total_params)
      pub.fail("active_params", "more than total_params");
    pub.finish();
  }

  const bool has_csa =
      std::find(ratios.begin(), ratios.end(), spec.attention.csa_ratio) != ratios.end();
  if (spec.architecture == Architecture::v4 && has_csa && !spec.indexer.present)
    root.fail("indexer", "CSA layers need a lightning indexer section");
  build_layers(attention, spec, ratios);
  root.finish();
  return spec;
}

bool looks_like_path(std::string_view s) {
  auto ends_with = [&](std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
  };
  return s.find('/') != std::string_view::npos || ends_with(".yaml") || ends_with(".yml") ||
         ends_with(".json");
}

}  // namespace

std::filesystem::path default_models_dir() {
  return data::data_root() / "models";
}

ModelSpec load_model(std::string_view name_or_path, const std::filesystem::path& dir) {
  if (looks_like_path(name_or_path)) {
    const config::Document doc = config::load_file(std::filesystem::path(name_or_path));
    if (!hf::is_config_json(doc.file)) return read_model(doc);
    std::vector<AssumedValue> assumed;
    ModelSpec spec = read_model(hf::to_catalogue(doc, assumed));
    spec.assumed = std::move(assumed);
    return spec;
  }
  const auto dirs = data::dirs_or(dir, "models");
  for (const auto& d : dirs) {
    const std::filesystem::path path = d / (std::string(name_or_path) + ".yaml");
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) return read_model(config::load_file(path));
  }
  std::string msg = "unknown model '" + std::string(name_or_path) + "'";
  const auto names = list_models(dir);
  if (auto guess = config::closest(name_or_path, names))
    msg.append(" (did you mean '").append(*guess).append("'?)");
  msg += "; the catalogue in";
  for (const auto& d : dirs) msg.append(" ").append(d.string());
  msg += " has:";
  for (const auto& n : names) msg.append(" ").append(n);
  throw InputError(msg);
}

std::vector<std::string> list_models(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& d : data::dirs_or(dir, "models")) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(d, ec)) {
      if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

const KvFormat& ModelSpec::kv_format(std::string_view wanted) const {
  for (const auto& f : kv_formats)
    if (f.name == wanted) return f;
  std::string msg = "model " + name + " has no KV format '" + std::string(wanted) + "'; it has:";
  for (const auto& f : kv_formats) msg += " " + f.name;
  throw InputError(msg);
}

}  // namespace v4sim
