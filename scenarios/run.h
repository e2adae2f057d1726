// Runs a scenario of any kind into a report.
#pragma once

#include "scenarios/long_context.h"

namespace v4sim {

report::Report run_scenario(const Scenario& scenario, const ProgressFn& progress = {});

}  // namespace v4sim
