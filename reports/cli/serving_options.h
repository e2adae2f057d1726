// Options shared by `predict` and `optimize`, and their translation into engine inputs.
#pragma once

#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "hardware/system.h"
#include "sim/economics.h"
#include "sim/serving.h"

namespace v4sim::cli {

struct ServingOptions {
  std::string model, system, layout, phase = "decode", context, weights, kv_format = "deploy";
  std::string format = "table", price_basis = "rental", moe_exchange = "all_to_all";
  std::int64_t devices = 0, batch = 0, redundant_experts = 0, chunk_tokens = 16384,
               prefill_devices = 0, session_output_tokens = 1000;
  double slo_tpot_ms = 0, slo_ttft_ms = 0, mtp_acceptance = 0, cache_hit_rate = 0,
         imbalance = kEplbImbalance;
  bool no_overlap = false;
  bool no_cuda_graph = false;
  std::int64_t mtp_tokens = 1;
  bool no_tables = false;
  double step_overhead_ms = 0;
};

void add_serving_options(CLI::App* cmd, ServingOptions& o, bool with_layout_and_batch);

struct ServingRequest {
  PreparedModel model;
  SystemSpec system;
  int nodes = 1;
  ServingConfig config;
  Workload workload;
  PriceAssumptions prices;
};

/// Loads the model and system and checks every value; InputError on anything malformed.
/// Without --layout: tp=1, dp=devices, pp=1, ep as wide as the experts allow (DP attention with
/// full expert parallelism).
ServingRequest resolve(const ServingOptions& o);

/// Shares of a step's op and communication time by where it came from (measured, transferred,
/// roofline; they sum to 1), as `predict` and `validate --deployments` print them.
nlohmann::ordered_json time_sources_json(const TimeSources& t);

/// The JSON object `predict` prints for one result (also used by optimize and reports).
nlohmann::ordered_json serving_json(const ModelSpec& spec, const SystemSpec& system,
                                    const Workload& w, const ServingConfig& c,
                                    const ServingResult& r, const DeviceHour& hour);

}  // namespace v4sim::cli
