// The purchase study: plans per model and system, re-made at each end of each uncertain input
// (a failing context length's plan says the target it misses and the nearest deployment the
// search reached). reports/studies/hardware_purchase.cpp writes it.
#include "scenarios/hardware_purchase.h"

#include <algorithm>
#include <vector>

#include "models/config/input_error.h"
#include "models/model_loader.h"
#include "sim/optimize.h"
#include "sim/plan.h"

namespace v4sim {
namespace {

/// Whether `b` (a varied copy of `a`) can serve differently: a peak or an efficiency moved.
bool changes_speed(const SystemSpec& a, const SystemSpec& b) {
  for (int p = 0; p < kNumComputePaths; ++p) {
    const auto& x = a.accelerator.peak_tflops[p];
    const auto& y = b.accelerator.peak_tflops[p];
    if (x.has_value() != y.has_value() || (x && x->nominal != y->nominal)) return true;
  }
  return a.accelerator.compute_efficiency.max_fraction !=
             b.accelerator.compute_efficiency.max_fraction ||
         a.accelerator.memory_efficiency != b.accelerator.memory_efficiency;
}

void rank_plans(std::vector<SystemPlan>& plans) {
  std::stable_sort(plans.begin(), plans.end(), [](const SystemPlan& a, const SystemPlan& b) {
    if (a.feasible != b.feasible) return a.feasible;
    return a.annual_cost_usd < b.annual_cost_usd;
  });
}

/// The plans of `varied` (systems[k] with one input moved), ranked as plan_purchase ranks them.
/// A system whose speed did not change keeps its nominal sizing and is only re-priced (sizing does
/// not depend on prices, sim/plan.h price_plan); the others are planned again from scratch.
std::vector<SystemPlan> replan(const PreparedModel& m, const Scenario& sc,
                               const std::vector<SystemSpec>& systems,
                               const std::vector<SystemSpec>& varied,
                               const std::vector<SystemPlan>& nominal,
                               const std::vector<PlannerCache*>& planners) {
  std::vector<SystemSpec> again;
  std::vector<PlannerCache*> again_planners;
  std::vector<const SystemPlan*> sizes;
  for (std::size_t k = 0; k < systems.size(); ++k) {
    if (!changes_speed(systems[k], varied[k])) continue;
    again.push_back(varied[k]);
    again_planners.push_back(planners[k]);
    sizes.push_back(find_plan(nominal, systems[k].name));
  }
  // A varied system keeps its nominal instance sizes (layouts and batches are chosen again):
  // the sensitivity re-times the planned deployment, and one size instead of every size keeps
  // the report fast. A system infeasible at nominal is searched in full, its failing context
  // lengths first: the report shows only whether a varied plan is feasible and what it costs, so a
  // plan still failing one of them is not planned further (PurchaseVariant).
  const std::vector<SystemPlan> fresh =
      again.empty() ? std::vector<SystemPlan>{}
                    : plan_purchase(m, sc.demand, again, sc.prices, again_planners, 0, {}, sizes,
                                    /*stop_at_infeasible=*/true);
  std::vector<SystemPlan> out;
  for (std::size_t k = 0; k < systems.size(); ++k) {
    if (const SystemPlan* p = find_plan(fresh, varied[k].name)) {
      out.push_back(*p);
      continue;
    }
    SystemPlan p = *find_plan(nominal, systems[k].name);
    if (p.feasible) price_plan(p, varied[k], sc.demand, sc.prices);
    out.push_back(p);
  }
  rank_plans(out);
  return out;
}

}  // namespace

const SystemPlan* find_plan(const std::vector<SystemPlan>& plans, const std::string& system) {
  for (const SystemPlan& p : plans)
    if (p.system == system) return &p;
  return nullptr;
}

PurchaseStudy study_hardware_purchase(const Scenario& sc, const ProgressFn& progress) {
  if (sc.kv_format != "deploy")
    throw InputError(sc.file + ": field 'kv_format' = '" + sc.kv_format +
                     "': purchase plans (sim/plan.h) use the models' deployed KV format");
  PurchaseStudy pl;
  for (const std::string& name : sc.models) pl.models.push_back(prepare(load_model(name)));
  for (const std::string& name : sc.systems) pl.systems.push_back(load_system(name));
  const std::vector<SystemSpec>& systems = pl.systems;

  // One set of communication models per system (by node count), shared by every plan below: no
  // variant changes a topology or a link, and timing CloudMatrix384's or Atlas 950's collectives
  // over their graphs is a good share of a plan's time.
  std::vector<PlannerCache> caches(systems.size());
  std::vector<PlannerCache*> planners;
  for (PlannerCache& c : caches) planners.push_back(&c);
  // The nominal searches, re-ranked for the plans without the TTFT target (same systems, same
  // demand but for that target).
  std::vector<SearchMemo> memos(systems.size());
  std::vector<SearchMemo*> searches;
  for (SearchMemo& m : memos) searches.push_back(&m);

  pl.variants.resize(1);
  for (const Sensitivity& what : sc.sensitivities)
    for (RangeEnd b : {RangeEnd::low, RangeEnd::high}) pl.variants.push_back({&what, b, {}});
  std::size_t done = 0;
  const std::size_t total = (pl.variants.size() + (sc.slo_ttft_s ? 1 : 0)) * pl.models.size();
  auto step = [&] {
    if (progress) progress(++done, total);
  };
  for (const PreparedModel& m : pl.models) {
    pl.variants.front().plans.push_back(
        plan_purchase(m, sc.demand, systems, sc.prices, planners, 0, searches));
    step();
  }
  if (sc.slo_ttft_s) {
    Demand relaxed = sc.demand;
    relaxed.slo_ttft_s.reset();
    for (const PreparedModel& m : pl.models) {
      pl.relaxed.push_back(plan_purchase(m, relaxed, systems, sc.prices, planners, 0, searches));
      step();
    }
  }
  for (std::size_t v = 1; v < pl.variants.size(); ++v) {
    std::vector<SystemSpec> varied;
    for (const SystemSpec& s : systems)
      varied.push_back(vary_system(s, *pl.variants[v].what, pl.variants[v].bound));
    for (std::size_t i = 0; i < pl.models.size(); ++i) {
      pl.variants[v].plans.push_back(
          replan(pl.models[i], sc, systems, varied, pl.nominal().plans[i], planners));
      step();
    }
  }
  return pl;
}

SystemSpec vary_system(const SystemSpec& system, const Sensitivity& what, RangeEnd bound) {
  SystemSpec s = system;
  auto end = [&](const Range& r) { return bound == RangeEnd::high ? r.high : r.low; };
  switch (what.kind) {
    case SensitivityKind::system_prices: {
      Range& price = s.per_node.price_usd;
      const Range& chip = s.accelerator.purchase_price_usd;
      if (price.is_exact())
        price.nominal += static_cast<double>(s.devices_per_node) * (end(chip) - chip.nominal);
      else
        price.nominal = end(price);
      if (s.scale_out)
        s.scale_out->price_usd_per_device.nominal = end(s.scale_out->price_usd_per_device);
      break;
    }
    case SensitivityKind::accelerator_peaks:
      for (std::optional<Range>& peak : s.accelerator.peak_tflops)
        if (peak) peak->nominal = end(*peak);
      break;
    case SensitivityKind::efficiencies: {
      const double k = bound == RangeEnd::high ? 1.0 + what.relative : 1.0 - what.relative;
      double& compute = s.accelerator.compute_efficiency.max_fraction;
      compute = std::min(1.0, compute * k);
      s.accelerator.memory_efficiency = std::min(1.0, s.accelerator.memory_efficiency * k);
      break;
    }
  }
  return s;
}

}  // namespace v4sim
