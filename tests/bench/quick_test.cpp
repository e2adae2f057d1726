// `v4sim bench --quick --format json` at production shapes (label bench, not unit: about 30 s on
// a 2-core machine, more when it is busy). Checks that it completes, that every case counted
// exactly its cost, and that the V4 vs V3.2 ratio at 1M is reported. No timing thresholds.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/run_command.h"

namespace {

TEST(BenchQuick, RunsTheProductionSuite) {
  const auto [code, out] = v4sim::test_support::run_command(
      std::string(V4SIM_BINARY) + " bench --quick --format json 2>/dev/null");
  ASSERT_EQ(code, 0) << out;
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["mode"], "quick");
  // Measured from DRAM: the caches are displaced before every repetition (cache_eviction.h).
  EXPECT_EQ(j["host"]["cache"].get<std::string>().rfind("cold: ", 0), 0u) << j["host"]["cache"];
  EXPECT_EQ(j["ceilings"]["stream_cache"], j["host"]["cache"]);
  for (const auto& c : j["cases"]) EXPECT_TRUE(c["counted_equals_cost"].get<bool>()) << c["name"];
  bool at_1m = false;
  for (const auto& r : j["ratios"]) at_1m = at_1m || r["context"] == 1 << 20;
  EXPECT_TRUE(at_1m);
}

}  // namespace
