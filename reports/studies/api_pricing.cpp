// The API-pricing report: the study of scenarios/api_pricing.h as prose, tables and charts.
#include "reports/studies/api_pricing.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "models/config/data_paths.h"
#include "reports/studies/common.h"
#include "scenarios/api_pricing.h"
#include "scenarios/format.h"

namespace v4sim {
namespace {

using study_report::add_column;
using study_report::table_block;

namespace sf = scenario_format;

std::string listed_text(const ApiPrice& p) {
  std::string out =
      p.currency + " " + (p.cache_hit_listed ? sf::num(p.listed_input_cache_hit, "%.4g") : "-") +
      " / " + sf::num(p.listed_input_cache_miss, "%.4g") + " / " + sf::num(p.listed_output, "%.4g");
  return out;
}

report::Section prices_section(const Scenario& sc) {
  report::Section sec;
  sec.heading = "API prices";
  sec.paragraphs.push_back(
      "Published prices per million tokens, each with its date and source. Prices listed in CNY "
      "are converted to USD at the exchange rate below; the listed column shows the original "
      "(cache hit / cache miss / output).");
  report::TableBlock t = table_block("api-prices", "API prices",
                                     {{"model", "", false},
                                      {"input_cache_hit", "USD/M"},
                                      {"input_cache_miss", "USD/M"},
                                      {"output", "USD/M"},
                                      {"listed", "per M", false},
                                      {"date", "", false},
                                      {"source", "", false}});
  for (const ApiPrice& p : sc.api_prices) {
    t.table.rows.push_back({p.model, sf::num(p.input_cache_hit, "%.4g"),
                            sf::num(p.input_cache_miss, "%.4g"), sf::num(p.output, "%.4g"),
                            listed_text(p), p.date, p.source});
    sec.inputs.push_back({p.model + " prices",
                          listed_text(p) + " per M tokens (hit / miss / output), " + p.date,
                          p.source});
  }
  sec.tables.push_back(t);
  if (sc.usd_per_cny > 0)
    sec.inputs.push_back(
        {"exchange rate",
         sf::num(1.0 / sc.usd_per_cny, "%.4g") + " CNY per USD (" + sc.exchange_rate_date + ")",
         sc.exchange_rate_source});
  sec.assumptions = {
      "A list without a cache-hit price ('-' in the listed column) bills cache hits at the "
      "cache-miss price.",
      "Tokens are counted as each vendor counts them; tokenizers differ, so the same text is a "
      "different number of tokens for different models. The workloads are priced in tokens as "
      "given, without converting between tokenizers.",
      "Reasoning ('thinking') tokens count as output; the workloads' output figures are taken to "
      "include them."};
  return sec;
}

report::Section bills_section(const Scenario& sc, const ApiPricingStudy& c) {
  report::Section sec;
  sec.heading = "Workloads and monthly bills";
  sec.paragraphs.push_back(
      "Each workload's monthly tokens at each API's prices. The charts add, for the API entries "
      "that name a self-hosted model, what the same tokens cost on the cheapest of the "
      "scenario's systems when that fleet is fully loaded (a provider's cost at scale), and what "
      "the cheapest deployment dedicated to this workload alone costs a month (a buyer's cost); "
      "the next sections explain both.");
  report::TableBlock wt = table_block("workloads", "Workloads",
                                      {{"workload", "", false},
                                       {"requests_per_month", ""},
                                       {"input_tokens_per_request", "token"},
                                       {"output_tokens_per_request", "token"},
                                       {"cache_hit_rate", ""},
                                       {"input_tokens_per_month", "token"},
                                       {"output_tokens_per_month", "token"}});
  for (const ApiWorkload& w : sc.workloads) {
    wt.table.rows.push_back(
        {w.name, sf::num(w.requests_per_month, "%.0f"), std::to_string(w.input_tokens_per_request),
         std::to_string(w.output_tokens_per_request), sf::num(w.cache_hit_rate),
         sf::num(w.requests_per_month * static_cast<double>(w.input_tokens_per_request), "%.0f"),
         sf::num(w.requests_per_month * static_cast<double>(w.output_tokens_per_request), "%.0f")});
    sec.inputs.push_back({"workload " + w.name,
                          sf::count(w.requests_per_month) + " requests a month x " +
                              std::to_string(w.input_tokens_per_request) + " in / " +
                              std::to_string(w.output_tokens_per_request) + " out tokens, " +
                              sf::num(w.cache_hit_rate * 100, "%.0f") + "% cache hits",
                          w.source});
  }
  report::TableBlock bt =
      table_block("monthly-bills", "Monthly bill per API and workload", {{"model", "", false}});
  for (const ApiWorkload& w : sc.workloads) add_column(bt, {w.name, "USD/month"});
  for (const ApiPrice& p : sc.api_prices) {
    std::vector<std::string> row = {p.model};
    for (const ApiWorkload& w : sc.workloads) row.push_back(sf::num(monthly_bill(p, w), "%.2f"));
    bt.table.rows.push_back(row);
  }
  sec.tables = {wt, bt};
  for (std::size_t wi = 0; wi < sc.workloads.size(); ++wi) {
    const ApiWorkload& w = sc.workloads[wi];
    report::Chart chart;
    chart.name = "bill-" + sf::slug(w.name);
    chart.title = "Monthly bill: " + w.name;
    chart.kind = report::Chart::Kind::Bars;
    chart.x = {"API", "", false, report::Axis::Ticks::Auto};
    chart.y = {"cost per month", "USD", false, report::Axis::Ticks::Auto};
    report::Series api{"API bill", {}, {}}, own{"self-hosted, loaded fleet", {}, {}},
        alone{"self-hosted, dedicated deployment", {}, {}};
    for (std::size_t a = 0; a < sc.api_prices.size(); ++a) {
      const ApiPrice& p = sc.api_prices[a];
      chart.categories.push_back(p.model);
      api.x.push_back(static_cast<double>(a));
      api.y.push_back(monthly_bill(p, w));
      if (p.self_hosted_model.empty()) continue;
      const std::size_t i = c.model_index(p.self_hosted_model);
      const int k = c.cheapest_system(i, w, wi);
      if (k < 0) continue;
      own.x.push_back(static_cast<double>(a));
      own.y.push_back(monthly_self_hosted(c.cost[i][static_cast<std::size_t>(k)][wi], w));
      alone.x.push_back(static_cast<double>(a));
      alone.y.push_back(dedicated(c, i, w, wi).monthly_usd);
    }
    chart.series.push_back(api);
    if (!own.x.empty()) chart.series.insert(chart.series.end(), {own, alone});
    std::vector<double> all = api.y;
    all.insert(all.end(), own.y.begin(), own.y.end());
    all.insert(all.end(), alone.y.begin(), alone.y.end());
    chart.y.log = sf::positive_span(all) > 20;
    sec.charts.push_back(chart);
  }
  sec.assumptions.push_back(
      "Bill = requests x (input tokens x (cache-hit share x hit price + miss share x miss price) "
      "+ output tokens x output price) / 1e6, every request alike.");
  return sec;
}

report::Section self_hosted_section(const Scenario& sc, const ApiPricingStudy& c) {
  report::Section sec;
  sec.heading = "Self-hosted cost per million tokens";
  sec.paragraphs.push_back(
      "What a million tokens of each kind costs on each system at the price basis below, with "
      "the fleet fully loaded: output tokens at the cheapest decode layout and batch meeting the "
      "TPOT target at the request's mean context while answering (input + output / 2); input "
      "tokens (cache miss) at the cheapest prefill layout meeting the TTFT target for a prompt "
      "of the request's input length; cached input tokens skip the prefill and pay only for "
      "loading their KV cache from the off-accelerator context cache over the rank's scale-out "
      "link (sim/token_costs.h; holding the cache on disk or in host memory is not priced).");
  report::TableBlock t =
      table_block("self-hosted", "Self-hosted $/M tokens per model, workload and system",
                  {{"model", "", false},
                   {"workload", "", false},
                   {"system", "", false},
                   {"devices", ""},
                   {"device_hour", "USD/h"},
                   {"decode_layout", "", false},
                   {"decode_batch", ""},
                   {"tpot", "ms"},
                   {"output", "USD/M"},
                   {"prefill_layout", "", false},
                   {"ttft", "s"},
                   {"input_cache_miss", "USD/M"},
                   {"input_cache_hit", "USD/M"},
                   {"monthly_loaded", "USD/month"},
                   {"note", "", false}});
  for (std::size_t i = 0; i < c.models.size(); ++i) {
    for (std::size_t wi = 0; wi < sc.workloads.size(); ++wi) {
      const ApiWorkload& w = sc.workloads[wi];
      for (std::size_t k = 0; k < c.systems.size(); ++k) {
        const SelfHostedCost& x = c.cost[i][k][wi];
        if (!x.feasible) {
          t.table.rows.push_back({c.models[i].spec.name, w.name, c.systems[k].name, "", "", "", "",
                                  "", "", "", "", "", "", "", x.reason});
          continue;
        }
        t.table.rows.push_back(
            {c.models[i].spec.name, w.name, c.systems[k].name, std::to_string(x.devices),
             sf::num(x.usd_per_device_hour, "%.3f"), x.decode_layout,
             std::to_string(x.decode_batch), sf::num(x.tpot_s * 1e3, "%.1f"),
             sf::num(x.output_usd_per_m, "%.4g"), x.prefill_layout, sf::num(x.ttft_s, "%.3g"),
             sf::num(x.input_usd_per_m, "%.4g"), sf::num(x.cached_input_usd_per_m, "%.3g"),
             sf::num(monthly_self_hosted(x, w), "%.3g"), ""});
      }
    }
  }
  sec.tables.push_back(t);
  if (const std::string targets = study_report::targets_text(sc); !targets.empty())
    sec.inputs.push_back({"targets", targets, sc.slo_source});
  sec.inputs.push_back(
      {"MTP acceptance", sf::num(sc.mtp_acceptance),
       "scenario field mtp_acceptance; the file's slo section says: " + sc.slo_source});
  sec.inputs.push_back(study_report::price_basis_input(sc));
  for (const PreparedModel& m : c.models) sec.inputs.push_back(study_report::model_input(m));
  for (const SystemSpec& s : c.systems) sec.inputs.push_back(study_report::system_input(s));
  sec.assumptions = {
      "A fully loaded fleet: every device-hour bought serves tokens at the modelled throughput. "
      "This is the provider's cost at scale; a small dedicated deployment is priced separately "
      "below.",
      "The fewest nodes (the system's default size, doubled up to 8 times) on which some decode "
      "layout meets the TPOT target; prefill runs on the same nodes.",
      "KV cache in the scenario's kv_format (" + sc.kv_format +
          "); two-microbatch overlap on; uniform expert routing; 10% of HBM reserved for the "
          "runtime."};
  return sec;
}

report::Section margin_section(const Scenario& sc, const ApiPricingStudy& c) {
  report::Section sec;
  sec.heading = "Margin of the API price over the self-hosted cost";
  sec.paragraphs.push_back(
      "For each API entry that names a self-hosted model: the price of each kind of token "
      "against its self-hosted cost on the system where the workload is cheapest, and the "
      "monthly bill against the monthly cost of the same tokens. margin = bill - cost; "
      "margin_share = margin / bill (negative: the price is below the modelled cost).");
  report::TableBlock pt =
      table_block("margin-per-token", "Price and self-hosted cost per million tokens",
                  {{"api", "", false},
                   {"workload", "", false},
                   {"system", "", false},
                   {"output_price", "USD/M"},
                   {"output_cost", "USD/M"},
                   {"input_miss_price", "USD/M"},
                   {"input_miss_cost", "USD/M"},
                   {"input_hit_price", "USD/M"},
                   {"input_hit_cost", "USD/M"}});
  report::TableBlock mt = table_block("margin-monthly", "Monthly bill, self-hosted cost and margin",
                                      {{"api", "", false},
                                       {"workload", "", false},
                                       {"bill", "USD/month"},
                                       {"self_hosted_cost", "USD/month"},
                                       {"system", "", false},
                                       {"margin", "USD/month"},
                                       {"margin_share", "%"}});
  for (const ApiPrice& p : sc.api_prices) {
    if (p.self_hosted_model.empty()) continue;
    const std::size_t i = c.model_index(p.self_hosted_model);
    for (std::size_t wi = 0; wi < sc.workloads.size(); ++wi) {
      const ApiWorkload& w = sc.workloads[wi];
      const double bill = monthly_bill(p, w);
      const int k = c.cheapest_system(i, w, wi);
      if (k < 0) {
        mt.table.rows.push_back(
            {p.model, w.name, sf::num(bill, "%.2f"), "", "no system meets the targets", "", ""});
        continue;
      }
      const SelfHostedCost& x = c.cost[i][static_cast<std::size_t>(k)][wi];
      const std::string& system = c.systems[static_cast<std::size_t>(k)].name;
      pt.table.rows.push_back(
          {p.model, w.name, system, sf::num(p.output, "%.4g"), sf::num(x.output_usd_per_m, "%.4g"),
           sf::num(p.input_cache_miss, "%.4g"), sf::num(x.input_usd_per_m, "%.4g"),
           sf::num(p.input_cache_hit, "%.4g"), sf::num(x.cached_input_usd_per_m, "%.3g")});
      const double cost = monthly_self_hosted(x, w);
      mt.table.rows.push_back({p.model, w.name, sf::num(bill, "%.2f"), sf::num(cost, "%.3g"),
                               system, sf::num(bill - cost, "%.2f"),
                               bill > 0 ? sf::num(100 * (bill - cost) / bill, "%.1f") : ""});
    }
  }
  sec.tables = {pt, mt};

  // A small buyer does not fill a fleet: one dedicated deployment, running all month.
  report::TableBlock dt = table_block("dedicated", "A dedicated deployment for one workload alone",
                                      {{"model", "", false},
                                       {"workload", "", false},
                                       {"system", "", false},
                                       {"units", ""},
                                       {"devices", ""},
                                       {"monthly", "USD/month"},
                                       {"utilization", ""},
                                       {"cheapest_api_bill", "USD/month"}});
  for (std::size_t i = 0; i < c.models.size(); ++i) {
    for (std::size_t wi = 0; wi < sc.workloads.size(); ++wi) {
      const ApiWorkload& w = sc.workloads[wi];
      const Dedicated d = dedicated(c, i, w, wi);
      double api = std::numeric_limits<double>::infinity();
      for (const ApiPrice& p : sc.api_prices)
        if (p.self_hosted_model == c.models[i].spec.name) api = std::min(api, monthly_bill(p, w));
      const std::string api_text = std::isfinite(api) ? sf::num(api, "%.2f") : "";
      if (d.system < 0) {
        dt.table.rows.push_back({c.models[i].spec.name, w.name, "no system meets the targets", "",
                                 "", "", "", api_text});
        continue;
      }
      dt.table.rows.push_back(
          {c.models[i].spec.name, w.name, c.systems[static_cast<std::size_t>(d.system)].name,
           std::to_string(d.units), std::to_string(d.devices), sf::num(d.monthly_usd, "%.0f"),
           sf::num(d.utilization, "%.2g"), api_text});
    }
  }
  sec.tables.push_back(dt);
  sec.paragraphs.push_back(
      "A measured reference point: DeepSeek reported that its V3/R1 service averaged about 14.8k "
      "output tokens per second per H800 node in decode (about 1,850 per GPU, at an average KV "
      "length of 4,989 tokens) and costed an H800 at 2 USD per hour, i.e. about 0.30 USD per "
      "million output tokens, and a 545% cost profit margin on its theoretical daily revenue at "
      "R1 prices (cost = 15.5% of that revenue). The modelled costs above are step times from "
      "measured kernel tables (where the hardware has them) on full batches with no idle "
      "capacity, so expect real margins below the modelled ones.");
  sec.inputs.push_back(
      {"measured V3/R1 serving",
       "14.8k output tokens/s per H800 node in decode; 2 USD per H800-hour; cost profit margin "
       "545% at R1 prices",
       "DeepSeek, 'Day 6: One More Thing, DeepSeek-V3/R1 Inference System Overview' (2025-03-01), "
       "https://github.com/deepseek-ai/open-infra-index/blob/main/202502OpenSourceWeek/"
       "day_6_one_more_thing_deepseekV3R1_inference_system_overview.md"});
  sec.assumptions = {
      "The margin compares the API price with the modelled cost of serving on a fully loaded "
      "fleet; it does not include the provider's idle capacity, staff, networking beyond the "
      "systems' own, or the cost of training the model.",
      "Dedicated deployment: the fewest whole units (at the size in the self-hosted table) "
      "that carry the workload's average load, running 730 hours a month whether busy or not; "
      "peaks above the average are not provisioned. cheapest_api_bill is the lowest bill among "
      "the API entries that name this model."};
  return sec;
}

std::vector<std::string> summary(const Scenario& sc, const ApiPricingStudy& c) {
  std::vector<std::string> out;
  out.push_back("Scenario '" + sc.name + "' (" + data::display_path(sc.file) + "). " +
                std::to_string(sc.api_prices.size()) + " API price lists, " +
                std::to_string(sc.workloads.size()) + " workloads; self-hosted costs for " +
                std::to_string(c.models.size()) + " models on " + std::to_string(c.systems.size()) +
                " systems at the " + std::string(to_string(sc.prices.basis)) + " price basis.");
  for (std::size_t wi = 0; wi < sc.workloads.size(); ++wi) {
    const ApiWorkload& w = sc.workloads[wi];
    const ApiPrice* lo = nullptr;
    const ApiPrice* hi = nullptr;
    for (const ApiPrice& p : sc.api_prices) {
      if (!lo || monthly_bill(p, w) < monthly_bill(*lo, w)) lo = &p;
      if (!hi || monthly_bill(p, w) > monthly_bill(*hi, w)) hi = &p;
    }
    std::string line = w.name + ": monthly bills from " + sf::usd(monthly_bill(*lo, w)) + " (" +
                       lo->model + ") to " + sf::usd(monthly_bill(*hi, w)) + " (" + hi->model +
                       ").";
    std::vector<std::string> loaded;
    double cheapest_alone = std::numeric_limits<double>::infinity();
    std::string alone_system;
    for (std::size_t i = 0; i < c.models.size(); ++i) {
      const int k = c.cheapest_system(i, w, wi);
      if (k < 0) continue;
      const std::size_t ks = static_cast<std::size_t>(k);
      loaded.push_back(c.models[i].spec.display_name + " " +
                       sf::usd(monthly_self_hosted(c.cost[i][ks][wi], w)) + " (" +
                       c.systems[ks].name + ")");
      const Dedicated d = dedicated(c, i, w, wi);
      if (d.monthly_usd < cheapest_alone) {
        cheapest_alone = d.monthly_usd;
        alone_system = c.models[i].spec.display_name + " on " + std::to_string(d.units) + " x " +
                       c.systems[static_cast<std::size_t>(d.system)].name;
      }
    }
    if (!loaded.empty())
      line += " The same tokens cost " + sf::join_words(loaded) +
              " on a fully loaded self-hosted fleet; a deployment for this workload alone costs "
              "at least " +
              sf::usd(cheapest_alone) + " a month (" + alone_system + ").";
    out.push_back(line);
  }
  std::vector<std::string> shares;
  for (const ApiPrice& p : sc.api_prices) {
    if (p.self_hosted_model.empty()) continue;
    const std::size_t i = c.model_index(p.self_hosted_model);
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (std::size_t wi = 0; wi < sc.workloads.size(); ++wi) {
      const int k = c.cheapest_system(i, sc.workloads[wi], wi);
      const double bill = monthly_bill(p, sc.workloads[wi]);
      if (k < 0 || bill <= 0) continue;
      const double cost =
          monthly_self_hosted(c.cost[i][static_cast<std::size_t>(k)][wi], sc.workloads[wi]);
      lo = std::min(lo, 100 * (bill - cost) / bill);
      hi = std::max(hi, 100 * (bill - cost) / bill);
    }
    if (hi >= lo)
      shares.push_back(
          p.model + " " + sf::num(lo, "%.0f") +
          (sf::num(lo, "%.0f") == sf::num(hi, "%.0f") ? "" : "-" + sf::num(hi, "%.0f")) + "%");
  }
  if (!shares.empty())
    out.push_back(
        "Margin of the API price over the modelled loaded-fleet cost (share of the bill): " +
        sf::join_words(shares) +
        ". The modelled cost is a lower bound (full batches, no idle capacity; step times from "
        "measured kernel tables, still faster than measured deployments, see the README's "
        "fidelity table); see the last section.");
  out.push_back("Source of the scenario: " + sc.source);
  return out;
}

}  // namespace

report::Report run_api_pricing(const Scenario& sc, const ProgressFn& progress) {
  const ApiPricingStudy c = study_api_pricing(sc, progress);
  report::Report r;
  r.title = sc.title;
  r.summary = summary(sc, c);
  r.sections.push_back(prices_section(sc));
  r.sections.push_back(bills_section(sc, c));
  r.sections.push_back(self_hosted_section(sc, c));
  r.sections.push_back(margin_section(sc, c));
  return r;
}

}  // namespace v4sim
