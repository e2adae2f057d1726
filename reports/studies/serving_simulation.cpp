// The serving-simulation report: the study of scenarios/serving_simulation.h as prose, tables and
// charts.
#include "reports/studies/serving_simulation.h"

#include <algorithm>
#include <string>
#include <vector>

#include "models/config/data_paths.h"
#include "reports/studies/common.h"
#include "scenarios/format.h"
#include "scenarios/serving_simulation.h"

namespace v4sim {
namespace {

using study_report::table_block;

namespace sf = scenario_format;

std::string ms(double s) {
  return sf::num(s * 1e3, "%.1f");
}

std::string slo_text(const Scenario& sc) {
  std::string out;
  if (sc.slo_ttft_s) out = "TTFT <= " + sf::num(*sc.slo_ttft_s * 1e3) + " ms";
  if (sc.slo_tpot_s) {
    if (!out.empty()) out += " and ";
    out += "TPOT <= " + sf::num(*sc.slo_tpot_s * 1e3) + " ms";
  }
  return out;
}

std::string arrivals_text(const Scenario& sc, const ServingSimulationStudy& st) {
  const ServingSimulationSpec& a = sc.simulation;
  auto range = [](std::int64_t lo, std::int64_t hi) {
    return lo == hi ? std::to_string(lo)
                    : "uniform " + std::to_string(lo) + "-" + std::to_string(hi);
  };
  if (!a.trace.empty())
    return std::to_string(st.trace_requests) + " requests of the trace " +
           data::display_path(a.trace) + " (its own mean rate " +
           sf::num(st.trace_rate_per_s, "%.3g") + " req/s), replayed at " +
           sf::num(a.rate_per_s, "%.4g") + " req/s";
  return std::to_string(a.requests) + " requests, " +
         (a.burstiness_cv == 1.0 ? std::string("Poisson")
                                 : "bursty (inter-arrival cv " + sf::num(a.burstiness_cv) + ")") +
         " arrivals at " + sf::num(a.rate_per_s, "%.4g") + " req/s, prompts " +
         range(a.input_min_tokens, a.input_max_tokens) + " tokens, answers " +
         range(a.output_min_tokens, a.output_max_tokens) + " tokens, seed " +
         std::to_string(a.seed);
}

/// One chart per model with a line per feasible system; nothing when no system can run it.
struct PerModelChart {
  report::Chart chart;
  bool any = false;
  void add(const std::string& name, std::vector<double> x, std::vector<double> y) {
    if (x.empty()) return;
    chart.series.push_back({name, std::move(x), std::move(y)});
    any = true;
  }
};

report::Chart blank(const std::string& name, const std::string& title, report::Axis x,
                    report::Axis y) {
  report::Chart c;
  c.name = name;
  c.title = title;
  c.x = std::move(x);
  c.y = std::move(y);
  return c;
}

report::Section latency_section(const Scenario& sc, const ServingSimulationStudy& st) {
  report::Section sec;
  sec.heading = "Latency at " + sf::num(sc.simulation.rate_per_s, "%.4g") + " requests per second";
  sec.paragraphs.push_back(
      "Each model on each system, one deployment per system (its default size, DP attention "
      "with experts spread over every rank, prefill and decode on the same ranks), serving " +
      arrivals_text(sc, st) +
      ". Requests queue, are admitted while their KV fits, batched continuously with prompts "
      "chunked under a token budget, and priced step by step with the step model of `v4sim "
      "predict` (sim/simulate.h states every part of the model). SLO attainment is the share of "
      "all requests completed within " +
      slo_text(sc) + ".");
  report::TableBlock t =
      table_block("latency", "Latency percentiles and SLO attainment at the base rate",
                  {{"model", "", false},
                   {"system", "", false},
                   {"devices", ""},
                   {"layout", "", false},
                   {"completed", ""},
                   {"rejected", ""},
                   {"ttft_p50", "ms"},
                   {"ttft_p99", "ms"},
                   {"tpot_p50", "ms"},
                   {"tpot_p99", "ms"},
                   {"e2e_p99", "s"},
                   {"queue_p99", "ms"},
                   {"slo_attainment", ""},
                   {"goodput", "req/s"},
                   {"output_per_device", "tokens/s"},
                   {"note", "", false}});
  for (std::size_t i = 0; i < st.models.size(); ++i) {
    const std::string& model = st.models[i].spec.name;
    PerModelChart ttft{blank("ttft-cdf-" + sf::slug(model), "TTFT distribution: " + model,
                             {"time to first token", "ms", false, report::Axis::Ticks::Auto},
                             {"share of requests", "fraction", false, report::Axis::Ticks::Auto})};
    PerModelChart tpot{blank("tpot-cdf-" + sf::slug(model), "TPOT distribution: " + model,
                             {"time per output token", "ms", false, report::Axis::Ticks::Auto},
                             {"share of requests", "fraction", false, report::Axis::Ticks::Auto})};
    std::vector<double> all_ttft;
    for (std::size_t k = 0; k < st.systems.size(); ++k) {
      const ServingRun& run = st.runs[i][k];
      const std::string& system = st.systems[k].name;
      if (!run.feasible) {
        t.table.rows.push_back({model, system, std::to_string(run.devices), run.layout, "", "", "",
                                "", "", "", "", "", "", "", "", run.reason});
        continue;
      }
      const SimulationResult& b = run.base;
      t.table.rows.push_back(
          {model, system, std::to_string(run.devices), run.layout, std::to_string(b.completed),
           std::to_string(b.rejected), ms(b.ttft_s.p50), ms(b.ttft_s.p99), ms(b.tpot_s.p50),
           ms(b.tpot_s.p99), sf::num(b.e2e_s.p99, "%.3g"), ms(b.queue_s.p99),
           sf::num(b.slo_attainment, "%.4f"), sf::num(b.goodput_requests_per_s, "%.4g"),
           sf::num(b.output_tokens_per_s / static_cast<double>(b.devices), "%.4g"), ""});
      std::vector<double> share;
      for (int q = 0; q < kCdfPoints; ++q) share.push_back(q / double(kCdfPoints - 1));
      auto in_ms = [](std::vector<double> v) {
        for (double& x : v) x *= 1e3;
        return v;
      };
      if (!run.ttft_quantiles_s.empty()) ttft.add(system, in_ms(run.ttft_quantiles_s), share);
      if (!run.tpot_quantiles_s.empty()) tpot.add(system, in_ms(run.tpot_quantiles_s), share);
      all_ttft.insert(all_ttft.end(), run.ttft_quantiles_s.begin(), run.ttft_quantiles_s.end());
    }
    // TTFTs of different systems can be an order of magnitude apart: log x keeps both readable.
    ttft.chart.x.log = sf::positive_span(all_ttft) > 20;
    if (ttft.any) sec.charts.push_back(ttft.chart);
    if (tpot.any) sec.charts.push_back(tpot.chart);
  }
  sec.tables.push_back(t);
  sec.assumptions = {
      "Percentiles are nearest-rank over the completed requests (TPOT over those with more than "
      "one output token); the CDFs plot the 0th to 100th percentile in steps of 1.",
      "A deployment that cannot hold its weights, a full step's activations and one longest "
      "request is listed with the reason and left out of the charts.",
      "Rejected requests (longer than an empty engine can hold) count against SLO attainment; "
      "none are dropped silently.",
      "KV cache in the scenario's kv_format (" + sc.kv_format + "); MTP acceptance " +
          sf::num(sc.mtp_acceptance) +
          " as an expected number of tokens per decode step; two-microbatch overlap on; uniform "
          "expert routing with the default EPLB imbalance; 10% of HBM reserved for the runtime."};
  sec.inputs.push_back({"SLO", slo_text(sc), sc.slo_source});
  sec.inputs.push_back({"arrivals", arrivals_text(sc, st), sc.simulation.source});
  sec.inputs.push_back({"scheduler",
                        "max " + std::to_string(sc.simulation.max_batch) +
                            " sequences per dp group; prefix cache " +
                            (sc.simulation.prefix_cache ? "on" : "off"),
                        sc.simulation.source});
  for (const PreparedModel& m : st.models) sec.inputs.push_back(study_report::model_input(m));
  for (const SystemSpec& s : st.systems) sec.inputs.push_back(study_report::system_input(s));
  return sec;
}

report::Section occupancy_section(const ServingSimulationStudy& st) {
  report::Section sec;
  sec.heading = "Occupancy and queue over time";
  sec.paragraphs.push_back(
      "The base-rate runs over time (time averages over short intervals, summed over the "
      "deployment's dp groups): sequences held by the engines (prefilling or decoding), "
      "requests waiting in the engines' queues, and the share of the KV pools held by running "
      "sequences (cached prefix blocks not included).");
  report::TableBlock t = table_block("occupancy", "Occupancy of the base-rate runs",
                                     {{"model", "", false},
                                      {"system", "", false},
                                      {"mean_running", "sequences"},
                                      {"max_running", "sequences"},
                                      {"max_waiting", "requests"},
                                      {"max_kv_share", ""},
                                      {"preemptions", ""},
                                      {"cache_hit_rate", ""},
                                      {"kv_pool_per_dp_group", "GB"}});
  for (std::size_t i = 0; i < st.models.size(); ++i) {
    const std::string& model = st.models[i].spec.name;
    const report::Axis time{"time", "s", false, report::Axis::Ticks::Auto};
    PerModelChart running{blank("running-" + sf::slug(model), "Sequences in the batch: " + model,
                                time, {"running", "sequences", false, report::Axis::Ticks::Auto})};
    PerModelChart waiting{blank("queue-" + sf::slug(model), "Queue length: " + model, time,
                                {"waiting", "requests", false, report::Axis::Ticks::Auto})};
    PerModelChart kv{
        blank("kv-" + sf::slug(model), "KV pool held by running sequences: " + model, time,
              {"share of the KV pools", "fraction", false, report::Axis::Ticks::Auto})};
    for (std::size_t k = 0; k < st.systems.size(); ++k) {
      const ServingRun& run = st.runs[i][k];
      if (!run.feasible) continue;
      std::vector<double> x, r, w, f;
      double max_w = 0, max_f = 0;
      for (const OccupancySample& o : run.base.timeline) {
        x.push_back(o.start_s);
        r.push_back(o.running);
        w.push_back(o.waiting);
        f.push_back(o.kv_fraction);
        max_w = std::max(max_w, o.waiting);
        max_f = std::max(max_f, o.kv_fraction);
      }
      const std::string& system = st.systems[k].name;
      running.add(system, x, r);
      waiting.add(system, x, w);
      kv.add(system, x, f);
      const SimulationResult& b = run.base;
      t.table.rows.push_back(
          {model, system, sf::num(b.mean_running, "%.3g"), sf::num(b.max_running, "%.0f"),
           sf::num(max_w, "%.3g"), sf::num(max_f, "%.3f"), std::to_string(b.preemptions),
           sf::num(b.cache_hit_rate, "%.3f"), sf::num(b.kv_pool_bytes / 1e9, "%.1f")});
    }
    for (PerModelChart* c : {&running, &waiting, &kv})
      if (c->any) sec.charts.push_back(c->chart);
  }
  sec.tables.push_back(t);
  sec.assumptions = {
      "max_running and max_waiting are the largest interval averages, not instantaneous peaks.",
      "KV pool per dp group: usable HBM of a rank less the weights and a full step's "
      "activations (sim/simulate.h)."};
  return sec;
}

report::Section sweep_section(const Scenario& sc, const ServingSimulationStudy& st) {
  report::Section sec;
  sec.heading = "SLO attainment against load";
  const ServingSimulationSpec& spec = sc.simulation;
  sec.paragraphs.push_back(
      "The same requests at each arrival rate of the sweep (" +
      std::string(spec.trace.empty() ? "the same seed" : "the trace's timestamps scaled") +
      "): the share meeting " + slo_text(sc) +
      ", and the p99 latencies. The highest served rate "
      "is the highest swept rate at which this and every lower swept rate reach the attainment "
      "target of " +
      sf::num(spec.attainment_target * 100, "%.3g") + "%.");
  report::TableBlock t =
      table_block("attainment", "SLO attainment and p99 latency per arrival rate",
                  {{"model", "", false},
                   {"system", "", false},
                   {"rate", "req/s"},
                   {"slo_attainment", ""},
                   {"ttft_p99", "ms"},
                   {"tpot_p99", "ms"},
                   {"goodput", "req/s"},
                   {"mean_running", "sequences"},
                   {"preemptions", ""},
                   {"rejected", ""}});
  report::TableBlock h = table_block("served", "Highest swept rate meeting the attainment target",
                                     {{"model", "", false},
                                      {"system", "", false},
                                      {"devices", ""},
                                      {"highest_served_rate", "req/s"},
                                      {"per_device", "req/s"},
                                      {"note", "", false}});
  const report::Axis rate{"arrival rate", "req/s", true, report::Axis::Ticks::Auto};
  for (std::size_t i = 0; i < st.models.size(); ++i) {
    const std::string& model = st.models[i].spec.name;
    PerModelChart att{
        blank("attainment-" + sf::slug(model), "SLO attainment: " + model, rate,
              {"requests within the SLOs", "fraction", false, report::Axis::Ticks::Auto})};
    PerModelChart p99{blank("ttft-p99-" + sf::slug(model), "p99 TTFT against load: " + model, rate,
                            {"p99 time to first token", "ms", true, report::Axis::Ticks::Auto})};
    for (std::size_t k = 0; k < st.systems.size(); ++k) {
      const ServingRun& run = st.runs[i][k];
      const std::string& system = st.systems[k].name;
      if (!run.feasible) {
        h.table.rows.push_back({model, system, std::to_string(run.devices), "", "", run.reason});
        continue;
      }
      std::vector<double> x, a, p;
      for (const SweepPoint& s : run.sweep) {
        x.push_back(s.rate_per_s);
        a.push_back(s.slo_attainment);
        p.push_back(s.ttft_s.p99 * 1e3);
        t.table.rows.push_back({model, system, sf::num(s.rate_per_s, "%.4g"),
                                sf::num(s.slo_attainment, "%.4f"), ms(s.ttft_s.p99),
                                ms(s.tpot_s.p99), sf::num(s.goodput_requests_per_s, "%.4g"),
                                sf::num(s.mean_running, "%.3g"), std::to_string(s.preemptions),
                                std::to_string(s.rejected)});
      }
      att.add(system, x, a);
      p99.add(system, x, p);
      const double served = run.highest_served_rate_per_s;
      h.table.rows.push_back(
          {model, system, std::to_string(run.devices), served > 0 ? sf::num(served, "%.4g") : "",
           served > 0 ? sf::num(served / static_cast<double>(run.devices), "%.3g") : "",
           served > 0 ? "" : "the lowest swept rate misses the target"});
    }
    if (att.any) sec.charts.push_back(att.chart);
    if (p99.any) sec.charts.push_back(p99.chart);
  }
  sec.tables = {t, h};
  sec.inputs.push_back(
      {"attainment target", sf::num(spec.attainment_target * 100, "%.3g") + "%", spec.source});
  sec.assumptions = {
      "A run's rate is its mean arrival rate; a short run at a rate beyond the deployment's "
      "capacity ends before its queue reaches a steady state, so its latencies understate a "
      "sustained overload.",
      "The swept rates are per deployment: systems of different sizes (devices column) are "
      "compared at the same absolute load; per_device divides the highest served rate by the "
      "deployment's ranks."};
  return sec;
}

std::vector<std::string> summary(const Scenario& sc, const ServingSimulationStudy& st) {
  std::vector<std::string> out;
  out.push_back("Scenario '" + sc.name + "' (" + data::display_path(sc.file) +
                "): " + std::to_string(st.models.size()) + " models on " +
                std::to_string(st.systems.size()) + " systems, " + arrivals_text(sc, st) +
                ", swept over " + std::to_string(sc.simulation.sweep_rates_per_s.size()) +
                " rates; targets " + slo_text(sc) + ".");
  for (std::size_t i = 0; i < st.models.size(); ++i) {
    std::vector<std::string> parts;
    for (std::size_t k = 0; k < st.systems.size(); ++k) {
      const ServingRun& run = st.runs[i][k];
      if (!run.feasible) {
        parts.push_back(st.systems[k].name + " cannot run it");
        continue;
      }
      parts.push_back(st.systems[k].name + " p99 TTFT " + ms(run.base.ttft_s.p99) +
                      " ms, p99 TPOT " + ms(run.base.tpot_s.p99) + " ms, attainment " +
                      sf::num(run.base.slo_attainment * 100, "%.1f") + "%, served up to " +
                      (run.highest_served_rate_per_s > 0
                           ? sf::num(run.highest_served_rate_per_s, "%.4g") + " req/s"
                           : std::string("none of the swept rates")));
    }
    out.push_back(st.models[i].spec.display_name + " at " +
                  sf::num(sc.simulation.rate_per_s, "%.4g") + " req/s: " + sf::join_words(parts) +
                  ".");
  }
  out.push_back("Source of the scenario: " + sc.source);
  return out;
}

}  // namespace

report::Report run_serving_simulation(const Scenario& sc, const ProgressFn& progress) {
  const ServingSimulationStudy st = study_serving_simulation(sc, progress);
  report::Report r;
  r.title = sc.title;
  r.summary = summary(sc, st);
  r.sections.push_back(latency_section(sc, st));
  r.sections.push_back(occupancy_section(st));
  r.sections.push_back(sweep_section(sc, st));
  return r;
}

}  // namespace v4sim
