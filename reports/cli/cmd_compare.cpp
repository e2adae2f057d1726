// `v4sim compare`: FLOPs per token and KV bytes per sequence of several models across contexts,
// as ratios to the first model and to a BF16 GQA-8 baseline of the same depth.
#include <iostream>

#include <nlohmann/json.hpp>

#include "models/config/input_error.h"
#include "models/model_loader.h"
#include "reports/cli/assumed.h"
#include "reports/cli/commands.h"
#include "reports/cli/values.h"
#include "reports/table.h"
#include "sim/analytic.h"

namespace v4sim::cli {

void setup_compare(CLI::App& app) {
  struct Options {
    std::string models, contexts = "4k,32k,128k,1m", phase = "decode", kv_format = "deploy",
                        format = "table";
    std::string dir;  // empty: the search path (models/config/data_paths.h)
  };
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "compare", "Compare models' FLOPs per token and KV cache per sequence across contexts");
  cmd->add_option("--models", opt->models, "Comma-separated models; ratios are to the first")
      ->required();
  cmd->add_option("--contexts", opt->contexts, "Context list, e.g. 4k,32k,128k,1m")
      ->capture_default_str();
  cmd->add_option("--phase", opt->phase, "decode | prefill")->capture_default_str();
  cmd->add_option("--kv-format", opt->kv_format, "deploy | bf16")->capture_default_str();
  cmd->add_option("--format", opt->format, "table | json | csv")->capture_default_str();
  cmd->add_option("--models-dir", opt->dir, "Only this models folder (default: the search path)");
  cmd->callback([opt] {
    const OutputFormat format = parse_output_format(opt->format);
    const Phase phase = parse_phase(opt->phase);
    const std::vector<std::int64_t> contexts = parse_context_list(opt->contexts, "--contexts");
    const std::vector<std::string> names = parse_name_list(opt->models, "--models");
    std::vector<ModelSpec> specs;
    for (const std::string& n : names) specs.push_back(load_model(n, opt->dir));
    // Contexts past a model's trained maximum are evaluated anyway and marked, as the V4 report
    // does for V3.2 at 1M.
    std::vector<PreparedModel> prepared;
    for (const ModelSpec& spec : specs) prepared.push_back(prepare(spec));
    std::vector<ContextSweep> sweeps;
    for (const PreparedModel& m : prepared)
      sweeps.push_back(compile_contexts(m, {0, phase, opt->kv_format, false, true}));

    Table t{{"context", "model", "flops_per_token", "flops_vs_first", "kv_bytes_per_sequence",
             "kv_vs_first", "kv_vs_gqa8_bf16"},
            {},
            {true, false, true, true, true, true, true}};
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (std::int64_t n : contexts) {
      double first_flops = 0, first_kv = 0;
      for (std::size_t i = 0; i < specs.size(); ++i) {
        const ModelSpec& spec = specs[i];
        const AnalyticResult r = analyze(sweeps[i], n);
        const std::string mark = r.beyond_max_context ? "*" : "";
        const double flops = r.flops_per_token();
        const double kv = static_cast<double>(r.kv_cache.total());
        if (i == 0) {
          first_flops = flops;
          first_kv = kv;
        }
        const double gqa = static_cast<double>(gqa8_baseline_kv_bytes(spec.num_layers, n));
        const bool has_first = first_flops > 0;
        if (format == OutputFormat::table) {
          t.rows.push_back({std::to_string(n), spec.name + mark, si(flops),
                            has_first ? times(flops / first_flops) : "n/a", gib(kv),
                            has_first ? times(kv / first_kv) : "n/a", times(kv / gqa)});
        } else {
          t.rows.push_back({std::to_string(n), spec.name, nlohmann::json(flops).dump(),
                            has_first ? nlohmann::json(flops / first_flops).dump() : "",
                            std::to_string(r.kv_cache.total()),
                            has_first ? nlohmann::json(kv / first_kv).dump() : "",
                            nlohmann::json(kv / gqa).dump()});
        }
        nlohmann::ordered_json row = {{"context_tokens", n},
                                      {"model", spec.name},
                                      {"beyond_max_context", r.beyond_max_context},
                                      {"phase", to_string(phase)},
                                      {"kv_format", opt->kv_format},
                                      {"flops_per_token", flops},
                                      {"kv_bytes_per_sequence", r.kv_cache.total()},
                                      {"gqa8_bf16_kv_bytes", static_cast<std::int64_t>(gqa)},
                                      {"kv_vs_gqa8_bf16", kv / gqa}};
        if (has_first) {
          row["flops_vs_first"] = flops / first_flops;
          row["kv_vs_first"] = kv / first_kv;
        }
        add_assumed(row, spec);  // a config.json import
        out.push_back(row);
      }
    }
    if (format == OutputFormat::json) {
      std::cout << out.dump(2) << '\n';
    } else if (format == OutputFormat::csv) {
      write_csv(std::cout, t);
      for (const ModelSpec& spec : specs) print_assumed(std::cerr, spec);
    } else {
      std::cout << to_string(phase) << " cost per model; ratios are to " << specs.front().name
                << "; KV format " << opt->kv_format
                << "; the GQA-8 baseline stores BF16 K and V of 8 heads x 128 dims per layer\n\n";
      write_text(std::cout, t);
      for (const ModelSpec& spec : specs) print_assumed(std::cout, spec);
      for (const ModelSpec& spec : specs)
        for (std::int64_t n : contexts)
          if (n > spec.max_context_tokens) {
            std::cout << "\n* beyond the model's max context (" << spec.max_context_tokens
                      << " tokens for " << spec.name << "): the formulas are extrapolated\n";
            return;
          }
    }
  });
}

}  // namespace v4sim::cli
