#include "reports/html.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "reports/data_files.h"
#include "reports/escape.h"

namespace v4sim::report {
namespace {

constexpr std::string_view kStyle = R"css(
body { font-family: "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color: #1d1d1f;
       max-width: 1000px; margin: 2em auto; padding: 0 1.2em; line-height: 1.5; }
h1 { font-size: 1.8em; border-bottom: 2px solid #0072B2; padding-bottom: .2em; }
h2 { font-size: 1.35em; margin-top: 2em; border-bottom: 1px solid #ccc; padding-bottom: .15em; }
h3 { font-size: 1.05em; margin-top: 1.4em; }
table { border-collapse: collapse; margin: .4em 0 .3em; font-size: .92em; }
caption { caption-side: top; text-align: left; font-weight: normal; padding-bottom: .3em; }
th, td { border: 1px solid #d0d0d0; padding: .25em .6em; vertical-align: top; }
th { background: #f2f4f7; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) { background: #fafbfc; }
.data { font-size: .85em; color: #555; margin-bottom: 1.2em; }
figure { margin: 1.2em 0; }
figure svg { max-width: 100%; height: auto; display: block; border: 1px solid #eee; }
figcaption { font-size: .92em; margin-top: .3em; }
.note { font-size: .85em; color: #8a4b00; margin: .2em 0; }
.scroll { overflow-x: auto; }
)css";

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

[[noreturn]] void bad_svg(std::string_view what, std::string_view why) {
  std::string msg = "refusing to inline SVG ";
  msg.append(one_line(what)).append(": ").append(why);
  throw std::runtime_error(msg);
}

/// Skips whitespace, the XML declaration, comments and a DOCTYPE without internal subset; returns
/// where the first element starts.
std::size_t skip_prolog(std::string_view svg, std::string_view what) {
  std::size_t i = 0;
  for (;;) {
    while (i < svg.size() && std::isspace(static_cast<unsigned char>(svg[i]))) ++i;
    const std::string_view rest = svg.substr(i);
    std::size_t end = std::string_view::npos;
    if (rest.starts_with("<?xml")) {
      end = rest.find("?>");
      if (end != std::string_view::npos) end += 2;
    } else if (rest.starts_with("<!--")) {
      end = rest.find("-->");
      if (end != std::string_view::npos) end += 3;
    } else if (lower(rest.substr(0, 9)) == "<!doctype") {
      end = rest.find('>');
      if (rest.substr(0, end).find('[') != std::string_view::npos)
        bad_svg(what, "DOCTYPE with an internal subset (entities)");
      if (end != std::string_view::npos) end += 1;
    } else {
      return i;
    }
    if (end == std::string_view::npos) bad_svg(what, "unterminated prolog");
    i += end;
  }
}

/// Elements gnuplot's svg terminal draws with (and close relatives). Anything else (script, style,
/// foreignObject, image, a, iframe, animate/set, ...) could run code, load a resource or restyle
/// the page, and is refused.
constexpr std::array<std::string_view, 27> kAllowedElements = {"svg",
                                                               "g",
                                                               "path",
                                                               "polygon",
                                                               "polyline",
                                                               "line",
                                                               "rect",
                                                               "circle",
                                                               "ellipse",
                                                               "text",
                                                               "tspan",
                                                               "title",
                                                               "desc",
                                                               "defs",
                                                               "use",
                                                               "filter",
                                                               "feflood",
                                                               "fecomposite",
                                                               "feoffset",
                                                               "fegaussianblur",
                                                               "femerge",
                                                               "femergenode",
                                                               "pattern",
                                                               "clippath",
                                                               "lineargradient",
                                                               "radialgradient",
                                                               "stop"};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/// Checks one attribute: no event handlers, and references (href, url(...)) only to ids in the
/// same document.
void check_attribute(const std::string& name, const std::string& value, std::string_view what) {
  const std::string n = lower(name), v = lower(value);
  if (n.starts_with("on")) bad_svg(what, "it contains an event handler attribute");
  std::string trimmed = v;
  trimmed.erase(0, trimmed.find_first_not_of(" \t\r\n"));
  if ((n == "href" || n.ends_with(":href")) && !trimmed.starts_with("#"))
    bad_svg(what, "it refers to an external resource (href)");
  for (std::size_t u = v.find("url("); u != std::string::npos; u = v.find("url(", u + 4)) {
    const std::size_t arg = v.find_first_not_of(" \t\r\n\"'", u + 4);
    if (arg == std::string::npos || v[arg] != '#')
      bad_svg(what, "it refers to an external resource (url)");
  }
  if (v.find("javascript:") != std::string::npos) bad_svg(what, "it contains a javascript: URL");
}

/// Checks every tag, reading attributes with their quoting (text between tags is escaped by
/// gnuplot and not looked at, so a title may say anything): element names from the allow-list
/// only, and every attribute passes check_attribute.
void check_tags(std::string_view body, std::string_view what) {
  std::size_t i = 0;
  while ((i = body.find('<', i)) != std::string_view::npos) {
    if (body.substr(i).starts_with("<!--")) {
      const std::size_t end = body.find("-->", i);
      if (end == std::string_view::npos) bad_svg(what, "unterminated comment");
      i = end + 3;
      continue;
    }
    ++i;
    if (i < body.size() && body[i] == '/') ++i;
    const std::size_t name_start = i;
    while (i < body.size() && !is_space(body[i]) && body[i] != '/' && body[i] != '>') ++i;
    const std::string name = lower(body.substr(name_start, i - name_start));
    if (std::find(kAllowedElements.begin(), kAllowedElements.end(), name) ==
        kAllowedElements.end()) {
      std::string why = "it contains a <";
      bad_svg(what, why.append(one_line(name)).append("> element"));
    }
    for (;;) {
      while (i < body.size() && (is_space(body[i]) || body[i] == '/')) ++i;
      if (i >= body.size()) bad_svg(what, "unterminated tag");
      if (body[i] == '>') {
        ++i;
        break;
      }
      const std::size_t attr_start = i;
      while (i < body.size() && !is_space(body[i]) && body[i] != '=' && body[i] != '>' &&
             body[i] != '/')
        ++i;
      const std::string attr(body.substr(attr_start, i - attr_start));
      while (i < body.size() && is_space(body[i])) ++i;
      std::string value;
      if (i < body.size() && body[i] == '=') {
        ++i;
        while (i < body.size() && is_space(body[i])) ++i;
        if (i < body.size() && (body[i] == '"' || body[i] == '\'')) {
          const std::size_t close = body.find(body[i], i + 1);
          if (close == std::string_view::npos) bad_svg(what, "unterminated attribute value");
          value = body.substr(i + 1, close - i - 1);
          i = close + 1;
        } else {
          const std::size_t v0 = i;
          while (i < body.size() && !is_space(body[i]) && body[i] != '>') ++i;
          value = body.substr(v0, i - v0);
        }
      }
      check_attribute(attr, value, what);
    }
  }
}
}  // namespace

std::string inline_svg(std::string_view svg, std::string_view id_prefix, std::string_view title,
                       std::string_view what) {
  const std::size_t start = skip_prolog(svg, what);
  std::string body(svg.substr(start));
  while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back()))) body.pop_back();
  const std::string low = lower(body);
  if (!low.starts_with("<svg") || body.size() < 5 ||
      !(std::isspace(static_cast<unsigned char>(body[4])) || body[4] == '>'))
    bad_svg(what, "it does not start with an <svg> element");
  if (!low.ends_with("</svg>")) bad_svg(what, "it does not end with </svg>");
  check_tags(body, what);
  // Prefix ids and local references. Only [A-Za-z0-9_-] ids are rewritten; gnuplot uses no others.
  const std::string prefix(id_prefix);
  static const std::regex kId(R"(\bid=(["'])([A-Za-z0-9_-]+)\1)");
  body = std::regex_replace(body, kId, "id=$1" + prefix + "$2$1");
  static const std::regex kHref(R"(href=(["'])#([A-Za-z0-9_-]+)\1)");
  body = std::regex_replace(body, kHref, "href=$1#" + prefix + "$2$1");
  static const std::regex kUrl(R"(url\(#([A-Za-z0-9_-]+)\))");
  body = std::regex_replace(body, kUrl, "url(#" + prefix + "$1)");

  const std::size_t t0 = body.find("<title>"), t1 = body.find("</title>");
  if (t0 != std::string::npos && t1 != std::string::npos && t0 < t1)
    body.replace(t0 + 7, t1 - (t0 + 7), html_escape(title));
  return body;
}

namespace {

void text_paragraph(std::ostream& h, const std::string& text) {
  const std::string p = html_escape(text);
  if (!p.empty()) h << "<p>" << p << "</p>\n";
}

void table(std::ostream& h, const TableBlock& t, const std::string& stem, int number) {
  h << "<div class=\"scroll\"><table>\n<caption><strong>Table " << number << ".</strong>";
  if (!t.caption.empty()) h << ' ' << html_escape(t.caption);
  h << "</caption>\n<thead><tr>";
  for (const std::string& col : headers_with_units(t)) h << "<th>" << html_escape(col) << "</th>";
  h << "</tr></thead>\n<tbody>\n";
  const std::size_t n = t.table.columns.size();
  for (const auto& row : t.table.rows) {
    h << "<tr>";
    for (std::size_t c = 0; c < n; ++c) {
      const bool numeric = c < t.table.numeric.size() && t.table.numeric[c];
      h << (numeric ? "<td class=\"num\">" : "<td>")
        << (c < row.size() ? html_escape(cell_for_people(t, c, row[c])) : "") << "</td>";
    }
    h << "</tr>\n";
  }
  h << "</tbody>\n</table></div>\n<p class=\"data\">Data: <code>" << stem << ".csv</code></p>\n";
}

void figure(std::ostream& h, const Chart& c, const DrawnChart& drawn, int number) {
  std::string prefix = "fig";
  prefix.append(std::to_string(number)).append("-");
  h << "<figure id=\"figure-" << number << "\">\n"
    << inline_svg(drawn.svg_text, prefix, c.title, drawn.stem + ".svg")
    << "\n<figcaption><strong>Figure " << number << ".</strong> " << html_escape(c.title)
    << " (files: <code>" << drawn.stem << ".png</code>, <code>" << drawn.stem
    << ".svg</code>)</figcaption>\n";
  for (const std::string& w : drawn.warnings)
    h << "<p class=\"note\">Note: " << html_escape(w) << "</p>\n";
  h << "</figure>\n";
}

}  // namespace

std::string to_html(const Report& r, const FileStems& stems,
                    const std::vector<std::vector<DrawnChart>>& charts) {
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    // No scripts, no remote loads: only the inline style and inline SVG below.
    << "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
       "style-src 'unsafe-inline'; img-src data:\">\n"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    << "<meta name=\"generator\" content=\"v4sim\">\n"
    << "<title>" << html_escape(r.title) << "</title>\n<style>" << kStyle << "</style>\n"
    << "</head>\n<body>\n<h1>" << html_escape(r.title) << "</h1>\n";
  for (const std::string& p : r.summary) text_paragraph(h, p);
  int table_no = 0, figure_no = 0;
  for (std::size_t s = 0; s < r.sections.size(); ++s) {
    const Section& sec = r.sections[s];
    h << "<section>\n<h2>" << html_escape(sec.heading) << "</h2>\n";
    for (const std::string& p : sec.paragraphs) text_paragraph(h, p);
    for (std::size_t i = 0; i < sec.tables.size(); ++i)
      table(h, sec.tables[i], stems.tables[s][i], ++table_no);
    for (std::size_t i = 0; i < sec.charts.size(); ++i)
      figure(h, sec.charts[i], charts[s][i], ++figure_no);
    if (!sec.assumptions.empty()) {
      h << "<h3>Assumptions</h3>\n<ul>\n";
      for (const std::string& a : sec.assumptions) h << "<li>" << html_escape(a) << "</li>\n";
      h << "</ul>\n";
    }
    if (!sec.inputs.empty()) {
      h << "<h3>Inputs and sources</h3>\n<div class=\"scroll\"><table>\n"
        << "<thead><tr><th>Input</th><th>Value</th><th>Source</th></tr></thead>\n<tbody>\n";
      for (const SourcedInput& in : sec.inputs)
        h << "<tr><td>" << html_escape(in.name) << "</td><td>" << html_escape(in.value)
          << "</td><td>" << html_escape(in.source) << "</td></tr>\n";
      h << "</tbody>\n</table></div>\n";
    }
    h << "</section>\n";
  }
  h << "</body>\n</html>\n";
  return h.str();
}

}  // namespace v4sim::report
