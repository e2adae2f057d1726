// Every weight tensor of a model, enumerated from its ModelSpec, and the parameter and byte counts
// built from them.
//
// Counting convention (stated once, used everywhere):
//   * total = every parameter of the main model: embedding, all layers, final norm, LM head; the
//     MTP block(s) are counted separately (`mtp`), as the V4-Flash, V3 and V3.2 cards do.
//   * active per token = every main-model parameter a token's forward pass multiplies with: all
//     dense weights, the shared experts, experts_per_token routed experts per MoE layer and the LM
//     head; the input embedding is a table lookup and is not counted.
//   * bytes = each tensor at its storage format, block scales included (kernels/storage.h).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/cost.h"
#include "kernels/storage.h"
#include "models/model_spec.h"

namespace v4sim {

enum class ParamComponent : std::uint8_t {
  embedding,
  attention,
  compressor,
  indexer,
  routed_experts,
  shared_experts,
  dense_ffn,
  router,
  mhc,
  norms,
  lm_head,
  mtp_projections,
};
inline constexpr int kNumParamComponents = 12;

/// How tensor parallelism splits a projection of a component that it splits (sim/weight_sums.h):
/// by output columns (each rank computes a slice of the outputs), by input rows (an output
/// projection whose partial sums the all-reduce adds), or not at all (a small projection every
/// rank holds and runs whole: SGLang's and vLLM's ReplicatedLinear).
enum class TpSplit : std::uint8_t { columns, rows, replicated };
std::string_view to_string(ParamComponent c);

struct WeightTensor {
  std::string name;  // e.g. "layers.2.attn.wq_a"
  ParamComponent component = ParamComponent::attention;
  std::int64_t rows = 1;           // out features (1 for a vector)
  std::int64_t cols = 1;           // in features
  std::int64_t groups = 1;         // block-diagonal blocks
  std::int64_t copies = 1;         // routed experts: one copy per expert
  std::int64_t active_copies = 1;  // copies a token uses (routed: experts_per_token)
  WeightFormat format = WeightFormat::bf16;
  std::int64_t layer = -1;  // index into ModelSpec::layers; -1 for model-level tensors
  bool linear = false;      // a projection y = W x applied to every token (priced as a LinearShape)
  TpSplit tp = TpSplit::columns;  // how tp splits it, where its component is split
  bool mtp = false;               // belongs to an MTP block
  bool active = true;             // multiplied with in a forward pass (false: the embedding table)

  // Checked products (kernels/cost.h): hand-written widths must not wrap into wrong counts.
  std::int64_t parameters() const { return checked_mul(copies, rows, cols) / groups; }
  std::int64_t active_parameters() const {
    return active ? checked_mul(active_copies, rows, cols) / groups : 0;
  }
  std::int64_t bytes() const {
    return checked_mul(copies, groups, weight_bytes(format, rows / groups, cols / groups));
  }
};

/// All tensors of the model, main layers first, then model-level tensors, then MTP blocks.
std::vector<WeightTensor> enumerate_weights(const ModelSpec& spec);

struct ParamTotals {
  std::array<std::int64_t, kNumParamComponents> total{};   // main model, by component
  std::array<std::int64_t, kNumParamComponents> active{};  // main model, by component
  std::array<std::int64_t, kNumParamComponents> bytes{};   // main model, by component
  std::int64_t total_params = 0;
  std::int64_t active_params = 0;
  std::int64_t weight_bytes = 0;  // main model
  std::int64_t mtp_params = 0;    // unique to the MTP blocks (embedding and head are shared)
  std::int64_t mtp_active_params = 0;
  std::int64_t mtp_weight_bytes = 0;
};

ParamTotals count_parameters(const ModelSpec& spec);
/// The same totals from the model's enumerate_weights(), when the caller has them already.
ParamTotals count_parameters(const std::vector<WeightTensor>& weights);

}  // namespace v4sim
