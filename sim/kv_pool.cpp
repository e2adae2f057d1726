#include "sim/kv_pool.h"

#include <algorithm>
#include <string>

#include "models/config/input_error.h"
#include "sim/kv_cache.h"

namespace v4sim {

LinearKv linear_kv(const ModelSpec& spec, const KvFormat& format, bool include_mtp) {
  const std::int64_t max = spec.max_context_tokens;
  LinearKv kv;
  kv.fixed_bytes = static_cast<double>(kv_cache_per_sequence(spec, 1, format, include_mtp).total());
  kv.per_token_bytes =
      max > 1
          ? (static_cast<double>(kv_cache_per_sequence(spec, max, format, include_mtp).total()) -
             kv.fixed_bytes) /
                static_cast<double>(max - 1)
          : 0.0;
  return kv;
}

double engine_kv_pool_bytes(const PreparedModel& model, const SystemSpec& system, int nodes,
                            const ServingConfig& config, std::int64_t max_batch,
                            std::int64_t chunk_tokens, CommPlanner& planner) {
  // The pool's ranks alone (a slice of the system): weights per rank follow from the layout.
  ServingConfig c = config;
  c.cache_hit_rate = 0;
  c.prefill_devices = 0;
  c.devices = config.layout.devices();
  c.op_timings = false;
  Workload w;
  w.context_tokens = 1;
  w.batch = max_batch;
  const ServingResult d = predict(model, system, nodes, c, w, &planner);
  if (!d.feasible && d.memory.capacity_bytes == 0)
    throw InputError("the deployment cannot run: " + d.reason);
  w.phase = Phase::prefill;
  w.batch = 1;
  w.context_tokens = std::min(chunk_tokens, model.spec.max_context_tokens);
  const ServingResult p = predict(model, system, nodes, c, w, &planner);
  const double activations = std::max(d.memory.activation_bytes, p.memory.activation_bytes);
  const double pool = d.memory.capacity_bytes - d.memory.weights_bytes - activations;
  if (!(pool > 0))
    throw InputError("no HBM left for the KV cache: weights " +
                     std::to_string(d.memory.weights_bytes / 1073741824.0) +
                     " GiB and activations exceed the usable " +
                     std::to_string(d.memory.capacity_bytes / 1073741824.0) + " GiB per rank");
  return pool;
}

}  // namespace v4sim
