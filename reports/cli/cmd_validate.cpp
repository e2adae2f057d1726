// `v4sim validate [--host FILE] [--quick] [--format table|json]`: runs the kernel suite and
// prints, per kernel, the time the hardware model predicts on the host file (op_time of the
// kernel's cost) against the measured time, the error and the median absolute error.
// Method (and why it is not circular): reports/cli/host_validation.h. When the host file has
// calibrate's tables beside it (<folder>/perf/host/), each case is also predicted through them
// (PerfModel, as for a GPU) and both figures are shown.
// `v4sim validate --deployments [FILE] [--format table|json]`: predicts every row of a measured-
// deployment file (default: the shipped development set, scenarios/deployments/dev.yaml) and
// prints predicted vs measured (reports/cli/deployment_validation.h). Exit 0 whatever the
// accuracy; 2 on bad input.
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "hardware/accelerator.h"
#include "hardware/perf_model.h"
#include "models/config/input_error.h"
#include "reports/cli/bench_report.h"
#include "reports/cli/commands.h"
#include "reports/cli/deployment_validation.h"
#include "reports/cli/host_validation.h"
#include "reports/cli/values.h"
#include "scenarios/deployments.h"

namespace v4sim::cli {

void setup_validate(CLI::App& app) {
  struct Options {
    SuiteOptions suite;
    std::string host = default_host_file();
    std::string format = "table";
    std::string deployments;
  };
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "validate",
      "Predict each benchmarked kernel's time on the host file and compare with the measured "
      "time (run `v4sim calibrate` first); with --deployments, predict each published "
      "deployment and compare with its measured throughput or TPOT");
  add_suite_options(cmd, opt->suite);
  cmd->add_option("--host", opt->host,
                  std::string("Host accelerator file written by `v4sim calibrate` (") +
                      kDefaultHostFileHelp + ")");
  cmd->add_option("--format", opt->format, "table | json")->capture_default_str();
  CLI::Option* deployments =
      cmd->add_option("--deployments", opt->deployments,
                      "Instead of kernels: predict each measured deployment of FILE (default: the "
                      "shipped development set, scenarios/deployments/dev.yaml) against its "
                      "measured figure")
          ->expected(0, 1);
  cmd->callback([opt, deployments] {
    const OutputFormat format = parse_output_format(opt->format);
    if (format == OutputFormat::csv) throw InputError("--format 'csv': expected table or json");
    if (deployments->count() > 0) {
      const std::string file =
          opt->deployments.empty() ? default_deployments_file().string() : opt->deployments;
      const DeploymentValidation v = validate_deployments(load_deployments(file));
      if (format == OutputFormat::json)
        std::cout << deployment_validation_json(v).dump(2) << '\n';
      else
        print_deployment_validation(std::cout, v);
      return;
    }
    if (!std::filesystem::exists(opt->host))
      throw InputError("--host '" + opt->host +
                       "': no such file; run `v4sim calibrate` first (or pass -o there)");
    const Accelerator host = load_accelerator(opt->host);
    const std::vector<bench::SuiteCase> cases = selected_cases(opt->suite);
    const bench::SuiteMode mode = opt->suite.mode();
    const std::filesystem::path host_file(opt->host);
    const std::filesystem::path perf_dir = host_perf_dir(host_file);
    std::error_code ec;
    std::optional<PerfModel> tables;
    if (std::filesystem::is_directory(perf_dir / host.name, ec))
      tables.emplace(host, perf_dir, host_file.parent_path());
    const Validation v =
        validate_on_host(host, run_cases(cases, mode), tables ? &*tables : nullptr);
    if (format == OutputFormat::json)
      std::cout << validation_json(v, mode, opt->host).dump(2) << '\n';
    else
      print_validation(std::cout, v, opt->host);
  });
}

}  // namespace v4sim::cli
