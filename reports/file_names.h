// File names of a report's tables and charts. Names come from the report (checked: letters,
// digits, '-' and '_' only, so a name can never leave the output folder or hide as a dot file) or
// are numbered in report order ("table-1", "chart-1").
#pragma once

#include <string>
#include <vector>

#include "reports/report.h"

namespace v4sim::report {

/// File stems parallel to the report: tables[s][i] is the stem of sections[s].tables[i].
struct FileStems {
  std::vector<std::vector<std::string>> tables, charts;
};

/// True for 1 to 80 characters from [A-Za-z0-9_-] that do not start with '-'.
bool is_valid_stem(const std::string& stem);

/// Resolves every stem. Throws InputError naming the section and the name for an invalid name or
/// for two tables (or two charts) with the same name.
FileStems file_stems(const Report& report);

}  // namespace v4sim::report
