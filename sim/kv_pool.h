// The serving simulation's KV memory (sim/simulate.h): the linear model of a sequence's KV bytes,
// and the pool each engine holds them in.
#pragma once

#include <cstdint>

#include "hardware/system.h"
#include "sim/communication.h"
#include "sim/serving.h"

namespace v4sim {

/// A sequence's KV bytes as fixed + per token x context: kv_cache_per_sequence at 1 token and at
/// the model's maximum, joined by a line.
struct LinearKv {
  double fixed_bytes = 0;
  double per_token_bytes = 0;
  /// `sequences` holding `tokens` of context between them.
  double bytes(double tokens, double sequences) const {
    return sequences * fixed_bytes + tokens * per_token_bytes;
  }
};
LinearKv linear_kv(const ModelSpec& spec, const KvFormat& format, bool include_mtp);

/// KV pool of one engine of `config`'s layout, on the pool's ranks alone: usable HBM less the
/// weights and the larger of the activations of a decode step of `max_batch` sequences and of a
/// prefill chunk of `chunk_tokens`. InputError when the deployment cannot run or nothing is left.
double engine_kv_pool_bytes(const PreparedModel& model, const SystemSpec& system, int nodes,
                            const ServingConfig& config, std::int64_t max_batch,
                            std::int64_t chunk_tokens, CommPlanner& planner);

}  // namespace v4sim
