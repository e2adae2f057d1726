// gnuplot charts: real PNG and SVG files with the expected size and content, bad specs rejected,
// undrawable points skipped with warnings, and text that cannot run commands in gnuplot.
#include "reports/charts.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <sstream>

#include "models/config/input_error.h"
#include "reports/escape.h"
#include "tests/reports/demo_report.h"
#include "tests/reports/test_util.h"

namespace v4sim::report {
namespace {

using testing::entries;
using testing::slurp;
using testing::TempDir;
namespace fs = std::filesystem;

/// PNG width and height read straight from the bytes (independently of png_size()).
std::pair<std::uint32_t, std::uint32_t> parse_png(const std::string& b) {
  EXPECT_GE(b.size(), 33u);
  EXPECT_EQ(b.substr(0, 8), std::string("\x89PNG\r\n\x1a\n"));
  EXPECT_EQ(b.substr(12, 4), "IHDR");
  auto be32 = [&](std::size_t at) {
    return (std::uint32_t(std::uint8_t(b[at])) << 24) |
           (std::uint32_t(std::uint8_t(b[at + 1])) << 16) |
           (std::uint32_t(std::uint8_t(b[at + 2])) << 8) | std::uint32_t(std::uint8_t(b[at + 3]));
  };
  return {be32(16), be32(20)};
}

Chart line_chart() {
  return testing::demo_report().sections[0].charts[0];
}
Chart bar_chart() {
  return testing::demo_report().sections[1].charts[0];
}

TEST(Charts, LineChartWritesPngAndSvg) {
  TempDir tmp;
  const DrawnChart d = draw_chart(line_chart(), tmp.path(), "kv");
  EXPECT_EQ(d.png, tmp / "kv.png");
  const std::string png = slurp(d.png);
  EXPECT_EQ(parse_png(png), (std::pair<std::uint32_t, std::uint32_t>{1000, 620}));
  EXPECT_GT(png.size(), 5000u) << "a drawn chart, not an empty canvas";
  const std::optional<PngSize> size = png_size(png);
  ASSERT_TRUE(size);
  EXPECT_EQ(size->width, 1000u);
  const std::string svg = slurp(d.svg);
  EXPECT_EQ(svg, d.svg_text);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("<path"), std::string::npos);
  EXPECT_NE(svg.find("width=\"900\" height=\"560\""), std::string::npos);
  // Units on both axes, the legend, binary context ticks and SI byte ticks.
  for (const char* text : {"Context (tokens)", "KV cache (bytes)", "dense-baseline",
                           "compressed-128x", ">4K<", ">1M<", ">1G<", "KV cache per sequence"})
    EXPECT_NE(svg.find(text), std::string::npos) << text;
  EXPECT_TRUE(d.warnings.empty());
  EXPECT_EQ(entries(tmp.path()), (std::set<std::string>{"kv.png", "kv.svg"})) << "no temporaries";
}

TEST(Charts, BarChartWithCategories) {
  TempDir tmp;
  const DrawnChart d = draw_chart(bar_chart(), tmp.path(), "bars");
  EXPECT_EQ(parse_png(slurp(d.png)).first, 1000u);
  for (const char* text : {"System A", "System D", "flash-like", "pro-like", "USD per 1M tokens"})
    EXPECT_NE(d.svg_text.find(text), std::string::npos) << text;
  EXPECT_NE(d.svg_text.find("<path"), std::string::npos);
}

TEST(Charts, LogBarsAndLinearAxesDraw) {
  TempDir tmp;
  Chart c;
  c.title = "bars on log axes";
  c.kind = Chart::Kind::Bars;
  c.x = {"context", "tokens", true, Axis::Ticks::Binary};
  c.y = {"time", "s", true, Axis::Ticks::Auto};
  c.series = {{"a", {4096, 65536, 1048576}, {0.01, 0.3, 12}}, {"b", {4096, 65536}, {0.02, 0.5}}};
  EXPECT_NO_THROW(draw_chart(c, tmp.path(), "log-bars"));
  c.kind = Chart::Kind::LinePoints;
  c.x.log = c.y.log = false;
  c.x.ticks = Axis::Ticks::Si;
  EXPECT_NO_THROW(draw_chart(c, tmp.path(), "linear"));
  EXPECT_NE(slurp(tmp / "linear.svg").find(">1.0M<"), std::string::npos);
}

TEST(Charts, SkipsUndrawablePointsWithWarnings) {
  TempDir tmp;
  Chart c = line_chart();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  c.series[0].y[2] = nan;
  c.series[0].x[3] = std::numeric_limits<double>::infinity();
  c.series[1].y[0] = 0;  // Not drawable on the log y axis.
  c.series[1].y[1] = -5;
  const DrawnChart d = draw_chart(c, tmp.path(), "skip");
  ASSERT_EQ(d.warnings.size(), 2u);
  EXPECT_NE(d.warnings[0].find("series 'dense-baseline': skipped 2 points (NaN or infinite value; "
                               "index 2, 3)"),
            std::string::npos)
      << d.warnings[0];
  EXPECT_NE(
      d.warnings[1].find("series 'compressed-4x': skipped 2 points (value <= 0 on a log axis; "
                         "index 0, 1)"),
      std::string::npos)
      << d.warnings[1];
  EXPECT_NE(slurp(d.png).size(), 0u);
}

TEST(Charts, BadSpecsAreInputErrors) {
  TempDir tmp;
  auto rejects = [&](Chart c, const char* text) {
    try {
      draw_chart(c, tmp.path(), "bad");
      ADD_FAILURE() << "expected InputError for " << text;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
  };
  Chart c = line_chart();
  c.series[1].y.pop_back();
  rejects(c, "series 'compressed-4x' has 9 x values but 8 y values");
  c = line_chart();
  c.y.unit.clear();
  rejects(c, "the y axis needs a unit");
  c = line_chart();
  c.x.unit.clear();
  rejects(c, "the x axis needs a unit");
  c = bar_chart();
  c.x.log = true;
  rejects(c, "categories cannot be on a log x axis");
  c = bar_chart();
  c.series[0].x[1] = 7;
  rejects(c, "x value 7 is not a category index 0..3");
  c = line_chart();
  c.series.clear();
  rejects(c, "has no series");
  c = line_chart();
  for (Series& s : c.series)
    for (double& y : s.y) y = std::numeric_limits<double>::quiet_NaN();
  rejects(c, "has no drawable point");
  EXPECT_THROW(draw_chart(line_chart(), tmp.path(), "../escape"), InputError);
  EXPECT_TRUE(entries(tmp.path()).empty());
}

TEST(Charts, MissingGnuplotIsAClearError) {
  TempDir tmp;
  ChartStyle style;
  style.gnuplot = "/nonexistent/gnuplot";
  try {
    draw_chart(line_chart(), tmp.path(), "x", style);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot run '/nonexistent/gnuplot'"), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(entries(tmp.path()).empty()) << "temporaries removed";
}

TEST(Charts, AnyFolderNameWorks) {
  // gnuplot runs inside the folder and names files by their plain names, so quotes, line breaks or
  // shell syntax in the folder's path never reach a gnuplot string or a shell.
  TempDir tmp;
  const fs::path dir = tmp / "we'ird \"dir\" `touch x` $(touch y)\nline \xff";
  fs::create_directory(dir);
  const DrawnChart d = draw_chart(line_chart(), dir, "c");
  EXPECT_TRUE(png_size(slurp(d.png)));
  EXPECT_EQ(entries(dir), (std::set<std::string>{"c.png", "c.svg"}));
  EXPECT_EQ(entries(tmp.path()).size(), 1u);
}

TEST(Charts, DataKeepsFullPrecision) {
  TempDir tmp;
  Chart c = line_chart();
  const double tricky[] = {1 + std::ldexp(1.0, -52), 0.1,           1.0 / 3.0,
                           123456789.123456789,      6.02214076e23, 2.718281828459045e-7};
  c.series = {{"precise", {}, {}}};
  for (int i = 0; i < 6; ++i) {
    c.series[0].x.push_back(4096.0 * (i + 1));
    c.series[0].y.push_back(tricky[i]);
  }
  ChartStyle style;
  style.keep_script = true;
  draw_chart(c, tmp.path(), "precise", style);
  // The data block in the script reads back as exactly the same doubles.
  std::istringstream script(slurp(tmp / "precise.gp"));
  std::string line;
  while (std::getline(script, line) && line != "$s0 << e") {
  }
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(std::getline(script, line));
    std::istringstream row(line);
    double x = 0, y = 0;
    row >> x >> y;
    EXPECT_EQ(x, 4096.0 * (i + 1));
    EXPECT_EQ(y, tricky[i]) << line;
  }
  ASSERT_TRUE(std::getline(script, line));
  EXPECT_EQ(line, "e");
}

TEST(Charts, SameChartGivesIdenticalFiles) {
  TempDir a, b;
  const DrawnChart da = draw_chart(line_chart(), a.path(), "c");
  const DrawnChart db = draw_chart(line_chart(), b.path(), "c");
  EXPECT_EQ(da.svg_text, db.svg_text);
  EXPECT_EQ(slurp(da.png), slurp(db.png)) << "no timestamp in the PNG";
  const std::string svg = da.svg_text;
  EXPECT_EQ(svg.find(a.path().string()), std::string::npos) << "no temporary path in the SVG";
}

// Text from a scenario file must reach gnuplot as text only. Each payload would create a file if
// gnuplot ran it: backticks (command substitution in double quotes), system(), a line break that
// starts a new command (`!` runs a shell command, `set output` / `print` write files), and macros.
TEST(Charts, InjectedTextIsShownNotExecuted) {
  TempDir tmp;
  const fs::path pwn = tmp / "pwned";
  const std::string p = pwn.string();
  Chart c = line_chart();
  c.title =
      "it's \"quoted\" `touch " + p + "1` $(touch " + p + "2) @evil <script>alert(1)</script>";
  c.x.label = "x'\nsystem(\"touch " + p + "3\")\n! touch " + p + "4\nset output '" + p + "5'\\";
  c.x.unit = "tokens\"; print `touch " + p + "6`";
  c.y.label = "y\r\nset print '" + p + "7'\nprint 1";
  c.y.unit = "B' . system('touch " + p + "8') . '";
  c.series[0].name = "s`touch " + p + "9`";
  c.series[1].name = "eval('sys'.'tem(\"touch " + p + "10\")')";
  c.series[2].name = "\\'; system(\"touch " + p + "11\") #";
  ChartStyle style;
  style.keep_script = true;
  fs::create_directory(tmp / "out");
  const DrawnChart d = draw_chart(c, tmp / "out", "inj", style);
  for (int i = 1; i <= 11; ++i)
    EXPECT_FALSE(fs::exists(p + std::to_string(i))) << "payload " << i << " was executed";
  EXPECT_EQ(entries(tmp.path()), (std::set<std::string>{"out"}));
  // The text appears as text, XML-escaped by gnuplot's SVG terminal.
  const std::string& svg = d.svg_text;
  EXPECT_NE(svg.find("&lt;script>alert(1)&lt;/script>"), std::string::npos);
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_NE(svg.find("it's \"quoted\" `touch " + p + "1`"), std::string::npos);
  EXPECT_NE(svg.find("x' system(\"touch " + p + "3\")"), std::string::npos);
  EXPECT_NE(svg.find("s`touch " + p + "9`"), std::string::npos);
  // The script holds every text on one line, single-quoted.
  const std::string script = slurp(tmp / "out" / "inj.gp");
  EXPECT_NE(script.find("set title 'it' . v4sim_quote . 's \"quoted\" `touch "), std::string::npos);
  EXPECT_EQ(script.find("\n! touch"), std::string::npos);
  EXPECT_EQ(script.find("\nset print"), std::string::npos);
}

// Property test of the quoting itself: random strings of characters that mean something to
// gnuplot (quotes, backticks, backslashes, @, $, braces, comment and command separators, non-ASCII)
// printed by gnuplot come back exactly as one_line() of the input. "@GPVAL_PWD" would expand to
// the working folder if gnuplot's macro scanner took it for unquoted text.
TEST(Charts, QuotedTextRoundTripsThroughGnuplot) {
  const unsigned seed = std::random_device{}();
  std::printf("seed %u\n", seed);
  std::mt19937 rng(seed);
  const std::vector<std::string> alphabet = {
      "'", "\"", "`", "\\", "@", "$", " ",        "a",  "(",  ")",    ";",         "#",
      "!", "{",  "}", "^",  "_", "&", "\xc3\xa9", "\n", "\t", "\x1b", "GPVAL_PWD", "v4sim_quote"};
  TempDir tmp;
  std::vector<std::string> expected;
  std::string script =
      gnuplot_preamble() + "set print " + gnuplot_quote((tmp / "out.txt").string()) + "\n";
  for (int i = 0; i < 1000; ++i) {
    std::string s;
    const int len = std::uniform_int_distribution<int>(0, 12)(rng);
    for (int k = 0; k < len; ++k)
      s += alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(rng)];
    expected.push_back(one_line(s));
    script += "print " + gnuplot_quote(s) + "\n";
  }
  std::ofstream(tmp / "t.gp") << script;
  const std::string cmd = "gnuplot -d '" + (tmp / "t.gp").string() + "' 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string messages;
  for (int c; (c = std::fgetc(pipe)) != EOF;) messages.push_back(static_cast<char>(c));
  ASSERT_EQ(pclose(pipe), 0) << messages;
  std::istringstream printed(slurp(tmp / "out.txt"));
  std::string line;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    ASSERT_TRUE(std::getline(printed, line)) << i;
    EXPECT_EQ(line, expected[i]) << "string " << i << " (seed " << seed << ")";
  }
  EXPECT_EQ(entries(tmp.path()), (std::set<std::string>{"out.txt", "t.gp"}));
}

}  // namespace
}  // namespace v4sim::report
