// `v4sim bench [--quick] [--format table|json]`: the host's ceilings and the kernel suite (time,
// FLOP/s, bytes/s, fractions of the ceilings, V4 vs V3.2 decode ratios). Method and keys:
// kernels/bench/suite.h, kernels/bench/host_ceilings.h, reports/cli/bench_report.h.
#include <iostream>
#include <memory>
#include <utility>

#include "kernels/bench/timing.h"
#include "models/config/input_error.h"
#include "reports/cli/bench_report.h"
#include "reports/cli/commands.h"
#include "reports/cli/engine_bench.h"
#include "reports/cli/values.h"

namespace v4sim::cli {

void setup_bench(CLI::App& app) {
  struct Options {
    SuiteOptions suite;
    std::string format = "table";
    bool engine = false;
  };
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "bench",
      "Measure the host's ceilings and run the kernel suite: time, FLOP/s, bytes/s and their "
      "fractions of the host GEMM rate and bandwidth");
  add_suite_options(cmd, opt->suite);
  add_threads_option(cmd, opt->suite);
  cmd->add_option("--format", opt->format, "table | json")->capture_default_str();
  cmd->add_flag("--engine", opt->engine,
                "Time the engine instead of the kernels: analytic evaluations and serving points "
                "per second, one full optimize search");
  cmd->callback([opt] {
    const OutputFormat format = parse_output_format(opt->format);
    if (format == OutputFormat::csv) throw InputError("--format 'csv': expected table or json");
    if (opt->engine) {
      const EngineBench e = measure_engine();
      if (format == OutputFormat::json)
        std::cout << engine_json(e).dump(2) << '\n';
      else
        print_engine(std::cout, e);
      return;
    }
    require_valid_threads(opt->suite.threads);
    const std::vector<bench::SuiteCase> cases = selected_cases(opt->suite);
    const double start = bench::wall_seconds();
    BenchRun run;
    run.mode = opt->suite.mode();
    run.info = bench::current_host_info();
    run.threads = opt->suite.threads;
    HostAndSuite measured = measure_host_and_suite(cases, run.mode, run.threads);
    run.ceilings = std::move(measured.ceilings);
    run.results = std::move(measured.results);
    run.interleaved = std::move(measured.interleaved);
    run.seconds = bench::wall_seconds() - start;
    if (format == OutputFormat::json)
      std::cout << bench_json(run).dump(2) << '\n';
    else
      print_bench(std::cout, run);
  });
}

}  // namespace v4sim::cli
