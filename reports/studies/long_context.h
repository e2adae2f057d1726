// The long-context comparison (kind long_context): work per token, KV per sequence, where the
// savings come from, and decode serving per system, as a report.
//
// The runner computes through sim/ and fills a report::Report (reports/report.h: plain data),
// which the writers turn into files.
#pragma once

#include "reports/report.h"
#include "scenarios/scenario.h"

namespace v4sim {

report::Report run_long_context(const Scenario& scenario, const ProgressFn& progress = {});

}  // namespace v4sim
