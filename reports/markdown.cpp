#include "reports/markdown.h"

#include <sstream>

#include "reports/data_files.h"
#include "reports/escape.h"

namespace v4sim::report {
namespace {

void paragraph(std::ostream& md, const std::string& text) {
  const std::string p = markdown_line_start(text);
  if (!p.empty()) md << p << "\n\n";
}

void table(std::ostream& md, const TableBlock& t, const std::string& stem, int number) {
  md << "**Table " << number << ".**";
  if (!t.caption.empty()) md << ' ' << markdown_inline(t.caption);
  md << "\n\n";
  const std::vector<std::string> headers = headers_with_units(t);
  if (!headers.empty()) {
    md << '|';
    for (const std::string& h : headers) md << ' ' << markdown_inline(h) << " |";
    md << "\n|";
    for (std::size_t c = 0; c < headers.size(); ++c) {
      const bool numeric = c < t.table.numeric.size() && t.table.numeric[c];
      md << (numeric ? " ---: |" : " --- |");
    }
    md << '\n';
    for (const auto& row : t.table.rows) {
      md << '|';
      for (std::size_t c = 0; c < headers.size(); ++c)
        md << ' ' << (c < row.size() ? markdown_inline(cell_for_people(t, c, row[c])) : "") << " |";
      md << '\n';
    }
    md << '\n';
  }
  md << "Data: [" << stem << ".csv](" << stem << ".csv)\n\n";
}

void chart(std::ostream& md, const Chart& c, const DrawnChart& drawn, int number) {
  const std::string title = markdown_inline(c.title);
  md << "![" << title << "](" << drawn.stem << ".png)\n\n";
  md << "**Figure " << number << ".** " << title << " ([SVG](" << drawn.stem << ".svg))\n\n";
  for (const std::string& w : drawn.warnings) md << "> Note: " << markdown_inline(w) << "\n>\n";
  if (!drawn.warnings.empty()) md << '\n';
}

}  // namespace

std::string to_markdown(const Report& r, const FileStems& stems,
                        const std::vector<std::vector<DrawnChart>>& charts) {
  std::ostringstream md;
  md << "# " << markdown_inline(r.title) << "\n\n";
  for (const std::string& p : r.summary) paragraph(md, p);
  int table_no = 0, figure_no = 0;
  for (std::size_t s = 0; s < r.sections.size(); ++s) {
    const Section& sec = r.sections[s];
    md << "## " << markdown_inline(sec.heading) << "\n\n";
    for (const std::string& p : sec.paragraphs) paragraph(md, p);
    for (std::size_t i = 0; i < sec.tables.size(); ++i)
      table(md, sec.tables[i], stems.tables[s][i], ++table_no);
    for (std::size_t i = 0; i < sec.charts.size(); ++i)
      chart(md, sec.charts[i], charts[s][i], ++figure_no);
    if (!sec.assumptions.empty()) {
      md << "### Assumptions\n\n";
      for (const std::string& a : sec.assumptions) md << "- " << markdown_line_start(a) << '\n';
      md << '\n';
    }
    if (!sec.inputs.empty()) {
      md << "### Inputs and sources\n\n| Input | Value | Source |\n| --- | --- | --- |\n";
      for (const SourcedInput& in : sec.inputs)
        md << "| " << markdown_inline(in.name) << " | " << markdown_inline(in.value) << " | "
           << markdown_inline(in.source) << " |\n";
      md << '\n';
    }
  }
  std::string out = md.str();
  while (out.size() > 1 && out[out.size() - 1] == '\n' && out[out.size() - 2] == '\n')
    out.pop_back();
  return out;
}

}  // namespace v4sim::report
