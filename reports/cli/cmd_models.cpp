// `v4sim models`: the model catalogue.
#include <iostream>

#include <nlohmann/json.hpp>

#include "models/config/data_paths.h"
#include "models/model_loader.h"
#include "models/weights.h"
#include "reports/cli/commands.h"
#include "reports/cli/values.h"
#include "reports/table.h"

namespace v4sim::cli {

void setup_models(CLI::App& app) {
  struct Options {
    std::string format = "table";
    std::string dir;  // empty: the search path (models/config/data_paths.h)
  };
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("models", "List the model catalogue");
  cmd->add_option("--format", opt->format, "table | json | csv")->capture_default_str();
  cmd->add_option("--models-dir", opt->dir, "Only this models folder (default: the search path)");
  cmd->callback([opt] {
    const OutputFormat format = parse_output_format(opt->format);
    Table t{{"name", "display_name", "architecture", "layers", "total_params", "active_params",
             "max_context_tokens", "file"},
            {},
            {false, false, false, true, true, true, true, false}};
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const std::string& name : list_models(opt->dir)) {
      const ModelSpec spec = load_model(name, opt->dir);
      const ParamTotals p = count_parameters(spec);
      t.rows.push_back(
          {spec.name, spec.display_name, std::string(to_string(spec.architecture)),
           std::to_string(spec.num_layers),
           format == OutputFormat::table ? si(p.total_params) : std::to_string(p.total_params),
           format == OutputFormat::table ? si(p.active_params) : std::to_string(p.active_params),
           std::to_string(spec.max_context_tokens), data::display_path(spec.file)});
      out.push_back({{"name", spec.name},
                     {"display_name", spec.display_name},
                     {"architecture", to_string(spec.architecture)},
                     {"layers", spec.num_layers},
                     {"total_params", p.total_params},
                     {"active_params", p.active_params},
                     {"max_context_tokens", spec.max_context_tokens},
                     {"file", spec.file}});
    }
    if (format == OutputFormat::json) {
      std::cout << out.dump(2) << '\n';
    } else if (format == OutputFormat::csv) {
      write_csv(std::cout, t);
    } else {
      write_text(std::cout, t);
    }
  });
}

}  // namespace v4sim::cli
