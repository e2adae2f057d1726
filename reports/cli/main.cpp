// v4sim: cost and performance of long-context LLM inference, from first principles.
#include <iostream>

#include <CLI/CLI.hpp>

#include "kernels/cost.h"
#include "models/config/input_error.h"
#include "reports/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"v4sim: cost and performance simulator for long-context LLM inference "
               "(DeepSeek V4 and baselines)",
               "v4sim"};
  app.set_version_flag("--version", std::string("v4sim ") + V4SIM_VERSION);
  app.require_subcommand(1);
  v4sim::cli::setup_models(app);
  v4sim::cli::setup_hardware(app);
  v4sim::cli::setup_topology(app);
  v4sim::cli::setup_cost(app);
  v4sim::cli::setup_compare(app);
  v4sim::cli::setup_predict(app);
  v4sim::cli::setup_optimize(app);
  v4sim::cli::setup_plan(app);
  v4sim::cli::setup_report(app);
  v4sim::cli::setup_bench(app);
  v4sim::cli::setup_calibrate(app);
  v4sim::cli::setup_validate(app);
  auto is_command = [&](const std::string& name) {
    for (const CLI::App* sub : app.get_subcommands({}))
      if (sub->get_name() == name) return true;
    return false;
  };
  if (argc > 1 && argv[1][0] != '-' && !is_command(argv[1])) {
    std::cerr << "v4sim: error: unknown command '" << argv[1] << "'; commands:";
    for (const CLI::App* sub : app.get_subcommands({})) std::cerr << ' ' << sub->get_name();
    std::cerr << "\nRun with --help for more information.\n";
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;  // --help and --version exit 0; every usage error is bad input
  } catch (const v4sim::InputError& e) {
    std::cerr << "v4sim: error: " << e.what() << '\n';
    return 2;
  } catch (const v4sim::CountOverflow& e) {
    // Counts of absurd inputs (kernels/cost.h) that no caller turned into an InputError.
    std::cerr << "v4sim: error: " << e.what() << " for these inputs\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "v4sim: internal error: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
