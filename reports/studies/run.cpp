#include "reports/studies/run.h"

#include "models/config/input_error.h"
#include "reports/studies/api_pricing.h"
#include "reports/studies/hardware_purchase.h"
#include "reports/studies/long_context.h"
#include "reports/studies/serving_simulation.h"

namespace v4sim {

report::Report run_scenario(const Scenario& s, const ProgressFn& progress) {
  switch (s.kind) {
    case ScenarioKind::long_context:
      return run_long_context(s, progress);
    case ScenarioKind::hardware_purchase:
      return run_hardware_purchase(s, progress);
    case ScenarioKind::api_pricing:
      return run_api_pricing(s, progress);
    case ScenarioKind::serving_simulation:
      return run_serving_simulation(s, progress);
  }
  throw InputError(s.file + ": scenario kind " + std::to_string(static_cast<int>(s.kind)) +
                   " has no runner");
}

}  // namespace v4sim
