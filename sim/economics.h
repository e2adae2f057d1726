// What a device-hour costs and what that makes a million tokens cost. Every assumption is a named
// field with its basis stated here; reports print them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hardware/system.h"

namespace v4sim {

/// rental: the accelerator's rental price per rank-hour. tco: capex amortised + power + hosting.
/// Keep `tco` last: the names table (economics.cpp) asserts its size against it.
enum class PriceBasis : std::uint8_t { rental, tco };
/// "rental" or "tco", as files and the command line write them.
std::string_view to_string(PriceBasis b);
/// The basis named `text`, or nothing.
std::optional<PriceBasis> parse_price_basis(std::string_view text);

struct PriceAssumptions {
  PriceBasis basis = PriceBasis::rental;
  /// Straight-line amortisation of the system's purchase price. Estimate: 4 years, the middle of
  /// the 3-5 year server depreciation lives public cloud operators report.
  double amortization_years = 4.0;
  /// Electricity price. Estimate: 0.08 USD/kWh, near the US industrial average (EIA Electric
  /// Power Monthly, 2024-2025).
  double usd_per_kwh = 0.08;
  /// Facility overhead on IT power. Estimate: 1.3 for a modern liquid-cooled AI hall (Uptime
  /// Institute's fleet-wide average is ~1.56; new AI builds quote 1.1-1.3).
  double pue = 1.3;
  /// Colocation space and service per kW of IT load per month. Estimate: 150 USD/kW-month, the
  /// order of published wholesale colocation rates for high-density space.
  double hosting_usd_per_kw_month = 150.0;
  /// Share of hours the deployment serves at the modelled throughput (the rest is idle capacity
  /// it still pays for). 1.0 prices a fully loaded system.
  double utilization = 1.0;
};

struct DeviceHour {
  double usd_per_hour = 0;  // per rank
  double capex_usd_per_hour = 0;
  double power_usd_per_hour = 0;
  double hosting_usd_per_hour = 0;
  PriceBasis basis = PriceBasis::rental;
};

/// Cost of one rank-hour of `system` at `nodes` nodes. Throws InputError for assumptions out of
/// range or a system without the needed price.
DeviceHour device_hour(const SystemSpec& system, int nodes, const PriceAssumptions& a);

/// USD per million tokens served at `tokens_per_s_per_device` on ranks costing `usd_per_hour`.
double usd_per_million_tokens(double usd_per_hour, double tokens_per_s_per_device,
                              double utilization = 1.0);

}  // namespace v4sim
