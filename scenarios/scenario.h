// A scenario: one question v4sim answers as a report. Three kinds:
//   long_context       models x contexts (x systems): FLOPs per token, KV per sequence, sessions
//                      per device, decode throughput and $/M output tokens, and where savings
//                      come from.
//   hardware_purchase  a demand served by each model on candidate systems: units, capex, opex,
//                      $/M tokens, and how the ranking moves when uncertain inputs move.
//   api_pricing        API price lists against workloads: monthly bills, and self-hosted cost and
//                      margin on chosen hardware.
//   serving_simulation requests over time through each model on each system (sim/simulate.h):
//                      latency distributions, occupancy and queues, SLO attainment against load.
// Files live in scenarios/*.yaml and are read as strictly as every other catalogue.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/economics.h"
#include "sim/plan.h"

namespace v4sim {

/// Called with (points done, points total) during long sweeps.
using ProgressFn = std::function<void(std::size_t, std::size_t)>;

/// One published API price list, in USD per million tokens (converted at the scenario's exchange
/// rate when the source lists CNY).
struct ApiPrice {
  std::string model;  // display name, e.g. "DeepSeek-V4-Flash"
  double input_cache_hit = 0;
  double input_cache_miss = 0;
  double output = 0;
  /// False when the source gives no cache-hit price: cache hits are then billed at the miss price.
  bool cache_hit_listed = true;
  /// The prices as the source lists them: currency "USD" or "CNY" and the three values in it.
  std::string currency = "USD";
  double listed_input_cache_hit = 0;
  double listed_input_cache_miss = 0;
  double listed_output = 0;
  std::string date;
  std::string source;
  std::string self_hosted_model;  // catalogue model it corresponds to, "" if none
};

/// A monthly workload priced against every API and on self-hosted hardware.
struct ApiWorkload {
  std::string name;
  double requests_per_month = 0;
  std::int64_t input_tokens_per_request = 0;
  std::int64_t output_tokens_per_request = 0;
  double cache_hit_rate = 0;
  std::string source;  // the entry's source / estimate
};

/// An uncertain input of a purchase plan, moved between its low and high values.
///   system_prices      each system's price at the low / high end of its catalogue range
///   accelerator_peaks  every compute peak at the low / high end of its catalogue range
///   efficiencies       compute_max_fraction and memory_efficiency times (1 -/+ relative)
/// Keep `efficiencies` last: the names table (scenario.cpp) asserts its size against it.
enum class SensitivityKind : std::uint8_t { system_prices, accelerator_peaks, efficiencies };
/// "system_prices", "accelerator_peaks", "efficiencies": the name the file gives.
std::string_view to_string(SensitivityKind k);

struct Sensitivity {
  SensitivityKind kind = SensitivityKind::system_prices;
  double relative = 0;  // efficiencies only
  std::string source;   // where `relative` comes from (efficiencies only)
};

/// The `simulation:` section of a serving_simulation scenario. Arrivals are synthetic (Poisson or
/// bursty, sim/trace.h) or a trace file; either way the base run is at `rate_per_s` and the sweep
/// replays the same arrivals at each of `sweep_rates_per_s` (a trace by time-scaling its
/// timestamps: time_scale = rate / the trace's own mean rate).
struct ServingSimulationSpec {
  std::string source;  // the section's source / estimate
  std::int64_t max_batch = 0;
  bool prefix_cache = true;
  /// Share of requests that must meet every SLO for a load to count as served (the report's
  /// highest served rate).
  double attainment_target = 0;
  // synthetic arrivals
  std::int64_t requests = 0;
  double rate_per_s = 0;
  double burstiness_cv = 1.0;
  std::int64_t input_min_tokens = 0, input_max_tokens = 0;
  std::int64_t output_min_tokens = 0, output_max_tokens = 0;
  std::uint64_t seed = 1;
  // or a trace (path as resolved against the scenario file's folder; empty: synthetic)
  std::string trace;
  std::vector<double> sweep_rates_per_s;
};

/// Keep `serving_simulation` last: the names table (scenario.cpp) asserts its size against it.
enum class ScenarioKind : std::uint8_t {
  long_context,
  hardware_purchase,
  api_pricing,
  serving_simulation
};
/// The name the file gives ("long_context", ...).
std::string_view to_string(ScenarioKind k);

struct Scenario {
  std::string file;
  std::string name;
  std::string title;
  ScenarioKind kind = ScenarioKind::long_context;
  std::string source;
  std::vector<std::string> models;
  std::vector<std::string> systems;
  std::vector<std::int64_t> contexts;
  std::string kv_format = "deploy";
  std::optional<double> slo_tpot_s;
  std::optional<double> slo_ttft_s;
  std::string slo_source;  // the slo section's source / estimate
  double mtp_acceptance = 0;
  PriceAssumptions prices;
  std::string prices_source;
  // hardware_purchase
  Demand demand;
  std::string demand_source;
  std::vector<Sensitivity> sensitivities;
  // api_pricing
  std::vector<ApiPrice> api_prices;
  std::vector<ApiWorkload> workloads;
  double usd_per_cny = 0;  // exchange rate used for CNY prices, 0 if none
  std::string exchange_rate_date;
  std::string exchange_rate_source;
  // serving_simulation
  ServingSimulationSpec simulation;
};

/// `name_or_path`: a name in scenarios/ ("v4-vs-v32-long-context") or a path. InputError names the
/// file, line and field of any defect.
Scenario load_scenario(const std::string& name_or_path);

/// scenarios/ of the data root (models/config/data_paths.h).
std::filesystem::path default_scenarios_dir();

/// <name>.yaml in the first `sub` folder ("scenarios", "scenarios/deployments") of the search path
/// that has it; InputError listing the catalogue and the closest name otherwise.
std::filesystem::path find_scenario_file(std::string_view name, std::string_view sub);

}  // namespace v4sim
