// Writes a whole report folder: report.md, report.html, report.json, one CSV per table and a PNG
// and an SVG per chart. The folder is built next to the target and swapped into place only when
// every file has been written (output_dir.h), so an error never leaves a half-written report and
// never damages the previous one.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "reports/charts.h"
#include "reports/report.h"

namespace v4sim::report {

struct WriteOptions {
  ChartStyle chart_style;
};

struct WrittenReport {
  std::vector<std::string> files;     ///< File names inside the folder, in writing order.
  std::vector<std::string> warnings;  ///< Chart warnings (also shown in the report itself).
};

/// Checks the whole report first (names, tables, charts: InputError before anything is written),
/// then writes it to `out_dir`. Throws InputError for bad report content or an unusable `out_dir`
/// (a file, or a non-empty folder not written by v4sim), std::runtime_error for I/O or gnuplot
/// failures; in every case `out_dir` is left as it was.
WrittenReport write_report(const Report& r, const std::filesystem::path& out_dir,
                           const WriteOptions& options = {});

}  // namespace v4sim::report
