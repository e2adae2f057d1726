#include "reports/cli/commands.h"

#include <array>

namespace v4sim::cli {
namespace {

struct Command {
  std::string_view name;
  void (*setup)(CLI::App&);
};
// In the order --help lists them.
constexpr std::array<Command, 13> kCommands{{
    {"models", setup_models},
    {"hardware", setup_hardware},
    {"topology", setup_topology},
    {"cost", setup_cost},
    {"compare", setup_compare},
    {"predict", setup_predict},
    {"optimize", setup_optimize},
    {"plan", setup_plan},
    {"report", setup_report},
    {"bench", setup_bench},
    {"calibrate", setup_calibrate},
    {"validate", setup_validate},
    {"simulate", setup_simulate},
}};

}  // namespace

std::vector<std::string_view> command_names() {
  std::vector<std::string_view> out;
  for (const Command& c : kCommands) out.push_back(c.name);
  return out;
}

void setup_commands(CLI::App& app, std::string_view only) {
  for (const Command& c : kCommands)
    if (only.empty() || c.name == only) c.setup(app);
}

}  // namespace v4sim::cli
