// Opens a generated report.html in headless Chromium (Debian's `chromium`) and checks that the
// browser builds the page with its tables and inline SVG figures and paints it. Registered under
// the ctest label `browser`; skipped when Chromium is not installed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "reports/charts.h"
#include "reports/write_report.h"
#include "tests/reports/demo_report.h"
#include "tests/reports/test_util.h"

extern char** environ;

namespace v4sim::report {
namespace {

using testing::slurp;
using testing::TempDir;
namespace fs = std::filesystem;

/// Chromium on PATH (or $V4SIM_CHROMIUM), if installed.
std::optional<fs::path> find_chromium() {
  if (const char* env = std::getenv("V4SIM_CHROMIUM"); env && *env) return fs::path(env);
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');)
    for (const char* name : {"chromium", "chromium-browser"})
      if (!dir.empty() && ::access((fs::path(dir) / name).c_str(), X_OK) == 0)
        return fs::path(dir) / name;
  return std::nullopt;
}

/// Runs headless Chromium on `url` with `extra` flags, stdout into `out_file`; returns the exit
/// code. A browser that hangs is killed after a generous limit (a safety net, not a measurement).
int run_chromium(const fs::path& chromium, const fs::path& profile,
                 const std::vector<std::string>& extra, const std::string& url,
                 const fs::path& out_file) {
  std::vector<std::string> args = {chromium.string(),
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-background-networking",
                                   "--disable-component-update",
                                   "--disable-sync",
                                   "--no-first-run",
                                   "--hide-scrollbars",
                                   "--user-data-dir=" + profile.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(url);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -2;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -3;
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t i = s.find(what); i != std::string::npos; i = s.find(what, i + 1)) ++n;
  return n;
}

class Browser : public ::testing::Test {
 protected:
  void SetUp() override {
    chromium_ = find_chromium();
    if (!chromium_) GTEST_SKIP() << "chromium is not installed (Debian: apt-get install chromium)";
    Report r = testing::demo_report("Browser check <script>document.title='pwned'</script>");
    write_report(r, tmp_ / "report");
    fs::create_directory(tmp_ / "profile");
    url_ = "file://" + (tmp_ / "report" / "report.html").string();
  }
  TempDir tmp_;
  std::optional<fs::path> chromium_;
  std::string url_;
};

TEST_F(Browser, DomHasTablesAndFigures) {
  const fs::path dom_file = tmp_ / "dom.html";
  ASSERT_EQ(run_chromium(*chromium_, tmp_ / "profile", {"--dump-dom"}, url_, dom_file), 0);
  const std::string dom = slurp(dom_file);
  // Four tables (two data tables, two source tables) and two inline SVG charts with drawing.
  EXPECT_EQ(count(dom, "<table>"), 4u) << dom.substr(0, 2000);
  EXPECT_EQ(count(dom, "<svg "), 2u);
  EXPECT_GT(count(dom, "<path"), 20u);
  EXPECT_NE(dom.find("<td class=\"num\">4096</td>"), std::string::npos);
  EXPECT_NE(dom.find("Figure 2."), std::string::npos);
  // The injected script stayed text: no script element, and the title was not changed by it.
  EXPECT_EQ(dom.find("<script"), std::string::npos);
  EXPECT_NE(
      dom.find("<title>Browser check &lt;script&gt;document.title='pwned'&lt;/script&gt;</title>"),
      std::string::npos);
}

TEST_F(Browser, ScreenshotShowsContent) {
  const fs::path shot = tmp_ / "shot.png", blank_shot = tmp_ / "blank.png";
  const std::vector<std::string> flags = {"--window-size=1200,2400"};
  auto with_output = [&](std::vector<std::string> f, const fs::path& png) {
    f.push_back("--screenshot=" + png.string());
    return f;
  };
  ASSERT_EQ(
      run_chromium(*chromium_, tmp_ / "profile", with_output(flags, shot), url_, tmp_ / "log1"), 0);
  const std::string png = slurp(shot);
  const std::optional<PngSize> size = png_size(png);
  ASSERT_TRUE(size) << "screenshot is not a PNG";
  EXPECT_EQ(size->width, 1200u);
  EXPECT_EQ(size->height, 2400u);
  // Compared with an empty page of the same size: text, tables and charts compress far worse than
  // blank space, so a page that painted its content is several times larger.
  testing::TempDir blank_dir;
  const fs::path blank_html = blank_dir / "blank.html";
  std::ofstream(blank_html) << "<!DOCTYPE html><html><body></body></html>\n";
  ASSERT_EQ(run_chromium(*chromium_, tmp_ / "profile", with_output(flags, blank_shot),
                         "file://" + blank_html.string(), tmp_ / "log2"),
            0);
  const std::string blank = slurp(blank_shot);
  ASSERT_FALSE(blank.empty());
  EXPECT_GT(png.size(), 5 * blank.size())
      << "report " << png.size() << " B, blank " << blank.size() << " B";
}

}  // namespace
}  // namespace v4sim::report
