// Sections shared by demand files and scenario files, read strictly. Include from loader .cpp
// files only (pulls yaml-cpp through strict_yaml.h).
#pragma once

#include <functional>
#include <string>

#include "models/config/strict_yaml.h"
#include "sim/economics.h"
#include "sim/plan.h"

namespace v4sim::sections {

/// The section's `source:` and/or `estimate:` (one is required), joined for display
/// (models/config/strict_yaml.h).
using config::read_provenance;
/// input/output tokens per day, cache_hit_rate, peak_to_average, optional mtp_acceptance and the
/// context mix `contexts: [{context_tokens, share}]` (shares add up to 1). Each reader returns
/// its section's provenance (as read_provenance() does), for reports that cite it.
std::string read_demand(config::MapReader& d, Demand& out);
/// tpot_ms and/or ttft_ms.
std::string read_slo(config::MapReader& s, std::optional<double>& tpot_s,
                     std::optional<double>& ttft_s);
/// basis (rental | tco) and optional amortization_years, usd_per_kwh, pue,
/// hosting_usd_per_kw_month.
std::string read_prices(config::MapReader& p, PriceAssumptions& out);
/// A non-empty list of non-empty names.
std::vector<std::string> read_names(config::MapReader& m, std::string_view key);
/// Runs `load` on every name of the list `key` (read by read_names) and re-throws its InputError
/// at the item's line and column, with the field and the value: an unknown or broken model or
/// system is then reported against the file that names it.
void check_names(config::MapReader& m, std::string_view key,
                 const std::function<void(const std::string&)>& load);

}  // namespace v4sim::sections
