// Determinism of the JSON outputs (issue 7): the same command run twice prints byte-identical
// JSON, and nothing in it is a wall-clock reading (no timestamps, no run times). The report
// folders have the same check in golden_test.cpp.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <regex>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/run_command.h"

namespace {

using v4sim::test_support::Outcome;
using v4sim::test_support::run_command;

using Json = nlohmann::json;

/// stdout only: the data.
Outcome run(const std::string& args) {
  return run_command(std::string(V4SIM_BINARY) + " " + args + " 2>/dev/null");
}

/// Fails on keys named like clock readings and on string values that look like a date and time.
void expect_no_clock(const Json& j, const std::string& path) {
  static const std::regex kTimeKey("timestamp|date|generated|created|elapsed|wall|search_s|_at$",
                                   std::regex::icase);
  static const std::regex kDateTime(R"(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2})");
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      EXPECT_FALSE(std::regex_search(key, kTimeKey)) << path << "." << key;
      expect_no_clock(value, path + "." + key);
    }
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i)
      expect_no_clock(j[i], path + "[" + std::to_string(i) + "]");
  } else if (j.is_string()) {
    EXPECT_FALSE(std::regex_search(j.get<std::string>(), kDateTime)) << path << " = " << j;
  }
}

class JsonDeterminism : public ::testing::TestWithParam<const char*> {};

TEST_P(JsonDeterminism, TwoRunsAreByteIdenticalAndCarryNoClock) {
  const std::string args = std::string(GetParam()) + " --format json";
  const Outcome a = run(args);
  const Outcome b = run(args);
  ASSERT_EQ(a.code, 0) << args;
  ASSERT_EQ(b.code, 0) << args;
  ASSERT_FALSE(a.out.empty());
  EXPECT_EQ(a.out, b.out) << args;
  // `cost` prints one object per line; the others one (pretty-printed) document.
  std::istringstream lines(a.out);
  std::string line;
  if (args.rfind("cost ", 0) == 0) {
    while (std::getline(lines, line)) expect_no_clock(Json::parse(line), "");
  } else {
    expect_no_clock(Json::parse(a.out), "");
  }
}

INSTANTIATE_TEST_SUITE_P(
    Commands, JsonDeterminism,
    ::testing::Values("cost --model deepseek-v4-pro --context 4k,128k,1m",
                      "cost --model deepseek-v3.2 --context 64k --phase prefill",
                      "compare --models deepseek-v3.2,deepseek-v4-pro,deepseek-v4-flash "
                      "--contexts 4k,128k,1m",
                      "predict --model deepseek-v4-flash --system hgx-h200 --context 32k",
                      "optimize --model deepseek-v4-flash --system hgx-h200 --context 16k "
                      "--slo-tpot-ms 50",
                      "plan " V4SIM_SOURCE_DIR "/scenarios/demand-50b-tokens-per-day.yaml",
                      "simulate --model deepseek-v4-flash --system hgx-h200 --rate 30 "
                      "--requests 2000 --burstiness 3 --input-tokens 512-8192 --seed 5"),
    [](const ::testing::TestParamInfo<const char*>& info) {
      std::string name = info.param;
      name = name.substr(0, name.find(' ')) + "_" + std::to_string(info.index);
      return name;
    });

}  // namespace
