// The serving-simulation study: each model on each system at the base rate and across the sweep
// (sim/simulate.h). reports/studies/serving_simulation.cpp writes it.
#include "scenarios/serving_simulation.h"

#include <algorithm>
#include <cmath>

#include "models/config/input_error.h"
#include "models/model_loader.h"
#include "sim/communication.h"
#include "sim/layout.h"
#include "sim/serving.h"
#include "sim/trace.h"

namespace v4sim {
namespace {

/// Timeline samples of the base run: enough for a smooth chart, few enough for a small table.
constexpr double kTimelineSamples = 200;

/// The requests of one model: the trace rows at their own times (scaled later), or nothing for
/// synthetic arrivals (drawn per run, so memory stays with the requests in flight).
std::vector<Request> trace_requests(const ServingSimulationSpec& spec, const ModelSpec& m) {
  if (spec.trace.empty()) return {};
  std::vector<Request> rows = read_trace(spec.trace, m.max_context_tokens);
  if (spec.requests > 0 && static_cast<std::size_t>(spec.requests) < rows.size())
    rows.resize(static_cast<std::size_t>(spec.requests));
  return rows;
}

/// Mean arrival rate of a trace: requests - 1 over the first-to-last span.
double own_rate(const std::vector<Request>& rows) {
  if (rows.size() < 2) return 0;
  const double span = rows.back().arrival_s - rows.front().arrival_s;
  return span > 0 ? static_cast<double>(rows.size() - 1) / span : 0;
}

struct RunInputs {
  const PreparedModel* model;
  const SystemSpec* system;
  int nodes;
  ServingConfig config;
  SimulationConfig sim;
  const ServingSimulationSpec* spec;
  const std::vector<Request>* trace;  // empty: synthetic
  double trace_rate_per_s;
};

SimulationResult run_at(const RunInputs& in, double rate_per_s, double timeline_interval_s,
                        CommPlanner& planner) {
  SimulationConfig sim = in.sim;
  sim.timeline_interval_s = timeline_interval_s;
  if (!in.trace->empty()) {
    // Replaying the trace faster or slower: every gap scaled by the same factor.
    const double scale = rate_per_s / in.trace_rate_per_s;
    const double t0 = in.trace->front().arrival_s;
    std::size_t next = 0;
    return simulate(
        *in.model, *in.system, in.nodes, in.config, sim,
        [&](Request& out) {
          if (next >= in.trace->size()) return false;
          out = (*in.trace)[next++];
          out.arrival_s = (out.arrival_s - t0) / scale;
          return true;
        },
        planner);
  }
  SyntheticArrivals a;
  a.rate_per_s = rate_per_s;
  a.requests = in.spec->requests;
  a.burstiness_cv = in.spec->burstiness_cv;
  a.input = {in.spec->input_min_tokens, in.spec->input_max_tokens};
  a.output = {in.spec->output_min_tokens, in.spec->output_max_tokens};
  a.seed = in.spec->seed;
  SyntheticSource source(a, in.model->spec.max_context_tokens);
  return simulate(
      *in.model, *in.system, in.nodes, in.config, sim,
      [&](Request& out) { return source.next(out); }, planner);
}

SweepPoint reduce(double rate_per_s, const SimulationResult& r) {
  SweepPoint p;
  p.rate_per_s = rate_per_s;
  p.slo_attainment = r.slo_attainment;
  p.ttft_s = r.ttft_s;
  p.tpot_s = r.tpot_s;
  p.goodput_requests_per_s = r.goodput_requests_per_s;
  p.completed = r.completed;
  p.rejected = r.rejected;
  p.preemptions = r.preemptions;
  p.mean_running = r.mean_running;
  return p;
}

/// The longest request the run can see: a deployment that cannot hold one of them alone is
/// infeasible before any simulation.
std::int64_t longest_request(const ServingSimulationSpec& spec, const std::vector<Request>& rows) {
  if (spec.trace.empty()) return spec.input_max_tokens + spec.output_max_tokens;
  std::int64_t most = 1;
  for (const Request& q : rows) most = std::max(most, q.input_tokens + q.output_tokens);
  return most;
}

ServingRun run_one(const Scenario& sc, const PreparedModel& m, const SystemSpec& s,
                   const std::vector<Request>& rows, double trace_rate) {
  const ServingSimulationSpec& spec = sc.simulation;
  ServingRun out;
  out.nodes = s.default_nodes;
  out.devices = static_cast<std::int64_t>(s.default_nodes) * s.devices_per_node;
  RunInputs in{&m, &s, out.nodes, {}, {}, &spec, &rows, trace_rate};
  in.config.layout = dp_attention_layout(out.devices, m.spec.moe.num_routed_experts);
  in.config.mtp_acceptance = sc.mtp_acceptance;
  in.config.kv_format = sc.kv_format;
  out.layout = to_string(in.config.layout);
  in.sim.max_batch = spec.max_batch;
  in.sim.prefix_cache = spec.prefix_cache;
  in.sim.slo_ttft_s = sc.slo_ttft_s;
  in.sim.slo_tpot_s = sc.slo_tpot_s;

  CommPlanner planner(s, out.nodes);
  const std::int64_t longest = longest_request(spec, rows);
  if (longest > m.spec.max_context_tokens) {
    out.reason = "a request of " + std::to_string(longest) + " tokens exceeds the model's " +
                 std::to_string(m.spec.max_context_tokens) + "-token context";
    out.why = Infeasible::beyond_max_context;
    return out;
  }
  Workload one;
  one.context_tokens = longest;
  one.batch = 1;
  const ServingResult fit = predict(m, s, out.nodes, in.config, one, &planner);
  if (!fit.feasible) {
    out.reason = fit.reason;
    out.why = fit.why;
    return out;
  }
  const double expected_span_s =
      static_cast<double>(spec.trace.empty() ? spec.requests
                                             : static_cast<std::int64_t>(rows.size())) /
      spec.rate_per_s;
  try {
    SimulationResult base =
        run_at(in, spec.rate_per_s, std::max(expected_span_s / kTimelineSamples, 1e-3), planner);
    std::vector<double> ttft, tpot;
    for (const RequestRecord& q : base.requests) {
      if (q.rejected) continue;
      ttft.push_back(q.ttft_s());
      if (q.output_tokens > 1) tpot.push_back(q.tpot_s());
    }
    out.ttft_quantiles_s = cdf_quantiles(std::move(ttft));
    out.tpot_quantiles_s = cdf_quantiles(std::move(tpot));
    base.requests = {};
    base.requests.shrink_to_fit();
    out.base = std::move(base);
    bool served = true;
    for (const double rate : spec.sweep_rates_per_s) {
      // One timeline sample per run: the sweep reports percentiles, not occupancy.
      const SimulationResult r = run_at(in, rate, 1e9, planner);
      out.sweep.push_back(reduce(rate, r));
      served = served && r.slo_attainment >= spec.attainment_target;
      if (served) out.highest_served_rate_per_s = rate;
    }
  } catch (const InputError& e) {
    // The memory model leaves no KV pool (weights plus a full step's activations), or the step
    // model refuses the deployment: no run, with the simulator's words.
    out = ServingRun{};
    out.nodes = s.default_nodes;
    out.devices = static_cast<std::int64_t>(s.default_nodes) * s.devices_per_node;
    out.layout = to_string(in.config.layout);
    out.reason = e.what();
    out.why = Infeasible::memory;
    return out;
  }
  out.feasible = true;
  return out;
}

}  // namespace

std::vector<double> cdf_quantiles(std::vector<double> values) {
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  std::vector<double> out;
  out.reserve(kCdfPoints);
  out.push_back(values.front());
  for (int i = 1; i < kCdfPoints; ++i)
    out.push_back(quantile_sorted(values, static_cast<double>(i) / (kCdfPoints - 1)));
  return out;
}

ServingSimulationStudy study_serving_simulation(const Scenario& sc, const ProgressFn& progress) {
  ServingSimulationStudy st;
  for (const std::string& n : sc.models) st.models.push_back(prepare(load_model(n)));
  for (const std::string& n : sc.systems) st.systems.push_back(load_system(n));
  const std::size_t total = st.models.size() * st.systems.size();
  std::size_t done = 0;
  for (const PreparedModel& m : st.models) {
    const std::vector<Request> rows = trace_requests(sc.simulation, m.spec);
    if (!sc.simulation.trace.empty()) {
      st.trace_requests = static_cast<std::int64_t>(rows.size());
      st.trace_rate_per_s = own_rate(rows);
      if (!(st.trace_rate_per_s > 0))
        throw InputError(sc.simulation.trace +
                         ": a trace needs at least two arrivals at different times to be "
                         "replayed at a rate");
    }
    std::vector<ServingRun>& row = st.runs.emplace_back();
    for (const SystemSpec& s : st.systems) {
      row.push_back(run_one(sc, m, s, rows, st.trace_rate_per_s));
      if (progress) progress(++done, total);
    }
  }
  return st;
}

}  // namespace v4sim
