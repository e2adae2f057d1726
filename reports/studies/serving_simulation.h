// The serving-simulation report (kind serving_simulation): the study of
// scenarios/serving_simulation.h as sections, tables and charts (latency CDFs, occupancy and
// queue over time, SLO attainment against the arrival rate, one line per system).
#pragma once

#include "reports/report.h"
#include "scenarios/scenario.h"

namespace v4sim {

report::Report run_serving_simulation(const Scenario& scenario, const ProgressFn& progress = {});

}  // namespace v4sim
