// What a million tokens of each kind, and one session, cost on a deployment.
//   output:        decode throughput per device at the context, priced per device-hour.
//   input (miss):  prefill of a prompt of the context on the same layout, no cache hits.
//   cached input:  a cache hit skips the prefill; what remains is loading the cached KV into HBM.
//                  We price that as the KV bytes per token over the rank's usable scale-out
//                  bandwidth (DeepSeek's context cache lives off-accelerator), at the device-hour
//                  price. Holding the cache on disk or in host memory is not priced.
//   session:       one prompt of the context (cache miss) plus `session_output_tokens` outputs.
#pragma once

#include <cstdint>

#include "sim/economics.h"
#include "sim/serving.h"

namespace v4sim {

struct TokenCosts {
  double usd_per_device_hour = 0;
  double output_usd_per_m = 0;
  double input_usd_per_m = 0;
  double cached_input_usd_per_m = 0;
  double session_usd = 0;
  std::int64_t session_output_tokens = 0;
};

/// `decode` is a feasible decode result of the deployment at `context` tokens.
TokenCosts token_costs(const PreparedModel& model, const SystemSpec& system, int nodes,
                       const ServingConfig& config, std::int64_t context,
                       const ServingResult& decode, const DeviceHour& hour,
                       std::int64_t session_output_tokens, CommPlanner* planner = nullptr);

}  // namespace v4sim
