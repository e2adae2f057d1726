// The purchase comparison (kind hardware_purchase): a daily token demand served by each model on
// each candidate system (sim/plan.h: units, capex, opex, $/M tokens, utilisation), ranked, and the
// same plans re-made with each uncertain input at the low and the high end of its range, to show
// how far the ranking and the price per token can move.
//
// This header is the computation (a typed study); reports/studies/hardware_purchase.h writes it.
#pragma once

#include <string>
#include <vector>

#include "hardware/system.h"
#include "scenarios/scenario.h"
#include "sim/analytic.h"
#include "sim/infeasible.h"
#include "sim/plan.h"

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

/// One set of plans: the nominal inputs, or one sensitivity at one end of its range.
struct PurchaseVariant {
  const Sensitivity* what = nullptr;  // nullptr: nominal (points into the scenario)
  RangeEnd bound = RangeEnd::low;
  /// Per model, ranked as plan_purchase returns them. In a sensitivity run an infeasible plan
  /// stops at its first failing context length (plan_purchase's stop_at_infeasible): its
  /// feasibility is the full plan's, its buckets and reason are not all of them.
  std::vector<std::vector<SystemPlan>> plans;
};

/// The study: every model's plans on every system, nominal and varied.
struct PurchaseStudy {
  std::vector<PreparedModel> models;
  std::vector<SystemSpec> systems;
  std::vector<PurchaseVariant> variants;         // [0]: nominal
  std::vector<std::vector<SystemPlan>> relaxed;  // per model, without the TTFT target (if any)

  const PurchaseVariant& nominal() const { return variants.front(); }
};

/// The plan for `system` among `plans`, or nullptr.
const SystemPlan* find_plan(const std::vector<SystemPlan>& plans, const std::string& system);

/// Loads the scenario's models and systems and makes every plan. The variants point into
/// `scenario`'s sensitivities, so it must outlive the study. InputError for a KV format other
/// than the deployed one.
PurchaseStudy study_hardware_purchase(const Scenario& scenario, const ProgressFn& progress = {});

}  // namespace v4sim
