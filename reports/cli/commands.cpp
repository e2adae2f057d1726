#include "reports/cli/commands.h"

namespace v4sim::cli {

void setup_commands(CLI::App& app) {
  setup_models(app);
  setup_hardware(app);
  setup_topology(app);
  setup_cost(app);
  setup_compare(app);
  setup_predict(app);
  setup_optimize(app);
  setup_plan(app);
  setup_report(app);
  setup_bench(app);
  setup_calibrate(app);
  setup_validate(app);
  setup_simulate(app);
}

}  // namespace v4sim::cli
