// Scenario files are read strictly: every defect names the file, the line and the field.
#include <gtest/gtest.h>

#include <string>

#include "models/config/input_error.h"
#include "scenarios/scenario.h"
#include "tests/scenarios/scenario_files.h"

namespace v4sim {
namespace {

using testing_files::edit;
using testing_files::expect_scenario_error;
using testing_files::kSmallApi;
using testing_files::kSmallPurchase;
using testing_files::TempScenarios;

TEST(ScenarioLoader, ReadsAPurchaseScenario) {
  TempScenarios dir;
  const Scenario s = load_scenario(dir.write("purchase", kSmallPurchase));
  EXPECT_EQ(s.kind, ScenarioKind::hardware_purchase);
  ASSERT_EQ(s.sensitivities.size(), 3u);
  EXPECT_EQ(s.sensitivities[0].kind, SensitivityKind::system_prices);
  EXPECT_EQ(s.sensitivities[2].kind, SensitivityKind::efficiencies);
  EXPECT_DOUBLE_EQ(s.sensitivities[2].relative, 0.15);
  EXPECT_EQ(s.sensitivities[2].source, "estimate: test range");
  EXPECT_EQ(s.demand_source, "estimate: test demand");
  EXPECT_EQ(s.slo_source, "estimate: test");
  EXPECT_EQ(s.prices_source, "estimate: test");
  EXPECT_DOUBLE_EQ(s.demand.mtp_acceptance, 0.7);
  ASSERT_TRUE(s.demand.slo_ttft_s.has_value());
  EXPECT_DOUBLE_EQ(*s.demand.slo_ttft_s, 60.0);
}

TEST(ScenarioLoader, ReadsAnApiScenarioAndConvertsCny) {
  TempScenarios dir;
  const Scenario s = load_scenario(dir.write("api", kSmallApi));
  ASSERT_EQ(s.api_prices.size(), 2u);
  const ApiPrice& usd = s.api_prices[0];
  EXPECT_EQ(usd.currency, "USD");
  EXPECT_TRUE(usd.cache_hit_listed);
  EXPECT_DOUBLE_EQ(usd.output, 0.28);
  EXPECT_EQ(usd.self_hosted_model, "deepseek-v4-flash");
  const ApiPrice& cny = s.api_prices[1];
  EXPECT_EQ(cny.currency, "CNY");
  EXPECT_FALSE(cny.cache_hit_listed);
  EXPECT_DOUBLE_EQ(cny.listed_output, 14.4);
  EXPECT_NEAR(cny.output, 2.0, 1e-12);                          // 14.4 CNY / 7.2
  EXPECT_NEAR(cny.input_cache_miss, 1.0, 1e-12);                // 7.2 CNY / 7.2
  EXPECT_DOUBLE_EQ(cny.input_cache_hit, cny.input_cache_miss);  // not listed: billed as a miss
  EXPECT_EQ(s.exchange_rate_date, "2026-04");
  EXPECT_EQ(s.exchange_rate_source, "estimate: test rate");
  ASSERT_EQ(s.workloads.size(), 2u);
  EXPECT_EQ(s.workloads[1].source, "estimate: test");
  EXPECT_DOUBLE_EQ(s.workloads[1].cache_hit_rate, 0.5);
}

TEST(ScenarioLoader, KindAndSensitivityNames) {
  EXPECT_EQ(to_string(ScenarioKind::long_context), "long_context");
  EXPECT_EQ(to_string(ScenarioKind::serving_simulation), "serving_simulation");
  EXPECT_EQ(to_string(SensitivityKind::system_prices), "system_prices");
  EXPECT_EQ(to_string(SensitivityKind::efficiencies), "efficiencies");
}

TEST(ScenarioLoader, UnknownKind) {
  expect_scenario_error(
      edit(kSmallPurchase, "kind: hardware_purchase", "kind: hardware_buying"), 3, "kind",
      "expected long_context, hardware_purchase, api_pricing or serving_simulation");
}

TEST(ScenarioLoader, ContextSharesMustAddUpToOne) {
  expect_scenario_error(edit(kSmallPurchase, "share: 0.25", "share: 0.2"), 17, "demand.contexts",
                        "add up to");
}

TEST(ScenarioLoader, UnknownSensitivity) {
  expect_scenario_error(edit(kSmallPurchase, "  - accelerator_peaks", "  - accelerator_peak"), 21,
                        "sensitivities[1]",
                        "expected system_prices, accelerator_peaks or efficiencies");
}

TEST(ScenarioLoader, SensitivityListedTwice) {
  expect_scenario_error(edit(kSmallPurchase, "  - accelerator_peaks", "  - system_prices"), 21,
                        "sensitivities[1]", "listed twice");
}

TEST(ScenarioLoader, EfficiencyRangeNeedsItsSize) {
  expect_scenario_error(
      edit(kSmallPurchase, "{name: efficiencies, relative: 0.15, estimate: \"test range\"}",
           "{name: efficiencies, estimate: \"test range\"}"),
      22, "sensitivities[2].relative", "");
}

TEST(ScenarioLoader, EfficiencyRangeNeedsASource) {
  expect_scenario_error(edit(kSmallPurchase, ", estimate: \"test range\"}", "}"), 22,
                        "sensitivities[2].source", "source");
}

TEST(ScenarioLoader, ApiPriceNeedsASource) {
  expect_scenario_error(edit(kSmallApi, ", source: \"test list\"", ""), 12, "api_prices[0].source",
                        "");
}

TEST(ScenarioLoader, CnyPriceNeedsAnExchangeRate) {
  expect_scenario_error(edit(kSmallApi,
                             "exchange_rate: {estimate: \"test rate\", cny_per_usd: 7.2, date: "
                             "\"2026-04\"}\n",
                             ""),
                        12, "api_prices[1].output_cny_per_m", "exchange_rate");
}

TEST(ScenarioLoader, ApiPriceInOneCurrency) {
  expect_scenario_error(edit(kSmallApi, "{model: Other, ", "{model: Other, output_usd_per_m: 2, "),
                        13, "api_prices[1].output_cny_per_m", "one currency");
}

TEST(ScenarioLoader, SelfHostedModelMustBeListed) {
  expect_scenario_error(
      edit(kSmallApi, "self_hosted_model: deepseek-v4-flash", "self_hosted_model: deepseek-v4-pro"),
      12, "api_prices[0].self_hosted_model", "not in the scenario's models");
}

TEST(ScenarioLoader, CacheHitCannotCostMoreThanAMiss) {
  expect_scenario_error(
      edit(kSmallApi, "input_cache_hit_usd_per_m: 0.028", "input_cache_hit_usd_per_m: 0.5"), 12,
      "api_prices[0].input_cache_hit_usd_per_m", "cannot cost more");
}

TEST(ScenarioLoader, WorkloadNeedsASource) {
  expect_scenario_error(edit(kSmallApi, "{estimate: \"test\", name: chat", "{name: chat"), 15,
                        "workloads[0].source", "source");
}

TEST(ScenarioLoader, ExchangeRateNeedsADate) {
  expect_scenario_error(edit(kSmallApi, ", date: \"2026-04\"}\napi_prices", "}\napi_prices"), 10,
                        "exchange_rate.date", "");
}

}  // namespace
}  // namespace v4sim
