// The serving_simulation kind: strict loading of its `simulation:` section, and properties of
// the study and its report on a small synthetic scenario.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "models/config/input_error.h"
#include "reports/studies/serving_simulation.h"
#include "scenarios/scenario.h"
#include "scenarios/serving_simulation.h"
#include "tests/scenarios/scenario_files.h"

namespace v4sim {
namespace {

using testing_files::edit;
using testing_files::expect_scenario_error;
using testing_files::kSmallServing;
using testing_files::TempScenarios;

TEST(ServingSimulationLoader, ReadsTheSection) {
  TempScenarios dir;
  const Scenario s = load_scenario(dir.write("serving", kSmallServing));
  EXPECT_EQ(s.kind, ScenarioKind::serving_simulation);
  const ServingSimulationSpec& m = s.simulation;
  EXPECT_EQ(m.source, "estimate: test traffic");
  EXPECT_EQ(m.max_batch, 64);
  EXPECT_TRUE(m.prefix_cache);
  EXPECT_DOUBLE_EQ(m.attainment_target, 0.99);
  EXPECT_DOUBLE_EQ(m.rate_per_s, 2);
  EXPECT_EQ(m.requests, 200);
  EXPECT_EQ(m.input_min_tokens, 256);
  EXPECT_EQ(m.input_max_tokens, 2048);
  EXPECT_EQ(m.output_min_tokens, 128);  // a single number: fixed length
  EXPECT_EQ(m.output_max_tokens, 128);
  EXPECT_EQ(m.seed, 7u);
  EXPECT_DOUBLE_EQ(m.burstiness_cv, 1.0);
  EXPECT_TRUE(m.trace.empty());
  EXPECT_EQ(m.sweep_rates_per_s, (std::vector<double>{1, 4, 500}));
}

TEST(ServingSimulationLoader, SectionNeedsASource) {
  expect_scenario_error(edit(kSmallServing, "  estimate: \"test traffic\"\n", ""), 10,
                        "simulation.source", "source");
}

TEST(ServingSimulationLoader, UnknownKey) {
  expect_scenario_error(
      edit(kSmallServing, "  max_batch: 64\n", "  max_batch: 64\n  max_batches: 64\n"), 12,
      "simulation.max_batches", "max_batch");
}

TEST(ServingSimulationLoader, WrongType) {
  expect_scenario_error(edit(kSmallServing, "requests: 200", "requests: many"), 15,
                        "simulation.arrivals.requests", "expected an integer");
}

TEST(ServingSimulationLoader, InvertedLengths) {
  expect_scenario_error(edit(kSmallServing, "{min: 256, max: 2048}", "{min: 2048, max: 256}"), 16,
                        "simulation.arrivals.input_tokens.max", "must not be below 'min'");
}

TEST(ServingSimulationLoader, SweepMustIncrease) {
  expect_scenario_error(edit(kSmallServing, "[1, 4, 500]", "[1, 500, 4]"), 19,
                        "simulation.sweep_rates_per_s", "rates must increase");
}

TEST(ServingSimulationLoader, SweepRateOutOfRange) {
  expect_scenario_error(edit(kSmallServing, "[1, 4, 500]", "[1, -4, 500]"), 19,
                        "simulation.sweep_rates_per_s[1]", "must be in");
}

TEST(ServingSimulationLoader, MissingTraceFile) {
  expect_scenario_error(edit(kSmallServing, "    requests: 200\n", "    trace: nowhere.jsonl\n"),
                        15, "simulation.arrivals.trace", "no such file");
}

TEST(ServingSimulationLoader, NeedsAnSlo) {
  expect_scenario_error(
      edit(kSmallServing, "slo: {estimate: \"test\", tpot_ms: 50, ttft_ms: 300}\n", ""), 1, "slo",
      "needs an slo section");
}

TEST(ServingSimulationStudy, CdfQuantilesAreNearestRank) {
  const std::vector<double> q = cdf_quantiles({4, 1, 3, 2});
  ASSERT_EQ(q.size(), static_cast<std::size_t>(kCdfPoints));
  EXPECT_EQ(q.front(), 1);  // the smallest
  EXPECT_EQ(q[25], 1);      // ceil(0.25 x 4) = 1st
  EXPECT_EQ(q[26], 2);      // ceil(0.26 x 4) = 2nd
  EXPECT_EQ(q[50], 2);      // 2nd
  EXPECT_EQ(q[100], 4);     // the largest
  EXPECT_TRUE(cdf_quantiles({}).empty());
}

TEST(ServingSimulationStudy, RunsAgreeWithTheirSummariesAndTheSweep) {
  TempScenarios dir;
  const Scenario sc = load_scenario(dir.write("serving", kSmallServing));
  const ServingSimulationStudy st = study_serving_simulation(sc);
  ASSERT_EQ(st.runs.size(), 1u);
  ASSERT_EQ(st.runs[0].size(), 1u);
  const ServingRun& run = st.runs[0][0];
  ASSERT_TRUE(run.feasible) << run.reason;
  EXPECT_EQ(run.devices, 8);
  EXPECT_EQ(run.base.completed + run.base.rejected, 200);
  EXPECT_TRUE(run.base.requests.empty());  // reduced to the quantiles
  // The CDF is sorted and its nearest-rank points are the summary's percentiles.
  ASSERT_EQ(run.ttft_quantiles_s.size(), static_cast<std::size_t>(kCdfPoints));
  EXPECT_TRUE(std::is_sorted(run.ttft_quantiles_s.begin(), run.ttft_quantiles_s.end()));
  EXPECT_DOUBLE_EQ(run.ttft_quantiles_s[50], run.base.ttft_s.p50);
  EXPECT_DOUBLE_EQ(run.ttft_quantiles_s[99], run.base.ttft_s.p99);
  EXPECT_DOUBLE_EQ(run.tpot_quantiles_s[90], run.base.tpot_s.p90);
  ASSERT_EQ(run.sweep.size(), 3u);
  // The highest served rate is a swept rate meeting the target, with every lower one meeting it.
  bool served = true;
  double highest = 0;
  for (const SweepPoint& p : run.sweep) {
    served = served && p.slo_attainment >= sc.simulation.attainment_target;
    if (served) highest = p.rate_per_s;
  }
  EXPECT_EQ(run.highest_served_rate_per_s, highest);
  // 500 req/s of 200 requests swamps one node for a 300 ms TTFT target: fewer meet the SLOs than at 1 req/s.
  EXPECT_LT(run.sweep.back().slo_attainment, run.sweep.front().slo_attainment);
}

TEST(ServingSimulationStudy, AModelThatDoesNotFitIsAReasonNotAnError) {
  TempScenarios dir;
  const Scenario sc = load_scenario(dir.write(
      "serving", edit(edit(kSmallServing, "models: [deepseek-v4-flash]", "models: [deepseek-v3.2]"),
                      "systems: [hgx-h200]", "systems: [atlas-800-a3]")));
  const ServingSimulationStudy st = study_serving_simulation(sc);
  const ServingRun& run = st.runs[0][0];
  EXPECT_FALSE(run.feasible);
  EXPECT_EQ(run.why, Infeasible::memory);
  EXPECT_FALSE(run.reason.empty());
  const report::Report r = run_serving_simulation(sc);
  const report::TableBlock* t = testing_files::table(r, "latency");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->table.rows.at(0).back(), run.reason);
  EXPECT_EQ(testing_files::chart(r, "ttft-cdf-deepseek-v3-2"), nullptr);  // nothing to draw
}

TEST(ServingSimulationStudy, ReplaysATraceAtTheSweptRates) {
  TempScenarios dir;
  const std::string trace_path =
      (std::filesystem::path(dir.write("x", "")).parent_path() / "t.jsonl").string();
  {
    std::ofstream out(trace_path);
    for (int i = 0; i < 40; ++i)  // one request every 2 s: the trace's own rate is 0.5 req/s
      out << "{\"timestamp\": " << i * 2000
          << ", \"input_length\": 600, \"output_length\": 20, \"hash_ids\": [1, 2]}\n";
  }
  std::string text = edit(kSmallServing, "    requests: 200\n", "    trace: t.jsonl\n");
  text = edit(text,
              "    input_tokens: {min: 256, max: 2048}\n    output_tokens: 128\n    seed: 7\n", "");
  const Scenario sc = load_scenario(dir.write("serving", text));
  const ServingSimulationStudy st = study_serving_simulation(sc);
  EXPECT_EQ(st.trace_requests, 40);
  EXPECT_DOUBLE_EQ(st.trace_rate_per_s, 0.5);
  const ServingRun& run = st.runs[0][0];
  ASSERT_TRUE(run.feasible) << run.reason;
  EXPECT_EQ(run.base.completed, 40);
  // Every prompt after the first shares the first's leading block (the last token of a prompt is
  // always computed, so only the first 512-token block can hit).
  EXPECT_GT(run.base.cache_hit_rate, 0.0);
  // At 2 req/s (4x the trace's rate) the 40 arrivals span 39 / 2 = 19.5 s.
  EXPECT_NEAR(run.base.makespan_s, 19.5, 2.0);
}

}  // namespace
}  // namespace v4sim
