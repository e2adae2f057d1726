#include "sim/plan.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "models/config/input_error.h"
#include "sim/optimize.h"

namespace v4sim {
namespace {

void validate(const Demand& d) {
  auto bad = [&](const std::string& what) { throw InputError("demand '" + d.name + "': " + what); };
  if (!(d.input_tokens_per_day >= 0) || !(d.output_tokens_per_day >= 0) ||
      d.input_tokens_per_day + d.output_tokens_per_day <= 0)
    bad("tokens per day must be non-negative and not both zero");
  if (!(d.cache_hit_rate >= 0 && d.cache_hit_rate < 1)) bad("cache_hit_rate must be in [0, 1)");
  if (!(d.peak_to_average >= 1)) bad("peak_to_average must be at least 1");
  if (d.contexts.empty()) bad("the context mix is empty");
  double total = 0;
  for (const ContextShare& c : d.contexts) {
    if (c.context_tokens < 1) bad("a context of " + std::to_string(c.context_tokens) + " tokens");
    if (!(c.share > 0)) bad("context shares must be positive");
    total += c.share;
  }
  if (std::fabs(total - 1.0) > 1e-6)
    bad("context shares add up to " + std::to_string(total) + ", not 1");
}

/// The cheapest point of a search meeting the SLOs, or nullptr.
const OptimizePoint* cheapest(const OptimizeResult& o) {
  return o.cheapest ? &o.points[*o.cheapest] : nullptr;
}

}  // namespace

void price_plan(SystemPlan& p, const SystemSpec& system, const Demand& demand,
                const PriceAssumptions& prices) {
  constexpr double kHoursPerYear = 8760.0;
  const SystemTotals totals = system_totals(system, system.default_nodes);
  p.peak_devices = p.average_devices * demand.peak_to_average;
  p.units = std::max<std::int64_t>(
      1,
      static_cast<std::int64_t>(std::ceil(p.peak_devices / static_cast<double>(totals.devices))));
  p.devices = p.units * totals.devices;
  p.capex_usd = static_cast<double>(p.units) * totals.price_usd.nominal;
  p.power_w = static_cast<double>(p.units) * totals.power_w.nominal;
  p.floor_m2 = static_cast<double>(p.units) * totals.floor_m2.nominal;
  const double kw = p.power_w / 1000.0;
  p.annual_opex_usd = kw * prices.pue * prices.usd_per_kwh * kHoursPerYear +
                      kw * prices.hosting_usd_per_kw_month * 12.0;
  p.annual_cost_usd = p.capex_usd / prices.amortization_years + p.annual_opex_usd;
  const double tokens_per_year =
      (demand.input_tokens_per_day + demand.output_tokens_per_day) * 365.0;
  p.usd_per_million_tokens = p.annual_cost_usd / tokens_per_year * 1e6;
  p.utilization = p.average_devices / static_cast<double>(p.devices);
}

std::vector<SystemPlan> plan_purchase(const PreparedModel& model, const Demand& demand,
                                      const std::vector<SystemSpec>& candidates,
                                      const PriceAssumptions& prices) {
  return plan_purchase(model, demand, candidates, prices, {});
}

std::vector<SystemPlan> plan_purchase(const PreparedModel& model, const Demand& demand,
                                      const std::vector<SystemSpec>& candidates,
                                      const PriceAssumptions& prices,
                                      std::span<CommPlanner* const> planners) {
  validate(demand);
  if (!planners.empty() && planners.size() != candidates.size())
    throw InputError("plan_purchase: " + std::to_string(planners.size()) + " planners for " +
                     std::to_string(candidates.size()) + " candidates");
  std::vector<SystemPlan> plans;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const SystemSpec& system = candidates[i];
    SystemPlan p;
    p.system = system.name;
    p.display_name = system.display_name;
    const int nodes = system.default_nodes;
    const DeviceHour hour = device_hour(system, nodes, prices);
    std::unique_ptr<CommPlanner> own;
    CommPlanner* planner = planners.empty() ? nullptr : planners[i];
    if (!planner) {
      own = std::make_unique<CommPlanner>(system, nodes);
      planner = own.get();
    }
    double device_s_per_day = 0;
    p.feasible = true;
    for (const ContextShare& c : demand.contexts) {
      BucketPlan b;
      b.context_tokens = c.context_tokens;
      b.share = c.share;
      if (c.context_tokens > model.spec.max_context_tokens) {
        b.reason = "context beyond the model's " + std::to_string(model.spec.max_context_tokens);
        b.why = Infeasible::beyond_max_context;
        p.feasible = false;
        p.reason = b.reason;
        p.why = b.why;
        p.buckets.push_back(b);
        continue;
      }
      ServingConfig config;
      config.mtp_acceptance = demand.mtp_acceptance;
      config.cache_hit_rate = demand.cache_hit_rate;
      Workload decode;
      decode.context_tokens = c.context_tokens;
      decode.slo_tpot_s = demand.slo_tpot_s;
      const OptimizeResult decode_search =
          optimize(model, system, nodes, config, decode, hour, planner);
      const OptimizePoint* d = cheapest(decode_search);
      Workload prefill;
      prefill.phase = Phase::prefill;
      prefill.context_tokens = c.context_tokens;
      prefill.slo_ttft_s = demand.slo_ttft_s;
      const OptimizeResult prefill_search =
          optimize(model, system, nodes, config, prefill, hour, planner);
      const OptimizePoint* f = cheapest(prefill_search);
      if (!d || !f) {
        b.reason = !d ? "no layout meets the TPOT target at this context"
                      : "no layout meets the TTFT target at this context";
        b.why = !d ? Infeasible::tpot_slo : Infeasible::ttft_slo;
        p.feasible = false;
        p.reason = std::to_string(c.context_tokens) + " tokens: " + b.reason;
        p.why = b.why;
        p.buckets.push_back(b);
        continue;
      }
      b.feasible = true;
      b.decode_layout = to_string(d->result.layout);
      b.decode_batch = d->result.batch;
      b.decode_tokens_per_s_per_device = d->result.throughput_tokens_per_s_per_device;
      b.tpot_s = d->result.tpot_s;
      b.prefill_layout = to_string(f->result.layout);
      // Prefill throughput counts only the tokens it computes; cached tokens ride along for free.
      b.prefill_tokens_per_s_per_device =
          f->result.throughput_tokens_per_s_per_device / (1.0 - demand.cache_hit_rate);
      b.ttft_s = f->result.ttft_s;
      device_s_per_day +=
          c.share * (demand.output_tokens_per_day / b.decode_tokens_per_s_per_device +
                     demand.input_tokens_per_day / b.prefill_tokens_per_s_per_device);
      p.buckets.push_back(b);
    }
    if (p.feasible) {
      constexpr double kSecondsPerDay = 86400.0;
      p.average_devices = device_s_per_day / kSecondsPerDay;
      price_plan(p, system, demand, prices);
    }
    plans.push_back(std::move(p));
  }
  std::stable_sort(plans.begin(), plans.end(), [](const SystemPlan& a, const SystemPlan& b) {
    if (a.feasible != b.feasible) return a.feasible;
    return a.annual_cost_usd < b.annual_cost_usd;
  });
  return plans;
}

}  // namespace v4sim
