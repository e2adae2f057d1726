// The purchase report (kind hardware_purchase): the study of scenarios/hardware_purchase.h
// (ranked plans, sensitivities, shortfalls) as sections, tables and charts.
#pragma once

#include "reports/report.h"
#include "scenarios/scenario.h"

namespace v4sim {

report::Report run_hardware_purchase(const Scenario& scenario, const ProgressFn& progress = {});

}  // namespace v4sim
