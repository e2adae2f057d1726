// `v4sim hardware [NAME]`: the accelerator and system catalogues, or one entry in full.
#include <cmath>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "hardware/accelerator.h"
#include "hardware/system.h"
#include "models/config/input_error.h"
#include "reports/cli/commands.h"
#include "reports/cli/values.h"
#include "reports/table.h"

namespace v4sim::cli {
namespace {

using Json = nlohmann::ordered_json;

/// 4 significant digits; whole numbers from 10,000 up; "M" from a million (prices, power).
std::string spec_value(double v) {
  char buf[64];
  if (std::fabs(v) >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.4g M", v / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, std::fabs(v) >= 1e4 ? "%.0f" : "%.4g", v);
  }
  return buf;
}

/// "752" or "752 (708-800)".
std::string range_text(const Range& r, double scale = 1.0) {
  std::string s = spec_value(r.nominal * scale);
  if (!r.is_exact()) s += " (" + spec_value(r.low * scale) + "-" + spec_value(r.high * scale) + ")";
  return s;
}

Json range_json(const Range& r) {
  if (r.is_exact()) return r.nominal;
  return Json{{"nominal", r.nominal}, {"low", r.low}, {"high", r.high}};
}

Json accelerator_json(const Accelerator& a) {
  Json peaks = Json::object();
  for (ComputePath p : kAllComputePaths)
    if (a.supports(p))
      peaks[std::string(to_string(p))] = range_json(*a.peak_tflops[static_cast<int>(p)]);
  Json paths = Json::object();
  for (Precision p : kAllPrecisions)
    paths[std::string(to_string(p))] = to_string(a.path_for[static_cast<int>(p)]);
  return Json{{"name", a.name},
              {"display_name", a.display_name},
              {"vendor", a.vendor},
              {"rank_unit", a.rank_unit},
              {"dies_per_package", a.dies_per_package},
              {"peak_tflops", peaks},
              {"executes_as", paths},
              {"hbm_capacity_gb", range_json(a.hbm_capacity_gb)},
              {"hbm_bandwidth_tb_per_s", range_json(a.hbm_bandwidth_tb_per_s)},
              {"last_level_cache_mb", range_json(a.last_level_cache_mb)},
              {"scale_up_gb_per_s", range_json(a.scale_up_gb_per_s)},
              {"scale_up_usable_fraction", a.scale_up_usable_fraction},
              {"scale_out_gb_per_s", range_json(a.scale_out_gb_per_s)},
              {"scale_out_usable_fraction", a.scale_out_usable_fraction},
              {"die_to_die_gb_per_s", a.die_to_die_gb_per_s},
              {"tdp_w", range_json(a.tdp_w)},
              {"launch_year", a.launch_year},
              {"purchase_price_usd", range_json(a.purchase_price_usd)},
              {"rental_usd_per_hour", range_json(a.rental_usd_per_hour)},
              {"compute_max_fraction", a.compute_efficiency.max_fraction},
              {"compute_ramp_s", a.compute_efficiency.ramp_s},
              {"memory_fraction", a.memory_efficiency},
              {"launch_overhead_s", a.launch_overhead_s},
              {"file", a.file}};
}

void print_accelerator(const Accelerator& a) {
  const bool multi = a.dies_per_package > 1;
  Table t{{"field", multi ? "per rank (die)" : "per rank"}, {}, {false, false, false}};
  if (multi) t.columns.push_back("per package");
  auto row = [&](const std::string& field, const Range& r, bool per_package = true) {
    t.rows.push_back({field, range_text(r)});
    if (multi) t.rows.back().push_back(per_package ? range_text(r, a.dies_per_package) : "");
  };
  t.rows.push_back({"name", a.name + " (" + a.display_name + ")"});
  t.rows.push_back(
      {"rank", a.rank_unit + ", " + std::to_string(a.dies_per_package) + " per package"});
  for (ComputePath p : kAllComputePaths)
    if (a.supports(p))
      row("peak_tflops." + std::string(to_string(p)), *a.peak_tflops[static_cast<int>(p)]);
  std::string fallbacks;
  for (Precision p : kAllPrecisions) {
    const ComputePath path = a.path_for[static_cast<int>(p)];
    if (path == native_path(p)) continue;
    if (!fallbacks.empty()) fallbacks += ", ";
    fallbacks += std::string(to_string(p)) + " as " + std::string(to_string(path));
  }
  t.rows.push_back({"executes_as", fallbacks.empty() ? "all native" : fallbacks});
  row("hbm_capacity_gb", a.hbm_capacity_gb);
  row("hbm_bandwidth_tb_per_s", a.hbm_bandwidth_tb_per_s);
  row("last_level_cache_mb", a.last_level_cache_mb);
  row("scale_up_gb_per_s (per direction)", a.scale_up_gb_per_s);
  t.rows.push_back({"scale_up_usable_fraction", spec_value(a.scale_up_usable_fraction)});
  row("scale_out_gb_per_s (per direction)", a.scale_out_gb_per_s);
  t.rows.push_back({"scale_out_usable_fraction", spec_value(a.scale_out_usable_fraction)});
  if (multi)
    t.rows.push_back({"die_to_die_gb_per_s (per direction)", spec_value(a.die_to_die_gb_per_s)});
  row("tdp_w", a.tdp_w);
  t.rows.push_back({"launch_year", std::to_string(a.launch_year)});
  row("purchase_price_usd", a.purchase_price_usd);
  row("rental_usd_per_hour", a.rental_usd_per_hour);
  t.rows.push_back(
      {"compute_efficiency", "max " + spec_value(a.compute_efficiency.max_fraction) + ", ramp " +
                                 spec_value(a.compute_efficiency.ramp_s * 1e6) + " us"});
  t.rows.push_back({"memory_efficiency", spec_value(a.memory_efficiency)});
  t.rows.push_back({"launch_overhead_s", spec_value(a.launch_overhead_s)});
  t.rows.push_back({"file", a.file});
  write_text(std::cout, t);
}

Json totals_json(const SystemTotals& t) {
  Json peaks = Json::object();
  for (ComputePath p : kAllComputePaths)
    if (t.peak_pflops[static_cast<int>(p)] > 0)
      peaks[std::string(to_string(p))] = t.peak_pflops[static_cast<int>(p)];
  return Json{{"nodes", t.nodes},
              {"devices", t.devices},
              {"packages", t.packages},
              {"power_w", range_json(t.power_w)},
              {"price_usd", range_json(t.price_usd)},
              {"floor_m2", range_json(t.floor_m2)},
              {"hbm_capacity_gb", t.hbm_capacity_gb},
              {"hbm_bandwidth_tb_per_s", t.hbm_bandwidth_tb_per_s},
              {"peak_pflops", peaks}};
}

Json links_json(const std::vector<LinkGroup>& links) {
  Json out = Json::array();
  for (const LinkGroup& l : links)
    out.push_back({{"name", l.name},
                   {"between", {l.from, l.to}},
                   {"pattern", to_string(l.pattern)},
                   {"planes", l.planes},
                   {"gb_per_s", l.gb_per_s},
                   {"latency_s", l.latency_s},
                   {"tier", to_string(l.tier)}});
  return out;
}

Json system_json(const SystemSpec& s) {
  Json sw = Json::object();
  for (const auto& g : s.node_switches) sw[g.name] = g.count;
  Json fsw = Json::object();
  for (const auto& g : s.fabric_switches) fsw[g.name] = g.count;
  Json out{{"name", s.name},
           {"display_name", s.display_name},
           {"accelerator", s.accelerator.name},
           {"devices_per_node", s.devices_per_node},
           {"node_switches", sw},
           {"node_links", links_json(s.node_links)},
           {"fabric_switches", fsw},
           {"fabric_links", links_json(s.fabric_links)},
           {"nodes", {{"default", s.default_nodes}, {"min", s.min_nodes}, {"max", s.max_nodes}}},
           {"per_node",
            {{"power_w", range_json(s.per_node.power_w)},
             {"price_usd", range_json(s.per_node.price_usd)},
             {"floor_m2", range_json(s.per_node.floor_m2)}}}};
  if (s.scale_out)
    out["scale_out"] = {{"gb_per_s", s.scale_out->gb_per_s},
                        {"latency_s", s.scale_out->latency_s},
                        {"price_usd_per_device", range_json(s.scale_out->price_usd_per_device)},
                        {"power_w_per_device", range_json(s.scale_out->power_w_per_device)}};
  out["totals"] = totals_json(system_totals(s, s.default_nodes));
  out["file"] = s.file;
  return out;
}

void print_system(const SystemSpec& s) {
  const SystemTotals t = system_totals(s, s.default_nodes);
  Table tab{{"field", "value"}, {}, {false, false}};
  auto row = [&](const std::string& f, const std::string& v) { tab.rows.push_back({f, v}); };
  row("name", s.name + " (" + s.display_name + ")");
  row("accelerator", s.accelerator.name + " (rank = " + s.accelerator.rank_unit + ")");
  row("devices per node", std::to_string(s.devices_per_node));
  for (const auto& g : s.node_switches) row("node switches: " + g.name, std::to_string(g.count));
  for (const auto& l : s.node_links)
    row("node link: " + l.name,
        "[" + l.from + ", " + l.to + "] " + std::string(to_string(l.pattern)) + ", " +
            spec_value(l.gb_per_s) + " GB/s per direction, " + spec_value(l.latency_s * 1e6) +
            " us, " + std::string(to_string(l.tier)));
  for (const auto& g : s.fabric_switches)
    row("fabric switches: " + g.name, std::to_string(g.count));
  for (const auto& l : s.fabric_links)
    row("fabric link: " + l.name,
        "[" + l.from + ", " + l.to + "] " + std::string(to_string(l.pattern)) +
            (l.pattern == LinkPattern::planes ? " x" + std::to_string(l.planes) : "") + ", " +
            spec_value(l.gb_per_s) + " GB/s per direction, " + spec_value(l.latency_s * 1e6) +
            " us");
  if (s.scale_out)
    row("scale-out", spec_value(s.scale_out->gb_per_s) + " GB/s per device per direction, " +
                         spec_value(s.scale_out->latency_s * 1e6) + " us per hop");
  row("nodes (default, min-max)", std::to_string(s.default_nodes) + ", " +
                                      std::to_string(s.min_nodes) + "-" +
                                      std::to_string(s.max_nodes));
  row("devices / packages", std::to_string(t.devices) + " / " + std::to_string(t.packages));
  row("power_w", range_text(t.power_w));
  row("price_usd", range_text(t.price_usd));
  row("floor_m2", range_text(t.floor_m2));
  row("hbm_capacity_gb", spec_value(t.hbm_capacity_gb));
  row("hbm_bandwidth_tb_per_s", spec_value(t.hbm_bandwidth_tb_per_s));
  for (ComputePath p : kAllComputePaths)
    if (t.peak_pflops[static_cast<int>(p)] > 0)
      row("peak_pflops." + std::string(to_string(p)),
          spec_value(t.peak_pflops[static_cast<int>(p)]));
  row("file", s.file);
  write_text(std::cout, tab);
}

void list_all(bool json) {
  Json out{{"accelerators", Json::array()}, {"systems", Json::array()}};
  Table acc{
      {"accelerator", "rank", "bf16_tflops", "fp8_tflops", "fp4_tflops", "int8_tops", "hbm_gb",
       "hbm_tb_per_s", "scale_up_gb_per_s", "tdp_w", "year", "price_usd", "usd_per_hour"},
      {},
      {false, false, true, true, true, true, true, true, true, true, true, true, true}};
  auto peak = [](const Accelerator& a, ComputePath p) {
    return a.supports(p) ? spec_value(a.peak_tflops[static_cast<int>(p)]->nominal)
                         : std::string("-");
  };
  for (const std::string& name : list_accelerators()) {
    const Accelerator a = load_accelerator(name);
    out["accelerators"].push_back(accelerator_json(a));
    acc.rows.push_back({a.name, a.rank_unit, peak(a, ComputePath::bf16), peak(a, ComputePath::fp8),
                        peak(a, ComputePath::fp4), peak(a, ComputePath::int8),
                        spec_value(a.hbm_capacity_gb.nominal),
                        spec_value(a.hbm_bandwidth_tb_per_s.nominal),
                        spec_value(a.scale_up_gb_per_s.nominal), spec_value(a.tdp_w.nominal),
                        std::to_string(a.launch_year), spec_value(a.purchase_price_usd.nominal),
                        spec_value(a.rental_usd_per_hour.nominal)});
  }
  Table sys{{"system", "accelerator", "devices", "nodes", "power_kw", "price_usd", "floor_m2"},
            {},
            {false, false, true, true, true, true, true}};
  for (const std::string& name : list_systems()) {
    const SystemSpec s = load_system(name);
    const SystemTotals t = system_totals(s, s.default_nodes);
    out["systems"].push_back(system_json(s));
    sys.rows.push_back({s.name, s.accelerator.name, std::to_string(t.devices),
                        std::to_string(t.nodes), spec_value(t.power_w.nominal / 1e3),
                        spec_value(t.price_usd.nominal), spec_value(t.floor_m2.nominal)});
  }
  if (json) {
    std::cout << out.dump(2) << '\n';
    return;
  }
  std::cout << "Accelerators (per rank; nominal dense peaks; links per direction)\n";
  write_text(std::cout, acc);
  std::cout << "\nSystems (default node count)\n";
  write_text(std::cout, sys);
}

}  // namespace

void setup_hardware(CLI::App& app) {
  struct Options {
    std::string name;
    std::string format = "table";
  };
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "hardware", "List the accelerator and system catalogues, or print one entry (name or path)");
  cmd->add_option("name", opt->name, "Accelerator or system name (or a YAML path)");
  cmd->add_option("--format", opt->format, "table | json")->capture_default_str();
  cmd->callback([opt] {
    const OutputFormat format = parse_output_format(opt->format);
    if (format == OutputFormat::csv) throw InputError("--format 'csv': expected table or json");
    const bool json = format == OutputFormat::json;
    if (opt->name.empty()) {
      list_all(json);
      return;
    }
    const bool system = find_hardware(opt->name) == HardwareKind::system;
    if (system) {
      const SystemSpec s = load_system(opt->name);
      if (json)
        std::cout << system_json(s).dump(2) << '\n';
      else
        print_system(s);
    } else {
      const Accelerator a = load_accelerator(opt->name);
      if (json)
        std::cout << accelerator_json(a).dump(2) << '\n';
      else
        print_accelerator(a);
    }
  });
}

}  // namespace v4sim::cli
