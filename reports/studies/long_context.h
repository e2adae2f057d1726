// The long-context report (kind long_context): the study of scenarios/long_context.h (work per
// token, KV per sequence, where the savings come from, decode serving per system) as prose,
// tables and charts in a report::Report (reports/report.h: plain data) for the writers.
#pragma once

#include "reports/report.h"
#include "scenarios/scenario.h"

namespace v4sim {

report::Report run_long_context(const Scenario& scenario, const ProgressFn& progress = {});

}  // namespace v4sim
