// The analytic model's answer for one model, context and phase: parameters, KV cache and FLOPs,
// each broken down, all derived from the op list (kernel cost functions) and the weight list.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "kernels/cost.h"
#include "models/model_spec.h"
#include "models/weights.h"
#include "sim/kv_cache.h"
#include "sim/op_list.h"

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

/// A model with its weight list and parameter totals computed once, for repeated evaluation.
struct PreparedModel {
  ModelSpec spec;
  std::vector<WeightTensor> weights;
  ParamTotals params;
};
PreparedModel prepare(ModelSpec spec);

/// Throws InputError for a context below 1, above the model's maximum (unless allowed) or an
/// unknown KV format.
AnalyticResult analyze(const PreparedModel& model, const AnalyticQuery& query);
AnalyticResult analyze(const ModelSpec& spec, const AnalyticQuery& query);

}  // namespace v4sim
