// What the study writers share: a table block declared column by column, and the inputs every
// study lists the same way (its models and systems with their files, its targets, its price
// basis). Plain functions over the typed studies' parts.
#pragma once

#include <initializer_list>
#include <string>

#include "hardware/system.h"
#include "reports/report.h"
#include "scenarios/scenario.h"
#include "sim/analytic.h"

namespace v4sim::study_report {

/// One column of a table block: its CSV name, its unit ("" for none) and whether its cells are
/// numbers (right-aligned).
struct Column {
  std::string name;
  std::string unit;
  bool numeric = true;
};
/// An empty table block with these columns.
report::TableBlock table_block(std::string name, std::string caption,
                               std::initializer_list<Column> columns);
/// Appends one column to a table block.
void add_column(report::TableBlock& t, const Column& c);

/// {name, display name, "<file> (sources inside)"}.
report::SourcedInput model_input(const PreparedModel& m);
/// {name, display name, "<system file> and <accelerator file> (sources inside)"}.
report::SourcedInput system_input(const SystemSpec& s);
/// "TPOT 50 ms, TTFT 30 s" from the scenario's targets; empty when it has none.
std::string targets_text(const Scenario& sc);
/// {"price basis", the basis in words, the scenario's prices source (or where the defaults are)}.
report::SourcedInput price_basis_input(const Scenario& sc);

}  // namespace v4sim::study_report
