// The API-pricing study: self-hosted cost per model, system and workload (sim/optimize.h), and
// the bills and dedicated deployments derived from it. reports/studies/api_pricing.cpp writes it.
#include "scenarios/api_pricing.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <utility>

#include "models/config/data_paths.h"
#include "models/config/input_error.h"
#include "models/model_loader.h"
#include "scenarios/format.h"
#include "sim/optimize.h"
#include "sim/token_costs.h"

namespace v4sim {
namespace {

namespace sf = scenario_format;

constexpr double kHoursPerMonth = 730.0;  // 8760 / 12

/// Communication planners by system and node count, built once.
class Planners {
 public:
  CommPlanner* get(const SystemSpec& s, int nodes) {
    auto& slot = planners_[{s.name, nodes}];
    if (!slot) slot = std::make_unique<CommPlanner>(s, nodes);
    return slot.get();
  }

 private:
  std::map<std::pair<std::string, int>, std::unique_ptr<CommPlanner>> planners_;
};

/// The context a request's answer is decoded at, on average: its prompt and half its answer.
std::int64_t decode_context(const ApiWorkload& w) {
  return std::max<std::int64_t>(1, w.input_tokens_per_request + w.output_tokens_per_request / 2);
}

double fastest_tpot(const OptimizeResult& o) {
  double t = std::numeric_limits<double>::infinity();
  for (const OptimizePoint& p : o.points) t = std::min(t, p.result.tpot_s);
  return t;
}

double fastest_ttft(const OptimizeResult& o) {
  double t = std::numeric_limits<double>::infinity();
  for (const OptimizePoint& p : o.points) t = std::min(t, p.result.ttft_s);
  return t;
}

/// The fewest nodes (the system's default, doubled up to 8 times, within its maximum) on which
/// some decode point meets the TPOT target; then the cheapest prefill point on those nodes.
SelfHostedCost self_hosted(const PreparedModel& m, const SystemSpec& s, const Scenario& sc,
                           const ApiWorkload& w, Planners& planners) {
  SelfHostedCost out;
  const std::int64_t request = w.input_tokens_per_request + w.output_tokens_per_request;
  if (request > m.spec.max_context_tokens) {
    out.reason = "a request of " + std::to_string(request) + " tokens exceeds the model's " +
                 std::to_string(m.spec.max_context_tokens) + "-token context";
    out.why = Infeasible::beyond_max_context;
    return out;
  }
  ServingConfig config;
  config.mtp_acceptance = sc.mtp_acceptance;
  config.kv_format = sc.kv_format;
  Workload decode;
  decode.context_tokens = decode_context(w);
  decode.slo_tpot_s = sc.slo_tpot_s;
  const int most = std::min(s.max_nodes, s.default_nodes * 8);
  out.reason = "the model does not fit on up to " + std::to_string(most) + " nodes";
  out.why = Infeasible::memory;
  for (int nodes = s.default_nodes; nodes <= most; nodes *= 2) {
    CommPlanner* planner = planners.get(s, nodes);
    const DeviceHour hour = device_hour(s, nodes, sc.prices);
    const OptimizeResult d = optimize(m, s, nodes, config, decode, hour, planner);
    if (!d.points.empty() && !d.cheapest) {
      out.reason = "TPOT target missed (fastest " + sf::num(fastest_tpot(d) * 1e3, "%.1f") +
                   " ms on " + std::to_string(nodes) + " nodes)";
      out.why = Infeasible::tpot_slo;
    }
    if (!d.cheapest) continue;
    const OptimizePoint& dp = d.points[*d.cheapest];
    out.nodes = nodes;
    out.devices = dp.result.devices;
    out.usd_per_device_hour = hour.usd_per_hour;
    out.decode_layout = to_string(dp.result.layout);
    out.decode_batch = dp.result.batch;
    out.tpot_s = dp.result.tpot_s;
    out.output_usd_per_m = dp.usd_per_million_tokens;
    out.feasible = true;
    out.reason.clear();
    out.why = Infeasible::none;
    if (w.input_tokens_per_request > 0) {
      Workload prefill;
      prefill.phase = Phase::prefill;
      prefill.context_tokens = w.input_tokens_per_request;
      prefill.slo_ttft_s = sc.slo_ttft_s;
      ServingConfig miss = config;
      miss.cache_hit_rate = 0;
      const OptimizeResult f = optimize(m, s, nodes, miss, prefill, hour, planner);
      if (!f.cheapest) {
        out.feasible = false;
        out.reason = f.points.empty() ? "no prefill layout fits"
                                      : "TTFT target missed (fastest " +
                                            sf::num(fastest_ttft(f), "%.1f") + " s)";
        out.why = f.points.empty() ? Infeasible::memory : Infeasible::ttft_slo;
        return out;
      }
      const OptimizePoint& fp = f.points[*f.cheapest];
      out.prefill_layout = to_string(fp.result.layout);
      out.ttft_s = fp.result.ttft_s;
      out.input_usd_per_m = fp.usd_per_million_tokens;
      ServingConfig at = config;
      at.layout = dp.result.layout;
      out.cached_input_usd_per_m =
          token_costs(m, s, nodes, at, w.input_tokens_per_request, dp.result, hour, 1, planner)
              .cached_input_usd_per_m;
    }
    return out;
  }
  return out;
}

}  // namespace

std::size_t ApiPricingStudy::model_index(const std::string& name) const {
  for (std::size_t i = 0; i < models.size(); ++i)
    if (models[i].spec.name == name) return i;
  throw InputError("self-hosted model '" + name + "' is not among the scenario's models");
}

int ApiPricingStudy::cheapest_system(std::size_t i, const ApiWorkload& w, std::size_t wi) const {
  int best = -1;
  double lowest = std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; k < systems.size(); ++k) {
    const SelfHostedCost& c = cost[i][k][wi];
    if (!c.feasible) continue;
    const double m = monthly_self_hosted(c, w);
    if (m < lowest) {
      lowest = m;
      best = static_cast<int>(k);
    }
  }
  return best;
}

Dedicated dedicated(const ApiPricingStudy& c, std::size_t i, const ApiWorkload& w, std::size_t wi) {
  Dedicated best;
  best.monthly_usd = std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; k < c.systems.size(); ++k) {
    const SelfHostedCost& x = c.cost[i][k][wi];
    if (!x.feasible) continue;
    const double unit_hours = static_cast<double>(x.devices) * kHoursPerMonth;
    const double busy_hours = monthly_self_hosted(x, w) / x.usd_per_device_hour;
    const auto units =
        std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(busy_hours / unit_hours)));
    const double cost = static_cast<double>(units) * unit_hours * x.usd_per_device_hour;
    if (cost < best.monthly_usd) {
      best.system = static_cast<int>(k);
      best.units = units;
      best.devices = units * x.devices;
      best.monthly_usd = cost;
      best.utilization = busy_hours / (static_cast<double>(units) * unit_hours);
    }
  }
  return best;
}

ApiPricingStudy study_api_pricing(const Scenario& sc, const ProgressFn& progress) {
  ApiPricingStudy c;
  for (const std::string& name : sc.models) c.models.push_back(prepare(load_model(name)));
  for (const std::string& name : sc.systems) c.systems.push_back(load_system(name));
  Planners planners;
  std::size_t done = 0;
  const std::size_t total = c.models.size() * c.systems.size() * sc.workloads.size();
  c.cost.resize(c.models.size());
  for (std::size_t i = 0; i < c.models.size(); ++i) {
    c.cost[i].resize(c.systems.size());
    for (std::size_t k = 0; k < c.systems.size(); ++k) {
      for (const ApiWorkload& w : sc.workloads) {
        c.cost[i][k].push_back(self_hosted(c.models[i], c.systems[k], sc, w, planners));
        if (progress) progress(++done, total);
      }
    }
  }
  return c;
}

double monthly_bill(const ApiPrice& p, const ApiWorkload& w) {
  const double in = static_cast<double>(w.input_tokens_per_request);
  const double out = static_cast<double>(w.output_tokens_per_request);
  const double per_request =
      in * (w.cache_hit_rate * p.input_cache_hit + (1.0 - w.cache_hit_rate) * p.input_cache_miss) +
      out * p.output;
  return w.requests_per_month * per_request / 1e6;
}

double monthly_self_hosted(const SelfHostedCost& c, const ApiWorkload& w) {
  const double in = static_cast<double>(w.input_tokens_per_request);
  const double out = static_cast<double>(w.output_tokens_per_request);
  const double per_request = in * (w.cache_hit_rate * c.cached_input_usd_per_m +
                                   (1.0 - w.cache_hit_rate) * c.input_usd_per_m) +
                             out * c.output_usd_per_m;
  return w.requests_per_month * per_request / 1e6;
}

}  // namespace v4sim
