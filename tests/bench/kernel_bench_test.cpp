// v4sim_kernel_bench registers the suite's own case list with Google Benchmark
// (kernels/bench/bench_main.cpp): the benchmarks it lists for a mode are exactly the cases of
// suite_cases(mode), by name and in order, besides its ISA micro-benchmarks (bench_isa.cpp).
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "kernels/bench/suite.h"
#include "tests/support/run_command.h"

namespace v4sim::bench {
namespace {

// Suite case names as the binary lists them; Google Benchmark appends "/real_time".
std::vector<std::string> listed_suite_cases(const char* mode) {
  const test_support::Outcome r = test_support::run_command(
      std::string(V4SIM_KERNEL_BENCH) + " --suite=" + mode + " --benchmark_list_tests");
  EXPECT_EQ(r.code, 0) << r.out;
  const std::string isa[] = {"Bf16PairGemm/", "Int8GemmNt/", "Fp32EigenGemm/", "Bf16CoreDecode/",
                             "W8a8Linear/"};
  std::vector<std::string> names;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    bool micro = false;
    for (const std::string& p : isa) micro = micro || line.starts_with(p);
    if (micro) continue;
    const std::string suffix = "/real_time";
    EXPECT_TRUE(line.ends_with(suffix)) << line;
    names.push_back(line.substr(0, line.size() - suffix.size()));
  }
  return names;
}

TEST(KernelBench, ListsTheSuiteCasesOfItsMode) {
  for (SuiteMode mode : {SuiteMode::smoke, SuiteMode::quick}) {
    std::vector<std::string> want;
    for (const SuiteCase& c : suite_cases(mode)) want.push_back(c.name);
    EXPECT_EQ(listed_suite_cases(std::string(to_string(mode)).c_str()), want) << to_string(mode);
  }
}

TEST(KernelBench, AnUnknownSuiteModeIsAnError) {
  const test_support::Outcome r =
      test_support::run_command(std::string(V4SIM_KERNEL_BENCH) + " --suite=fast 2>&1");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("--suite takes smoke, quick or full"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace v4sim::bench
