// `v4sim plan FILE.yaml`: how many of each candidate system a demand needs, and what it costs.
#include <algorithm>
#include <cmath>
#include <iostream>

#include <nlohmann/json.hpp>

#include "hardware/system.h"
#include "models/config/input_error.h"
#include "models/model_loader.h"
#include "reports/cli/assumed.h"
#include "reports/cli/commands.h"
#include "reports/cli/values.h"
#include "reports/table.h"
#include "scenarios/demand.h"
#include "sim/communication.h"
#include "sim/fleet_sizing.h"
#include "sim/layout.h"
#include "sim/plan.h"

namespace v4sim::cli {

namespace {

/// `--size-by-simulation` and the options that shape it (sim/fleet_sizing.h).
struct SimulationOptions {
  bool enabled = false, at_peak = false;
  double percentile = 99, slo_ttft_ms = 0, slo_tpot_ms = 0, max_over_mean = 4;
  std::int64_t requests = 2000, max_batch = 256;
  std::uint64_t seed = 1;
  std::string layout;
};

void add_simulation_options(CLI::App* cmd, SimulationOptions& o) {
  cmd->add_flag("--size-by-simulation", o.enabled,
                "Also size a fleet of replicas (each the system's default deployment, as `v4sim "
                "simulate` runs it) for a latency percentile by simulating the demand's Poisson "
                "arrivals, instead of covering bursts with peak_to_average: the fewest replicas, "
                "never fewer than the mean load needs, whose simulated percentile meets every "
                "target (method: sim/fleet_sizing.h)");
  // Options with their defaults shown in --help.
  auto shown = [cmd](const char* name, auto& value, const char* help) {
    cmd->add_option(name, value, help)->capture_default_str();
  };
  shown("--percentile", o.percentile, "Percentile the simulated targets apply to, in (0, 100]");
  cmd->add_option("--slo-ttft-ms", o.slo_ttft_ms,
                  "TTFT target at the percentile (default: the demand's slo.ttft_ms)");
  cmd->add_option("--slo-tpot-ms", o.slo_tpot_ms,
                  "TPOT target at the percentile (default: the demand's slo.tpot_ms)");
  shown("--sim-requests", o.requests, "Requests simulated per candidate fleet size");
  shown("--sim-max-batch", o.max_batch,
        "Sequences per dp group of a replica (simulate's --max-batch)");
  shown("--seed", o.seed, "Seed of the simulated arrivals");
  cmd->add_flag("--sim-at-peak", o.at_peak,
                "Simulate arrivals at the peak rate (mean x peak_to_average) instead of the mean "
                "rate");
  cmd->add_option("--sim-layout", o.layout,
                  "Layout of a simulated replica, e.g. tp=8,dp=1,ep=8,pp=1 (default: tp=1, dp = "
                  "the system's default ranks, ep as wide as the experts allow; with tp=1 a "
                  "prompt prefills on one rank)");
  shown("--sim-max-over-mean", o.max_over_mean,
        "Largest fleet tried, in multiples of the mean-load fleet");
}

/// Bad targets or percentile are input errors whether or not --size-by-simulation is given.
void check_simulation_options(const SimulationOptions& o) {
  for (const auto& [name, v] :
       {std::pair{"--slo-ttft-ms", o.slo_ttft_ms}, std::pair{"--slo-tpot-ms", o.slo_tpot_ms}})
    if (!(v >= 0) || !std::isfinite(v))
      throw InputError(std::string(name) + ": expected a positive number of milliseconds");
  if (!(o.percentile > 0 && o.percentile <= 100))
    throw InputError("--percentile: expected a number in (0, 100]");
}

/// The sizing options from the command line, the demand's targets where no flag overrides them.
SimulatedSizingOptions sizing_options(const SimulationOptions& o, const Demand& demand) {
  SimulatedSizingOptions so;
  so.percentile = o.percentile / 100.0;
  so.ttft_s = o.slo_ttft_ms > 0 ? std::optional<double>(o.slo_ttft_ms / 1e3) : demand.slo_ttft_s;
  so.tpot_s = o.slo_tpot_ms > 0 ? std::optional<double>(o.slo_tpot_ms / 1e3) : demand.slo_tpot_s;
  so.requests = o.requests;
  so.seed = o.seed;
  so.at_peak = o.at_peak;
  so.max_batch = o.max_batch;
  so.max_over_mean = o.max_over_mean;
  if (!o.layout.empty()) so.layout = parse_layout(o.layout, "--sim-layout");
  return so;
}

/// One ranked plan as JSON: its totals, pools and per-context buckets.
nlohmann::ordered_json plan_json(const SystemPlan& p) {
  nlohmann::ordered_json row = {{"system", p.system},
                                {"feasible", p.feasible},
                                {"reason", p.reason},
                                {"max_devices_searched", p.max_devices},
                                {"units", p.units},
                                {"devices", p.devices},
                                {"prefill_devices", p.prefill_devices},
                                {"decode_devices", p.decode_devices},
                                {"peak_devices", p.peak_devices},
                                {"capex_usd", p.capex_usd},
                                {"annual_opex_usd", p.annual_opex_usd},
                                {"annual_cost_usd", p.annual_cost_usd},
                                {"usd_per_million_tokens", p.usd_per_million_tokens},
                                {"utilization", p.utilization},
                                {"power_w", p.power_w},
                                {"floor_m2", p.floor_m2}};
  row["pools"] = nlohmann::ordered_json::array();
  for (const PoolPlan& pool : p.pools)
    row["pools"].push_back({{"phase", pool.phase == Phase::prefill ? "prefill" : "decode"},
                            {"instance_devices", pool.instance_devices},
                            {"instances", pool.instances},
                            {"nodes", pool.nodes},
                            {"peak_devices", pool.peak_devices},
                            {"context_tokens", pool.contexts}});
  // Infinity (nothing fits) is not JSON: null.
  auto finite = [](double v) {
    return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
  };
  row["buckets"] = nlohmann::ordered_json::array();
  for (const BucketPlan& b : p.buckets)
    row["buckets"].push_back(
        {{"context_tokens", b.context_tokens},
         {"share", b.share},
         {"feasible", b.feasible},
         {"reason", b.reason},
         {"decode_devices", b.decode_devices},
         {"decode_layout", b.decode_layout},
         {"decode_batch", b.decode_batch},
         {"decode_tokens_per_s_per_device", b.decode_tokens_per_s_per_device},
         {"tpot_s", b.tpot_s},
         {"prefill_devices", b.prefill_devices},
         {"prefill_layout", b.prefill_layout},
         {"prefill_batch", b.prefill_batch},
         {"prefill_tokens_per_s_per_device", b.prefill_tokens_per_s_per_device},
         {"ttft_s", b.ttft_s},
         {"kv_transfer_s", b.kv_transfer_s},
         {"decode_peak_devices", b.decode_peak_devices},
         {"prefill_peak_devices", b.prefill_peak_devices},
         {"fits", b.fits},
         {"fastest_tpot_s", finite(b.fastest_tpot_s)},
         {"fastest_ttft_s", finite(b.fastest_ttft_s)}});
  return row;
}

/// A fleet sized by simulation as JSON, with the options it was sized under.
nlohmann::ordered_json fleet_json(const SimulatedFleet& x, const SimulatedSizingOptions& so) {
  return {{"feasible", x.feasible},
          {"reason", x.reason},
          {"percentile", so.percentile},
          {"slo_ttft_s", so.ttft_s ? *so.ttft_s : 0.0},
          {"slo_tpot_s", so.tpot_s ? *so.tpot_s : 0.0},
          {"at_peak", so.at_peak},
          {"replica_nodes", x.replica_nodes},
          {"replica_devices", x.replica_devices},
          {"replica_layout", x.replica_layout},
          {"request_rate_per_s", x.request_rate_per_s},
          {"mean_input_tokens_per_request", x.mean_input_tokens_per_request},
          {"output_tokens_per_request", x.output_tokens_per_request},
          {"mean_load_replicas", x.mean_load_replicas},
          {"replicas", x.replicas},
          {"devices", x.devices},
          {"units", x.units},
          {"ttft_quantile_s", x.ttft_quantile_s},
          {"tpot_quantile_s", x.tpot_quantile_s},
          {"slo_attainment", x.slo_attainment},
          {"simulations", x.simulations}};
}

}  // namespace

void setup_plan(CLI::App& app) {
  struct Options {
    std::string file, format = "table";
    std::int64_t max_devices = 0;
    SimulationOptions sim;
  };
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("plan", "Size and rank hardware purchases for a demand file");
  cmd->add_option("file", opt->file, "Demand YAML (see scenarios/*demand*.yaml)")->required();
  cmd->add_option("--format", opt->format, "table | json | csv")->capture_default_str();
  cmd->add_option("--max-devices", opt->max_devices,
                  "Largest prefill or decode instance searched, in ranks (slices of a node, then "
                  "whole nodes in powers of two); default: 256 or one node, whichever is larger");
  add_simulation_options(cmd, opt->sim);
  cmd->callback([opt] {
    const OutputFormat format = parse_output_format(opt->format);
    if (opt->max_devices < 0) throw InputError("--max-devices must be positive");
    check_simulation_options(opt->sim);
    const DemandFile f = load_demand(opt->file);
    const PreparedModel model = prepare(load_model(f.model));
    std::vector<SystemSpec> systems;
    for (const std::string& name : f.candidates) systems.push_back(load_system(name));
    const std::vector<SystemPlan> plans =
        plan_purchase(model, f.demand, systems, f.prices, {}, opt->max_devices);

    // Sizing by simulation: one fleet per system, independent of the peak-factor plan except for
    // its mean-load devices (the lower bound).
    std::vector<SimulatedFleet> fleets;
    SimulatedSizingOptions so;
    if (opt->sim.enabled) {
      so = sizing_options(opt->sim, f.demand);
      for (const SystemPlan& p : plans) {
        const SystemSpec* s = nullptr;
        for (const SystemSpec& c : systems)
          if (c.name == p.system) s = &c;
        SimulatedFleet fleet;
        if (!p.feasible) {
          fleet.reason = "no mean-load plan: " + p.reason;
          fleet.why = p.why;
        } else {
          const int nodes =
              so.layout ? static_cast<int>((so.layout->devices() + s->devices_per_node - 1) /
                                           s->devices_per_node)
                        : s->default_nodes;
          CommPlanner planner(*s, std::clamp(nodes, s->min_nodes, s->max_nodes));
          fleet = size_fleet_by_simulation(model, *s, f.demand, p.average_devices, so, planner);
        }
        fleets.push_back(fleet);
      }
    }

    nlohmann::ordered_json j;
    j["demand"] = f.demand.name;
    j["model"] = model.spec.name;
    add_assumed(j, model.spec);  // a config.json import: the defaults it took
    j["assumptions"] = {{"input_tokens_per_day", f.demand.input_tokens_per_day},
                        {"output_tokens_per_day", f.demand.output_tokens_per_day},
                        {"cache_hit_rate", f.demand.cache_hit_rate},
                        {"peak_to_average", f.demand.peak_to_average},
                        {"mtp_acceptance", f.demand.mtp_acceptance},
                        {"slo_tpot_s", f.demand.slo_tpot_s ? *f.demand.slo_tpot_s : 0.0},
                        {"slo_ttft_s", f.demand.slo_ttft_s ? *f.demand.slo_ttft_s : 0.0},
                        {"price_basis", std::string(to_string(f.prices.basis))},
                        {"amortization_years", f.prices.amortization_years},
                        {"usd_per_kwh", f.prices.usd_per_kwh},
                        {"pue", f.prices.pue},
                        {"hosting_usd_per_kw_month", f.prices.hosting_usd_per_kw_month},
                        {"source", f.source}};
    j["ranking"] = nlohmann::ordered_json::array();
    Table t{{"rank", "system", "units", "devices", "prefill_instances", "decode_instances",
             "capex_usd", "annual_opex_usd", "usd_per_m_tokens", "utilization", "note"},
            {},
            {true, false, true, true, false, false, true, true, true, true, false}};
    int rank = 0;
    for (const SystemPlan& p : plans) {
      ++rank;
      nlohmann::ordered_json row = plan_json(p);
      if (opt->sim.enabled)
        row["simulated_fleet"] = fleet_json(fleets[static_cast<std::size_t>(rank - 1)], so);
      j["ranking"].push_back(row);
      char buf[5][32];
      std::snprintf(buf[0], 32, "%.0f", p.capex_usd);
      std::snprintf(buf[1], 32, "%.0f", p.annual_opex_usd);
      std::snprintf(buf[2], 32, "%.4f", p.usd_per_million_tokens);
      std::snprintf(buf[3], 32, "%.2f", p.utilization);
      auto instances = [&](Phase phase) {
        std::string out;
        for (const PoolPlan& pool : p.pools)
          if (pool.phase == phase)
            out += (out.empty() ? "" : " + ") + std::to_string(pool.instances) + " x " +
                   std::to_string(pool.instance_devices);
        return out;
      };
      t.rows.push_back({std::to_string(rank), p.system, std::to_string(p.units),
                        std::to_string(p.devices), instances(Phase::prefill),
                        instances(Phase::decode), p.feasible ? buf[0] : "",
                        p.feasible ? buf[1] : "", p.feasible ? buf[2] : "",
                        p.feasible ? buf[3] : "", p.feasible ? "" : p.reason});
    }
    if (format == OutputFormat::json) {
      std::cout << j.dump(2) << '\n';
    } else if (format == OutputFormat::csv) {
      write_csv(std::cout, t);
      print_assumed(std::cerr, model.spec);  // keeps the CSV a table
    } else {
      std::cout << "Demand '" << f.demand.name << "' served with " << model.spec.name << ": "
                << f.demand.input_tokens_per_day << " input + " << f.demand.output_tokens_per_day
                << " output tokens/day, cache hits " << f.demand.cache_hit_rate << ", peak/average "
                << f.demand.peak_to_average << ", price basis " << to_string(f.prices.basis)
                << "\n\n";
      write_text(std::cout, t);
      std::cout
          << "\nAssumptions: amortisation " << f.prices.amortization_years << " years, "
          << f.prices.usd_per_kwh << " USD/kWh, PUE " << f.prices.pue << ", hosting "
          << f.prices.hosting_usd_per_kw_month << " USD/kW-month; source: " << f.source
          << "\nInstances: prefill and decode pools (count x ranks), each instance the "
             "cheapest meeting its target among slices of a node and whole nodes up to "
          << (plans.empty() ? 0 : plans.front().max_devices)
          << " ranks (as `v4sim optimize` searches); units are whole nodes as sold, instances "
             "smaller than a node sharing nodes across pools.\n";
      if (opt->sim.enabled) {
        Table st{{"system", "replica", "mean_load_replicas", "replicas", "devices", "units",
                  "ttft_p", "tpot_p", "slo_attainment", "note"},
                 {},
                 {false, false, true, true, true, true, true, true, true, false}};
        for (std::size_t i = 0; i < plans.size(); ++i) {
          const SimulatedFleet& x = fleets[i];
          char b[3][32];
          std::snprintf(b[0], 32, "%.1f", x.ttft_quantile_s * 1e3);
          std::snprintf(b[1], 32, "%.1f", x.tpot_quantile_s * 1e3);
          std::snprintf(b[2], 32, "%.4f", x.slo_attainment);
          const bool ran = x.simulations > 0;
          st.rows.push_back({plans[i].system,
                             x.replica_devices > 0
                                 ? std::to_string(x.replica_devices) + " ranks, " + x.replica_layout
                                 : "",
                             ran ? std::to_string(x.mean_load_replicas) : "",
                             x.feasible ? std::to_string(x.replicas) : "",
                             x.feasible ? std::to_string(x.devices) : "",
                             x.feasible ? std::to_string(x.units) : "", ran ? b[0] : "",
                             ran ? b[1] : "", ran ? b[2] : "", x.feasible ? "" : x.reason});
        }
        char pct[32];
        std::snprintf(pct, sizeof pct, "%g", opt->sim.percentile);
        std::cout << "\nSized by simulation (sim/fleet_sizing.h): replicas of the system's "
                     "default deployment, Poisson arrivals at the "
                  << (so.at_peak ? "peak" : "mean") << " request rate, p" << pct
                  << " latencies (ms) against the targets; never fewer replicas than the mean "
                     "load needs.\n\n";
        write_text(std::cout, st);
      }
      print_assumed(std::cout, model.spec);
    }
  });
}

}  // namespace v4sim::cli
