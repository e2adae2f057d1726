// The analytic model's answer for one model, context and phase: parameters, KV cache and FLOPs,
// each broken down, all derived from the op list (kernel cost functions) and the weight list.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/cost.h"
#include "models/model_spec.h"
#include "models/weights.h"
#include "sim/kv_cache.h"
#include "sim/op_list.h"
#include "sim/weight_sums.h"

namespace v4sim {

enum class Phase : std::uint8_t { decode, prefill };
std::string_view to_string(Phase p);

struct AnalyticQuery {
  std::int64_t context_tokens = 0;  // decode: the token ending this context; prefill: prompt length
  Phase phase = Phase::decode;
  std::string kv_format = "deploy";
  bool include_mtp = false;
  /// Evaluate contexts beyond the model's max_context_tokens (the formulas extend; the model was
  /// not trained there). The V4 report compares V3.2 at 1M this way.
  bool allow_beyond_max_context = false;
};

struct AnalyticResult {
  AnalyticQuery query;
  Pass pass;
  ParamTotals params;
  KvCacheBytes kv_cache;
  Cost total;  // the whole pass (decode: one token; prefill: the whole prompt)
  std::array<Cost, kNumOpComponents> by_component{};
  std::int64_t tokens() const { return pass.num_tokens; }
  bool beyond_max_context = false;
  double flops_per_token() const;
  double fp8_equivalent_flops_per_token() const;
};

/// A model with everything that does not depend on the context computed once, for repeated
/// evaluation: its weight list, parameter totals and which main layers are identical.
struct PreparedModel {
  ModelSpec spec;
  std::vector<WeightTensor> weights;
  ParamTotals params;
  /// The first main layer of each kind (layer_groups) and, per main layer, how many layers of
  /// the model it stands for (its group's size for a representative, else 0). analyze() builds
  /// the representatives' ops only and scales them: the same integers as summing every layer.
  std::vector<std::int64_t> representatives;
  std::vector<std::int64_t> layer_repeats;
  WeightIndex weight_index;  // index_weights(spec, weights)
  WeightSums weight_sums;    // weight_sums(spec, weights): a serving setup's weights per rank
};
PreparedModel prepare(ModelSpec spec);

/// Throws InputError for a context below 1, above the model's maximum (unless allowed) or an
/// unknown KV format.
AnalyticResult analyze(const PreparedModel& model, const AnalyticQuery& query);
AnalyticResult analyze(const ModelSpec& spec, const AnalyticQuery& query);

/// analyze() compiled for many contexts of one model, phase, KV format and MTP setting. A decode
/// pass has one query token at every context, so the ops that do not depend on its position
/// (OpSelect::fixed: projections, FFNs, mHC, LM head; most of the ops) are summed once here, and
/// each context builds only its attention side, once per positional group of layers
/// (positional_layer_groups: layers that differ only in their FFN attend alike), and prices its
/// KV cache once per layer kind. A prefill pass grows with the prompt, so every op is built per
/// context. Results equal analyze()'s field for field (the counts are integers).
struct ContextSweep {
  const PreparedModel* model = nullptr;  // the caller's; must outlive the sweep
  AnalyticQuery settings;                // all but context_tokens
  bool fixed_summed = false;             // decode, and the fixed sums fit in int64
  std::array<Cost, kNumOpComponents> fixed_by_component{};
  /// Which components the positional ops add to, and the fixed sums of all the others: a
  /// context's total is that plus its positional components.
  std::array<bool, kNumOpComponents> positional_component{};
  Cost fixed_elsewhere;
  /// The first main layer of each positional group, and per main layer how many layers it
  /// stands for (0 for the others).
  std::vector<std::int64_t> positional_layers;
  std::vector<std::int64_t> positional_repeats;
  const KvFormat* kv_format = nullptr;  // the model's format named by settings.kv_format
  std::vector<KvLayerGroup> kv_layers;  // kv_layer_groups(spec, settings.include_mtp)
};
ContextSweep compile_contexts(const PreparedModel& model, const AnalyticQuery& settings);
/// analyze(*sweep.model, settings at `context_tokens`), with the same errors.
AnalyticResult analyze(const ContextSweep& sweep, std::int64_t context_tokens);

}  // namespace v4sim
