// Each subcommand adds itself to the CLI11 app; setup_commands() is the list of these calls, used by
// main() and by the Python module alike. Subcommand callbacks throw InputError for bad input; main
// maps that to exit code 2.
#pragma once

#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

namespace v4sim::cli {

/// Adds every subcommand below, in the order --help lists them.
/// Registers every command, or only the command named `only` (a name of command_names(); any
/// other name registers none). A run uses one command, and building every command's options and
/// validators was a good part of a short command's time (a `predict` process).
void setup_commands(CLI::App& app, std::string_view only = {});
/// The commands' names, in the order --help lists them.
std::vector<std::string_view> command_names();

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
