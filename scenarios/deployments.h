// Measured deployments: published end-to-end runs (model, system, layout, batch, lengths) with one
// measured figure each, against which `v4sim validate --deployments` checks `predict`. Files live
// in scenarios/deployments/*.yaml (the development set: dev.yaml) and are read as strictly as every
// other catalogue: unknown keys, missing fields and bad values are InputErrors naming
// file:line:column and the field.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "sim/layout.h"
#include "sim/moe_exchange.h"
#include "sim/weights_override.h"

namespace v4sim {

enum class DeploymentPhase { decode, prefill, aggregated };
std::string to_string(DeploymentPhase phase);

/// What a row measured: output tokens per second per device (decode and aggregated rows), input
/// tokens per second per device (prefill rows) or the time per output token in seconds (decode).
enum class DeploymentMetric {
  output_tokens_per_s_per_device,
  input_tokens_per_s_per_device,
  tpot_s
};
std::string to_string(DeploymentMetric metric);

struct Deployment {
  std::string id;
  std::string where;       // "file:line:col" of the row, for messages about it
  std::string source;      // the row's `source:` (URLs)
  std::string estimate;    // how fields the source does not state were read ("" if none)
  std::string conditions;  // the published setup in words
  std::string model;       // catalogue model name
  std::string system;      // catalogue system name
  std::int64_t devices = 0;
  DeploymentPhase phase = DeploymentPhase::decode;
  Layout layout;           // tp * dp * pp == devices
  std::int64_t batch = 0;  // per dp rank: sequences (decode, aggregated) or prompts (prefill)
  /// decode: each sequence's KV length; prefill: prompt length; 0 for aggregated rows.
  std::int64_t context_tokens = 0;
  std::int64_t input_tokens = 0;           // aggregated rows only
  std::int64_t output_tokens = 0;          // aggregated rows only
  std::optional<WeightsOverride> weights;  // none: the model's own formats
  std::string kv_format = "deploy";
  std::int64_t mtp_tokens = 0;             // draft tokens per step (0: no speculative decoding)
  double mtp_acceptance = 0;               // given when mtp_tokens > 0
  bool overlap = false;                    // two-micro-batch overlap
  std::optional<double> expert_imbalance;  // absent: the model's default
  std::optional<std::int64_t> redundant_experts;       // per device; absent: none
  MoeExchange moe_exchange = MoeExchange::all_to_all;  // how tokens reach other ranks' experts
  DeploymentMetric metric = DeploymentMetric::output_tokens_per_s_per_device;
  double measured = 0;
};

struct DeploymentSet {
  std::string file;
  std::string source;  // the file's provenance
  std::vector<Deployment> rows;
};

/// `name_or_path`: a name in scenarios/deployments/ ("dev") or a path. Every model and system
/// named must load; InputError names the file, line, column and field of any defect.
DeploymentSet load_deployments(const std::string& name_or_path);

/// The shipped development set, scenarios/deployments/dev.yaml.
std::filesystem::path default_deployments_file();

}  // namespace v4sim
