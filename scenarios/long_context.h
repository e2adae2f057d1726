// The long-context comparison (kind long_context): work per token, KV per sequence, where the
// savings come from, and decode serving per system, as a report.
//
// Scenarios fill a report::Report (reports/report.h: plain data, no writer code), which the
// reports/ writers then turn into files; scenarios link only that vocabulary, not the writers' I/O.
#pragma once

#include <cstddef>
#include <functional>

#include "reports/report.h"
#include "scenarios/scenario.h"

namespace v4sim {

/// Called with (points done, points total) during long sweeps.
using ProgressFn = std::function<void(std::size_t, std::size_t)>;

report::Report run_long_context(const Scenario& scenario, const ProgressFn& progress = {});

}  // namespace v4sim
