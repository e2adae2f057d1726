// A validated model description, loaded from models/<name>.yaml (see model_loader.h).
// Plain data: dims, the per-layer pattern (attention kind, FFN kind), storage formats, compute
// precisions and the published headline numbers it is checked against.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/cost.h"
#include "kernels/storage.h"

namespace v4sim {

/// v4: shared-KV MQA with SWA/CSA/HCA layers (DeepSeek V4). mla: V3/V3.2 multi-head latent
/// attention (with a DSA indexer when the model has one). gqa: dense grouped-query attention.
enum class Architecture : std::uint8_t { v4, mla, gqa };
enum class AttentionKind : std::uint8_t { swa, csa, hca, mla, mla_dsa, gqa };
enum class FfnKind : std::uint8_t { dense, moe_hash, moe_scored };

std::string_view to_string(Architecture a);
std::string_view to_string(AttentionKind k);
std::string_view to_string(FfnKind k);

struct LayerSpec {
  AttentionKind attention = AttentionKind::swa;
  std::int64_t compress_ratio = 0;  // V4: 0 (window only), csa_ratio or hca_ratio
  FfnKind ffn = FfnKind::moe_scored;
  bool mtp = false;  // the multi-token-prediction block(s) follow the main layers
};

struct AttentionSpec {
  std::int64_t num_heads = 0;
  std::int64_t head_dim = 0;  // v4: K=V width; gqa: per-head width; mla: qk_nope + rope
  std::int64_t rope_dim = 0;
  std::int64_t q_lora_rank = 0;  // 0: full-rank query projection
  // v4
  std::int64_t o_groups = 0;
  std::int64_t o_lora_rank = 0;
  std::int64_t sliding_window = 0;
  std::int64_t csa_ratio = 0;
  std::int64_t hca_ratio = 0;
  // mla
  std::int64_t kv_lora_rank = 0;
  std::int64_t qk_nope_dim = 0;
  std::int64_t v_head_dim = 0;
  // gqa
  std::int64_t num_kv_heads = 0;
};

struct IndexerSpec {
  bool present = false;
  std::int64_t num_heads = 0;
  std::int64_t head_dim = 0;
  std::int64_t topk = 0;  // v4: compressed entries; mla (DSA): tokens
};

struct MoeSpec {
  std::int64_t num_routed_experts = 0;
  std::int64_t num_shared_experts = 0;
  std::int64_t experts_per_token = 0;
  std::int64_t expert_intermediate_size = 0;
  std::int64_t num_hash_layers = 0;
  std::int64_t first_dense_layers = 0;
  std::int64_t dense_intermediate_size = 0;
  std::int64_t num_groups = 0;  // group-limited routing (V3); 0: none
  std::int64_t groups_per_token = 0;
  std::string scoring;  // sqrtsoftplus | sigmoid | softmax | none
  double routed_scaling_factor = 1.0;
};

struct MhcSpec {
  std::int64_t streams = 1;  // 1: a plain residual stream (no mHC)
  std::int64_t sinkhorn_iters = 0;
};

struct WeightFormats {
  WeightFormat attention = WeightFormat::bf16;   // q/kv/o projections (and MLA absorptions)
  WeightFormat compressor = WeightFormat::bf16;  // compressor wkv/wgate
  WeightFormat indexer = WeightFormat::bf16;     // indexer wq_b and key projection
  WeightFormat routed_experts = WeightFormat::bf16;
  WeightFormat shared_experts = WeightFormat::bf16;
  WeightFormat dense_ffn = WeightFormat::bf16;
  WeightFormat router = WeightFormat::bf16;
  WeightFormat embedding = WeightFormat::bf16;
  WeightFormat lm_head = WeightFormat::bf16;
  WeightFormat mtp_projections = WeightFormat::bf16;
};

struct ComputePrecisions {
  Precision attention_projections = Precision::bf16;
  Precision core_attention = Precision::bf16;
  Precision compressor = Precision::fp32;
  Precision indexer_projections = Precision::bf16;
  Precision indexer_scoring = Precision::bf16;
  Precision routed_experts = Precision::bf16;
  Precision shared_experts = Precision::bf16;
  Precision dense_ffn = Precision::bf16;
  Precision router = Precision::fp32;
  Precision lm_head = Precision::bf16;
};

/// One named KV storage format: "deploy" (what production kernels store) or "bf16".
struct KvFormat {
  std::string name;
  KvEntryFormat main_entry = KvEntryFormat::bf16;   // window, compressed and MLA entries
  KvEntryFormat indexer_key = KvEntryFormat::bf16;  // indexer keys (if the model has an indexer)
  std::int64_t state_bytes_per_element = 4;         // compressor tail state
};

struct PublishedTotals {
  double total_params = 0;   // headline total (main model, as the card counts it)
  double active_params = 0;  // headline activated per token
};

/// A value v4sim needs that a Hugging Face config.json does not state, and the default it took.
struct AssumedValue {
  std::string field;   // catalogue field(s), e.g. "kv_cache.deploy"
  std::string value;   // the default taken, e.g. "main_entry v4_fp8_sparse (584 B), ..."
  std::string reason;  // why the config cannot say, and where the default comes from
};

struct ModelSpec {
  std::string name;          // catalogue name, e.g. deepseek-v4-pro
  std::string display_name;  // e.g. DeepSeek-V4-Pro
  std::string file;          // where it was loaded from
  Architecture architecture = Architecture::v4;
  std::int64_t hidden_size = 0;
  std::int64_t num_layers = 0;  // main layers
  std::int64_t num_mtp_layers = 0;
  std::int64_t vocab_size = 0;
  std::int64_t max_context_tokens = 0;
  AttentionSpec attention;
  IndexerSpec indexer;
  MoeSpec moe;
  MhcSpec mhc;
  WeightFormats weights;
  ComputePrecisions compute;
  std::vector<KvFormat> kv_formats;
  std::vector<LayerSpec> layers;  // num_layers main layers, then num_mtp_layers MTP blocks
  PublishedTotals published;
  /// A model imported from a Hugging Face config.json (models/hf_config.h): each value v4sim needs
  /// that the config does not state, with the default taken. Empty for catalogue YAML.
  std::vector<AssumedValue> assumed;

  /// The KV format called `name`; throws InputError listing the model's formats otherwise.
  const KvFormat& kv_format(std::string_view name) const;
};

}  // namespace v4sim
