// Long-context comparison (kind long_context): each model's work per decoded token and KV cache
// per sequence across the scenario's contexts, its KV cache by part at the longest, and decode
// serving per system on the cheapest deployment meeting the TPOT target (the deployment search of
// `v4sim optimize`, sim/optimize.h, with the scenario's targets, price basis and MTP acceptance).
//
// This header is the computation (a typed study); reports/studies/long_context.h writes it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "hardware/system.h"
#include "scenarios/scenario.h"
#include "sim/analytic.h"
#include "sim/infeasible.h"
#include "sim/optimize.h"

namespace v4sim {

/// One model on one system at one context.
struct LongContextServing {
  std::int64_t context_tokens = 0;
  /// none: `best` holds the cheapest deployment meeting the targets; beyond_max_context: the
  /// context is past the model's trained maximum (not searched); tpot_slo: deployments fit but
  /// none meets the TPOT target (`nearest` holds the fastest); memory: the weights and one
  /// sequence fit on no size up to `max_devices` ranks.
  Infeasible why = Infeasible::none;
  std::optional<OptimizePoint> best;
  std::optional<ServingResult> nearest;
};

struct LongContextSystem {
  SystemSpec system;
  std::int64_t max_devices = 0;                       // the largest deployment searched
  std::vector<std::vector<LongContextServing>> runs;  // [model][context]
};

struct LongContextStudy {
  std::vector<PreparedModel> models;  // the first is the base every ratio is to
  /// Decode at each of the scenario's contexts, past a model's maximum context too (marked
  /// beyond_max_context): [model][context].
  std::vector<std::vector<AnalyticResult>> decode;
  /// KV cache per sequence at the longest context in each of the model's formats: [model][format].
  std::vector<std::vector<KvCacheBytes>> kv_by_format;
  std::vector<LongContextSystem> systems;
};

LongContextStudy study_long_context(const Scenario& scenario, const ProgressFn& progress = {});

}  // namespace v4sim
