// `v4sim optimize`: search layouts and batches; print the Pareto frontier and the cheapest point
// that meets the SLO.
#include <chrono>
#include <iostream>

#include <nlohmann/json.hpp>

#include "reports/cli/commands.h"
#include "reports/cli/serving_options.h"
#include "reports/cli/values.h"
#include "reports/table.h"
#include "sim/optimize.h"

namespace v4sim::cli {

void setup_optimize(CLI::App& app) {
  auto opt = std::make_shared<ServingOptions>();
  CLI::App* cmd = app.add_subcommand(
      "optimize",
      "Search layouts and batch sizes: Pareto frontier and the cheapest point meeting the SLO");
  add_serving_options(cmd, *opt, false);
  cmd->callback([opt] {
    const OutputFormat format = parse_output_format(opt->format);
    const ServingRequest req = resolve(*opt);
    const DeviceHour hour = device_hour(req.system, req.nodes, req.prices);
    const auto start = std::chrono::steady_clock::now();
    const OptimizeResult o =
        optimize(req.model, req.system, req.nodes, req.config, req.workload, hour);
    const double search_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    auto row = [&](std::size_t i) {
      return serving_json(req.model.spec, req.system, req.workload, req.config, o.points[i].result,
                          hour);
    };
    if (format == OutputFormat::json) {
      nlohmann::ordered_json j;
      j["model"] = req.model.spec.name;
      j["system"] = req.system.name;
      j["layouts_tried"] = o.layouts_tried;
      j["points_evaluated"] = o.points.size();
      // No search time here: JSON output is data, byte-identical across runs (issue 7); the
      // table's header line still reports it.
      j["frontier"] = nlohmann::ordered_json::array();
      for (std::size_t i : o.frontier) j["frontier"].push_back(row(i));
      j["cheapest_meeting_slo"] = o.cheapest ? row(*o.cheapest) : nlohmann::ordered_json(nullptr);
      std::cout << j.dump(2) << '\n';
      return;
    }
    Table t{{"layout", "batch", "tokens_per_s_per_device", "tokens_per_s_per_user", "tpot_ms",
             "ttft_s", "usd_per_m_tokens", "meets_slo"},
            {},
            {false, true, true, true, true, true, true, false}};
    auto add = [&](std::size_t i, const std::string& mark) {
      const ServingResult& r = o.points[i].result;
      char buf[7][32];
      std::snprintf(buf[0], 32, "%.1f", r.throughput_tokens_per_s_per_device);
      std::snprintf(buf[1], 32, "%.1f", r.tokens_per_s_per_user);
      std::snprintf(buf[2], 32, "%.2f", r.tpot_s * 1e3);
      std::snprintf(buf[3], 32, "%.3f", r.ttft_s);
      std::snprintf(buf[4], 32, "%.4f", o.points[i].usd_per_million_tokens);
      t.rows.push_back({to_string(r.layout) + mark, std::to_string(r.batch), buf[0], buf[1], buf[2],
                        buf[3], buf[4], o.points[i].meets_slo ? "yes" : "no"});
    };
    for (std::size_t i : o.frontier) add(i, o.cheapest && *o.cheapest == i ? " *" : "");
    if (format == OutputFormat::csv) {
      write_csv(std::cout, t);
      return;
    }
    std::cout << "Pareto frontier of " << req.model.spec.name << " on " << req.system.name << " ("
              << o.layouts_tried << " layouts, " << o.points.size() << " points, " << search_s
              << " s); $/M tokens at " << hour.usd_per_hour << " USD per rank-hour (" << hour.basis
              << ")\n\n";
    write_text(std::cout, t);
    if (o.cheapest) {
      std::cout << "\ncheapest point meeting the SLO: ";
      if (std::find(o.frontier.begin(), o.frontier.end(), *o.cheapest) == o.frontier.end()) {
        t.rows.clear();
        add(*o.cheapest, "");
        std::cout << "\n";
        write_text(std::cout, t);
      } else {
        std::cout << "the row marked *\n";
      }
    } else {
      std::cout << "\nno point meets the SLO\n";
    }
  });
}

}  // namespace v4sim::cli
