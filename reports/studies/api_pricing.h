// The API-pricing report (kind api_pricing): the study of scenarios/api_pricing.h (bills,
// self-hosted cost, margins) as sections, tables and charts.
#pragma once

#include "reports/report.h"
#include "scenarios/scenario.h"

namespace v4sim {

report::Report run_api_pricing(const Scenario& scenario, const ProgressFn& progress = {});

}  // namespace v4sim
