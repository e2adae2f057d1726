// `v4sim optimize`: search layouts and batches; print the Pareto frontier and the cheapest point
// that meets the SLO.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>

#include "models/config/input_error.h"
#include "reports/cli/assumed.h"
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
  auto max_devices = std::make_shared<std::int64_t>(0);
  cmd->add_option("--max-devices", *max_devices,
                  "Search deployments of up to this many ranks (slices of a node, then whole "
                  "nodes in powers of two); default: 256 or one node, whichever is larger. "
                  "--devices fixes the size instead");
  cmd->callback([opt, max_devices] {
    const OutputFormat format = parse_output_format(opt->format);
    const ServingRequest req = resolve(*opt);
    const DeviceHour hour = device_hour(req.system, req.nodes, req.prices);
    if (*max_devices < 0) throw InputError("--max-devices must be positive");
    if (opt->devices != 0 && *max_devices != 0)
      throw InputError("--devices fixes the deployment size; --max-devices searches it: give one");
    const auto start = std::chrono::steady_clock::now();
    OptimizeResult o;
    std::vector<std::int64_t> sizes;
    std::optional<std::size_t> nearest;
    if (opt->devices != 0 || opt->prefill_devices != 0) {
      o = optimize(req.model, req.system, req.nodes, req.config, req.workload, hour);
    } else {
      const std::int64_t cap = *max_devices > 0 ? *max_devices : default_max_devices(req.system);
      DeploymentSearch d =
          search_deployments(req.model, req.system, req.config, req.workload, hour, cap);
      o = std::move(d.result);
      sizes = std::move(d.device_counts);
      nearest = d.nearest;
    }
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
      add_assumed(j, req.model.spec);  // a config.json import: the defaults it took
      j["device_counts_tried"] = sizes;
      j["layouts_tried"] = o.layouts_tried;
      j["points_evaluated"] = o.points.size();
      // No search time here: JSON output is data, byte-identical across runs (issue 7); the
      // table's header line still reports it.
      j["frontier"] = nlohmann::ordered_json::array();
      for (std::size_t i : o.frontier) j["frontier"].push_back(row(i));
      j["cheapest_meeting_slo"] = o.cheapest ? row(*o.cheapest) : nlohmann::ordered_json(nullptr);
      // When nothing meets the SLOs: the point that comes closest (lowest TPOT, or TTFT).
      j["nearest_to_slo"] = nearest ? row(*nearest) : nlohmann::ordered_json(nullptr);
      std::cout << j.dump(2) << '\n';
      return;
    }
    Table t{{"devices", "layout", "batch", "tokens_per_s_per_device", "tokens_per_s_per_user",
             "tpot_ms", "ttft_s", "usd_per_m_tokens", "meets_slo"},
            {},
            {true, false, true, true, true, true, true, true, false}};
    auto add = [&](std::size_t i, const std::string& mark) {
      const ServingResult& r = o.points[i].result;
      char buf[7][32];
      std::snprintf(buf[0], 32, "%.1f", r.throughput_tokens_per_s_per_device);
      std::snprintf(buf[1], 32, "%.1f", r.tokens_per_s_per_user);
      std::snprintf(buf[2], 32, "%.2f", r.tpot_s * 1e3);
      std::snprintf(buf[3], 32, "%.3f", r.ttft_s);
      std::snprintf(buf[4], 32, "%.4f", o.points[i].usd_per_million_tokens);
      t.rows.push_back({std::to_string(r.devices), to_string(r.layout) + mark,
                        std::to_string(r.batch), buf[0], buf[1], buf[2], buf[3], buf[4],
                        o.points[i].meets_slo ? "yes" : "no"});
    };
    for (std::size_t i : o.frontier) add(i, o.cheapest && *o.cheapest == i ? " *" : "");
    if (format == OutputFormat::csv) {
      write_csv(std::cout, t);
      print_assumed(std::cerr, req.model.spec);  // keeps the CSV a table
      return;
    }
    std::string searched;
    for (std::int64_t d : sizes) searched += (searched.empty() ? "" : ", ") + std::to_string(d);
    std::cout << "Pareto frontier of " << req.model.spec.name << " on " << req.system.name
              << (sizes.empty() ? "" : " over " + searched + " ranks") << " (" << o.layouts_tried
              << " layouts, " << o.points.size() << " points, " << search_s << " s); $/M tokens at "
              << hour.usd_per_hour << " USD per rank-hour (" << to_string(hour.basis) << ")\n\n";
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
    } else if (nearest) {
      const ServingResult& r = o.points[*nearest].result;
      std::printf(
          "\nno point meets the SLO; the closest is %lld ranks, %s, batch %lld: TPOT %.1f "
          "ms, TTFT %.2f s\n",
          static_cast<long long>(r.devices), to_string(r.layout).c_str(),
          static_cast<long long>(r.batch), r.tpot_s * 1e3, r.ttft_s);
    } else if (o.points.empty()) {
      std::cout << "\nnothing fits: the model does not fit on the sizes searched; raise "
                   "--max-devices\n";
    } else {
      std::cout << "\nno point meets the SLO\n";
    }
    print_assumed(std::cout, req.model.spec);
  });
}

}  // namespace v4sim::cli
