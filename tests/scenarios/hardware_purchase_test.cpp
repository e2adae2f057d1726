// The purchase runner on a small synthetic scenario (one model, two systems, two context
// lengths), how it varies systems, and the re-pricing shortcut it relies on.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "hardware/system.h"
#include "models/config/input_error.h"
#include "models/model_loader.h"
#include "reports/studies/hardware_purchase.h"
#include "scenarios/hardware_purchase.h"
// Both headers in one translation unit: their enums (Bound, RangeEnd) must not clash (issue 16).
#include "hardware/roofline.h"
#include "sim/plan.h"
#include "tests/scenarios/scenario_files.h"

namespace v4sim {
namespace {

using testing_files::chart;
using testing_files::flatten;
using testing_files::kSmallPurchase;
using testing_files::table;
using testing_files::TempScenarios;

Scenario small_purchase() {
  TempScenarios dir;
  return load_scenario(dir.write("purchase", kSmallPurchase));
}

TEST(HardwarePurchase, SmallScenarioHasEverySectionTableAndChart) {
  const Scenario s = small_purchase();
  const report::Report r = run_hardware_purchase(s);
  std::vector<std::string> headings;
  for (const report::Section& sec : r.sections) headings.push_back(sec.heading);
  EXPECT_EQ(headings,
            (std::vector<std::string>{"Demand, targets and prices", "Ranking",
                                      "Per context length: instances, throughput and latency",
                                      "Sensitivity: how the ranking moves"}));

  const report::TableBlock* mix = table(r, "demand-mix");
  ASSERT_NE(mix, nullptr);
  EXPECT_EQ(mix->table.rows.size(), 2u);
  const report::TableBlock* ranking = table(r, "ranking-deepseek-v4-flash");
  ASSERT_NE(ranking, nullptr);
  EXPECT_EQ(ranking->table.rows.size(), 2u);  // one row per system
  EXPECT_EQ(ranking->units.size(), ranking->table.columns.size());
  EXPECT_EQ(ranking->table.numeric.size(), ranking->table.columns.size());
  for (const auto& row : ranking->table.rows) EXPECT_EQ(row.size(), ranking->table.columns.size());
  const report::TableBlock* per_context = table(r, "per-context");
  ASSERT_NE(per_context, nullptr);
  EXPECT_EQ(per_context->table.rows.size(), 4u);  // 2 systems x 2 context lengths
  const report::TableBlock* sens = table(r, "sensitivity-deepseek-v4-flash");
  ASSERT_NE(sens, nullptr);
  EXPECT_EQ(sens->table.rows.size(), 6u);  // 3 inputs x 2 systems

  for (const char* name : {"usd-per-m-tokens", "capex", "sensitivity-deepseek-v4-flash"}) {
    const report::Chart* c = chart(r, name);
    ASSERT_NE(c, nullptr) << name;
    EXPECT_EQ(c->categories, (std::vector<std::string>{"hgx-h200", "dgx-b200"})) << name;
    ASSERT_FALSE(c->series.empty()) << name;
    for (const report::Series& x : c->series) EXPECT_FALSE(x.x.empty()) << name;
    EXPECT_FALSE(c->y.unit.empty()) << name;
  }

  // Every input has a source, and the demand's own provenance is cited.
  bool cites_demand = false;
  for (const report::Section& sec : r.sections)
    for (const report::SourcedInput& in : sec.inputs) {
      EXPECT_FALSE(in.source.empty()) << in.name;
      cites_demand = cites_demand || in.source == "estimate: test demand";
    }
  EXPECT_TRUE(cites_demand);
  EXPECT_FALSE(r.sections.front().assumptions.empty());
}

TEST(HardwarePurchase, RunsAreDeterministic) {
  const Scenario s = small_purchase();
  EXPECT_EQ(flatten(run_hardware_purchase(s)), flatten(run_hardware_purchase(s)));
}

TEST(HardwarePurchase, KvFormatOtherThanDeployIsRefused) {
  Scenario s = small_purchase();
  s.kv_format = "bf16";
  EXPECT_THROW((void)run_hardware_purchase(s), InputError);
}

TEST(VarySystem, AscendPeaksMoveToTheirPublishedEnds) {
  // 910C per die: BF16 354 / 376 / 400 and INT8 708 / 752 / 800 TFLOPS (ascend-910c.yaml).
  const SystemSpec cm = load_system("cloudmatrix384");
  const Sensitivity peaks{SensitivityKind::accelerator_peaks, 0, ""};
  const auto bf16 = static_cast<int>(ComputePath::bf16);
  const auto int8 = static_cast<int>(ComputePath::int8);
  const SystemSpec lo = vary_system(cm, peaks, RangeEnd::low);
  const SystemSpec hi = vary_system(cm, peaks, RangeEnd::high);
  EXPECT_DOUBLE_EQ(lo.accelerator.peak_tflops[bf16]->nominal, 354);
  EXPECT_DOUBLE_EQ(lo.accelerator.peak_tflops[int8]->nominal, 708);
  EXPECT_DOUBLE_EQ(hi.accelerator.peak_tflops[bf16]->nominal, 400);
  EXPECT_DOUBLE_EQ(hi.accelerator.peak_tflops[int8]->nominal, 800);
  // Paths the chip lacks stay absent; nothing else moves.
  EXPECT_FALSE(hi.accelerator.peak_tflops[static_cast<int>(ComputePath::fp8)].has_value());
  EXPECT_DOUBLE_EQ(hi.per_node.price_usd.nominal, cm.per_node.price_usd.nominal);
}

TEST(VarySystem, EfficienciesScaleAndCapAtOne) {
  SystemSpec s = load_system("hgx-h200");
  s.accelerator.compute_efficiency.max_fraction = 0.8;
  s.accelerator.memory_efficiency = 0.95;
  const Sensitivity eff{SensitivityKind::efficiencies, 0.15, "test"};
  const SystemSpec lo = vary_system(s, eff, RangeEnd::low);
  const SystemSpec hi = vary_system(s, eff, RangeEnd::high);
  EXPECT_DOUBLE_EQ(lo.accelerator.compute_efficiency.max_fraction, 0.8 * 0.85);
  EXPECT_DOUBLE_EQ(lo.accelerator.memory_efficiency, 0.95 * 0.85);
  EXPECT_DOUBLE_EQ(hi.accelerator.compute_efficiency.max_fraction, 0.8 * 1.15);
  EXPECT_DOUBLE_EQ(hi.accelerator.memory_efficiency, 1.0);  // 0.95 x 1.15 capped
}

TEST(VarySystem, PricesStayOrderedForEveryCatalogueSystem) {
  const Sensitivity prices{SensitivityKind::system_prices, 0, ""};
  for (const std::string& name : list_systems()) {
    const SystemSpec s = load_system(name);
    auto price = [](const SystemSpec& x) {
      return system_totals(x, x.default_nodes).price_usd.nominal;
    };
    const double lo = price(vary_system(s, prices, RangeEnd::low));
    const double hi = price(vary_system(s, prices, RangeEnd::high));
    EXPECT_LE(lo, price(s)) << name;
    EXPECT_GE(hi, price(s)) << name;
    EXPECT_GT(lo, 0) << name;
  }
  // CloudMatrix384's file gives one price: the range is the 910C's purchase range per die
  // (4,000 to 10,700 around 6,400 USD) times the node's 16 dies.
  const SystemSpec cm = load_system("cloudmatrix384");
  ASSERT_TRUE(cm.per_node.price_usd.is_exact());
  EXPECT_DOUBLE_EQ(vary_system(cm, prices, RangeEnd::low).per_node.price_usd.nominal,
                   cm.per_node.price_usd.nominal + 16 * (4000.0 - 6400.0));
  EXPECT_DOUBLE_EQ(vary_system(cm, prices, RangeEnd::high).per_node.price_usd.nominal,
                   cm.per_node.price_usd.nominal + 16 * (10700.0 - 6400.0));
}

TEST(PlanPurchase, InfeasibleBucketsSayWhyAsAValue) {
  // V3.2 is trained to 163,840 tokens: a 256K bucket is beyond it, whatever the hardware.
  const Scenario s = small_purchase();
  const PreparedModel v32 = prepare(load_model("deepseek-v3.2"));
  Demand d = s.demand;
  ContextShare beyond;
  beyond.context_tokens = 262144;
  beyond.share = 1.0;
  d.contexts = {beyond};
  const std::vector<SystemPlan> plans = plan_purchase(v32, d, {load_system("hgx-h200")}, s.prices);
  ASSERT_EQ(plans.size(), 1u);
  EXPECT_FALSE(plans[0].feasible);
  EXPECT_EQ(plans[0].why, Infeasible::beyond_max_context) << plans[0].reason;
  ASSERT_EQ(plans[0].buckets.size(), 1u);
  EXPECT_EQ(plans[0].buckets[0].why, Infeasible::beyond_max_context);
  // An impossible TPOT target is the other kind.
  d.contexts[0].context_tokens = 4096;
  d.slo_tpot_s = 1e-9;
  const std::vector<SystemPlan> slow = plan_purchase(v32, d, {load_system("hgx-h200")}, s.prices);
  EXPECT_EQ(slow[0].why, Infeasible::tpot_slo) << slow[0].reason;
}

/// `stopped` (planned with stop_at_infeasible) against `full` (the same plan without): the same
/// feasibility, every number of a feasible plan the same, and an infeasible one's buckets a subset
/// of the full plan's, each the same.
void expect_same_outcome(const SystemPlan& stopped, const SystemPlan& full) {
  ASSERT_EQ(stopped.feasible, full.feasible) << full.system;
  EXPECT_EQ(stopped.why == Infeasible::none, full.why == Infeasible::none) << full.system;
  if (full.feasible) {
    EXPECT_EQ(stopped.buckets.size(), full.buckets.size()) << full.system;
    EXPECT_EQ(stopped.units, full.units) << full.system;
    EXPECT_EQ(stopped.capex_usd, full.capex_usd) << full.system;
    EXPECT_EQ(stopped.annual_cost_usd, full.annual_cost_usd) << full.system;
    EXPECT_EQ(stopped.usd_per_million_tokens, full.usd_per_million_tokens) << full.system;
    EXPECT_EQ(stopped.utilization, full.utilization) << full.system;
  }
  EXPECT_LE(stopped.buckets.size(), full.buckets.size()) << full.system;
  for (const BucketPlan& b : stopped.buckets) {
    const auto same = std::find_if(full.buckets.begin(), full.buckets.end(), [&](const auto& x) {
      return x.context_tokens == b.context_tokens;
    });
    ASSERT_NE(same, full.buckets.end()) << full.system << " " << b.context_tokens;
    EXPECT_EQ(b.feasible, same->feasible) << full.system << " " << b.context_tokens;
    EXPECT_EQ(b.reason, same->reason) << full.system << " " << b.context_tokens;
    EXPECT_EQ(b.decode_devices, same->decode_devices) << full.system << " " << b.context_tokens;
    EXPECT_EQ(b.prefill_devices, same->prefill_devices) << full.system << " " << b.context_tokens;
    EXPECT_EQ(b.decode_tokens_per_s_per_device, same->decode_tokens_per_s_per_device)
        << full.system << " " << b.context_tokens;
    EXPECT_EQ(b.fastest_ttft_s, same->fastest_ttft_s) << full.system << " " << b.context_tokens;
  }
}

TEST(PlanPurchase, StoppingAtTheFirstInfeasibleBucketKeepsFeasibilityAndCosts) {
  // The sensitivity runs plan a system infeasible at nominal with stop_at_infeasible, its failing
  // context lengths first. A TTFT target halfway between H200's fastest 64K prefill at nominal and
  // at 15 % higher efficiencies (both searched here) makes the nominal plan fail on its second
  // bucket, the high end pass and the low end fail: each must match planning every bucket.
  const Scenario s = small_purchase();
  const PreparedModel flash = prepare(load_model("deepseek-v4-flash"));
  const std::vector<SystemSpec> systems = {load_system("hgx-h200"), load_system("dgx-b200")};
  const Sensitivity& efficiencies = s.sensitivities[2];
  ASSERT_EQ(efficiencies.kind, SensitivityKind::efficiencies);
  const SystemSpec h200_high = vary_system(systems[0], efficiencies, RangeEnd::high);
  const SystemPlan at_nominal = plan_purchase(flash, s.demand, {systems[0]}, s.prices)[0];
  const SystemPlan at_high = plan_purchase(flash, s.demand, {h200_high}, s.prices)[0];
  ASSERT_EQ(at_nominal.buckets.size(), 2u);
  ASSERT_EQ(at_high.buckets.size(), 2u);
  const double slow_s = at_nominal.buckets[1].fastest_ttft_s;
  const double fast_s = at_high.buckets[1].fastest_ttft_s;
  ASSERT_LT(fast_s, slow_s);
  ASSERT_LT(at_nominal.buckets[0].fastest_ttft_s, fast_s);  // 8K passes either way
  Demand d = s.demand;
  d.slo_ttft_s = 0.5 * (slow_s + fast_s);

  const std::vector<SystemPlan> nominal = plan_purchase(flash, d, systems, s.prices);
  const SystemPlan* h200 = find_plan(nominal, "hgx-h200");
  ASSERT_NE(h200, nullptr);
  ASSERT_FALSE(h200->feasible);
  ASSERT_EQ(h200->buckets.size(), 2u);
  EXPECT_TRUE(h200->buckets[0].feasible);
  EXPECT_FALSE(h200->buckets[1].feasible);

  int stopped_early = 0, became_feasible = 0;
  for (const Sensitivity* what : {&s.sensitivities[1], &efficiencies})
    for (RangeEnd b : {RangeEnd::low, RangeEnd::high}) {
      std::vector<SystemSpec> varied;
      std::vector<const SystemPlan*> sizes;
      for (const SystemSpec& x : systems) {
        varied.push_back(vary_system(x, *what, b));
        sizes.push_back(find_plan(nominal, x.name));
      }
      const auto stopped = plan_purchase(flash, d, varied, s.prices, {}, 0, {}, sizes, true);
      const auto full = plan_purchase(flash, d, varied, s.prices, {}, 0, {}, sizes, false);
      ASSERT_EQ(stopped.size(), full.size());
      for (std::size_t k = 0; k < full.size(); ++k) {
        EXPECT_EQ(stopped[k].system, full[k].system);  // ranked alike
        expect_same_outcome(stopped[k], full[k]);
        stopped_early += stopped[k].buckets.size() < full[k].buckets.size() ? 1 : 0;
        became_feasible += full[k].system == "hgx-h200" && full[k].feasible ? 1 : 0;
      }
    }
  EXPECT_GT(stopped_early, 0);    // the shortcut was taken
  EXPECT_GT(became_feasible, 0);  // and a plan infeasible at nominal was planned in full
}

TEST(PricePlan, RepricingEqualsPlanningAgain) {
  // Sizing does not depend on prices, so re-pricing a nominal plan for cheaper or dearer systems
  // gives exactly what a full re-plan gives (the runner relies on this for system_prices).
  const Scenario s = small_purchase();
  const PreparedModel flash = prepare(load_model("deepseek-v4-flash"));
  const std::vector<SystemSpec> systems = {load_system("hgx-h200"), load_system("dgx-b200")};
  const std::vector<SystemPlan> nominal = plan_purchase(flash, s.demand, systems, s.prices);
  for (RangeEnd b : {RangeEnd::low, RangeEnd::high}) {
    std::vector<SystemSpec> varied;
    for (const SystemSpec& x : systems) varied.push_back(vary_system(x, s.sensitivities[0], b));
    const std::vector<SystemPlan> again = plan_purchase(flash, s.demand, varied, s.prices);
    for (std::size_t k = 0; k < varied.size(); ++k) {
      const auto find = [&](const std::vector<SystemPlan>& ps) {
        return *std::find_if(ps.begin(), ps.end(),
                             [&](const SystemPlan& p) { return p.system == varied[k].name; });
      };
      SystemPlan repriced = find(nominal);
      const SystemPlan fresh = find(again);
      ASSERT_EQ(repriced.feasible, fresh.feasible) << varied[k].name;
      if (!fresh.feasible) continue;
      price_plan(repriced, varied[k], s.demand, s.prices);
      EXPECT_EQ(repriced.units, fresh.units) << varied[k].name;
      EXPECT_DOUBLE_EQ(repriced.capex_usd, fresh.capex_usd) << varied[k].name;
      EXPECT_DOUBLE_EQ(repriced.annual_cost_usd, fresh.annual_cost_usd) << varied[k].name;
      EXPECT_DOUBLE_EQ(repriced.usd_per_million_tokens, fresh.usd_per_million_tokens)
          << varied[k].name;
    }
  }
}

TEST(PricePlan, DearerSystemsNeverCostLess) {
  const Scenario s = small_purchase();
  SystemSpec h200 = load_system("hgx-h200");
  SystemPlan p;
  p.feasible = true;
  BucketPlan b;
  b.feasible = true;
  b.decode_devices = 8;
  b.decode_peak_devices = 14;  // two 8-GPU decode instances: two servers
  b.prefill_devices = 4;
  b.prefill_peak_devices = 8;  // two 4-GPU prefill instances share one server
  p.buckets = {b};
  price_plan(p, h200, s.demand, s.prices);
  const double before = p.annual_cost_usd;
  EXPECT_EQ(p.units, 3);
  EXPECT_EQ(p.devices, 24);
  EXPECT_EQ(p.prefill_devices, 8);
  EXPECT_EQ(p.decode_devices, 16);
  EXPECT_DOUBLE_EQ(p.average_devices, 22.0 / s.demand.peak_to_average);
  ASSERT_EQ(p.pools.size(), 2u);
  EXPECT_EQ(p.pools[0].phase, Phase::prefill);
  EXPECT_EQ(p.pools[0].nodes, 1);
  EXPECT_EQ(p.pools[1].instances, 2);
  h200.per_node.price_usd.nominal *= 1.5;
  price_plan(p, h200, s.demand, s.prices);
  EXPECT_GT(p.annual_cost_usd, before);
}

/// A small demand for plans of one model on catalogue systems.
Demand small_demand(double tokens_per_day, std::int64_t context) {
  Demand d;
  d.name = "test";
  d.input_tokens_per_day = 0.8 * tokens_per_day;
  d.output_tokens_per_day = 0.2 * tokens_per_day;
  d.cache_hit_rate = 0.5;
  d.peak_to_average = 2;
  d.contexts = {{context, 1.0}};
  d.slo_tpot_s = 0.05;
  d.slo_ttft_s = 60;
  d.mtp_acceptance = 0.7;
  return d;
}

TEST(PlanPurchase, V4ProIsPlannableOnH200AcrossServers) {
  // Issue 12: V4-Pro's 865 GB of weights exceed one 8 x 141 GB server; instances spanning
  // servers over the scale-out network serve it, bought as whole servers.
  const PreparedModel pro = prepare(load_model("deepseek-v4-pro"));
  const SystemSpec h200 = load_system("hgx-h200");
  const std::vector<SystemPlan> plans =
      plan_purchase(pro, small_demand(5e9, 32768), {h200}, PriceAssumptions{PriceBasis::tco});
  ASSERT_EQ(plans.size(), 1u);
  const SystemPlan& p = plans.front();
  ASSERT_TRUE(p.feasible) << p.reason;
  const BucketPlan& b = p.buckets.front();
  EXPECT_GT(b.decode_devices, 8);  // decode with a 32K batch spans servers
  EXPECT_GE(b.prefill_devices, 1);
  EXPECT_EQ(b.decode_devices % 8, 0);
  EXPECT_LE(b.tpot_s, 0.05);
  EXPECT_LE(b.ttft_s, 60);
  EXPECT_GT(b.kv_transfer_s, 0);
  // Whole servers, every pool a whole number of instances carrying its peak load.
  EXPECT_EQ(p.devices, p.units * 8);
  EXPECT_EQ(p.devices, p.prefill_devices + p.decode_devices);
  for (const PoolPlan& pool : p.pools) {
    EXPECT_GE(static_cast<double>(pool.instances * pool.instance_devices), pool.peak_devices);
    EXPECT_LT(static_cast<double>((pool.instances - 1) * pool.instance_devices), pool.peak_devices);
  }
  EXPECT_GT(p.utilization, 0);
  EXPECT_LE(p.utilization, 1);
}

TEST(PlanPurchase, ASmallDemandBuysCabinetsNotAWholeSuperPod) {
  // Issue 12: a demand that keeps a few dozen NPUs busy buys a few 64-NPU cabinets of an Atlas
  // 950 SuperPoD, not all 8,192 NPUs.
  const PreparedModel flash = prepare(load_model("deepseek-v4-flash"));
  const SystemSpec pod = load_system("atlas-950-superpod");
  const std::vector<SystemPlan> plans =
      plan_purchase(flash, small_demand(5e9, 8192), {pod}, PriceAssumptions{PriceBasis::tco});
  const SystemPlan& p = plans.front();
  ASSERT_TRUE(p.feasible) << p.reason;
  EXPECT_LT(p.units, pod.default_nodes / 4);
  EXPECT_EQ(p.devices, p.units * pod.devices_per_node);
  EXPECT_GE(static_cast<double>(p.devices), p.peak_devices);
  // Twice the demand never buys less.
  const SystemPlan twice =
      plan_purchase(flash, small_demand(10e9, 8192), {pod}, PriceAssumptions{PriceBasis::tco})
          .front();
  EXPECT_GE(twice.units, p.units);
  EXPECT_GE(twice.peak_devices, 1.99 * p.peak_devices);
}

TEST(PlanPurchase, PrefillAndDecodePoolsFollowTheTokenMix) {
  // The same total tokens with more output: the decode pool grows, the prefill pool shrinks.
  const PreparedModel flash = prepare(load_model("deepseek-v4-flash"));
  const SystemSpec h200 = load_system("hgx-h200");
  Demand chat = small_demand(20e9, 8192);
  Demand writing = chat;
  writing.input_tokens_per_day = 0.2 * 20e9;
  writing.output_tokens_per_day = 0.8 * 20e9;
  const SystemPlan a =
      plan_purchase(flash, chat, {h200}, PriceAssumptions{PriceBasis::tco}).front();
  const SystemPlan b =
      plan_purchase(flash, writing, {h200}, PriceAssumptions{PriceBasis::tco}).front();
  ASSERT_TRUE(a.feasible && b.feasible);
  EXPECT_GT(b.buckets[0].decode_peak_devices, a.buckets[0].decode_peak_devices);
  EXPECT_LT(b.buckets[0].prefill_peak_devices, a.buckets[0].prefill_peak_devices);
  EXPECT_GT(b.decode_devices, a.decode_devices);
  EXPECT_LE(b.prefill_devices, a.prefill_devices);
}

TEST(PlanPurchase, KeepingTheNominalSizesReproducesTheNominalPlan) {
  // Sensitivity runs search only the nominal instance sizes: on unchanged hardware that must
  // give the nominal plan back (its instances are the best at their own sizes too).
  const PreparedModel flash = prepare(load_model("deepseek-v4-flash"));
  const std::vector<SystemSpec> systems = {load_system("hgx-h200")};
  Demand d = small_demand(20e9, 8192);
  d.contexts = {{8192, 0.7}, {65536, 0.3}};
  const PriceAssumptions prices{PriceBasis::tco};
  const std::vector<SystemPlan> nominal = plan_purchase(flash, d, systems, prices);
  ASSERT_TRUE(nominal.front().feasible) << nominal.front().reason;
  const std::vector<const SystemPlan*> sizes = {&nominal.front()};
  const std::vector<SystemPlan> again = plan_purchase(flash, d, systems, prices, {}, 0, {}, sizes);
  const SystemPlan& a = nominal.front();
  const SystemPlan& b = again.front();
  ASSERT_TRUE(b.feasible);
  EXPECT_EQ(a.units, b.units);
  EXPECT_DOUBLE_EQ(a.annual_cost_usd, b.annual_cost_usd);
  for (std::size_t k = 0; k < a.buckets.size(); ++k) {
    EXPECT_EQ(a.buckets[k].decode_layout, b.buckets[k].decode_layout);
    EXPECT_EQ(a.buckets[k].decode_batch, b.buckets[k].decode_batch);
    EXPECT_EQ(a.buckets[k].prefill_layout, b.buckets[k].prefill_layout);
  }
}

TEST(PlanPurchase, UnreachableTargetNamesTheNearestDeployment) {
  const PreparedModel flash = prepare(load_model("deepseek-v4-flash"));
  const SystemSpec h200 = load_system("hgx-h200");
  Demand d = small_demand(1e9, 8192);
  d.slo_tpot_s = 1e-4;
  const SystemPlan p = plan_purchase(flash, d, {h200}, PriceAssumptions{PriceBasis::tco}).front();
  ASSERT_FALSE(p.feasible);
  EXPECT_EQ(p.why, Infeasible::tpot_slo);
  EXPECT_NE(p.reason.find("TPOT target 0.1 ms missed: the fastest decode is"), std::string::npos)
      << p.reason;
  EXPECT_NE(p.reason.find(" ranks, tp="), std::string::npos) << p.reason;
  EXPECT_TRUE(p.buckets[0].fits);
  EXPECT_GT(p.buckets[0].fastest_tpot_s, 1e-4);
  // A model that fits nowhere within the searched sizes says so, with the size.
  const PreparedModel pro = prepare(load_model("deepseek-v4-pro"));
  const SystemPlan none =
      plan_purchase(pro, small_demand(1e9, 8192), {h200}, PriceAssumptions{PriceBasis::tco}, {}, 4)
          .front();
  ASSERT_FALSE(none.feasible);  // 865 GB of weights on 4 x 141 GB
  EXPECT_EQ(none.why, Infeasible::memory);
  EXPECT_NE(none.reason.find("do not fit on up to 4 ranks"), std::string::npos) << none.reason;
  EXPECT_FALSE(none.buckets[0].fits);
}

}  // namespace
}  // namespace v4sim
