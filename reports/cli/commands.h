// Each subcommand adds itself to the CLI11 app; setup_commands() is the list of these calls, used by
// main() and by the Python module alike. Subcommand callbacks throw InputError for bad input; main
// maps that to exit code 2.
#pragma once

#include <CLI/CLI.hpp>

namespace v4sim::cli {

/// Adds every subcommand below, in the order --help lists them.
void setup_commands(CLI::App& app);

void setup_models(CLI::App& app);
void setup_hardware(CLI::App& app);
void setup_topology(CLI::App& app);
void setup_cost(CLI::App& app);
void setup_compare(CLI::App& app);
void setup_predict(CLI::App& app);
void setup_optimize(CLI::App& app);
void setup_plan(CLI::App& app);
void setup_report(CLI::App& app);
void setup_bench(CLI::App& app);
void setup_calibrate(CLI::App& app);
void setup_validate(CLI::App& app);
void setup_simulate(CLI::App& app);

}  // namespace v4sim::cli
