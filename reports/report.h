// What a report is, independent of how it is written: a title and sections, each with paragraphs,
// captioned tables, chart specs and the inputs and assumptions behind them. Plain data; the writers
// (markdown.h, html.h, data_files.h, charts.h; write_report.h runs them all) turn it into files.
//
// Every string here is treated as untrusted text from a scenario file: writers escape it for their
// format and never interpret it. Only `name` fields become file names, and they are checked
// (file_names.h) before anything is written.
#pragma once

#include <string>
#include <vector>

#include "reports/table.h"

namespace v4sim::report {

/// A table with the words around it. `units[c]` is the unit of column c ("" for none); it is shown
/// as "column (unit)" in headers and kept separately in JSON.
struct TableBlock {
  /// File stem of the table's CSV ("kv-bytes" -> kv-bytes.csv); empty: "table-<n>" in report order.
  std::string name;
  std::string caption;
  Table table;
  std::vector<std::string> units;
};

struct Axis {
  std::string label;
  std::string unit;  ///< Shown as "label (unit)"; every axis of a chart must have one.
  bool log = false;  ///< Log scale: points <= 0 on this axis are skipped with a warning.
  /// How tick labels read. Auto: gnuplot's default. Si: 4k, 1M, 2G (powers of 1000).
  /// Binary: ticks at powers of two labelled 4K, 1M (powers of 1024), for context lengths.
  enum class Ticks { Auto, Si, Binary } ticks = Ticks::Auto;
};

struct Series {
  std::string name;  ///< Legend entry.
  /// Points, pairwise. NaN and infinite values (and non-positive values on a log axis) are
  /// skipped with a warning; a chart needs at least one drawable point.
  std::vector<double> x, y;
};

struct Chart {
  enum class Kind { LinePoints, Bars };
  /// File stem of the chart's PNG and SVG; empty: "chart-<n>" in report order.
  std::string name;
  std::string title;
  Axis x, y;
  Kind kind = Kind::LinePoints;
  std::vector<Series> series;
  /// Bars only: when not empty, x values are category indices 0..n-1 and these are the tick labels
  /// (e.g. system names). Series then become side-by-side bars within each category.
  std::vector<std::string> categories;
};

/// One input a section's numbers depend on, with where it came from (a document and page, a
/// measurement, or "estimate: <reasoning>").
struct SourcedInput {
  std::string name;
  std::string value;  ///< As the reader should see it, unit included ("3.35 TB/s").
  std::string source;
};

struct Section {
  std::string heading;
  std::vector<std::string> paragraphs;  ///< Plain text; line breaks are kept as spaces.
  std::vector<TableBlock> tables;
  std::vector<Chart> charts;
  std::vector<std::string> assumptions;  ///< Modelling choices stated in words.
  std::vector<SourcedInput> inputs;
};

struct Report {
  std::string title;
  std::vector<std::string> summary;  ///< Paragraphs before the first section.
  std::vector<Section> sections;
};

}  // namespace v4sim::report
