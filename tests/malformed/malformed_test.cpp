// Malformed inputs through the v4sim binary, as a user would feed them: every case of manifest.txt
// must exit with code 2 and print "v4sim: error:", the file's path and the expected fragment (the
// file:line:column, field and value where the defect has one). Adding a case is one line there.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/run_command.h"

namespace {

using v4sim::test_support::Outcome;
using v4sim::test_support::run_command;

namespace fs = std::filesystem;

struct Case {
  std::string file;      // under tests/malformed
  std::string args;      // v4sim arguments; {} = the file, {tmp} = a scratch folder
  std::string fragment;  // must appear in the output
};

// Shown by ctest for each case instead of the struct's bytes.
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.file;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  const auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<Case> manifest() {
  std::vector<Case> cases;
  std::ifstream in(fs::path(V4SIM_MALFORMED_DIR) / "manifest.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (trim(line).empty() || trim(line)[0] == '#') continue;
    const auto a = line.find(" | ");
    const auto b = line.find(" | ", a + 3);
    if (a == std::string::npos || b == std::string::npos) {
      cases.push_back({"<bad manifest line> " + line, "", ""});
      continue;
    }
    cases.push_back(
        {trim(line.substr(0, a)), trim(line.substr(a + 3, b - a - 3)), trim(line.substr(b + 3))});
  }
  return cases;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
    s.replace(pos, from.size(), to);
  return s;
}

Outcome run(const std::string& args) {
  return run_command(std::string(V4SIM_BINARY) + " " + args + " 2>&1");
}

/// 'path' for the shell (built with append: GCC 12 warns falsely on "'" + std::string).
std::string quoted(const fs::path& p) {
  std::string q(1, '\'');
  q.append(p.string()).push_back('\'');
  return q;
}

fs::path scratch(const std::string& tag) {
  const fs::path p =
      fs::temp_directory_path() / ("v4sim-malformed-" + std::to_string(getpid()) + "-" + tag);
  fs::create_directories(p);
  return p;
}

/// Exit code 2, the CLI's error prefix, the path and the fragment; never an internal error.
void expect_rejected(const Outcome& r, const std::string& path, const std::string& fragment) {
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("v4sim: error: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(path), std::string::npos) << "message does not name " << path << ":\n"
                                                 << r.out;
  EXPECT_NE(r.out.find(fragment), std::string::npos) << "expected '" << fragment << "' in:\n"
                                                     << r.out;
  EXPECT_EQ(r.out.find("internal error"), std::string::npos) << r.out;
}

class Malformed : public ::testing::TestWithParam<Case> {};

TEST_P(Malformed, ExitsWithCode2AndNamesTheFile) {
  const Case& c = GetParam();
  ASSERT_FALSE(c.args.empty()) << c.file;
  const fs::path file = fs::path(V4SIM_MALFORMED_DIR) / c.file;
  ASSERT_TRUE(fs::is_regular_file(file)) << file;
  const fs::path tmp = scratch("case");
  const std::string args =
      replace_all(replace_all(c.args, "{}", quoted(file)), "{tmp}", quoted(tmp));
  expect_rejected(run(args), file.string(), c.fragment);
  fs::remove_all(tmp);
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string name;
  for (char ch : info.param.file) name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Corpus, Malformed, ::testing::ValuesIn(manifest()), case_name);

TEST(MalformedCorpus, HasAtLeastFiftyCasesOverEveryKindOfFile) {
  const std::vector<Case> cases = manifest();
  EXPECT_GE(cases.size(), 50u);
  for (const char* kind : {"model/", "accelerator/", "system/", "scenario/", "demand/"}) {
    std::size_t n = 0;
    for (const Case& c : cases) n += c.file.rfind(kind, 0) == 0;
    EXPECT_GE(n, 5u) << kind;
  }
}

// A 100 MB file (generated here, never committed) is refused by its size before anything reads
// it, by every command that takes a file.
TEST(MalformedCorpus, HundredMegabyteFileIsRefusedBySize) {
  const fs::path tmp = scratch("large");
  const fs::path file = tmp / "large.yaml";
  {
    std::ofstream out(file, std::ios::binary);
    const std::string line = "# " + std::string(97, 'x') + "\n";  // 100 bytes
    for (int i = 0; i < 1'000'000; ++i) out << line;
    out << "name: large\n";
  }
  ASSERT_GT(fs::file_size(file), 100'000'000u);
  const std::string f = quoted(file);
  for (const std::string& args :
       {"cost --model " + f + " --context 4k", "hardware " + f,
        "predict --system " + f + " --model deepseek-v4-flash --context 4k",
        "report " + f + " -o " + quoted(tmp / "out"), "plan " + f, "validate --deployments " + f}) {
    SCOPED_TRACE(args);
    expect_rejected(run(args), file.string(), "byte limit for a catalogue file");
  }
  fs::remove_all(tmp);
}

}  // namespace
