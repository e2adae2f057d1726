// A company's private accelerator kept outside the tree (issue 13): a catalogue folder given with
// --catalogue (or V4SIM_PATH) holding an accelerator, a system built on it and one measured kernel
// table. `predict` must time that table's class from the folder's table (its own device: measured)
// and, with the folder's table removed, fall back to the roofline: the accelerator's vendor has no
// shipped tables to transfer from, so anything measured came from the private folder.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/run_command.h"

namespace {

using v4sim::test_support::Outcome;
using v4sim::test_support::run_command;

namespace fs = std::filesystem;

std::string read(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// `text` with the first `from` replaced by `to` (which must be there).
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

Outcome run_line(const std::string& line) {
  return run_command(line + " 2>&1");
}

class PrivateCatalogue : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("v4sim_private_" + std::to_string(::getpid()));
    const fs::path shipped = fs::path(V4SIM_SOURCE_DIR) / "hardware";
    fs::create_directories(dir_ / "hardware" / "accelerators");
    fs::create_directories(dir_ / "hardware" / "systems");
    fs::create_directories(tables());
    // An H200 under another name and vendor: no shipped table is of its vendor.
    std::string accelerator = read(shipped / "accelerators" / "h200.yaml");
    accelerator = replaced(accelerator, "\nname: h200\n", "\nname: acme-x1\n");
    accelerator = replaced(accelerator, "\nvendor: nvidia\n", "\nvendor: acme\n");
    std::ofstream(dir_ / "hardware" / "accelerators" / "acme-x1.yaml") << accelerator;
    std::string system = read(shipped / "systems" / "hgx-h200.yaml");
    system = replaced(system, "\nname: hgx-h200\n", "\nname: acme-pod\n");
    system = replaced(system, "\naccelerator: h200\n", "\naccelerator: acme-x1\n");
    std::ofstream(dir_ / "hardware" / "systems" / "acme-pod.yaml") << system;
    for (const char* ext : {".yaml", ".csv"})
      fs::copy_file(shipped / "perf" / "h200" / (std::string("gemm-fp8") + ext),
                    tables() / (std::string("gemm-fp8") + ext));
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path tables() const { return dir_ / "hardware" / "perf" / "acme-x1"; }

  nlohmann::json predict(const std::string& how) {
    const Outcome r = run_line(how + " " + V4SIM_CLI_PATH +
                               " predict --model deepseek-v4-flash --system acme-pod --context 4k "
                               "--batch 8 --format json" +
                               (how.empty() ? " --catalogue " + dir_.string() : std::string()));
    EXPECT_EQ(r.code, 0) << r.out;
    return r.code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
  }
  fs::path dir_;
};

/// How many ops were timed from the table `stem` with this efficiency source.
int ops_from(const nlohmann::json& j, const std::string& stem, const std::string& source) {
  int n = 0;
  for (const auto& op : j["ops"])
    if (op["table"] == stem && op["efficiency_source"] == source) ++n;
  return n;
}

TEST_F(PrivateCatalogue, ItsKernelTablesAreUsedFromOutsideTheTree) {
  for (const std::string& how : {std::string(), "env V4SIM_PATH=" + dir_.string()}) {
    const nlohmann::json j = predict(how);
    ASSERT_TRUE(j.contains("ops")) << how;
    EXPECT_EQ(j["system"], "acme-pod");
    EXPECT_GT(ops_from(j, "gemm-fp8", "measured"), 0) << how << ": " << j["ops"].dump();
    EXPECT_GT(j["time_sources"]["measured"].get<double>(), 0) << how;
    EXPECT_EQ(j["time_sources"]["transferred"].get<double>(), 0) << how;
  }
  // Without the folder's table nothing is measured: the GEMMs above came from it.
  fs::remove_all(tables());
  const nlohmann::json bare = predict("");
  EXPECT_EQ(ops_from(bare, "gemm-fp8", "measured"), 0) << bare["ops"].dump();
  EXPECT_EQ(bare["time_sources"]["measured"].get<double>(), 0);
}

TEST_F(PrivateCatalogue, ADefectiveTableThereIsAnErrorNamingIt) {
  std::ofstream(tables() / "gemm-fp8.csv") << "m,n,k,latency_us\n1,512,512,0\n";
  const Outcome r = run_line(std::string(V4SIM_CLI_PATH) +
                             " predict --model deepseek-v4-flash --system acme-pod --context 4k "
                             "--batch 8 --catalogue " +
                             dir_.string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("gemm-fp8.csv"), std::string::npos) << r.out;
}

}  // namespace
