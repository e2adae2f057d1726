// `v4sim topology NAME`: a system's graph - counts, per-device injection and bisection bandwidth,
// optionally written as Graphviz.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "hardware/system.h"
#include "hardware/topology.h"
#include "models/config/input_error.h"
#include "reports/cli/commands.h"
#include "reports/cli/values.h"
#include "reports/table.h"

namespace v4sim::cli {
namespace {

std::string four_digits(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, std::fabs(v) >= 1e4 ? "%.0f" : "%.4g", v);
  return buf;
}

}  // namespace

void setup_topology(CLI::App& app) {
  struct Options {
    std::string name;
    std::string dot;
    int nodes = 0;
    std::string format = "table";
  };
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "topology", "Build a system's topology graph: counts, injection and bisection bandwidth");
  cmd->add_option("name", opt->name, "System name or YAML path")->required();
  CLI::Option* nodes_option =
      cmd->add_option("--nodes", opt->nodes, "Number of nodes (default: the system's default)");
  cmd->add_option("--dot", opt->dot, "Write the graph as Graphviz to this file");
  cmd->add_option("--format", opt->format, "table | json")->capture_default_str();
  cmd->callback([opt, nodes_option] {
    const OutputFormat format = parse_output_format(opt->format);
    if (format == OutputFormat::csv) throw InputError("--format 'csv': expected table or json");
    if (find_hardware(opt->name) != HardwareKind::system)
      throw InputError(std::string("'").append(opt->name).append(
          "' is an accelerator; topology needs a system (see 'v4sim hardware')"));
    const SystemSpec system = load_system(opt->name);
    const bool given = nodes_option->count() > 0;
    if (given && opt->nodes < 1) {
      std::string msg("--nodes ");
      msg.append(std::to_string(opt->nodes)).append(": expected a positive node count");
      throw InputError(msg);
    }
    const int nodes = given ? opt->nodes : system.default_nodes;
    const Topology topo = build_topology(expand(system, nodes));
    const TopologySummary s = summarize(topo);
    if (!opt->dot.empty()) {
      std::ofstream out(opt->dot);
      if (!out) throw InputError("--dot '" + opt->dot + "': cannot open for writing");
      write_dot(topo, out);
      if (!out) throw InputError("--dot '" + opt->dot + "': write failed");
    }
    if (format == OutputFormat::json) {
      nlohmann::ordered_json j{{"system", system.name},
                               {"nodes", s.nodes},
                               {"devices", s.devices},
                               {"switches", s.switches},
                               {"links", s.links},
                               {"scale_up_domains", s.scale_up_domains},
                               {"largest_scale_up_domain", s.largest_scale_up_domain},
                               {"scale_up_injection_gb_per_s", s.scale_up_injection_gb_per_s},
                               {"scale_out_injection_gb_per_s", s.scale_out_injection_gb_per_s},
                               {"die_to_die_gb_per_s", s.die_to_die_gb_per_s},
                               {"bisection_gb_per_s", s.bisection_gb_per_s},
                               {"scale_up_bisection_gb_per_s", s.scale_up_bisection_gb_per_s},
                               {"max_scale_up_hops", s.max_scale_up_hops}};
      if (!opt->dot.empty()) j["dot_file"] = opt->dot;
      std::cout << j.dump(2) << '\n';
      return;
    }
    Table t{{"quantity", "value"}, {}, {false, true}};
    auto row = [&](const std::string& q, const std::string& v) { t.rows.push_back({q, v}); };
    row("system", system.name);
    row("nodes", std::to_string(s.nodes));
    row("devices (" + system.accelerator.rank_unit + "s)", std::to_string(s.devices));
    row("switches", std::to_string(s.switches));
    row("links (full duplex)", std::to_string(s.links));
    row("scale-up domains (largest, devices)", std::to_string(s.scale_up_domains) + " (" +
                                                   std::to_string(s.largest_scale_up_domain) + ")");
    row("max scale-up hops between devices", std::to_string(s.max_scale_up_hops));
    row("scale-up injection per device, GB/s per direction",
        four_digits(s.scale_up_injection_gb_per_s));
    row("scale-out injection per device, GB/s per direction",
        four_digits(s.scale_out_injection_gb_per_s));
    if (s.die_to_die_gb_per_s > 0)
      row("die-to-die per device, GB/s per direction", four_digits(s.die_to_die_gb_per_s));
    row("bisection, all links, GB/s per direction", four_digits(s.bisection_gb_per_s));
    row("bisection, scale-up links, GB/s per direction",
        four_digits(s.scale_up_bisection_gb_per_s));
    write_text(std::cout, t);
    std::cout << "(bisection = max flow from the first half of the devices to the second half, "
                 "node order; nominal link rates)\n";
    if (!opt->dot.empty()) std::cout << "wrote " << opt->dot << '\n';
  });
}

}  // namespace v4sim::cli
