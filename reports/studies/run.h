// Runs a scenario of any kind into a report.
#pragma once

#include "reports/report.h"
#include "scenarios/scenario.h"

namespace v4sim {

report::Report run_scenario(const Scenario& scenario, const ProgressFn& progress = {});

}  // namespace v4sim
