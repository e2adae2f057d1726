#include "reports/write_report.h"

#include <utility>
#include <vector>

#include "kernels/tasks_on_cores.h"
#include "reports/data_files.h"
#include "reports/file_names.h"
#include "reports/html.h"
#include "reports/markdown.h"
#include "reports/output_dir.h"

namespace v4sim::report {
namespace fs = std::filesystem;

namespace {

/// Every chart of `r`, drawn into `dir` by one gnuplot process each, up to one process per core
/// at a time (gnuplot is single-threaded, and a report has a dozen charts). drawn[s][i] is chart
/// i of section s whatever finished first; the first failure in that order is rethrown after
/// every drawing has ended.
std::vector<std::vector<DrawnChart>> draw_charts(const Report& r, const FileStems& stems,
                                                 const fs::path& dir, const ChartStyle& style) {
  std::vector<std::vector<DrawnChart>> drawn(r.sections.size());
  std::vector<std::pair<std::size_t, std::size_t>> jobs;
  for (std::size_t s = 0; s < r.sections.size(); ++s) {
    drawn[s].resize(r.sections[s].charts.size());
    for (std::size_t i = 0; i < r.sections[s].charts.size(); ++i) jobs.emplace_back(s, i);
  }
  run_tasks(
      jobs.size(), threads_for(jobs.size()), [] { return 0; },
      [&](std::size_t j, int) {
        const auto [s, i] = jobs[j];
        drawn[s][i] = draw_chart(r.sections[s].charts[i], dir, stems.charts[s][i], style);
      });
  return drawn;
}

}  // namespace

WrittenReport write_report(const Report& r, const fs::path& out_dir, const WriteOptions& options) {
  const FileStems stems = file_stems(r);
  for (const Section& s : r.sections) {
    for (const TableBlock& t : s.tables) check_table(t);
    for (const Chart& c : s.charts) check_chart(c);
  }
  WrittenReport result;
  replace_dir_atomically(out_dir, [&](const fs::path& dir) {
    const std::vector<std::vector<DrawnChart>> drawn =
        draw_charts(r, stems, dir, options.chart_style);
    for (std::size_t s = 0; s < r.sections.size(); ++s) {
      for (std::size_t i = 0; i < r.sections[s].charts.size(); ++i) {
        const std::string& stem = stems.charts[s][i];
        result.files.push_back(stem + ".png");
        result.files.push_back(stem + ".svg");
        for (const std::string& w : drawn[s][i].warnings) result.warnings.push_back(w);
      }
    }
    auto write = [&](const std::string& name, const std::string& content) {
      write_file_atomic(dir / name, content);
      result.files.push_back(name);
    };
    for (std::size_t s = 0; s < r.sections.size(); ++s)
      for (std::size_t i = 0; i < r.sections[s].tables.size(); ++i)
        write(stems.tables[s][i] + ".csv", table_csv(r.sections[s].tables[i]));
    write("report.json", report_json(r, stems));
    write("report.md", to_markdown(r, stems, drawn));
    write("report.html", to_html(r, stems, drawn));
  });
  return result;
}

}  // namespace v4sim::report
