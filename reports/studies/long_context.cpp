// The long-context report: the study of scenarios/long_context.h as prose, tables and charts.
#include "reports/studies/long_context.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "models/config/data_paths.h"
#include "reports/studies/common.h"
#include "scenarios/long_context.h"

namespace v4sim {
namespace {

using study_report::add_column;
using study_report::table_block;

std::string fmt(double v, const char* f = "%.4g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string context_label(std::int64_t n) {
  if (n % (1024 * 1024) == 0) return std::to_string(n / (1024 * 1024)) + "M";
  if (n % 1024 == 0) return std::to_string(n / 1024) + "K";
  return std::to_string(n);
}

/// A chart over context on log-log axes. `y_ticks`: Si for counts (1M, 1G), Auto for amounts of
/// money, so that 0.1 USD reads as "0.1" and not as "100m".
report::Chart log_log(const std::string& name, const std::string& title, const std::string& y_label,
                      const std::string& y_unit,
                      report::Axis::Ticks y_ticks = report::Axis::Ticks::Si) {
  report::Chart c;
  c.name = name;
  c.title = title;
  c.x = {"context", "tokens", true, report::Axis::Ticks::Binary};
  c.y = {y_label, y_unit, true, y_ticks};
  return c;
}

/// "16 ranks, tp=1,dp=16,pp=1,ep=16, batch 4": a point's deployment in words.
std::string deployment_text(const ServingResult& r) {
  return std::to_string(r.devices) + " ranks, " + to_string(r.layout) + ", batch " +
         std::to_string(r.batch);
}

/// Why a point has no deployment, in the serving table's note column.
std::string infeasible_note(const LongContextServing& run, const LongContextSystem& sys) {
  switch (run.why) {
    case Infeasible::beyond_max_context:
      return "beyond the model's max context";
    case Infeasible::tpot_slo:
      return "TPOT target missed: the fastest is " + fmt(run.nearest->tpot_s * 1e3, "%.1f") +
             " ms (" + deployment_text(*run.nearest) + ")";
    default:
      return "the weights and one sequence do not fit on up to " + std::to_string(sys.max_devices) +
             " ranks";
  }
}

}  // namespace

report::Report run_long_context(const Scenario& sc, const ProgressFn& progress) {
  const LongContextStudy st = study_long_context(sc, progress);
  const std::vector<PreparedModel>& models = st.models;
  const PreparedModel& base = models.front();

  report::Report r;
  r.title = sc.title;
  r.summary.push_back("Scenario '" + sc.name + "' (" + data::display_path(sc.file) + "). Models: " +
                      [&] {
                        std::string s;
                        for (const auto& m : models)
                          s += (s.empty() ? "" : ", ") + m.spec.display_name;
                        return s;
                      }() +
                      ". Ratios are to " + base.spec.display_name + ". KV format: " + sc.kv_format +
                      ".");
  r.summary.push_back("Source of the scenario: " + sc.source);
  {
    // Headline: each model against the first at the longest context.
    const std::int64_t n = sc.contexts.back();
    const AnalyticResult& b = st.decode.front().back();
    std::string line =
        "At " + context_label(n) + " tokens of context, per decoded token and per sequence: ";
    for (std::size_t i = 1; i < models.size(); ++i) {
      const AnalyticResult& a = st.decode[i].back();
      line += models[i].spec.display_name + " needs " +
              fmt(100.0 * a.flops_per_token() / b.flops_per_token(), "%.0f") + "% of " +
              base.spec.display_name + "'s FLOPs and " +
              fmt(100.0 * static_cast<double>(a.kv_cache.total()) /
                      static_cast<double>(b.kv_cache.total()),
                  "%.1f") +
              "% of its KV cache" + (i + 1 < models.size() ? "; " : ".");
    }
    r.summary.push_back(line);
  }

  // 1. Work per token and KV per sequence, from the analytic model.
  report::Section work;
  work.heading = "Work per decoded token and KV cache per sequence";
  work.paragraphs.push_back(
      "Decode FLOPs of the token that ends a context of n tokens, and the KV cache one sequence "
      "holds at n, both from the kernels' cost functions. Contexts beyond a model's trained "
      "maximum "
      "(V3/V3.2: 163,840 tokens) are evaluated with the same formulas and marked with *.");
  report::TableBlock t =
      table_block("work-per-token", "Decode FLOPs per token and KV bytes per sequence",
                  {{"context", "tokens"},
                   {"model", "", false},
                   {"flops_per_token", "FLOP"},
                   {"fp8_equivalent_flops_per_token", "FLOP"},
                   {"flops_vs_" + base.spec.name, ""},
                   {"kv_bytes_per_sequence", "B"},
                   {"kv_vs_" + base.spec.name, ""}});
  report::Chart flops =
      log_log("flops-per-token", "Decode FLOPs per token", "FLOPs per token", "FLOP");
  report::Chart kv = log_log("kv-bytes-per-sequence", "KV cache per sequence", "KV cache", "bytes");
  for (std::size_t i = 0; i < models.size(); ++i) {
    const PreparedModel& m = models[i];
    report::Series fs{m.spec.display_name, {}, {}}, ks{m.spec.display_name, {}, {}};
    for (std::size_t c = 0; c < sc.contexts.size(); ++c) {
      const std::int64_t n = sc.contexts[c];
      const AnalyticResult& a = st.decode[i][c];
      const AnalyticResult& b = st.decode.front()[c];
      const double kvb = static_cast<double>(a.kv_cache.total());
      t.table.rows.push_back({std::to_string(n), m.spec.name + (a.beyond_max_context ? "*" : ""),
                              fmt(a.flops_per_token()), fmt(a.fp8_equivalent_flops_per_token()),
                              fmt(a.flops_per_token() / b.flops_per_token(), "%.3f"),
                              fmt(kvb, "%.0f"),
                              fmt(kvb / static_cast<double>(b.kv_cache.total()), "%.4f")});
      fs.x.push_back(static_cast<double>(n));
      fs.y.push_back(a.flops_per_token());
      ks.x.push_back(static_cast<double>(n));
      ks.y.push_back(kvb);
    }
    flops.series.push_back(fs);
    kv.series.push_back(ks);
  }
  work.tables.push_back(t);
  work.charts = {flops, kv};
  work.assumptions.push_back(
      "FLOPs are 2 x multiply-accumulates of every product; FP8-equivalent FLOPs weight each op by "
      "FP8 peak / its precision's peak on a B200 (fp4 0.5, fp8 1, bf16 2, fp32 4).");
  r.sections.push_back(work);

  // 2. Where the savings come from, at the longest context.
  const std::int64_t longest = sc.contexts.back();
  report::Section where;
  where.heading = "Where the savings come from at " + context_label(longest) + " tokens";
  where.paragraphs.push_back(
      "Decode FLOPs per token by component and KV bytes per sequence by part, at the longest "
      "context of the scenario, in the deployed KV format and in BF16.");
  report::TableBlock comp = table_block(
      "flops-by-component", "Decode FLOPs per token by component at " + context_label(longest),
      {{"model", "", false}});
  std::vector<int> used;
  for (int c = 0; c < kNumOpComponents; ++c) {
    bool any = false;
    for (const auto& decode : st.decode) any |= decode.back().by_component[c].total_flops() > 0;
    if (!any) continue;
    used.push_back(c);
    add_column(comp, {std::string(to_string(static_cast<OpComponent>(c))), "FLOP"});
  }
  report::Chart bars;
  bars.name = "flops-by-component";
  bars.title = "Decode FLOPs per token by component at " + context_label(longest);
  bars.kind = report::Chart::Kind::Bars;
  bars.x = {"component", "", false, report::Axis::Ticks::Auto};
  bars.y = {"FLOPs per token", "FLOP", true, report::Axis::Ticks::Si};
  for (int c : used) bars.categories.push_back(std::string(to_string(static_cast<OpComponent>(c))));
  for (std::size_t i = 0; i < models.size(); ++i) {
    std::vector<std::string> row = {models[i].spec.name};
    report::Series s{models[i].spec.display_name, {}, {}};
    for (std::size_t k = 0; k < used.size(); ++k) {
      const double f = static_cast<double>(st.decode[i].back().by_component[used[k]].total_flops());
      row.push_back(fmt(f));
      if (f <= 0) continue;  // a component the model does not have: no bar
      s.x.push_back(static_cast<double>(k));
      s.y.push_back(f);
    }
    comp.table.rows.push_back(row);
    bars.series.push_back(s);
  }
  report::TableBlock parts =
      table_block("kv-by-part", "KV cache per sequence by part at " + context_label(longest),
                  {{"model", "", false},
                   {"format", "", false},
                   {"window", "B"},
                   {"compressed", "B"},
                   {"indexer_keys", "B"},
                   {"compressor_state", "B"},
                   {"mla_latent", "B"},
                   {"gqa_kv", "B"},
                   {"total", "B"}});
  for (std::size_t i = 0; i < models.size(); ++i) {
    const PreparedModel& m = models[i];
    for (std::size_t fi = 0; fi < m.spec.kv_formats.size(); ++fi) {
      const KvFormat& f = m.spec.kv_formats[fi];
      const KvCacheBytes& k = st.kv_by_format[i][fi];
      parts.table.rows.push_back({m.spec.name, f.name, fmt(k.window, "%.0f"),
                                  fmt(k.compressed, "%.0f"), fmt(k.indexer_keys, "%.0f"),
                                  fmt(k.state, "%.0f"), fmt(k.latent, "%.0f"),
                                  fmt(k.kv_heads, "%.0f"), fmt(k.total(), "%.0f")});
    }
  }
  where.tables = {comp, parts};
  where.charts = {bars};
  r.sections.push_back(where);

  // 3. Serving on hardware, each point on the cheapest deployment meeting the targets: the
  // deployment search of `v4sim optimize` with the same targets (sim/optimize.h), so that a
  // model's cost reflects the deployment it would be run on, not a fixed size.
  report::Section serve;
  serve.heading = "Serving: sessions, decode throughput and cost per device";
  serve.paragraphs.push_back(
      "For every model, system and context: the cheapest decode deployment meeting the TPOT "
      "target, as `v4sim optimize` finds it with the same targets: instances of 1, 2, 4, ... "
      "ranks within one node, then 1, 2, 4, ... whole nodes over the scale-out network or the "
      "supernode fabric, up to 256 ranks or one node; every tensor, pipeline and data-parallel "
      "layout (expert parallelism as wide as the experts allow); batches 1, 2, 4, ... up to the "
      "largest that fits. The table shows the deployment chosen (ranks, layout, batch per "
      "data-parallel group). Cost per million output tokens at the price basis below.");
  report::TableBlock table = table_block(
      "serving", "Decode serving per system, on the cheapest deployment meeting the targets",
      {{"system", "", false},
       {"model", "", false},
       {"context", "tokens"},
       {"devices", ""},
       {"layout", "", false},
       {"batch", ""},
       {"sessions_per_device", ""},
       {"tokens_per_s_per_device", "token/s"},
       {"tpot", "ms"},
       {"usd_per_m_output", "USD"},
       {"note", "", false}});
  for (const LongContextSystem& sys : st.systems) {
    const SystemSpec& s = sys.system;
    report::Chart tps =
        log_log("throughput-" + s.name, "Decode tokens/s per device on " + s.display_name,
                "output tokens/s per device", "token/s");
    report::Chart usd =
        log_log("cost-" + s.name, "Cost per million output tokens on " + s.display_name,
                "cost per million output tokens", "USD", report::Axis::Ticks::Auto);
    for (std::size_t i = 0; i < models.size(); ++i) {
      const PreparedModel& m = models[i];
      report::Series ts{m.spec.display_name, {}, {}}, us{m.spec.display_name, {}, {}};
      for (const LongContextServing& run : sys.runs[i]) {
        const std::string n = std::to_string(run.context_tokens);
        if (!run.best) {
          table.table.rows.push_back(
              {s.name, m.spec.name, n, "", "", "", "", "", "", "", infeasible_note(run, sys)});
          continue;
        }
        const OptimizePoint& best = *run.best;
        const ServingResult& p = best.result;
        table.table.rows.push_back(
            {s.name, m.spec.name, n, std::to_string(p.devices), to_string(p.layout),
             std::to_string(p.batch), fmt(p.batch_per_device, "%.1f"),
             fmt(p.throughput_tokens_per_s_per_device, "%.1f"), fmt(p.tpot_s * 1e3, "%.1f"),
             fmt(best.usd_per_million_tokens, "%.4f"),
             p.precision_fallback.empty() ? "" : "runs " + p.precision_fallback});
        ts.x.push_back(static_cast<double>(run.context_tokens));
        ts.y.push_back(p.throughput_tokens_per_s_per_device);
        us.x.push_back(static_cast<double>(run.context_tokens));
        us.y.push_back(best.usd_per_million_tokens);
      }
      if (!ts.x.empty()) {
        tps.series.push_back(ts);
        usd.series.push_back(us);
      }
    }
    if (!tps.series.empty()) serve.charts.insert(serve.charts.end(), {tps, usd});
    serve.inputs.push_back(
        {s.name, s.display_name + ", " + s.accelerator.display_name,
         data::display_path(s.file) + " (every value sourced or marked estimate in the file)"});
  }
  serve.tables.push_back(table);
  serve.assumptions.push_back("Price basis: " + std::string(to_string(sc.prices.basis)) +
                              (sc.prices.basis == PriceBasis::tco
                                   ? " (amortisation " + fmt(sc.prices.amortization_years) +
                                         " years, " + fmt(sc.prices.usd_per_kwh) +
                                         " USD/kWh, PUE " + fmt(sc.prices.pue) + ")"
                                   : " (each accelerator file's rental price per rank-hour)"));
  if (sc.slo_tpot_s)
    serve.assumptions.push_back("TPOT target " + fmt(*sc.slo_tpot_s * 1e3) + " ms.");
  serve.assumptions.push_back("MTP acceptance " + fmt(sc.mtp_acceptance) +
                              " (0: no speculative decoding).");
  serve.assumptions.push_back(
      "Two-microbatch overlap on; 10% of HBM reserved for the runtime; uniform expert routing.");
  for (const PreparedModel& m : models)
    serve.inputs.push_back({m.spec.name, m.spec.display_name,
                            data::display_path(m.spec.file) + " (sources per section)"});
  r.sections.push_back(serve);
  return r;
}

}  // namespace v4sim
