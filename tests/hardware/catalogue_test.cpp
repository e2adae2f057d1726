// Every shipped accelerator and system loads, validates and builds a connected topology; the
// figures that hardware.md states for whole systems come out of the graph.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "hardware/accelerator.h"
#include "hardware/system.h"
#include "hardware/topology.h"
#include "models/config/input_error.h"

namespace v4sim {
namespace {

const std::vector<std::string> kAccelerators = {
    "a100",        "h100",         "h800",         "h20",          "h200",         "b200",
    "gb200",       "b300",         "gb300",        "ascend-910b2", "ascend-910b3", "ascend-910b4",
    "ascend-910c", "ascend-950pr", "ascend-950dt", "mi300x",       "mi355x"};
const std::vector<std::string> kSystems = {
    "hgx-h100",           "hgx-h800",    "hgx-h20",         "hgx-h200",       "dgx-b200",
    "gb200-nvl72",        "gb300-nvl72", "atlas-800t-a2",   "atlas-800-a3",   "cloudmatrix384",
    "atlas-950-superpod", "hgx-b300",    "mi300x-platform", "mi355x-platform"};

void expect_ordered(const Range& r, const std::string& what) {
  EXPECT_LE(r.low, r.nominal) << what;
  EXPECT_LE(r.nominal, r.high) << what;
}

TEST(HardwareCatalogue, ShipsEveryNamedAcceleratorAndSystem) {
  const auto accelerators = list_accelerators();
  for (const auto& name : kAccelerators)
    EXPECT_NE(std::find(accelerators.begin(), accelerators.end(), name), accelerators.end())
        << name;
  const auto systems = list_systems();
  for (const auto& name : kSystems)
    EXPECT_NE(std::find(systems.begin(), systems.end(), name), systems.end()) << name;
}

TEST(HardwareCatalogue, EveryAcceleratorLoadsAndIsConsistent) {
  for (const auto& name : list_accelerators()) {
    SCOPED_TRACE(name);
    const Accelerator a = load_accelerator(name);
    EXPECT_EQ(a.name, name);
    // Every op precision runs on a path the device has.
    for (Precision p : kAllPrecisions) EXPECT_TRUE(a.supports(a.path_for[static_cast<int>(p)]));
    for (ComputePath p : kAllComputePaths)
      if (a.supports(p)) expect_ordered(*a.peak_tflops[static_cast<int>(p)], "peak");
    for (const Range* r :
         {&a.hbm_capacity_gb, &a.hbm_bandwidth_tb_per_s, &a.scale_up_gb_per_s,
          &a.scale_out_gb_per_s, &a.tdp_w, &a.purchase_price_usd, &a.rental_usd_per_hour})
      expect_ordered(*r, "range");
    EXPECT_GT(a.hbm_bandwidth_tb_per_s.nominal, 0);
    EXPECT_GT(a.purchase_price_usd.nominal, 0);
    EXPECT_GT(a.rental_usd_per_hour.nominal, 0);
    EXPECT_GT(a.compute_efficiency.max_fraction, 0);
    EXPECT_LE(a.compute_efficiency.max_fraction, 1);
    EXPECT_GE(a.launch_year, 2020);
  }
}

TEST(HardwareCatalogue, Ascend910cRankIsOneDie) {
  const Accelerator a = load_accelerator("ascend-910c");
  EXPECT_EQ(a.rank_unit, "die");
  EXPECT_EQ(a.dies_per_package, 2);
  // Per package: BF16 752 TFLOPS (708-800), 128 GB, 3.2 TB/s, UB 392 GB/s per direction.
  const Range bf16 = *a.peak_tflops[static_cast<int>(ComputePath::bf16)];
  EXPECT_DOUBLE_EQ(bf16.nominal * a.dies_per_package, 752);
  EXPECT_DOUBLE_EQ(bf16.low * a.dies_per_package, 708);
  EXPECT_DOUBLE_EQ(bf16.high * a.dies_per_package, 800);
  EXPECT_DOUBLE_EQ(a.hbm_capacity_gb.nominal * a.dies_per_package, 128);
  EXPECT_DOUBLE_EQ(a.hbm_bandwidth_tb_per_s.nominal * a.dies_per_package, 3.2);
  EXPECT_DOUBLE_EQ(a.scale_up_gb_per_s.nominal * a.dies_per_package, 392);
  EXPECT_FALSE(a.supports(ComputePath::fp8));
  EXPECT_EQ(a.path_for[static_cast<int>(Precision::fp8)], ComputePath::int8);
}

TEST(HardwareCatalogue, FallbacksWhereAPrecisionIsMissing) {
  for (const char* name : {"ascend-910b2", "ascend-910b3", "ascend-910b4", "ascend-910c"})
    EXPECT_EQ(load_accelerator(name).path_for[static_cast<int>(Precision::fp8)], ComputePath::int8)
        << name;
  EXPECT_EQ(load_accelerator("a100").path_for[static_cast<int>(Precision::fp8)], ComputePath::bf16);
  EXPECT_EQ(load_accelerator("h100").path_for[static_cast<int>(Precision::fp4)], ComputePath::fp8);
  EXPECT_EQ(load_accelerator("b200").path_for[static_cast<int>(Precision::fp4)], ComputePath::fp4);
}

TEST(HardwareCatalogue, EverySystemLoadsExpandsAndIsConnected) {
  for (const auto& name : list_systems()) {
    SCOPED_TRACE(name);
    const SystemSpec s = load_system(name);
    EXPECT_EQ(s.name, name);
    const Netlist net = expand(s, s.default_nodes);
    EXPECT_EQ(disconnected_reason(net), "");
    EXPECT_EQ(net.num_devices, s.default_nodes * s.devices_per_node);
    const SystemTotals t = system_totals(s, s.default_nodes);
    EXPECT_GT(t.power_w.nominal, 0);
    EXPECT_GT(t.price_usd.nominal, 0);
    EXPECT_GT(t.floor_m2.nominal, 0);
    EXPECT_EQ(t.packages * s.accelerator.dies_per_package, t.devices);
    // A composed cluster of two nodes stays connected where the system allows it.
    if (s.max_nodes >= 2) {
      EXPECT_EQ(disconnected_reason(expand(s, 2)), "");
    }
  }
}

TEST(HardwareCatalogue, FindHardwareTellsAcceleratorsFromSystems) {
  EXPECT_EQ(find_hardware("h100"), HardwareKind::accelerator);
  EXPECT_EQ(find_hardware("cloudmatrix384"), HardwareKind::system);
  EXPECT_EQ(find_hardware((default_systems_dir() / "hgx-h100.yaml").string()),
            HardwareKind::system);
  EXPECT_THROW(find_hardware("h1000"), InputError);
}

TopologySummary summary_of(const std::string& name, int nodes = 0) {
  const SystemSpec s = load_system(name);
  return summarize(build_topology(expand(s, nodes ? nodes : s.default_nodes)));
}

TEST(HardwareTopology, CloudMatrix384TwoTierClos) {
  const TopologySummary s = summary_of("cloudmatrix384");
  EXPECT_EQ(s.devices, 768);                // 384 packages x 2 dies
  EXPECT_EQ(s.switches, 48 * 7 + 112 + 1);  // L1 per node, L2 planes, the RDMA switch
  // 768 x 7 die-L1 + 384 die-to-die + 336 x 16 L1-L2 + 768 RDMA links.
  EXPECT_EQ(s.links, 768 * 7 + 384 + 336 * 16 + 768);
  EXPECT_EQ(s.scale_up_domains, 1);
  EXPECT_EQ(s.max_scale_up_hops, 4);  // die - L1 - L2 - L1 - die
  EXPECT_DOUBLE_EQ(s.scale_up_injection_gb_per_s, 196);
  // Non-blocking: bisection = 384 dies x 196 GB/s = 75.264 TB/s per direction ("about 75 TB/s",
  // hardware.md §7), plus 384 x 25 GB/s of RDMA when every link counts.
  EXPECT_NEAR(s.scale_up_bisection_gb_per_s, 384 * 196.0, 1e-6);
  EXPECT_NEAR(s.bisection_gb_per_s, 384 * 196.0 + 384 * 25.0, 1e-6);
}

TEST(HardwareTopology, Nvl72BisectionIs36x900) {
  const TopologySummary s = summary_of("gb200-nvl72");
  EXPECT_EQ(s.devices, 72);
  EXPECT_EQ(s.switches, 18 + 1);
  EXPECT_DOUBLE_EQ(s.scale_up_injection_gb_per_s, 900);
  EXPECT_NEAR(s.scale_up_bisection_gb_per_s, 36 * 900.0, 1e-6);  // 32.4 TB/s, hardware.md §7
}

TEST(HardwareTopology, HgxClusterComposesNodesOverScaleOut) {
  const TopologySummary s = summary_of("hgx-h100", 4);
  EXPECT_EQ(s.devices, 32);
  EXPECT_EQ(s.scale_up_domains, 4);
  EXPECT_EQ(s.largest_scale_up_domain, 8);
  EXPECT_DOUBLE_EQ(s.scale_out_injection_gb_per_s, 50);
  // Halves = nodes 0-1 vs 2-3: only the NICs cross, 16 x 50 GB/s.
  EXPECT_NEAR(s.bisection_gb_per_s, 16 * 50.0, 1e-6);
  EXPECT_NEAR(s.scale_up_bisection_gb_per_s, 0.0, 1e-9);
}

TEST(HardwareTopology, Atlas800tA2FullMesh) {
  const TopologySummary s = summary_of("atlas-800t-a2");
  EXPECT_EQ(s.links, 28 + 8);  // 8 choose 2 HCCS links + 8 RoCE ports
  EXPECT_EQ(s.max_scale_up_hops, 1);
  EXPECT_NEAR(s.scale_up_bisection_gb_per_s, 4 * 4 * 28.0, 1e-6);
}

TEST(HardwareTopology, HgxB300NvLink5Switched) {
  const TopologySummary s = summary_of("hgx-b300");
  EXPECT_EQ(s.devices, 8);
  EXPECT_EQ(s.max_scale_up_hops, 2);                     // GPU - NVSwitch - GPU
  EXPECT_DOUBLE_EQ(s.scale_up_injection_gb_per_s, 900);  // 1.8 TB/s bidirectional per GPU
  EXPECT_NEAR(s.scale_up_bisection_gb_per_s, 4 * 900.0, 1e-6);
  EXPECT_DOUBLE_EQ(s.scale_out_injection_gb_per_s, 100);  // 800G ConnectX-8 per GPU
}

TEST(HardwareTopology, AmdPlatformsFullXgmiMesh) {
  // One Infinity Fabric link to each of the 7 peers, no switch: 7 x 64 and 7 x 76.8 GB/s per GPU.
  for (const auto& [name, per_link] :
       {std::pair{"mi300x-platform", 64.0}, std::pair{"mi355x-platform", 76.8}}) {
    SCOPED_TRACE(name);
    const TopologySummary s = summary_of(name);
    EXPECT_EQ(s.devices, 8);
    EXPECT_EQ(s.links, 28 + 8);  // 8 choose 2 xGMI links + 8 NICs
    EXPECT_EQ(s.max_scale_up_hops, 1);
    EXPECT_NEAR(s.scale_up_injection_gb_per_s, 7 * per_link, 1e-9);
    EXPECT_NEAR(s.scale_up_bisection_gb_per_s, 4 * 4 * per_link, 1e-6);
  }
}

TEST(HardwareTopology, Atlas950SuperPodNonBlocking) {
  const TopologySummary s = summary_of("atlas-950-superpod");
  EXPECT_EQ(s.devices, 8192);
  EXPECT_NEAR(s.scale_up_bisection_gb_per_s, 4096 * 1008.0, 1e-3);
}

TEST(HardwareTopology, SystemTotalsComposeNodesAndFabric) {
  const SystemSpec s = load_system("hgx-h100");
  const SystemTotals t = system_totals(s, 4);
  // 4 nodes x 10.2 kW + 32 GPUs x 40 W of fabric; 4 x $282,624 + 32 x $3,000.
  EXPECT_DOUBLE_EQ(t.power_w.nominal, 4 * 10200.0 + 32 * 40.0);
  EXPECT_DOUBLE_EQ(t.price_usd.nominal, 4 * 282624.0 + 32 * 3000.0);
  EXPECT_DOUBLE_EQ(t.hbm_capacity_gb, 32 * 80.0);
  const SystemTotals cm = system_totals(load_system("cloudmatrix384"), 48);
  EXPECT_EQ(cm.packages, 384);
  EXPECT_NEAR(cm.price_usd.nominal, 8.2e6, 100);  // 48 x $170,833
  EXPECT_NEAR(cm.power_w.nominal, 559000, 100);   // 48 x 11,646 W
}

}  // namespace
}  // namespace v4sim
