// A small synthetic report used by the report tests: two sections, tables with units, a log-log
// line chart with binary context ticks and a bar chart over categories. The numbers are made up
// (simple formulas), not model results.
#pragma once

#include <string>

#include "reports/report.h"

namespace v4sim::report::testing {

/// `title` replaces the report title (for injection tests); every other text is plain.
Report demo_report(const std::string& title = "Synthetic long-context demo");

}  // namespace v4sim::report::testing
