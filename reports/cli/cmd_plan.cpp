// `v4sim plan FILE.yaml`: how many of each candidate system a demand needs, and what it costs.
#include <iostream>

#include <nlohmann/json.hpp>

#include "hardware/system.h"
#include "models/model_loader.h"
#include "reports/cli/commands.h"
#include "reports/cli/values.h"
#include "reports/table.h"
#include "scenarios/demand.h"
#include "sim/plan.h"

namespace v4sim::cli {

void setup_plan(CLI::App& app) {
  struct Options {
    std::string file, format = "table";
  };
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("plan", "Size and rank hardware purchases for a demand file");
  cmd->add_option("file", opt->file, "Demand YAML (see scenarios/*demand*.yaml)")->required();
  cmd->add_option("--format", opt->format, "table | json | csv")->capture_default_str();
  cmd->callback([opt] {
    const OutputFormat format = parse_output_format(opt->format);
    const DemandFile f = load_demand(opt->file);
    const PreparedModel model = prepare(load_model(f.model));
    std::vector<SystemSpec> systems;
    for (const std::string& name : f.candidates) systems.push_back(load_system(name));
    const std::vector<SystemPlan> plans = plan_purchase(model, f.demand, systems, f.prices);

    nlohmann::ordered_json j;
    j["demand"] = f.demand.name;
    j["model"] = model.spec.name;
    j["assumptions"] = {{"input_tokens_per_day", f.demand.input_tokens_per_day},
                        {"output_tokens_per_day", f.demand.output_tokens_per_day},
                        {"cache_hit_rate", f.demand.cache_hit_rate},
                        {"peak_to_average", f.demand.peak_to_average},
                        {"mtp_acceptance", f.demand.mtp_acceptance},
                        {"slo_tpot_s", f.demand.slo_tpot_s ? *f.demand.slo_tpot_s : 0.0},
                        {"slo_ttft_s", f.demand.slo_ttft_s ? *f.demand.slo_ttft_s : 0.0},
                        {"price_basis", f.prices.basis},
                        {"amortization_years", f.prices.amortization_years},
                        {"usd_per_kwh", f.prices.usd_per_kwh},
                        {"pue", f.prices.pue},
                        {"hosting_usd_per_kw_month", f.prices.hosting_usd_per_kw_month},
                        {"source", f.source}};
    j["ranking"] = nlohmann::ordered_json::array();
    Table t{{"rank", "system", "units", "devices", "capex_usd", "annual_opex_usd",
             "usd_per_m_tokens", "utilization", "note"},
            {},
            {true, false, true, true, true, true, true, true, false}};
    int rank = 0;
    for (const SystemPlan& p : plans) {
      ++rank;
      nlohmann::ordered_json row = {{"system", p.system},
                                    {"feasible", p.feasible},
                                    {"reason", p.reason},
                                    {"units", p.units},
                                    {"devices", p.devices},
                                    {"peak_devices", p.peak_devices},
                                    {"capex_usd", p.capex_usd},
                                    {"annual_opex_usd", p.annual_opex_usd},
                                    {"annual_cost_usd", p.annual_cost_usd},
                                    {"usd_per_million_tokens", p.usd_per_million_tokens},
                                    {"utilization", p.utilization},
                                    {"power_w", p.power_w},
                                    {"floor_m2", p.floor_m2}};
      row["buckets"] = nlohmann::ordered_json::array();
      for (const BucketPlan& b : p.buckets)
        row["buckets"].push_back(
            {{"context_tokens", b.context_tokens},
             {"share", b.share},
             {"feasible", b.feasible},
             {"reason", b.reason},
             {"decode_layout", b.decode_layout},
             {"decode_batch", b.decode_batch},
             {"decode_tokens_per_s_per_device", b.decode_tokens_per_s_per_device},
             {"tpot_s", b.tpot_s},
             {"prefill_layout", b.prefill_layout},
             {"prefill_tokens_per_s_per_device", b.prefill_tokens_per_s_per_device},
             {"ttft_s", b.ttft_s}});
      j["ranking"].push_back(row);
      char buf[5][32];
      std::snprintf(buf[0], 32, "%.0f", p.capex_usd);
      std::snprintf(buf[1], 32, "%.0f", p.annual_opex_usd);
      std::snprintf(buf[2], 32, "%.4f", p.usd_per_million_tokens);
      std::snprintf(buf[3], 32, "%.2f", p.utilization);
      t.rows.push_back({std::to_string(rank), p.system, std::to_string(p.units),
                        std::to_string(p.devices), p.feasible ? buf[0] : "",
                        p.feasible ? buf[1] : "", p.feasible ? buf[2] : "",
                        p.feasible ? buf[3] : "", p.feasible ? "" : p.reason});
    }
    if (format == OutputFormat::json) {
      std::cout << j.dump(2) << '\n';
    } else if (format == OutputFormat::csv) {
      write_csv(std::cout, t);
    } else {
      std::cout << "Demand '" << f.demand.name << "' served with " << model.spec.name << ": "
                << f.demand.input_tokens_per_day << " input + " << f.demand.output_tokens_per_day
                << " output tokens/day, cache hits " << f.demand.cache_hit_rate << ", peak/average "
                << f.demand.peak_to_average << ", price basis " << f.prices.basis << "\n\n";
      write_text(std::cout, t);
      std::cout << "\nAssumptions: amortisation " << f.prices.amortization_years << " years, "
                << f.prices.usd_per_kwh << " USD/kWh, PUE " << f.prices.pue << ", hosting "
                << f.prices.hosting_usd_per_kw_month << " USD/kW-month; source: " << f.source
                << "\n";
    }
  });
}

}  // namespace v4sim::cli
