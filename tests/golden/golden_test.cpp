// Golden runs of every shipped scenario (scenarios/*.yaml with a `kind:`): the report's tables and
// text (report.md, with the source folder replaced by <src>) must equal
// tests/golden/refs/<name>.md. A second run must give byte-identical files (no timestamps, stable
// ordering, fixed seeds). Refresh on purpose:
//   V4SIM_UPDATE_GOLDEN=1 ctest --test-dir build -L golden
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/run_command.h"

namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int run(const std::string& args, std::string& out) {
  const auto r = v4sim::test_support::run_command(std::string(V4SIM_BINARY) + " " + args + " 2>&1");
  out += r.out;
  return r.code;
}

std::string normalised(std::string text) {
  const std::string src = V4SIM_SOURCE_DIR;
  for (std::size_t pos; (pos = text.find(src)) != std::string::npos;)
    text.replace(pos, src.size(), "<src>");
  return text;
}

std::vector<std::string> shipped_scenarios() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(fs::path(V4SIM_SOURCE_DIR) / "scenarios")) {
    if (e.path().extension() != ".yaml") continue;
    if (read(e.path()).find("\nkind:") == std::string::npos) continue;  // demand files have no kind
    names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, ReportMatchesReferenceAndIsDeterministic) {
  const std::string name = GetParam();
  // One folder per process: two checkouts running their golden tests at once must not share it.
  const fs::path tmp =
      fs::temp_directory_path() / ("v4sim-golden-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(tmp);
  // The two runs go side by side: the purchase report is the suite's longest test.
  std::string log, log_b;
  int status_b = -1;
  std::thread second(
      [&] { status_b = run("report " + name + " -o " + (tmp / "b").string(), log_b); });
  const int status_a = run("report " + name + " -o " + (tmp / "a").string(), log);
  second.join();
  ASSERT_EQ(status_a, 0) << log;
  ASSERT_EQ(status_b, 0) << log_b;

  // Determinism: every file of the second run equals the first, byte for byte.
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(tmp / "a")) {
    if (!e.is_regular_file()) continue;
    ++files;
    EXPECT_EQ(read(e.path()), read(tmp / "b" / e.path().filename())) << e.path().filename();
  }
  EXPECT_GT(files, 4u);

  const std::string md = normalised(read(tmp / "a" / "report.md"));
  const fs::path ref = fs::path(V4SIM_GOLDEN_DIR) / (name + ".md");
  if (std::getenv("V4SIM_UPDATE_GOLDEN")) {
    fs::create_directories(ref.parent_path());
    std::ofstream(ref, std::ios::binary) << md;
    GTEST_SKIP() << "refreshed " << ref;
  }
  ASSERT_TRUE(fs::exists(ref)) << "no reference " << ref
                               << "; create it with V4SIM_UPDATE_GOLDEN=1 ctest -L golden";
  const std::string expected = read(ref);
  if (md != expected) {
    // Point at the first differing line rather than dumping two reports.
    std::istringstream a(md), b(expected);
    std::string la, lb;
    int line = 0;
    while (true) {
      const bool ga = static_cast<bool>(std::getline(a, la)),
                 gb = static_cast<bool>(std::getline(b, lb));
      ++line;
      if (!ga && !gb) break;
      if (la != lb || ga != gb) {
        ADD_FAILURE() << name << ".md differs from " << ref << " at line " << line
                      << ":\n  got:      " << la << "\n  expected: " << lb
                      << "\nIf the change is intended: V4SIM_UPDATE_GOLDEN=1 ctest -L golden";
        break;
      }
    }
  }
  fs::remove_all(tmp);
}

// The main report in a bare environment (no locale, no HOME: a fresh Debian, a cron job, env -i)
// must equal, file for file and byte for byte (charts included), the same build's report in this
// environment, and carry no gnuplot note. Comparing two runs of one build keeps this test about the
// environment alone; the normal run is checked against the stored reference by Golden above.
TEST(GoldenEnvironment, BareEnvironmentGivesTheSameReport) {
  const std::string name = "v4-vs-v32-long-context";
  const fs::path tmp =
      fs::temp_directory_path() / ("v4sim-golden-bare-env-" + std::to_string(getpid()));
  fs::remove_all(tmp);
  // Side by side, as the golden runs above.
  const std::string bare = std::string("env -i PATH=/usr/bin:/bin ") + V4SIM_BINARY;
  v4sim::test_support::Outcome bare_run;
  std::thread second([&] {
    bare_run = v4sim::test_support::run_command(bare + " report " + name + " -o " +
                                                (tmp / "bare").string() + " 2>&1");
  });
  std::string log;
  const int status = run("report " + name + " -o " + (tmp / "normal").string(), log);
  second.join();
  ASSERT_EQ(status, 0) << log;
  const std::string& bare_log = bare_run.out;
  ASSERT_EQ(bare_run.code, 0) << bare_log;
  EXPECT_EQ(bare_log.find("gnuplot"), std::string::npos) << bare_log;
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(tmp / "normal")) {
    if (!e.is_regular_file()) continue;
    ++files;
    EXPECT_EQ(read(e.path()), read(tmp / "bare" / e.path().filename())) << e.path().filename();
  }
  EXPECT_GT(files, 4u);
  const std::string md = read(tmp / "bare" / "report.md");
  EXPECT_EQ(md.find("gnuplot"), std::string::npos) << "a gnuplot note leaked into report.md";
  fs::remove_all(tmp);
}

INSTANTIATE_TEST_SUITE_P(Shipped, Golden, ::testing::ValuesIn(shipped_scenarios()),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

}  // namespace
