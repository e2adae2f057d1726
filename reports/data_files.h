// A report's numbers for programs: one CSV file per table and one JSON file with every table,
// chart series, input and assumption. Output is a pure function of the report: no timestamps,
// keys in a fixed order, so the same report gives byte-identical files.
#pragma once

#include <string>
#include <vector>

#include "reports/charts.h"
#include "reports/file_names.h"
#include "reports/report.h"

namespace v4sim::report {

/// Throws InputError (naming the table) when a row has more cells than there are columns or
/// `units` is neither empty nor one per column. Shorter rows are fine: missing cells are empty.
void check_table(const TableBlock& t);

/// Column headers as shown to people: "name (unit)", or just "name" without a unit.
std::vector<std::string> headers_with_units(const TableBlock& t);

/// Cell `c` of a row as Markdown and HTML show it: numeric columns in human units
/// (human_units.h); the CSV and JSON keep `cell` exactly.
std::string cell_for_people(const TableBlock& t, std::size_t c, const std::string& cell);

/// The table as CSV (RFC 4180) with headers_with_units. A text cell that a spreadsheet would run
/// as a formula (starting with = + - @, tab or CR, and not a number) gets a leading apostrophe.
std::string table_csv(const TableBlock& t);

/// Everything in the report as JSON (2-space indent, trailing newline). Cells of numeric columns
/// that parse completely as finite numbers become JSON numbers; all other cells stay strings.
/// Non-finite chart values become null; invalid UTF-8 becomes U+FFFD.
std::string report_json(const Report& r, const FileStems& stems);

}  // namespace v4sim::report
