// Draws a Chart (report.h) with gnuplot into a PNG and an SVG file. gnuplot-iostream composes the
// gnuplot script (commands and data blocks); gnuplot then runs it as a separate program, without a
// shell, so its exit status and error messages are known and a failing chart is an error rather
// than a silently missing picture. Include this header freely: gnuplot-iostream and Boost stay in
// charts.cpp.
//
// Text from the chart (title, labels, series names, categories) only ever reaches gnuplot as a
// single-quoted string literal (escape.h: gnuplot_quote), and both terminals run in "noenhanced"
// mode, so no text can run a command, expand a macro or be read as markup.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reports/report.h"

namespace v4sim::report {

struct ChartStyle {
  int png_width_px = 1000, png_height_px = 620;
  int svg_width_px = 900, svg_height_px = 560;
  std::string font = "DejaVu Sans";
  int font_size_pt = 12;
  /// The gnuplot program: a name looked up on PATH or an absolute path. Run as
  /// `gnuplot -d <script>` in the output folder (-d: ignore the user's ~/.gnuplot, so charts look
  /// the same for everyone).
  std::string gnuplot = "gnuplot";
  /// Also keep the script as <stem>.gp next to the images, to inspect (it names the temporary
  /// output files it wrote before they were renamed; run it from that folder).
  bool keep_script = false;
};

struct DrawnChart {
  std::string stem;
  std::filesystem::path png, svg;
  std::string svg_text;  ///< The SVG file's content, for inlining into HTML.
  /// Points that were skipped (NaN, infinite, non-positive on a log axis) and gnuplot's own
  /// warnings, one line each; shown to the reader next to the figure.
  std::vector<std::string> warnings;
};

/// Throws InputError (naming the chart) for a spec that cannot be drawn honestly: no series,
/// x and y of different lengths, a missing unit on the y axis (or on the x axis without
/// categories), categories on a log x axis, category indices that are not 0..n-1.
void check_chart(const Chart& chart);

/// Draws `chart` into dir/<stem>.png and dir/<stem>.svg, each written to a temporary name, checked
/// (PNG signature and size, SVG root element, no script) and renamed into place. PNG uses gnuplot's
/// pngcairo terminal, or png where pngcairo is missing. Throws InputError for a bad spec or when no
/// point is drawable; std::runtime_error (with gnuplot's message) when gnuplot cannot be run or
/// fails.
DrawnChart draw_chart(const Chart& chart, const std::filesystem::path& dir, const std::string& stem,
                      const ChartStyle& style = {});

struct PngSize {
  std::uint32_t width = 0, height = 0;
};
/// Width and height from a PNG's IHDR chunk, or nothing if `bytes` is not a PNG.
std::optional<PngSize> png_size(std::string_view bytes);

}  // namespace v4sim::report
