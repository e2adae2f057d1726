// Sizing a fleet by simulation (sim/fleet_sizing.h): the request shape and rate from the demand,
// the mean-load lower bound, and that a looser target never needs more replicas.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "hardware/system.h"
#include "models/config/input_error.h"
#include "models/model_loader.h"
#include "sim/communication.h"
#include "sim/fleet_sizing.h"

namespace v4sim {
namespace {

struct Fixture {
  PreparedModel flash = prepare(load_model("deepseek-v4-flash"));
  SystemSpec h200 = load_system("hgx-h200");
  CommPlanner planner{h200, h200.default_nodes};
  /// Prompts of 1000 or 3000 tokens (mean 2000) at 8.64e9 input tokens a day: 50 requests/s;
  /// output is a tenth of input, so every answer is 200 tokens.
  Demand demand() const {
    Demand d;
    d.input_tokens_per_day = 8.64e9;
    d.output_tokens_per_day = 0.864e9;
    d.peak_to_average = 2;
    d.mtp_acceptance = 0.7;
    d.contexts = {{1000, 0.5}, {3000, 0.5}};
    return d;
  }
  SimulatedSizingOptions options(double percentile, double ttft_s) const {
    SimulatedSizingOptions o;
    o.percentile = percentile;
    o.ttft_s = ttft_s;
    o.requests = 400;
    return o;
  }
};

TEST(FleetSizing, RequestShapeAndRateComeFromTheDemand) {
  Fixture f;
  const SimulatedFleet x =
      size_fleet_by_simulation(f.flash, f.h200, f.demand(), 20, f.options(0.5, 60), f.planner);
  EXPECT_DOUBLE_EQ(x.mean_input_tokens_per_request, 2000);
  EXPECT_EQ(x.output_tokens_per_request, 200);
  EXPECT_DOUBLE_EQ(x.request_rate_per_s, 50);
  EXPECT_EQ(x.replica_devices, 8);
  EXPECT_EQ(x.mean_load_replicas, 3);  // ceil(20 / 8)
  // A target a minute away is met by the mean-load fleet itself: no bigger fleet is tried.
  ASSERT_TRUE(x.feasible) << x.reason;
  EXPECT_EQ(x.replicas, 3);
  EXPECT_EQ(x.devices, 24);
  EXPECT_EQ(x.simulations, 1);

  SimulatedSizingOptions peak = f.options(0.5, 60);
  peak.at_peak = true;
  EXPECT_DOUBLE_EQ(
      size_fleet_by_simulation(f.flash, f.h200, f.demand(), 20, peak, f.planner).request_rate_per_s,
      100);
}

TEST(FleetSizing, NeverSmallerThanTheMeanLoadFleet) {
  Fixture f;
  for (const double mean_devices : {0.0, 7.0, 8.0, 9.0, 40.0}) {
    const SimulatedFleet x = size_fleet_by_simulation(f.flash, f.h200, f.demand(), mean_devices,
                                                      f.options(0.99, 2), f.planner);
    const auto bound =
        std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(mean_devices / 8)));
    EXPECT_EQ(x.mean_load_replicas, bound) << mean_devices;
    EXPECT_GE(x.replicas, bound) << mean_devices;
  }
}

TEST(FleetSizing, ALooserTargetNeverNeedsMoreReplicas) {
  Fixture f;
  // A mean load of one replica: 50 req/s of 2000-token prompts on one node meets a 400 ms TTFT
  // for half or 90% of requests but not for 99%, so the tightest target grows the fleet.
  std::vector<std::int64_t> by_percentile, by_ttft;
  for (const double percentile : {0.99, 0.9, 0.5}) {
    const SimulatedFleet x = size_fleet_by_simulation(f.flash, f.h200, f.demand(), 8,
                                                      f.options(percentile, 0.4), f.planner);
    ASSERT_TRUE(x.feasible) << percentile << ": " << x.reason;
    by_percentile.push_back(x.replicas);
  }
  for (const double ttft_s : {0.4, 0.5, 1.0, 5.0}) {
    const SimulatedFleet x = size_fleet_by_simulation(f.flash, f.h200, f.demand(), 8,
                                                      f.options(0.99, ttft_s), f.planner);
    ASSERT_TRUE(x.feasible) << ttft_s << ": " << x.reason;
    by_ttft.push_back(x.replicas);
  }
  for (const auto* v : {&by_percentile, &by_ttft}) {
    EXPECT_TRUE(std::is_sorted(v->rbegin(), v->rend()));  // non-increasing as targets loosen
    EXPECT_GT(v->front(), v->back());                     // and the tightest grew the fleet
  }
}

TEST(FleetSizing, AnUnreachableTargetIsAReason) {
  Fixture f;
  const SimulatedFleet x =
      size_fleet_by_simulation(f.flash, f.h200, f.demand(), 16, f.options(0.99, 1e-6), f.planner);
  EXPECT_FALSE(x.feasible);
  EXPECT_EQ(x.why, Infeasible::ttft_slo);
  EXPECT_EQ(x.replicas, 8);     // the largest tried: 4 x the mean-load fleet of 2
  EXPECT_EQ(x.simulations, 7);  // 2, 3, ..., 8
  EXPECT_NE(x.reason.find("TTFT"), std::string::npos);
}

TEST(FleetSizing, AReplicaLayoutSmallerThanANodePacksIntoNodes) {
  Fixture f;
  SimulatedSizingOptions o = f.options(0.5, 60);
  o.layout = Layout{2, 2, 1, 4};
  const SimulatedFleet x = size_fleet_by_simulation(f.flash, f.h200, f.demand(), 12, o, f.planner);
  ASSERT_TRUE(x.feasible) << x.reason;
  EXPECT_EQ(x.replica_devices, 4);
  EXPECT_EQ(x.replica_nodes, 1);
  EXPECT_EQ(x.mean_load_replicas, 3);  // ceil(12 / 4)
  EXPECT_EQ(x.replicas, 3);
  EXPECT_EQ(x.devices, 12);
  EXPECT_EQ(x.units, 2);  // 12 ranks in nodes of 8
}

TEST(FleetSizing, BadOptionsAreInputErrors) {
  Fixture f;
  SimulatedSizingOptions o = f.options(0.99, 1);
  o.percentile = 0;
  EXPECT_THROW(size_fleet_by_simulation(f.flash, f.h200, f.demand(), 8, o, f.planner), InputError);
  o = f.options(0.99, 1);
  o.ttft_s.reset();
  EXPECT_THROW(size_fleet_by_simulation(f.flash, f.h200, f.demand(), 8, o, f.planner), InputError);
  o = f.options(0.99, 1);
  o.requests = 0;
  EXPECT_THROW(size_fleet_by_simulation(f.flash, f.h200, f.demand(), 8, o, f.planner), InputError);
  o = f.options(0.99, 1);
  o.layout = Layout{1, 9000, 1, 256};  // 1,125 nodes: beyond the system's 1,024
  EXPECT_THROW(size_fleet_by_simulation(f.flash, f.h200, f.demand(), 8, o, f.planner), InputError);
}

}  // namespace
}  // namespace v4sim
