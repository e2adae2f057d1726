// The purchase report: the study of scenarios/hardware_purchase.h as prose, tables and charts.
#include "reports/studies/hardware_purchase.h"

#include <algorithm>
#include <limits>

#include "models/config/data_paths.h"
#include "reports/human_units.h"
#include "reports/studies/common.h"
#include "scenarios/format.h"
#include "scenarios/hardware_purchase.h"

namespace v4sim {
namespace {

using study_report::add_column;
using study_report::table_block;

namespace sf = scenario_format;

const char* bound_name(RangeEnd b) {
  return b == RangeEnd::low ? "low" : "high";
}

/// 1-based rank among the feasible plans, 0 when the system is infeasible or absent.
int rank_of(const std::vector<SystemPlan>& plans, const std::string& system) {
  int rank = 0;
  for (const SystemPlan& p : plans) {
    if (!p.feasible) continue;
    ++rank;
    if (p.system == system) return rank;
  }
  return 0;
}

const SystemPlan* cheapest(const std::vector<SystemPlan>& plans) {
  return !plans.empty() && plans.front().feasible ? &plans.front() : nullptr;
}

std::string rank_text(int rank) {
  return rank > 0 ? std::to_string(rank) : "-";
}

std::string per_m_cell(const SystemPlan* p, bool busy = false) {
  if (!p || !p->feasible) return "";
  return sf::num(p->usd_per_million_tokens * (busy ? p->utilization : 1.0), "%.4g");
}

std::string variant_label(const PurchaseVariant& v) {
  return v.what ? std::string(to_string(v.what->kind)) + " " + bound_name(v.bound) : "nominal";
}

/// The note of an infeasible plan: each failing context length and why (the plan says which
/// target is missed and the nearest deployment the search reached).
std::string infeasible_note(const SystemPlan& p) {
  std::vector<std::string> parts;
  for (const BucketPlan& b : p.buckets)
    if (!b.feasible) parts.push_back(sf::context_label(b.context_tokens) + ": " + b.reason);
  return sf::join_words(parts);
}

/// "3 x 8 + 1 x 16": a phase's instances by size.
std::string instances_text(const SystemPlan& p, Phase phase) {
  std::string out;
  for (const PoolPlan& pool : p.pools) {
    if (pool.phase != phase) continue;
    out += (out.empty() ? "" : " + ") + std::to_string(pool.instances) + " x " +
           std::to_string(pool.instance_devices);
  }
  return out;
}

/// Bars per system. `si_ticks`: y tick labels as 1M, 10M (for large amounts); otherwise plain
/// numbers, so that 0.1 USD does not read as "100m".
report::Chart bar_chart(const std::string& name, const std::string& title,
                        const std::vector<SystemSpec>& systems, const std::string& y_label,
                        const std::string& y_unit, bool si_ticks) {
  report::Chart c;
  c.name = name;
  c.title = title;
  c.kind = report::Chart::Kind::Bars;
  c.x = {"system", "", false, report::Axis::Ticks::Auto};
  c.y = {y_label, y_unit, false, si_ticks ? report::Axis::Ticks::Si : report::Axis::Ticks::Auto};
  for (const SystemSpec& s : systems) c.categories.push_back(s.name);
  return c;
}

/// Log y when the bars span more than a factor of 20, so small ones stay visible.
void choose_y_scale(report::Chart& c) {
  std::vector<double> all;
  for (const report::Series& s : c.series) all.insert(all.end(), s.y.begin(), s.y.end());
  c.y.log = sf::positive_span(all) > 20;
}

void add_bar(report::Series& s, const std::vector<SystemSpec>& systems, const std::string& system,
             double y) {
  for (std::size_t k = 0; k < systems.size(); ++k) {
    if (systems[k].name != system) continue;
    s.x.push_back(static_cast<double>(k));
    s.y.push_back(y);
  }
}

std::string range_text(const Range& r, const char* format = "%.4g") {
  if (r.is_exact()) return sf::num(r.nominal, format);
  return sf::num(r.nominal, format) + " (" + sf::num(r.low, format) + " to " +
         sf::num(r.high, format) + ")";
}

std::vector<std::string> summary(const Scenario& sc, const PurchaseStudy& pl) {
  const Demand& d = sc.demand;
  std::vector<std::string> names;
  for (const PreparedModel& m : pl.models) names.push_back(m.spec.display_name);
  std::string s = "Scenario '" + sc.name + "' (" + data::display_path(sc.file) +
                  "). A service of " + sf::count(d.input_tokens_per_day + d.output_tokens_per_day) +
                  " tokens a day (" + sf::count(d.input_tokens_per_day) + " input, of which " +
                  sf::num(d.cache_hit_rate * 100, "%.0f") + "% hit the context cache, and " +
                  sf::count(d.output_tokens_per_day) + " output; peak " +
                  sf::num(d.peak_to_average) + "x the average) served with " +
                  sf::join_words(names) + " on " + std::to_string(pl.systems.size()) +
                  " candidate systems";
  if (sc.slo_tpot_s) s += ", TPOT at most " + sf::num(*sc.slo_tpot_s * 1e3) + " ms";
  if (sc.slo_ttft_s) s += ", TTFT at most " + sf::num(*sc.slo_ttft_s) + " s";
  std::vector<std::string> out = {s + "."};
  for (std::size_t i = 0; i < pl.models.size(); ++i) {
    const std::vector<SystemPlan>& plans = pl.nominal().plans[i];
    std::string line = pl.models[i].spec.display_name + ": ";
    std::vector<std::string> ranked, infeasible;
    for (const SystemPlan& p : plans) {
      if (p.feasible)
        ranked.push_back(p.system + " " + sf::usd(p.usd_per_million_tokens) + "/M");
      else
        infeasible.push_back(p.system);
    }
    if (const SystemPlan* best = cheapest(plans)) {
      line += "cheapest on " + best->display_name + ": " + std::to_string(best->units) + " node" +
              (best->units == 1 ? "" : "s") + " (" + std::to_string(best->devices) +
              " ranks; prefill instances " + instances_text(*best, Phase::prefill) +
              ", decode instances " + instances_text(*best, Phase::decode) + " ranks), capex " +
              sf::usd(best->capex_usd) + " and " + sf::usd(best->annual_opex_usd) +
              " a year to run, " + sf::usd(best->usd_per_million_tokens) +
              " per million tokens. Ranking: " + sf::join_words(ranked) + ".";
    } else {
      line += "no candidate meets the targets.";
    }
    if (!infeasible.empty())
      line += " Cannot meet the targets: " + sf::join_words(infeasible) + ".";
    if (!pl.relaxed.empty()) {
      std::vector<std::string> more;
      for (const SystemPlan& p : pl.relaxed[i])
        if (p.feasible && !find_plan(plans, p.system)->feasible)
          more.push_back(p.system + " " + sf::usd(p.usd_per_million_tokens) + "/M");
      if (!more.empty()) line += " Without the TTFT target also " + sf::join_words(more) + ".";
    }
    if (pl.variants.size() > 1) {
      std::vector<std::string> winners;
      double lo = std::numeric_limits<double>::infinity(), hi = 0;
      for (const PurchaseVariant& v : pl.variants) {
        const SystemPlan* best = cheapest(v.plans[i]);
        if (!best) continue;
        if (std::find(winners.begin(), winners.end(), best->system) == winners.end())
          winners.push_back(best->system);
        lo = std::min(lo, best->usd_per_million_tokens);
        hi = std::max(hi, best->usd_per_million_tokens);
      }
      if (!winners.empty())
        line += " Across the sensitivity ranges the cheapest is " + sf::join_words(winners) +
                std::string(winners.size() == 1 ? " throughout" : "") + ", at " + sf::usd(lo) +
                " to " + sf::usd(hi) + " per million tokens.";
    }
    out.push_back(line);
  }
  out.push_back("Source of the scenario: " + sc.source);
  return out;
}

report::Section demand_section(const Scenario& sc, const PurchaseStudy& pl) {
  const Demand& d = sc.demand;
  report::Section sec;
  sec.heading = "Demand, targets and prices";
  sec.paragraphs.push_back(
      "The daily demand is split over context lengths by the share of requests at each length "
      "(and so of tokens, at equal request sizes). Every system is planned for the whole demand "
      "alone.");
  report::TableBlock mix = table_block("demand-mix", "Daily tokens by context length",
                                       {{"context", "tokens"},
                                        {"share", ""},
                                        {"input_tokens_per_day", "token"},
                                        {"cached_input_tokens_per_day", "token"},
                                        {"output_tokens_per_day", "token"}});
  for (const ContextShare& c : d.contexts)
    mix.table.rows.push_back({std::to_string(c.context_tokens), sf::num(c.share, "%.3f"),
                              sf::num(c.share * d.input_tokens_per_day, "%.0f"),
                              sf::num(c.share * d.input_tokens_per_day * d.cache_hit_rate, "%.0f"),
                              sf::num(c.share * d.output_tokens_per_day, "%.0f")});
  sec.tables.push_back(mix);
  sec.inputs.push_back({"demand",
                        sf::count(d.input_tokens_per_day) + " input (" +
                            sf::num(d.cache_hit_rate * 100, "%.0f") + "% cache hits) and " +
                            sf::count(d.output_tokens_per_day) + " output tokens a day; peak " +
                            sf::num(d.peak_to_average) + "x average; " +
                            std::to_string(d.contexts.size()) + " context lengths (table above)",
                        sc.demand_source});
  sec.inputs.push_back(
      {"MTP acceptance", sf::num(d.mtp_acceptance),
       sc.mtp_acceptance > 0
           ? "scenario field mtp_acceptance; the file's slo section says: " + sc.slo_source
           : sc.demand_source});
  if (const std::string targets = study_report::targets_text(sc); !targets.empty())
    sec.inputs.push_back({"targets", targets, sc.slo_source});
  sec.inputs.push_back(study_report::price_basis_input(sc));
  for (const PreparedModel& m : pl.models) sec.inputs.push_back(study_report::model_input(m));
  for (const SystemSpec& s : pl.systems) {
    // The unit bought is one node (price_plan), scale-out share included.
    const SystemTotals t = system_totals(s, 1);
    sec.inputs.push_back({s.name,
                          "one node: " + std::to_string(t.devices) + " x " +
                              s.accelerator.display_name + "; price " +
                              range_text(t.price_usd, "%.0f") + " USD; power " +
                              range_text(t.power_w, "%.0f") + " W",
                          data::display_path(s.file) + " and " +
                              data::display_path(s.accelerator.file) + " (sources inside)"});
  }
  sec.assumptions = {
      "Deployment: prefill and decode run on separate pools of instances (xPyD). For every "
      "context length the deployment search of `v4sim optimize` (sim/optimize.h) tries "
      "instances of 1, 2, 4, ... ranks within one node, then 1, 2, 4, ... whole nodes joined "
      "over the scale-out network or the supernode fabric, up to 256 ranks or one node, with "
      "every tensor/pipeline/data-parallel layout and batches 1, 2, 4, ...; of the decode "
      "instances meeting the TPOT target and the prefill instances meeting the TTFT target (less "
      "the KV hand-over to decode) it keeps the one that carries the context length's peak load "
      "on the fewest ranks, whole instances counted: for a large load the cheapest per token, "
      "for a small one a smaller instance rather than a large one mostly idle.",
      "Units are nodes as the system file sells them: one 8-accelerator server for HGX, DGX and "
      "Atlas 800, one NVL72 rack, one cabinet of a CloudMatrix384 or Atlas 950 SuperPoD at its "
      "share of the supernode's price. Instances of a phase and size form a pool: its busy ranks "
      "at peak (average x peak-to-average) over the instance size, rounded up to whole "
      "instances. An instance of one node or more takes whole nodes; smaller instances (a "
      "server's GPUs, trays of a rack, boards of a cabinet) share nodes whatever their pool, "
      "prefill beside decode, placed first fit, largest first.",
      "A day's work in device-seconds is the sum over context lengths of tokens over tokens per "
      "second per device (prefill computes only the cache misses); utilisation is that average "
      "load over the ranks bought.",
      "Annual cost = capex / amortisation years + power (x PUE) + hosting; $/M tokens = annual "
      "cost / (input + output tokens a year). Utilisation = average busy devices / devices "
      "bought.",
      "Requests of one context length are all of that length; KV cache in each model's deployed "
      "format; two-microbatch overlap on; uniform expert routing; 10% of HBM reserved for the "
      "runtime."};
  return sec;
}

report::Section ranking_section(const Scenario& sc, const PurchaseStudy& pl) {
  report::Section sec;
  sec.heading = "Ranking";
  sec.paragraphs.push_back(
      "Each model on each system, cheapest first. busy_usd_per_m is what a million tokens would "
      "cost if only busy device-hours were paid for (spare capacity sold or used otherwise): it "
      "separates a system's speed from the waste of buying whole units. Bars are missing where "
      "a system cannot meet the targets for that model.");
  if (!pl.relaxed.empty())
    sec.paragraphs.push_back(
        "The columns 'without TTFT target' plan the same demand with only the TPOT target: what "
        "a system would cost if the first token of the longest prompts may take longer than " +
        sf::num(*sc.slo_ttft_s) + " s (the per-context table shows how long).");
  report::Chart per_m = bar_chart("usd-per-m-tokens", "Cost per million tokens (input + output)",
                                  pl.systems, "cost per million tokens", "USD", false);
  report::Chart capex =
      bar_chart("capex", "Purchase price of the fleet", pl.systems, "capex", "USD", true);
  for (std::size_t i = 0; i < pl.models.size(); ++i) {
    const PreparedModel& m = pl.models[i];
    // Every column right-aligned, system and note included, as this table has always printed.
    report::TableBlock t = table_block(
        "ranking-" + m.spec.name, "Purchase plans for " + m.spec.display_name + ", cheapest first",
        {{"rank", ""},
         {"system", ""},
         {"units", ""},
         {"devices", ""},
         {"prefill_instances", "ranks"},
         {"decode_instances", "ranks"},
         {"capex", "USD"},
         {"annual_opex", "USD/year"},
         {"annual_cost", "USD/year"},
         {"usd_per_m_tokens", "USD"},
         {"busy_usd_per_m", "USD"},
         {"utilization", ""},
         {"power", "kW"},
         {"floor", "m²"}});
    if (!pl.relaxed.empty()) {
      add_column(t, {"rank_without_ttft_target", ""});
      add_column(t, {"usd_per_m_without_ttft_target", "USD"});
    }
    add_column(t, {"note", ""});
    t.table.numeric[1] = t.table.numeric[4] = t.table.numeric[5] = false;
    t.table.numeric.back() = false;
    report::Series cost{m.spec.display_name, {}, {}}, buy{m.spec.display_name, {}, {}};
    int position = 0;
    for (const SystemPlan& p : pl.nominal().plans[i]) {
      std::vector<std::string> row;
      std::string note;
      if (!p.feasible) {
        row = {"-", p.system, "", "", "", "", "", "", "", "", "", "", "", ""};
        note = infeasible_note(p);
      } else {
        if (p.units == 1 && p.peak_devices < 0.5 * static_cast<double>(p.devices))
          note = "one node is more than the peak needs (" +
                 sf::num(100 * p.peak_devices / static_cast<double>(p.devices), "%.2g") +
                 "% of it busy at peak)";
        row = {std::to_string(++position),
               p.system,
               std::to_string(p.units),
               std::to_string(p.devices),
               instances_text(p, Phase::prefill),
               instances_text(p, Phase::decode),
               sf::num(p.capex_usd, "%.0f"),
               sf::num(p.annual_opex_usd, "%.0f"),
               sf::num(p.annual_cost_usd, "%.0f"),
               per_m_cell(&p),
               per_m_cell(&p, true),
               sf::num(p.utilization, "%.3f"),
               sf::num(p.power_w / 1e3, "%.1f"),
               sf::num(p.floor_m2, "%.1f")};
        add_bar(cost, pl.systems, p.system, p.usd_per_million_tokens);
        add_bar(buy, pl.systems, p.system, p.capex_usd);
      }
      if (!pl.relaxed.empty()) {
        row.push_back(rank_text(rank_of(pl.relaxed[i], p.system)));
        row.push_back(per_m_cell(find_plan(pl.relaxed[i], p.system)));
      }
      row.push_back(note);
      t.table.rows.push_back(row);
    }
    sec.tables.push_back(t);
    if (!cost.x.empty()) {
      per_m.series.push_back(cost);
      capex.series.push_back(buy);
    }
  }
  if (!per_m.series.empty()) {
    choose_y_scale(per_m);
    choose_y_scale(capex);
    sec.charts = {per_m, capex};
  }
  return sec;
}

report::Section per_context_section(const PurchaseStudy& pl) {
  report::Section sec;
  sec.heading = "Per context length: instances, throughput and latency";
  sec.paragraphs.push_back(
      "The decode and prefill instances of every context length at the nominal inputs, each "
      "found by the deployment search of `v4sim optimize` (ranks, layout and batch). Where "
      "no instance meets a target, the note says which and gives the nearest the search "
      "reached. The layout search has no context parallelism: one prompt is prefilled by one "
      "data-parallel group of at most 16 tensor-parallel ranks.");
  report::TableBlock t =
      table_block("per-context", "Instances per model, system and context length",
                  {{"model", "", false},
                   {"system", "", false},
                   {"context", "tokens"},
                   {"decode_devices", ""},
                   {"decode_layout", "", false},
                   {"decode_batch", ""},
                   {"decode_tokens_per_s_per_device", "token/s"},
                   {"tpot", "ms"},
                   {"prefill_devices", ""},
                   {"prefill_layout", "", false},
                   {"prefill_batch", ""},
                   {"prefill_tokens_per_s_per_device", "token/s"},
                   {"ttft", "s"},
                   {"note", "", false}});
  for (std::size_t i = 0; i < pl.models.size(); ++i) {
    for (std::size_t k = 0; k < pl.systems.size(); ++k) {
      const SystemPlan* p = find_plan(pl.nominal().plans[i], pl.systems[k].name);
      for (const BucketPlan& b : p->buckets) {
        const std::string& model = pl.models[i].spec.name;
        if (!b.feasible) {
          t.table.rows.push_back({model, p->system, std::to_string(b.context_tokens), "", "", "",
                                  "", "", "", "", "", "", "", b.reason});
          continue;
        }
        t.table.rows.push_back(
            {model, p->system, std::to_string(b.context_tokens), std::to_string(b.decode_devices),
             b.decode_layout, std::to_string(b.decode_batch),
             sf::num(b.decode_tokens_per_s_per_device, "%.1f"), sf::num(b.tpot_s * 1e3, "%.1f"),
             std::to_string(b.prefill_devices), b.prefill_layout, std::to_string(b.prefill_batch),
             sf::num(b.prefill_tokens_per_s_per_device, "%.1f"), sf::num(b.ttft_s, "%.2f"), ""});
      }
    }
  }
  sec.tables.push_back(t);
  sec.assumptions.push_back(
      "Prefill tokens per second per device count all input tokens of a prompt, cached ones "
      "included (they ride along for free); TTFT is that of one prompt with its cache hits "
      "skipped, with as many prompts in flight as the cheapest instance holds, plus the hand-over "
      "of its KV cache to a decode instance over one rank's scale-out link.");
  return sec;
}

void sensitivity_inputs(const Scenario& sc, const PurchaseStudy& pl, report::Section& sec) {
  for (const Sensitivity& what : sc.sensitivities) {
    if (what.kind == SensitivityKind::system_prices) {
      for (const SystemSpec& s : pl.systems) {
        auto price = [](const SystemSpec& x) {
          return system_totals(x, x.default_nodes).price_usd.nominal;
        };
        const double lo = price(vary_system(s, what, RangeEnd::low));
        const double hi = price(vary_system(s, what, RangeEnd::high));
        // Whole dollars with thousands separators (8,199,984): read by people, not parsed.
        auto usd = [](double v) { return report::human_cell(sf::num(v, "%.0f"), "USD"); };
        sec.inputs.push_back(
            {"price of one " + s.name,
             usd(price(s)) + " USD (low " + usd(lo) + ", high " + usd(hi) + ")",
             s.per_node.price_usd.is_exact()
                 ? data::display_path(s.file) +
                       " gives one price; the range adds the accelerator's purchase range (" +
                       data::display_path(s.accelerator.file) + ") times the unit's ranks"
                 : data::display_path(s.file) + " (footprint price range)"});
      }
    } else if (what.kind == SensitivityKind::accelerator_peaks) {
      std::vector<std::string> seen;
      for (const SystemSpec& s : pl.systems) {
        const Accelerator& a = s.accelerator;
        if (std::find(seen.begin(), seen.end(), a.name) != seen.end()) continue;
        seen.push_back(a.name);
        std::string peaks;
        for (ComputePath p : kAllComputePaths) {
          const std::optional<Range>& r = a.peak_tflops[static_cast<int>(p)];
          if (!r || r->is_exact()) continue;
          if (!peaks.empty()) peaks += "; ";
          peaks += std::string(to_string(p)) + " " + range_text(*r);
        }
        sec.inputs.push_back({"peaks of " + a.name + " per rank",
                              peaks.empty() ? "single published values: not varied"
                                            : peaks + " TFLOPS (TOPS for int8)",
                              data::display_path(a.file)});
      }
    } else {
      sec.inputs.push_back({"efficiency range",
                            "compute_max_fraction and memory_efficiency x (1 -/+ " +
                                sf::num(what.relative) + "), capped at 1",
                            what.source});
    }
  }
}

report::Section sensitivity_section(const Scenario& sc, const PurchaseStudy& pl) {
  report::Section sec;
  sec.heading = "Sensitivity: how the ranking moves";
  sec.paragraphs.push_back(
      "Each uncertain input is moved alone to the low and then the high end of its range, all "
      "others at their nominal values, and the plans are made again. 'low' and 'high' name the "
      "input's end: low prices make a system cheaper, low peaks or efficiencies make it slower "
      "and so dearer. Rank '-' means the system cannot meet the targets with that value. Peaks "
      "and efficiencies move only the ops timed on the roofline: an op timed from a measured "
      "table, the accelerator's own or one transferred from a sibling, keeps its nominal time "
      "(the tables are measurements, not functions of the datasheet), so these two rows bound "
      "the roofline share of each plan.");
  sec.paragraphs.push_back(
      "$/M tokens moves in steps: the fleet is bought in whole units, so a change of speed that "
      "the last unit's spare capacity absorbs leaves the bill unchanged. The busy_usd_per_m "
      "columns show the continuous change. In the charts, a system without bars cannot meet the "
      "targets at any value; one without a 'nominal' bar meets them only in some variant.");
  sensitivity_inputs(sc, pl, sec);
  for (std::size_t i = 0; i < pl.models.size(); ++i) {
    const PreparedModel& m = pl.models[i];
    const std::vector<SystemPlan>& nominal = pl.nominal().plans[i];
    report::TableBlock t = table_block(
        "sensitivity-" + m.spec.name,
        "Rank and $/M tokens of " + m.spec.display_name + " with each input at its ends",
        {{"input", "", false},
         {"system", "", false},
         {"rank_nominal", ""},
         {"rank_low", ""},
         {"rank_high", ""},
         {"usd_per_m_nominal", "USD"},
         {"usd_per_m_low", "USD"},
         {"usd_per_m_high", "USD"},
         {"busy_usd_per_m_nominal", "USD"},
         {"busy_usd_per_m_low", "USD"},
         {"busy_usd_per_m_high", "USD"}});
    for (std::size_t v = 1; v + 1 < pl.variants.size(); v += 2) {
      const PurchaseVariant& lo = pl.variants[v];
      const PurchaseVariant& hi = pl.variants[v + 1];
      for (const SystemSpec& s : pl.systems) {
        const SystemPlan* n = find_plan(nominal, s.name);
        const SystemPlan* a = find_plan(lo.plans[i], s.name);
        const SystemPlan* b = find_plan(hi.plans[i], s.name);
        t.table.rows.push_back(
            {std::string(to_string(lo.what->kind)), s.name, rank_text(rank_of(nominal, s.name)),
             rank_text(rank_of(lo.plans[i], s.name)), rank_text(rank_of(hi.plans[i], s.name)),
             per_m_cell(n), per_m_cell(a), per_m_cell(b), per_m_cell(n, true), per_m_cell(a, true),
             per_m_cell(b, true)});
      }
      // In words: does the order of the feasible systems change?
      for (const PurchaseVariant* x : {&lo, &hi}) {
        std::vector<std::string> moved;
        for (const SystemSpec& s : pl.systems) {
          const int before = rank_of(nominal, s.name), after = rank_of(x->plans[i], s.name);
          if (before != after)
            moved.push_back(s.name + " " + (before > 0 ? std::to_string(before) : "infeasible") +
                            " -> " + (after > 0 ? std::to_string(after) : "infeasible"));
        }
        std::string line =
            m.spec.display_name + ", " + variant_label(*x) + ": " +
            (moved.empty() ? "ranking unchanged" : "rank changes " + sf::join_words(moved));
        if (const SystemPlan* best = cheapest(x->plans[i]))
          line +=
              "; cheapest " + best->system + " at " + sf::usd(best->usd_per_million_tokens) + "/M";
        sec.paragraphs.push_back(line + ".");
      }
    }
    std::vector<std::string> never;
    for (const SystemSpec& s : pl.systems) {
      bool any = false;
      for (const PurchaseVariant& v : pl.variants) any = any || rank_of(v.plans[i], s.name) > 0;
      if (!any) never.push_back(s.name);
    }
    if (!never.empty())
      sec.paragraphs.push_back(m.spec.display_name + ": " + sf::join_words(never) +
                               " cannot meet the targets at either end of any of these inputs "
                               "(the ranking table says why).");
    sec.tables.push_back(t);

    report::Chart c =
        bar_chart("sensitivity-" + m.spec.name,
                  "Cost per million tokens of " + m.spec.display_name + ": nominal and range",
                  pl.systems, "cost per million tokens", "USD", false);
    report::Series nom{"nominal", {}, {}}, lowest{"lowest of all variants", {}, {}},
        highest{"highest of all variants", {}, {}};
    for (const SystemSpec& s : pl.systems) {
      const SystemPlan* n = find_plan(nominal, s.name);
      if (n && n->feasible) add_bar(nom, pl.systems, s.name, n->usd_per_million_tokens);
      double lo = std::numeric_limits<double>::infinity(), hi = 0;
      for (std::size_t v = 1; v < pl.variants.size(); ++v) {
        const SystemPlan* p = find_plan(pl.variants[v].plans[i], s.name);
        if (!p || !p->feasible) continue;
        lo = std::min(lo, p->usd_per_million_tokens);
        hi = std::max(hi, p->usd_per_million_tokens);
      }
      if (hi > 0) {
        add_bar(lowest, pl.systems, s.name, lo);
        add_bar(highest, pl.systems, s.name, hi);
      }
    }
    for (report::Series* s : {&nom, &lowest, &highest})
      if (!s->x.empty()) c.series.push_back(*s);
    if (!c.series.empty()) {
      choose_y_scale(c);
      sec.charts.push_back(c);
    }
  }
  sec.assumptions = {
      "One input at a time; combined extremes (e.g. low prices with low peaks) are not shown.",
      "Power, hosting and floor space stay at their nominal values in every variant.",
      "A variant that does not change a system's speed (its prices, or peaks an accelerator file "
      "gives as single values) keeps the nominal instances and is re-priced: every instance of a "
      "system costs the same per rank-hour, so the choice of instances does not depend on the "
      "price (sim/plan.h, price_plan).",
      "A variant that changes a system's speed keeps the nominal instance sizes (ranks per "
      "prefill and decode instance) and chooses layouts and batches again; a system that cannot "
      "meet the targets at nominal is searched at every size."};
  return sec;
}
}  // namespace

report::Report run_hardware_purchase(const Scenario& sc, const ProgressFn& progress) {
  const PurchaseStudy pl = study_hardware_purchase(sc, progress);
  report::Report r;
  r.title = sc.title;
  r.summary = summary(sc, pl);
  r.sections.push_back(demand_section(sc, pl));
  r.sections.push_back(ranking_section(sc, pl));
  r.sections.push_back(per_context_section(pl));
  if (!sc.sensitivities.empty()) r.sections.push_back(sensitivity_section(sc, pl));
  return r;
}

}  // namespace v4sim
