#include "sim/token_costs.h"

#include <algorithm>

#include "sim/kv_cache.h"

namespace v4sim {

TokenCosts token_costs(const PreparedModel& model, const SystemSpec& system, int nodes,
                       const ServingConfig& config, std::int64_t context,
                       const ServingResult& decode, const DeviceHour& hour,
                       std::int64_t session_output_tokens, CommPlanner* planner) {
  TokenCosts c;
  c.usd_per_device_hour = hour.usd_per_hour;
  c.session_output_tokens = session_output_tokens;
  c.output_usd_per_m =
      usd_per_million_tokens(hour.usd_per_hour, decode.throughput_tokens_per_s_per_device);

  // Prefill without cache hits on the same ranks (colocated: the decode layout; disaggregated: the
  // whole system prefilling, which prices input at the same device-hour).
  ServingConfig prefill = config;
  prefill.cache_hit_rate = 0;
  prefill.prefill_devices = 0;
  prefill.op_timings = false;
  const std::int64_t devices = system_totals(system, nodes).devices;
  if (config.prefill_devices > 0)
    prefill.layout = dp_attention_layout(devices, model.spec.moe.num_routed_experts);
  Workload w;
  w.phase = Phase::prefill;
  w.context_tokens = context;
  w.batch = 1;
  const ServingResult p = predict(model, system, nodes, prefill, w, planner);
  c.input_usd_per_m =
      p.feasible ? usd_per_million_tokens(hour.usd_per_hour, p.throughput_tokens_per_s_per_device)
                 : 0.0;

  const Accelerator& a = system.accelerator;
  const double link = a.scale_out_gb_per_s.nominal * 1e9 * a.scale_out_usable_fraction;
  const double kv_per_token =
      static_cast<double>(
          kv_cache_per_sequence(model.spec, context, model.spec.kv_format(config.kv_format))
              .total()) /
      static_cast<double>(context);
  if (link > 0) c.cached_input_usd_per_m = kv_per_token / link * hour.usd_per_hour / 3600.0 * 1e6;

  c.session_usd = static_cast<double>(context) * c.input_usd_per_m / 1e6 +
                  static_cast<double>(session_output_tokens) * c.output_usd_per_m / 1e6;
  return c;
}

}  // namespace v4sim
