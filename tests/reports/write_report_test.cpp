// A whole report folder: every file present and valid, byte-identical on a second run, injected
// text harmless end to end, and the previous folder untouched when writing fails midway.
#include "reports/write_report.h"

#include <gtest/gtest.h>

#include <limits>

#include "models/config/input_error.h"
#include "reports/charts.h"
#include "reports/output_dir.h"
#include "tests/reports/demo_report.h"
#include "tests/reports/test_util.h"

namespace v4sim::report {
namespace {

using testing::demo_report;
using testing::entries;
using testing::slurp;
using testing::TempDir;
namespace fs = std::filesystem;

const std::set<std::string> kDemoFiles = {"kv-vs-context.png", "kv-vs-context.svg",
                                          "chart-2.png",       "chart-2.svg",
                                          "kv-bytes.csv",      "table-2.csv",
                                          "report.json",       "report.md",
                                          "report.html",       std::string(kOutputMarker)};

TEST(WriteReport, WritesEveryFile) {
  TempDir tmp;
  const WrittenReport w = write_report(demo_report(), tmp / "out");
  EXPECT_EQ(w.files.size(), kDemoFiles.size() - 1);
  EXPECT_EQ(entries(tmp / "out"), kDemoFiles);
  EXPECT_TRUE(w.warnings.empty());
  for (const char* png : {"kv-vs-context.png", "chart-2.png"}) {
    const std::optional<PngSize> size = png_size(slurp(tmp / "out" / png));
    ASSERT_TRUE(size) << png;
    EXPECT_EQ(size->width, 1000u);
    EXPECT_EQ(size->height, 620u);
  }
  const std::string html = slurp(tmp / "out" / "report.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("<path"), std::string::npos);
  EXPECT_EQ(slurp(tmp / "out" / "kv-bytes.csv").substr(0, 46),
            "context (tokens),model,kv_bytes (bytes)\n4096,d");
  EXPECT_EQ(entries(tmp.path()), (std::set<std::string>{"out"}));
}

TEST(WriteReport, SameReportGivesByteIdenticalFiles) {
  TempDir tmp;
  write_report(demo_report(), tmp / "a");
  write_report(demo_report(), tmp / "b");
  for (const std::string& f : kDemoFiles)
    EXPECT_EQ(slurp(tmp / "a" / f), slurp(tmp / "b" / f)) << f;
  // Writing again into the same folder replaces it with the same content.
  const std::string md = slurp(tmp / "a" / "report.md");
  write_report(demo_report(), tmp / "a");
  EXPECT_EQ(slurp(tmp / "a" / "report.md"), md);
  EXPECT_EQ(entries(tmp / "a"), kDemoFiles);
}

TEST(WriteReport, FailureMidwayLeavesThePreviousReport) {
  TempDir tmp;
  write_report(demo_report(), tmp / "out");
  const std::string html = slurp(tmp / "out" / "report.html");

  // The second section's chart has no drawable point: found only while drawing, after the first
  // chart's files were written into the staging folder.
  Report bad = demo_report("A different title");
  for (Series& s : bad.sections[1].charts[0].series)
    for (double& y : s.y) y = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(write_report(bad, tmp / "out"), InputError);
  EXPECT_EQ(entries(tmp / "out"), kDemoFiles);
  EXPECT_EQ(slurp(tmp / "out" / "report.html"), html);
  EXPECT_EQ(entries(tmp.path()), (std::set<std::string>{"out"})) << "staging folder removed";

  // gnuplot failing (here: missing) is a runtime error with the same guarantee.
  WriteOptions o;
  o.chart_style.gnuplot = "/nonexistent/gnuplot";
  EXPECT_THROW(write_report(demo_report("Other"), tmp / "out", o), std::runtime_error);
  EXPECT_EQ(slurp(tmp / "out" / "report.html"), html);
  EXPECT_EQ(entries(tmp.path()), (std::set<std::string>{"out"}));

  // Bad names are found before anything is written.
  Report named = demo_report();
  named.sections[0].tables[0].name = "../../etc/passwd";
  EXPECT_THROW(write_report(named, tmp / "new"), InputError);
  EXPECT_EQ(entries(tmp.path()), (std::set<std::string>{"out"}));
}

TEST(WriteReport, RefusesToReplaceAForeignFolder) {
  TempDir tmp;
  fs::create_directory(tmp / "docs");
  write_file_atomic(tmp / "docs" / "notes.txt", "keep me");
  EXPECT_THROW(write_report(demo_report(), tmp / "docs"), InputError);
  EXPECT_EQ(entries(tmp / "docs"), (std::set<std::string>{"notes.txt"}));
}

TEST(WriteReport, InjectedTextIsHarmlessEverywhere) {
  TempDir tmp;
  const std::string p = (tmp / "pwned").string();
  const std::string evil = "T \"q\" 'a' `touch " + p + "1` system(\"touch " + p +
                           "2\") @m\nset output '" + p + "3' <script>alert(1)</script> | x";
  Report r = demo_report(evil);
  r.sections[0].heading = evil;
  r.sections[0].charts[0].title = evil;
  r.sections[0].charts[0].x.label = evil;
  r.sections[0].charts[0].y.unit = evil;
  r.sections[0].charts[0].series[1].name = evil;
  r.sections[1].charts[0].categories[2] = evil;
  r.sections[0].charts[0].series[2].name = "<script>alert(2)</script> `touch " + p + "4`";
  r.sections[0].tables[0].caption = evil;
  r.sections[0].tables[0].table.columns[1] = evil;
  write_report(r, tmp / "out");
  for (int i = 1; i <= 4; ++i) EXPECT_FALSE(fs::exists(p + std::to_string(i))) << i;
  EXPECT_EQ(entries(tmp.path()), (std::set<std::string>{"out"}));

  const std::string html = slurp(tmp / "out" / "report.html");
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("set output &#39;" + p + "3&#39; &lt;script&gt;alert(1)&lt;/script&gt; | x"),
            std::string::npos);
  // Inside the inlined SVG the text is escaped by gnuplot (and "<" never appears raw).
  EXPECT_NE(html.find("&lt;script>alert(2)&lt;/script>"), std::string::npos);
  const std::string md = slurp(tmp / "out" / "report.md");
  EXPECT_EQ(md.find("<script>"), std::string::npos);
  EXPECT_NE(md.find("\\<script\\>alert(1)\\</script\\> \\| x"), std::string::npos);
  for (const char* svg : {"kv-vs-context.svg", "chart-2.svg"}) {
    const std::string s = slurp(tmp / "out" / svg);
    EXPECT_EQ(s.find("<script"), std::string::npos) << svg;
  }
  // In the chart the text is shown as text (long texts are wrapped or shortened, with a warning).
  EXPECT_NE(slurp(tmp / "out" / "kv-vs-context.svg").find("&lt;script>alert(2)&lt;/script> `touch"),
            std::string::npos);
  EXPECT_NE(md.find("series name shortened in the legend"), std::string::npos);
}

TEST(WriteReport, WarningsReachTheReader) {
  TempDir tmp;
  Report r = demo_report();
  r.sections[0].charts[0].series[0].y[4] = std::numeric_limits<double>::infinity();
  const WrittenReport w = write_report(r, tmp / "out");
  ASSERT_EQ(w.warnings.size(), 1u);
  EXPECT_NE(slurp(tmp / "out" / "report.md").find("> Note: chart 'kv-vs-context', series "),
            std::string::npos);
  EXPECT_NE(slurp(tmp / "out" / "report.html").find("<p class=\"note\">Note: chart &#39;kv-vs-"),
            std::string::npos);
}

}  // namespace
}  // namespace v4sim::report
