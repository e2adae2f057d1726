// The API-pricing runner on a small synthetic scenario, and the properties of its bills.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>

#include "reports/studies/api_pricing.h"
#include "scenarios/api_pricing.h"
#include "tests/scenarios/scenario_files.h"

namespace v4sim {
namespace {

using testing_files::chart;
using testing_files::flatten;
using testing_files::kSmallApi;
using testing_files::table;
using testing_files::TempScenarios;

Scenario small_api() {
  TempScenarios dir;
  return load_scenario(dir.write("api", kSmallApi));
}

double number(const std::string& cell) {
  return std::strtod(cell.c_str(), nullptr);
}

std::size_t column(const report::TableBlock& t, const std::string& name) {
  for (std::size_t c = 0; c < t.table.columns.size(); ++c)
    if (t.table.columns[c] == name) return c;
  ADD_FAILURE() << "no column " << name << " in " << t.name;
  return 0;
}

TEST(ApiPricing, SmallScenarioHasEverySectionTableAndChart) {
  const Scenario s = small_api();
  const report::Report r = run_api_pricing(s);
  ASSERT_EQ(r.sections.size(), 4u);
  for (const char* name : {"api-prices", "workloads", "monthly-bills", "self-hosted",
                           "margin-per-token", "margin-monthly", "dedicated"}) {
    const report::TableBlock* t = table(r, name);
    ASSERT_NE(t, nullptr) << name;
    EXPECT_FALSE(t->table.rows.empty()) << name;
    EXPECT_EQ(t->units.size(), t->table.columns.size()) << name;
    for (const auto& row : t->table.rows) EXPECT_EQ(row.size(), t->table.columns.size()) << name;
  }
  EXPECT_EQ(table(r, "monthly-bills")->table.rows.size(), 2u);  // one row per API
  EXPECT_EQ(table(r, "self-hosted")->table.rows.size(), 2u);    // 1 model x 2 workloads x 1 system
  for (const char* name : {"bill-chat", "bill-docs"}) {
    const report::Chart* c = chart(r, name);
    ASSERT_NE(c, nullptr) << name;
    EXPECT_EQ(c->categories, (std::vector<std::string>{"Flash", "Other"}));
    // The API bill for both, the self-hosted costs for the one that names a model.
    ASSERT_EQ(c->series.size(), 3u) << name;
    EXPECT_EQ(c->series[0].x.size(), 2u);
    EXPECT_EQ(c->series[1].x.size(), 1u);
    EXPECT_EQ(c->series[2].x.size(), 1u);
  }
  // The exchange rate and every price are cited.
  bool rate = false;
  for (const report::Section& sec : r.sections)
    for (const report::SourcedInput& in : sec.inputs) {
      EXPECT_FALSE(in.source.empty()) << in.name;
      rate = rate || in.source == "estimate: test rate";
    }
  EXPECT_TRUE(rate);
}

TEST(ApiPricing, BillsMatchTheFormula) {
  const Scenario s = small_api();
  const report::Report r = run_api_pricing(s);
  const report::TableBlock& bills = *table(r, "monthly-bills");
  // Flash, chat: 1000 x (200 x 0.14 + 500 x 0.28) / 1e6 = 0.168 USD.
  EXPECT_EQ(bills.table.rows[0][1], "0.17");
  // Other (CNY 7.2 / 14.4 at 7.2 per USD = 1 / 2 USD), docs, half the input cached but no
  // cache-hit price: 10 x (20000 x 1 + 1000 x 2) / 1e6 = 0.22 USD.
  EXPECT_EQ(bills.table.rows[1][2], "0.22");
}

TEST(ApiPricing, MarginIsBillMinusCost) {
  const report::Report r = run_api_pricing(small_api());
  const report::TableBlock& t = *table(r, "margin-monthly");
  const std::size_t bill = column(t, "bill"), cost = column(t, "self_hosted_cost"),
                    margin = column(t, "margin"), share = column(t, "margin_share");
  for (const auto& row : t.table.rows) {
    const double b = number(row[bill]), c = number(row[cost]), m = number(row[margin]);
    // Printed: bill and margin to the cent, cost to 3 significant digits.
    EXPECT_NEAR(m, b - c, 0.011 + 1e-3 * std::fabs(c)) << row[0] << " " << row[1];
    if (b > 0) {
      EXPECT_NEAR(number(row[share]), 100 * m / b, 0.1 + 100 * 0.011 / b);
    }
  }
}

TEST(ApiPricing, RunsAreDeterministic) {
  const Scenario s = small_api();
  EXPECT_EQ(flatten(run_api_pricing(s)), flatten(run_api_pricing(s)));
}

ApiWorkload random_workload(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  ApiWorkload w;
  w.name = "w";
  w.requests_per_month = std::floor(1 + u(rng) * 1e6);
  w.input_tokens_per_request = static_cast<std::int64_t>(u(rng) * 200000);
  w.output_tokens_per_request = 1 + static_cast<std::int64_t>(u(rng) * 20000);
  w.cache_hit_rate = u(rng) * 0.99;
  return w;
}

ApiPrice random_price(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  ApiPrice p;
  p.input_cache_miss = u(rng) * 20;
  p.input_cache_hit = p.input_cache_miss * u(rng);
  p.output = u(rng) * 80;
  return p;
}

TEST(ApiPricing, HigherOutputPriceNeverLowersABill) {
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < 2000; ++i) {
    const ApiWorkload w = random_workload(rng);
    ApiPrice p = random_price(rng);
    const double before = monthly_bill(p, w);
    p.output += u(rng) * 10;
    EXPECT_GE(monthly_bill(p, w), before);
    // Cache hits never cost more than misses, so more of them never raise the bill.
    ApiWorkload more = w;
    more.cache_hit_rate = w.cache_hit_rate + (0.999 - w.cache_hit_rate) * u(rng);
    EXPECT_LE(monthly_bill(p, more), monthly_bill(p, w) * (1 + 1e-12));
  }
}

TEST(ApiPricing, BillAndSelfHostedCostAreLinearInTokens) {
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 500; ++i) {
    const ApiWorkload w = random_workload(rng);
    const ApiPrice p = random_price(rng);
    const double in = static_cast<double>(w.input_tokens_per_request);
    const double out = static_cast<double>(w.output_tokens_per_request);
    const double expect =
        w.requests_per_month *
        (in * (w.cache_hit_rate * p.input_cache_hit + (1 - w.cache_hit_rate) * p.input_cache_miss) +
         out * p.output) /
        1e6;
    EXPECT_NEAR(monthly_bill(p, w), expect, 1e-9 * expect);
    // The self-hosted cost is the same formula over the self-hosted $/M: equal prices and costs
    // give equal amounts, so the margin of a price over an equal cost is zero.
    SelfHostedCost c;
    c.feasible = true;
    c.input_usd_per_m = p.input_cache_miss;
    c.cached_input_usd_per_m = p.input_cache_hit;
    c.output_usd_per_m = p.output;
    EXPECT_NEAR(monthly_self_hosted(c, w), monthly_bill(p, w), 1e-9 * expect);
    ApiWorkload twice = w;
    twice.requests_per_month *= 2;
    EXPECT_NEAR(monthly_bill(p, twice), 2 * monthly_bill(p, w), 1e-9 * expect);
  }
}

}  // namespace
}  // namespace v4sim
