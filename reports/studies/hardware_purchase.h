// The purchase report (kind hardware_purchase): the study of scenarios/hardware_purchase.h
// (ranked plans with their instances, sensitivities, the nearest deployment where a target is
// missed) as sections, tables and charts.
#pragma once

#include "reports/report.h"
#include "scenarios/scenario.h"

namespace v4sim {

report::Report run_hardware_purchase(const Scenario& scenario, const ProgressFn& progress = {});

}  // namespace v4sim
