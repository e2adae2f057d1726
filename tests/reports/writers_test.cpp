// Markdown, HTML, CSV and JSON writers on hand-made input (no gnuplot needed): structure,
// escaping of every piece of report text, SVG checks before inlining, stable output.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "models/config/input_error.h"
#include "reports/data_files.h"
#include "reports/file_names.h"
#include "reports/html.h"
#include "reports/markdown.h"
#include "tests/reports/demo_report.h"

namespace v4sim::report {
namespace {

constexpr const char* kEvil = "<script>alert(1)</script> | `x` *b* & \"q\" 'a'";

/// A stand-in for gnuplot's SVG: prolog, defs with ids, local references, escaped text.
const std::string kSvg =
    "<?xml version=\"1.0\" encoding=\"utf-8\"  standalone=\"no\"?>\n"
    "<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" "
    "\"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n"
    "<svg width=\"900\" height=\"560\" viewBox=\"0 0 900 560\" "
    "xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n"
    "<title>Gnuplot</title>\n<defs><path id='gpPt0' d='M-1,0 h2'/>"
    "<clipPath id=\"clip1\"><rect x='0' y='0' width='9' height='9'/></clipPath></defs>\n"
    "<g clip-path=\"url(#clip1)\"><use xlink:href='#gpPt0' transform='translate(1,1)'/>"
    "<path d='M0,0 L9,9'/><text>&lt;script>alert(1)&lt;/script> turn on=off</text></g>\n"
    "</svg>\n";

struct Fixture {
  Report report = testing::demo_report(kEvil);
  FileStems stems;
  std::vector<std::vector<DrawnChart>> charts;
  Fixture() {
    report.summary.push_back(std::string("- ") + kEvil);
    report.sections[0].heading = kEvil;
    report.sections[0].tables[0].caption = kEvil;
    report.sections[0].tables[0].table.rows[0][1] = kEvil;
    report.sections[0].charts[0].title = kEvil;
    report.sections[0].assumptions.push_back(kEvil);
    report.sections[0].inputs.push_back({kEvil, kEvil, kEvil});
    stems = file_stems(report);
    for (std::size_t s = 0; s < report.sections.size(); ++s) {
      charts.emplace_back();
      for (const std::string& stem : stems.charts[s])
        charts.back().push_back({stem, stem + ".png", stem + ".svg", kSvg, {}});
    }
    charts[0][0].warnings = {std::string("skipped ") + kEvil};
  }
};

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t i = s.find(what); i != std::string::npos; i = s.find(what, i + 1)) ++n;
  return n;
}

TEST(FileNames, NumbersUnnamedAndRejectsBadOrDuplicateNames) {
  Report r = testing::demo_report();
  FileStems st = file_stems(r);
  EXPECT_EQ(st.tables, (std::vector<std::vector<std::string>>{{"kv-bytes"}, {"table-2"}}));
  EXPECT_EQ(st.charts, (std::vector<std::vector<std::string>>{{"kv-vs-context"}, {"chart-2"}}));
  for (const char* bad : {"../x", "a/b", ".hidden", "-rf", "a b", "x.csv", ""}) {
    if (!*bad) continue;
    r.sections[1].tables[0].name = bad;
    EXPECT_THROW(file_stems(r), InputError) << bad;
  }
  r.sections[1].tables[0].name = "KV-Bytes";  // Same file on a case-insensitive file system.
  EXPECT_THROW(file_stems(r), InputError);
  r.sections[1].tables[0].name = "table-1";
  EXPECT_NO_THROW(file_stems(r));
  EXPECT_FALSE(is_valid_stem(std::string(81, 'a')));
  EXPECT_TRUE(is_valid_stem(std::string(80, 'a')));
}

TEST(Markdown, TablesChartsAndSources) {
  const Report r = testing::demo_report();
  const FileStems st = file_stems(r);
  std::vector<std::vector<DrawnChart>> charts = {{{"kv-vs-context", {}, {}, kSvg, {}}},
                                                 {{"chart-2", {}, {}, kSvg, {}}}};
  const std::string md = to_markdown(r, st, charts);
  EXPECT_EQ(md.rfind("# Synthetic long-context demo\n\n", 0), 0u);
  EXPECT_NE(md.find("**Table 1.** KV cache bytes per sequence by context\n\n"
                    "| context (tokens) | model | kv\\_bytes (bytes) |\n| ---: | --- | ---: |\n"
                    "| 4096 | dense-baseline | 273 MiB |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("Data: [kv-bytes.csv](kv-bytes.csv)"), std::string::npos);
  EXPECT_NE(md.find("![KV cache per sequence](kv-vs-context.png)"), std::string::npos);
  EXPECT_NE(md.find("**Figure 2.** Price per million output tokens ([SVG](chart-2.svg))"),
            std::string::npos);
  EXPECT_NE(md.find("### Inputs and sources\n\n| Input | Value | Source |"), std::string::npos);
  EXPECT_NE(md.find("| bytes\\_per\\_token | 70 kB | estimate: synthetic value for tests |"),
            std::string::npos);
  EXPECT_EQ(md.back(), '\n');
  EXPECT_NE(md.substr(md.size() - 2), "\n\n");
}

TEST(Markdown, EveryTextIsEscaped) {
  const Fixture f;
  const std::string md = to_markdown(f.report, f.stems, f.charts);
  EXPECT_EQ(md.find("<script>"), std::string::npos) << md;
  EXPECT_EQ(md.find(" | `x`"), std::string::npos);
  const std::string escaped = "\\<script\\>alert(1)\\</script\\> \\| \\`x\\` \\*b\\* \\& \"q\" 'a'";
  // Title, summary, heading, caption, cell, figure alt text and caption, warning, assumption,
  // input name, value and source.
  EXPECT_GE(count(md, escaped), 12u) << md;
  EXPECT_NE(md.find("\n\\- \\<script"), std::string::npos) << "a leading '-' is not a list";
}

TEST(Html, SelfContainedPageWithTablesAndInlineSvg) {
  const Report r = testing::demo_report();
  const FileStems st = file_stems(r);
  std::vector<std::vector<DrawnChart>> charts = {{{"kv-vs-context", {}, {}, kSvg, {}}},
                                                 {{"chart-2", {}, {}, kSvg, {}}}};
  const std::string html = to_html(r, st, charts);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>\n<html lang=\"en\">", 0), 0u);
  EXPECT_NE(html.find("Content-Security-Policy\" content=\"default-src 'none'"), std::string::npos);
  EXPECT_EQ(count(html, "<table>"), 4u) << "two data tables and two source tables";
  EXPECT_NE(html.find("<th>context (tokens)</th><th>model</th><th>kv_bytes (bytes)</th>"),
            std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">4096</td><td>dense-baseline</td>"), std::string::npos);
  EXPECT_EQ(count(html, "<svg "), 2u);
  EXPECT_EQ(html.find("<?xml"), std::string::npos);
  EXPECT_EQ(html.find("<!DOCTYPE svg"), std::string::npos);
  // Ids are unique per figure and references follow them.
  EXPECT_NE(html.find("id='fig1-gpPt0'"), std::string::npos);
  EXPECT_NE(html.find("id='fig2-gpPt0'"), std::string::npos);
  EXPECT_NE(html.find("xlink:href='#fig2-gpPt0'"), std::string::npos);
  EXPECT_NE(html.find("url(#fig1-clip1)"), std::string::npos);
  EXPECT_NE(html.find("<title>KV cache per sequence</title>"), std::string::npos);
  // Nothing to load or run.
  for (const char* banned : {"<script", "<link", " src=", "<img", "<iframe", "@import"})
    EXPECT_EQ(html.find(banned), std::string::npos) << banned;
}

TEST(Html, EveryTextIsEscaped) {
  const Fixture f;
  const std::string html = to_html(f.report, f.stems, f.charts);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  const std::string escaped =
      "&lt;script&gt;alert(1)&lt;/script&gt; | `x` *b* &amp; &quot;q&quot; &#39;a&#39;";
  // <title>, h1, summary, h2, caption, cell, svg title, figcaption, warning, assumption, 3 inputs.
  EXPECT_GE(count(html, escaped), 13u) << html;
}

TEST(InlineSvg, RefusesActiveOrExternalContent) {
  auto refused = [](const std::string& svg) {
    try {
      inline_svg(svg, "p-", "t", "test.svg");
    } catch (const std::runtime_error&) {
      return true;
    }
    return false;
  };
  const std::string head = "<svg xmlns=\"http://www.w3.org/2000/svg\">";
  EXPECT_FALSE(refused(head + "<g><text>on=1 javascript: &lt;script></text></g></svg>"));
  EXPECT_TRUE(refused(head + "<script>alert(1)</script></svg>"));
  EXPECT_TRUE(refused(head + "<SCRIPT>alert(1)</SCRIPT></svg>"));
  EXPECT_TRUE(refused(head + "<g onload=\"alert(1)\"/></svg>"));
  EXPECT_TRUE(refused(head + "<g\nONclick='x'/></svg>"));
  EXPECT_TRUE(refused(head + "<use href='http://evil/x.svg#a'/></svg>"));
  EXPECT_TRUE(refused(head + "<use xlink:href=\"data:image/svg+xml,x\"/></svg>"));
  EXPECT_TRUE(refused(head + "<rect style=\"fill:url(https://evil/p)\"/></svg>"));
  EXPECT_TRUE(refused(head + "<rect fill=\"url( 'x.svg#p')\"/></svg>"));
  EXPECT_TRUE(refused(head + "<foreignObject><div/></foreignObject></svg>"));
  EXPECT_TRUE(refused(head + "<image href='#a'/></svg>"));
  EXPECT_TRUE(refused(head + "<a href='#a'><text>x</text></a></svg>"));
  EXPECT_TRUE(refused(head + "<set attributeName='href' to='javascript:alert(1)'/></svg>"));
  EXPECT_TRUE(refused(head + "<style>*{display:none}</style></svg>"));
  EXPECT_TRUE(refused(head + "<![CDATA[x]]></svg>"));
  EXPECT_TRUE(refused(head + "<g title=\"a\" onload=x></g></svg>"));
  EXPECT_TRUE(refused(head + "<g a='>' onload='x'></g></svg>")) << "quoted '>' hides nothing";
  EXPECT_TRUE(refused("<html><svg></svg></html>"));
  EXPECT_TRUE(refused("not an svg"));
  EXPECT_TRUE(refused(head + "<g>"));
  EXPECT_TRUE(refused("<!DOCTYPE svg [<!ENTITY x \"y\">]>" + head + "</svg>"));
  EXPECT_FALSE(refused(kSvg));
}

TEST(Csv, UnitsInHeaderAndFormulaGuard) {
  TableBlock t;
  t.table.columns = {"name", "value"};
  t.units = {"", "USD"};
  t.table.rows = {{"=1+2", "-5"}, {"@SUM(A1)", "+3"}, {"-", "1,5"}, {"plain \"q\"", "1e9"}};
  EXPECT_EQ(table_csv(t),
            "name,value (USD)\n'=1+2,-5\n'@SUM(A1),+3\n'-,\"1,5\"\n\"plain \"\"q\"\"\",1e9\n");
}

TEST(Tables, CellCountAndUnitsAreChecked) {
  TableBlock t;
  t.table.columns = {"a", "b"};
  t.table.rows = {{"1"}, {"1", "2"}};
  EXPECT_NO_THROW(check_table(t));
  t.units = {"s"};
  EXPECT_THROW(check_table(t), InputError);
  t.units = {"s", ""};
  t.table.rows.push_back({"1", "2", "3"});
  EXPECT_THROW(check_table(t), InputError);
}

TEST(Json, EveryTableWithUnitsAndNumbers) {
  Report r = testing::demo_report();
  r.sections[0].tables[0].table.rows.push_back({"n/a", "x", "inf"});
  r.sections[0].charts[0].series[0].y[0] = std::numeric_limits<double>::quiet_NaN();
  r.sections[1].tables[0].table.rows[0][0] = "bad \xff utf8";
  const std::string text = report_json(r, file_stems(r));
  const nlohmann::ordered_json j = nlohmann::ordered_json::parse(text);
  EXPECT_EQ(j["title"], "Synthetic long-context demo");
  const auto& t = j["sections"][0]["tables"][0];
  EXPECT_EQ(t["name"], "kv-bytes");
  EXPECT_EQ(t["columns"][2], (nlohmann::ordered_json{{"name", "kv_bytes"}, {"unit", "bytes"}}));
  EXPECT_EQ(t["rows"][0][0], 4096);
  EXPECT_TRUE(t["rows"][0][0].is_number_integer());
  EXPECT_EQ(t["rows"][0][1], "dense-baseline");
  EXPECT_EQ(t["rows"][0][2], 286720000.0);
  EXPECT_EQ(t["rows"].back()[0], "n/a");
  EXPECT_EQ(t["rows"].back()[2], "inf");
  EXPECT_EQ(j["sections"][1]["tables"][0]["rows"][0][0], "bad \xef\xbf\xbd utf8");
  const auto& c = j["sections"][0]["charts"][0];
  EXPECT_EQ(c["x"]["unit"], "tokens");
  EXPECT_TRUE(c["series"][0]["points"][0][1].is_null());
  EXPECT_EQ(c["series"][0]["points"][1][0], 8192.0);
  EXPECT_EQ(j["sections"][0]["inputs"][0]["source"], "estimate: synthetic value for tests");
  // Stable key order: as written, not sorted.
  std::vector<std::string> keys;
  for (const auto& [k, v] : j["sections"][0].items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"heading", "paragraphs", "tables", "charts",
                                            "assumptions", "inputs"}));
  EXPECT_EQ(text, report_json(r, file_stems(r)));
}

}  // namespace
}  // namespace v4sim::report
