// The purchase comparison (kind hardware_purchase): a daily token demand served by each model on
// each candidate system (sim/plan.h: units, capex, opex, $/M tokens, utilisation), ranked, and the
// same plans re-made with each uncertain input at the low and the high end of its range, to show
// how far the ranking and the price per token can move.
#pragma once

#include "hardware/system.h"
#include "scenarios/long_context.h"

namespace v4sim {

/// Which end of a sourced range a sensitivity run takes. (hardware/roofline.h has its own
/// `Bound`, compute or memory: a distinct name keeps the two headers includable together.)
enum class RangeEnd { low, high };

/// `system` with one class of uncertain inputs moved to its low or high end:
///   system_prices      per-node (and per-device scale-out) price at its range end; a system file
///                      that gives one price moves by the accelerator's purchase range times the
///                      node's ranks (the rest of the system kept at its price);
///   accelerator_peaks  every compute peak at its range end;
///   efficiencies       compute max_fraction and memory_efficiency times (1 -/+ relative), at
///                      most 1.
/// The topology and links are untouched, so communication models built for `system` stay valid.
SystemSpec vary_system(const SystemSpec& system, const Sensitivity& what, RangeEnd bound);

report::Report run_hardware_purchase(const Scenario& scenario, const ProgressFn& progress = {});

}  // namespace v4sim
