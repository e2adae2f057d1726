#include "reports/cli/deployment_validation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <ostream>

#include "models/config/input_error.h"
#include "reports/cli/serving_options.h"
#include "reports/table.h"
#include "sim/aggregated.h"
#include "sim/serving.h"

namespace v4sim::cli {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

/// The `predict` options that run `row` in `phase` at `context` tokens and batch `batch`.
ServingOptions options_for(const Deployment& row, Phase phase, std::int64_t context,
                           std::int64_t batch) {
  ServingOptions o;
  o.model = row.model;
  o.system = row.system;
  o.devices = row.devices;
  o.layout = "tp=" + std::to_string(row.layout.tp) + ",dp=" + std::to_string(row.layout.dp) +
             ",ep=" + std::to_string(row.layout.ep) + ",pp=" + std::to_string(row.layout.pp);
  o.phase = phase == Phase::prefill ? "prefill" : "decode";
  o.context = std::to_string(context);
  o.batch = batch;
  if (row.weights) o.weights = to_string(*row.weights);
  o.kv_format = row.kv_format;
  o.mtp_acceptance = row.mtp_tokens > 0 ? row.mtp_acceptance : 0.0;
  o.mtp_tokens = std::max<std::int64_t>(1, row.mtp_tokens);
  o.redundant_experts = row.redundant_experts.value_or(0);
  if (row.expert_imbalance) o.imbalance = *row.expert_imbalance;
  o.no_overlap = !row.overlap;
  o.moe_exchange = std::string(to_string(row.moe_exchange));
  return o;
}

ServingResult run(const Deployment& row, Phase phase, std::int64_t context, std::int64_t batch) {
  const ServingRequest req = resolve(options_for(row, phase, context, batch));
  return predict(req.model, req.system, req.nodes, req.config, req.workload);
}

/// `t` scaled so that its parts add up to `time_s`.
TimeSources scaled_to(const TimeSources& t, double time_s) {
  const double total = t.total_s();
  if (!(total > 0)) return {};
  const double k = time_s / total;
  return {t.measured_s * k, t.transferred_s * k, t.roofline_s * k};
}

void not_evaluated(DeploymentPrediction& p, Infeasible why, const std::string& reason) {
  p.evaluated = false;
  p.why = why;
  p.reason = reason;
  p.error = kInf;
}

DeploymentPrediction evaluate(const Deployment& row) {
  DeploymentPrediction p;
  p.row = row;
  if (row.phase == DeploymentPhase::prefill) {
    p.context_tokens = row.context_tokens;
    const ServingResult r = run(row, Phase::prefill, row.context_tokens, row.batch);
    if (!r.feasible) {
      not_evaluated(p, r.why, r.reason);
      return p;
    }
    p.prefill_s = r.step_s;
    p.sources = r.time_sources;
    p.predicted = r.throughput_tokens_per_s_per_device;
  } else if (row.phase == DeploymentPhase::decode) {
    p.context_tokens = row.context_tokens;
    const ServingResult r = run(row, Phase::decode, row.context_tokens, row.batch);
    if (!r.feasible) {
      not_evaluated(p, r.why, r.reason);
      return p;
    }
    p.step_s = r.step_s;
    p.tpot_s = r.tpot_s;
    p.sources = r.time_sources;
    p.predicted =
        row.metric == DeploymentMetric::tpot_s ? r.tpot_s : r.throughput_tokens_per_s_per_device;
  } else {
    // Aggregated: O decode steps at the mean context I + O/2 plus B prefills of one I-token
    // prompt on the same ranks (formula in deployment_validation.h).
    const std::int64_t in = row.input_tokens, out = row.output_tokens;
    p.context_tokens = in + out / 2;
    const ServingResult d = run(row, Phase::decode, p.context_tokens, row.batch);
    if (!d.feasible) {
      not_evaluated(p, d.why, "decode: " + d.reason);
      return p;
    }
    const ServingResult f = run(row, Phase::prefill, in, 1);
    if (!f.feasible) {
      not_evaluated(p, f.why, "prefill: " + f.reason);
      return p;
    }
    p.step_s = d.step_s;
    p.tpot_s = d.tpot_s;
    p.prefill_s = f.ttft_s;
    AggregatedInputs a;
    a.step_s = d.step_s;
    a.tokens_per_step = d.tokens_per_step;
    a.prefill_s = f.ttft_s;
    a.rank_local_prefill_s = f.ttft_s * rank_local_share(f);
    a.batch = static_cast<double>(row.batch);
    a.output_tokens = static_cast<double>(out);
    a.synchronised_groups = synchronised_dp_groups(d.layout);
    const AggregatedTime t = aggregated_time(a);
    p.skew_s = t.skew_s;
    const TimeSources decode = scaled_to(d.time_sources, t.decode_s);
    const TimeSources prompts = scaled_to(f.time_sources, t.prefill_s + t.skew_s);  // skew: prefill
    p.sources = {decode.measured_s + prompts.measured_s,
                 decode.transferred_s + prompts.transferred_s,
                 decode.roofline_s + prompts.roofline_s};
    p.predicted = static_cast<double>(d.sequences) / static_cast<double>(d.devices) *
                  static_cast<double>(out) / t.total_s;
  }
  p.evaluated = true;
  p.error = p.predicted / row.measured - 1.0;
  return p;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string abs_percent(double error) {
  if (!std::isfinite(error)) return "inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", std::fabs(error) * 100);
  return buf;
}

std::string percent(double error) {
  if (!std::isfinite(error)) return "inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f%%", error * 100);
  return buf;
}

/// A figure in the unit of its metric: token rates with no decimals, TPOT in milliseconds.
std::string in_unit(DeploymentMetric m, double v) {
  return m == DeploymentMetric::tpot_s ? fixed(v * 1e3, 2) + " ms" : fixed(v, 0);
}

std::string unit_name(DeploymentMetric m) {
  switch (m) {
    case DeploymentMetric::output_tokens_per_s_per_device:
      return "out tok/s/GPU";
    case DeploymentMetric::input_tokens_per_s_per_device:
      return "in tok/s/GPU";
    case DeploymentMetric::tpot_s:
      return "TPOT";
  }
  return "";
}

std::string context_text(const Deployment& r) {
  if (r.phase == DeploymentPhase::aggregated)
    return std::to_string(r.input_tokens) + "+" + std::to_string(r.output_tokens);
  return std::to_string(r.context_tokens);
}

/// "62/35/3": percent of the priced time from measured tables, transfers and the roofline.
std::string source_shares(const TimeSources& t) {
  const double total = t.total_s();
  if (!(total > 0)) return "-";
  const auto pct = [&](double v) { return fixed(100 * v / total, 0); };
  return pct(t.measured_s) + "/" + pct(t.transferred_s) + "/" + pct(t.roofline_s);
}

nlohmann::ordered_json number_or_null(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}

}  // namespace

DeploymentValidation validate_deployments(const DeploymentSet& set) {
  DeploymentValidation v;
  v.file = set.file;
  for (const Deployment& row : set.rows) {
    try {
      v.rows.push_back(evaluate(row));
    } catch (const InputError& e) {
      throw InputError(row.where + ": deployment '" + row.id + "': " + e.what());
    }
  }
  std::vector<double> abs;
  for (const DeploymentPrediction& p : v.rows) {
    const double a = std::fabs(p.error);
    abs.push_back(a);
    if (v.worst_id.empty() || a > v.worst_abs_error) {
      v.worst_abs_error = a;
      v.worst_id = p.row.id;
    }
  }
  if (!abs.empty()) {
    std::sort(abs.begin(), abs.end());
    const std::size_t n = abs.size();
    v.median_abs_error = n % 2 ? abs[n / 2] : (abs[n / 2 - 1] + abs[n / 2]) / 2;
  }
  return v;
}

nlohmann::ordered_json deployment_validation_json(const DeploymentValidation& v) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const DeploymentPrediction& p : v.rows) {
    const Deployment& r = p.row;
    nlohmann::ordered_json j = {{"id", r.id},
                                {"model", r.model},
                                {"system", r.system},
                                {"devices", r.devices},
                                {"phase", to_string(r.phase)},
                                {"layout", to_string(r.layout)},
                                {"batch", r.batch},
                                {"context_tokens", r.context_tokens},
                                {"input_tokens", r.input_tokens},
                                {"output_tokens", r.output_tokens},
                                {"metric", to_string(r.metric)},
                                {"evaluated", p.evaluated},
                                {"reason", p.reason},
                                {"predicted", p.evaluated ? nlohmann::ordered_json(p.predicted)
                                                          : nlohmann::ordered_json(nullptr)},
                                {"measured", r.measured},
                                {"error", number_or_null(p.error)},
                                {"priced_context_tokens", p.context_tokens},
                                {"step_s", p.step_s},
                                {"tpot_s", p.tpot_s},
                                {"prefill_s", p.prefill_s},
                                {"skew_s", p.skew_s},
                                {"time_sources", time_sources_json(p.sources)},
                                {"conditions", r.conditions},
                                {"source", r.source},
                                {"estimate", r.estimate}};
    rows.push_back(std::move(j));
  }
  return {{"file", v.file},
          {"aggregated_rule",
           "per dp group: B requests of I input and O output tokens take O decode steps at batch B "
           "at context I + O/2 plus B prefills of one I-token prompt on the same ranks, plus the "
           "stall when G dp groups sharing the MoE layers admit prompts independently (sim/"
           "aggregated.h): skew_s = O * (q - p) * rank-local prefill, p = min(1, B / O), "
           "q = 1 - (1 - p)^G; output tokens/s per device = (sequences / devices) * O / "
           "(O * TPOT + B * prefill_s + skew_s)"},
          {"rows", rows},
          {"median_abs_error", number_or_null(v.median_abs_error)},
          {"worst_abs_error", number_or_null(v.worst_abs_error)},
          {"worst_id", v.worst_id},
          {"not_evaluated", static_cast<std::int64_t>(std::count_if(
                                v.rows.begin(), v.rows.end(),
                                [](const DeploymentPrediction& p) { return !p.evaluated; }))}};
}

void print_deployment_validation(std::ostream& out, const DeploymentValidation& v) {
  Table t{{"id", "model", "system", "devices", "phase", "batch", "context", "metric", "predicted",
           "measured", "error", "m/t/r %"},
          {},
          {false, false, false, true, false, true, true, false, true, true, true, true}};
  for (const DeploymentPrediction& p : v.rows) {
    const Deployment& r = p.row;
    t.rows.push_back({r.id, r.model, r.system, std::to_string(r.devices), to_string(r.phase),
                      std::to_string(r.batch), context_text(r), unit_name(r.metric),
                      p.evaluated ? in_unit(r.metric, p.predicted) : "-",
                      in_unit(r.metric, r.measured), percent(p.error),
                      p.evaluated ? source_shares(p.sources) : "-"});
  }
  out << "Predicted vs measured deployments (" << v.file << ")\n\n";
  write_text(out, t);
  out << "\nmedian |error| " << abs_percent(v.median_abs_error) << ", worst |error| "
      << abs_percent(v.worst_abs_error) << " (" << v.worst_id << "), over " << v.rows.size()
      << " rows\n";
  for (const DeploymentPrediction& p : v.rows)
    if (!p.evaluated) out << "not evaluated: " << p.row.id << ": " << p.reason << '\n';
  out << "\nerror = predicted / measured - 1; batch per dp rank; context: KV length (decode), "
         "prompt (prefill), input+output (aggregated); m/t/r %: shares of the priced op and "
         "communication time from the device's measured tables, tables transferred from a "
         "sibling device, and the roofline (aggregated rows: decode and prompts weighed by their "
         "time).\n"
         "Aggregated rows: per dp group, B requests of I input and O output tokens take O decode "
         "steps at batch B at context I + O/2 plus B prefills of one I-token prompt on the same "
         "ranks, plus the stall when the G dp groups sharing the MoE layers admit prompts "
         "independently: skew = O*(q - p)*(prefill less its routed experts), p = min(1, B/O), "
         "q = 1 - (1 - p)^G (sim/aggregated.h); output tokens/s per GPU = "
         "B*O / (O*TPOT + B*prefill + skew) (tp = pp = 1).\n"
         "\nConditions:\n";
  for (const DeploymentPrediction& p : v.rows)
    out << "  " << p.row.id << ": " << p.row.conditions << '\n';
}

}  // namespace v4sim::cli
