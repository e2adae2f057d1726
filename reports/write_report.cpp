#include "reports/write_report.h"

#include "reports/data_files.h"
#include "reports/file_names.h"
#include "reports/html.h"
#include "reports/markdown.h"
#include "reports/output_dir.h"

namespace v4sim::report {
namespace fs = std::filesystem;

WrittenReport write_report(const Report& r, const fs::path& out_dir, const WriteOptions& options) {
  const FileStems stems = file_stems(r);
  for (const Section& s : r.sections) {
    for (const TableBlock& t : s.tables) check_table(t);
    for (const Chart& c : s.charts) check_chart(c);
  }
  WrittenReport result;
  replace_dir_atomically(out_dir, [&](const fs::path& dir) {
    std::vector<std::vector<DrawnChart>> drawn(r.sections.size());
    for (std::size_t s = 0; s < r.sections.size(); ++s) {
      for (std::size_t i = 0; i < r.sections[s].charts.size(); ++i) {
        const std::string& stem = stems.charts[s][i];
        drawn[s].push_back(draw_chart(r.sections[s].charts[i], dir, stem, options.chart_style));
        result.files.push_back(stem + ".png");
        result.files.push_back(stem + ".svg");
        for (const std::string& w : drawn[s].back().warnings) result.warnings.push_back(w);
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
