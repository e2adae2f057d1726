// Bad hardware files give an InputError that names file:line:column and the field.
#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <string>

#include "hardware/accelerator.h"
#include "hardware/system.h"
#include "models/config/input_error.h"

namespace v4sim {
namespace {

namespace fs = std::filesystem;

/// A scratch folder per test, removed afterwards.
class HardwareFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ =
        fs::temp_directory_path() / ("v4sim_hw_" + std::to_string(::getpid()) + "_" + info->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }

  /// Loads and returns the InputError message ("" if it loaded).
  template <class Load>
  static std::string error_of(Load load) {
    try {
      load();
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
};

// A minimal valid accelerator; line numbers below refer to this layout.
std::string accelerator_text(const std::string& peaks, const std::string& execution,
                             const std::string& scale_up = "100") {
  return "name: test\n"                                           // 1
         "display_name: Test\n"                                   // 2
         "vendor: host\n"                                         // 3
         "estimate: test file\n"                                  // 4
         "rank: {estimate: x, unit: gpu, dies_per_package: 1}\n"  // 5
         "peak_tflops:\n"                                         // 6
         "  estimate: x\n" +                                      // 7
         peaks +                                                  // 8..
         "execution:\n"
         "  estimate: x\n" +
         execution +
         "memory: {estimate: x, hbm_capacity_gb: 80, hbm_bandwidth_tb_per_s: 1, "
         "last_level_cache_mb: 10}\n"
         "interconnect:\n"
         "  estimate: x\n"
         "  scale_up_gb_per_s: " +
         scale_up +
         "\n"
         "  scale_up_usable_fraction: 1\n"
         "  scale_out_gb_per_s: 10\n"
         "  scale_out_usable_fraction: 1\n"
         "product: {estimate: x, tdp_w: 100, launch_year: 2024}\n"
         "economics: {estimate: x, purchase_price_usd: 1000, rental_usd_per_hour: 1}\n"
         "efficiency: {estimate: x, compute_max_fraction: 0.5, compute_ramp_s: 0, "
         "memory_fraction: 0.5, launch_overhead_s: 0}\n";
}

const std::string kAllPeaks = "  fp32: 10\n  bf16: 100\n  fp8: 200\n  fp4: 400\n  int8: 200\n";

TEST_F(HardwareFiles, ValidAcceleratorLoads) {
  const std::string file = write("ok.yaml", accelerator_text(kAllPeaks, ""));
  const Accelerator a = load_accelerator(file);
  EXPECT_EQ(a.name, "test");
  EXPECT_DOUBLE_EQ(a.peak_flops_per_s(ComputePath::bf16), 100e12);
  EXPECT_FALSE(a.supports(ComputePath::tf32));
}

TEST_F(HardwareFiles, UnknownPrecisionNamesFileLineAndField) {
  const std::string file =
      write("fp6.yaml", accelerator_text("  bf16: 100\n  fp6: 150\n  fp8: 200\n  fp4: 1\n"
                                         "  int8: 1\n  fp32: 1\n",
                                         ""));
  const std::string msg = error_of([&] { load_accelerator(file); });
  EXPECT_NE(msg.find(file + ":9:3"), std::string::npos) << msg;  // the key on line 9
  EXPECT_NE(msg.find("peak_tflops.fp6"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean"), std::string::npos) << msg;
}

TEST_F(HardwareFiles, UnknownExecutionPathIsRejected) {
  const std::string file = write("path.yaml", accelerator_text(kAllPeaks, "  fp8: fp12\n"));
  const std::string msg = error_of([&] { load_accelerator(file); });
  EXPECT_NE(msg.find(file + ":"), std::string::npos) << msg;
  EXPECT_NE(msg.find("execution.fp8"), std::string::npos) << msg;
  EXPECT_NE(msg.find("fp12"), std::string::npos) << msg;
}

TEST_F(HardwareFiles, MissingPrecisionNeedsAStatedFallback) {
  const std::string peaks = "  fp32: 10\n  bf16: 100\n  int8: 200\n";  // no fp8, no fp4
  const std::string file = write("nofp8.yaml", accelerator_text(peaks, ""));
  const std::string msg = error_of([&] { load_accelerator(file); });
  EXPECT_NE(msg.find("execution.fp8"), std::string::npos) << msg;
  EXPECT_NE(msg.find("state the path"), std::string::npos) << msg;
  const std::string fixed =
      write("fallback.yaml", accelerator_text(peaks, "  fp8: int8\n  fp4: int8\n"));
  EXPECT_EQ(load_accelerator(fixed).path_for[static_cast<int>(Precision::fp8)], ComputePath::int8);
  const std::string bad =
      write("badfallback.yaml", accelerator_text(peaks, "  fp8: tf32\n  fp4: int8\n"));
  EXPECT_NE(error_of([&] { load_accelerator(bad); }).find("no tf32 peak"), std::string::npos);
}

TEST_F(HardwareFiles, NegativeBandwidthNamesField) {
  const std::string file = write("neg.yaml", accelerator_text(kAllPeaks, "", "-5"));
  const std::string msg = error_of([&] { load_accelerator(file); });
  EXPECT_NE(msg.find(file + ":"), std::string::npos) << msg;
  EXPECT_NE(msg.find("interconnect.scale_up_gb_per_s"), std::string::npos) << msg;
  EXPECT_NE(msg.find("-5"), std::string::npos) << msg;
}

TEST_F(HardwareFiles, RangeMustBeOrdered) {
  const std::string file =
      write("range.yaml",
            accelerator_text("  bf16: {nominal: 100, low: 120, high: 130}\n  fp32: 1\n  fp8: 1\n"
                             "  fp4: 1\n  int8: 1\n",
                             ""));
  const std::string msg = error_of([&] { load_accelerator(file); });
  EXPECT_NE(msg.find("peak_tflops.bf16.low"), std::string::npos) << msg;
}

TEST_F(HardwareFiles, UnknownCatalogueNameSuggests) {
  const std::string msg = error_of([] { load_accelerator("h1000"); });
  EXPECT_NE(msg.find("did you mean 'h100'"), std::string::npos) << msg;
}

TEST_F(HardwareFiles, GeneratedHostFileLoads) {
  // The shape `v4sim calibrate` writes: measured FP32/BF16 only, everything else mapped, no links.
  const std::string file = write("host.yaml",
                                 "name: host\n"
                                 "display_name: This machine\n"
                                 "vendor: host\n"
                                 "estimate: generated by v4sim calibrate\n"
                                 "rank: {estimate: x, unit: cpu, dies_per_package: 1}\n"
                                 "peak_tflops: {estimate: measured, fp32: 1.2, bf16: 0.9}\n"
                                 "execution: {estimate: x, fp8: bf16, fp4: bf16, int8: fp32}\n"
                                 "memory: {estimate: measured, hbm_capacity_gb: 64, "
                                 "hbm_bandwidth_tb_per_s: 0.05, last_level_cache_mb: 32}\n"
                                 "interconnect: {estimate: none, scale_up_gb_per_s: 0, "
                                 "scale_up_usable_fraction: 1, scale_out_gb_per_s: 0, "
                                 "scale_out_usable_fraction: 1}\n"
                                 "product: {estimate: x, tdp_w: 65, launch_year: 2024}\n"
                                 "economics: {estimate: x, purchase_price_usd: 0, "
                                 "rental_usd_per_hour: 0}\n"
                                 "efficiency: {estimate: measured, compute_max_fraction: 1, "
                                 "compute_ramp_s: 0, memory_fraction: 1, launch_overhead_s: 0}\n");
  const Accelerator a = load_accelerator(file);
  EXPECT_EQ(a.rank_unit, "cpu");
  EXPECT_EQ(a.path_for[static_cast<int>(Precision::int8)], ComputePath::fp32);
}

// A minimal system over the shipped h100 (scale-up 450 per direction, scale-out 50).
std::string system_text(const std::string& links, const std::string& nodes =
                                                      "{estimate: x, "
                                                      "default: 1, min: 1, "
                                                      "max: 4}") {
  return "name: test-system\n"           // 1
         "display_name: Test\n"          // 2
         "estimate: test\n"              // 3
         "accelerator: h100\n"           // 4
         "node:\n"                       // 5
         "  estimate: x\n"               // 6
         "  devices: 4\n"                // 7
         "  switches:\n"                 // 8
         "    - {name: sw, count: 1}\n"  // 9
         "  links:\n" +                  // 10
         links +                         // 11..
         "scale_out: {estimate: x, gb_per_s: 50, latency_s: 1e-6, price_usd_per_device: 0, "
         "power_w_per_device: 0}\n"
         "nodes: " +
         nodes +
         "\n"
         "footprint: {estimate: x, power_w: 1000, price_usd: 1000, floor_m2: 1}\n";
}

TEST_F(HardwareFiles, ValidSystemLoads) {
  const std::string file =
      write("sys.yaml", system_text("    - {name: l, between: [device, sw], pattern: complete, "
                                    "gb_per_s: 450, latency_s: 1e-6}\n"));
  const SystemSpec s = load_system(file);
  EXPECT_EQ(expand(s, 3).num_devices, 12);
}

TEST_F(HardwareFiles, LinkToMissingVertexGroup) {
  const std::string file = write(
      "missing.yaml", system_text("    - {name: l, between: [device, sw2], pattern: complete, "
                                  "gb_per_s: 450, latency_s: 1e-6}\n"));
  const std::string msg = error_of([&] { load_system(file); });
  EXPECT_NE(msg.find(file + ":11:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("node.links[0].between"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing vertex group 'sw2'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'sw'"), std::string::npos) << msg;
}

TEST_F(HardwareFiles, NegativeLinkBandwidth) {
  const std::string file =
      write("neglink.yaml", system_text("    - {name: l, between: [device, sw], pattern: complete, "
                                        "gb_per_s: -450, latency_s: 1e-6}\n"));
  const std::string msg = error_of([&] { load_system(file); });
  EXPECT_NE(msg.find(file + ":11:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("node.links[0].gb_per_s"), std::string::npos) << msg;
  EXPECT_NE(msg.find("must be positive"), std::string::npos) << msg;
}

TEST_F(HardwareFiles, DisconnectedTopology) {
  // Pairs only, no switch links and a single node: {d0,d1}, {d2,d3} and the switch are islands
  // (the scale-out switch would join the devices, so this system has none).
  std::string text = system_text(
      "    - {name: p, between: [device, device], pattern: pairs, "
      "gb_per_s: 450, latency_s: 1e-6}\n",
      "{estimate: x, default: 1, min: 1, max: 1}");
  text.erase(text.find("scale_out:"), text.find("nodes:") - text.find("scale_out:"));
  const std::string file = write("islands.yaml", text);
  const std::string msg = error_of([&] { load_system(file); });
  EXPECT_NE(msg.find(file + ":11:"), std::string::npos) << msg;  // the links list
  EXPECT_NE(msg.find("node.links"), std::string::npos) << msg;
  EXPECT_NE(msg.find("disconnected"), std::string::npos) << msg;
  EXPECT_NE(msg.find("' at 1 node)"), std::string::npos) << msg;
}

TEST_F(HardwareFiles, LinkSumMustMatchAccelerator) {
  const std::string file =
      write("sum.yaml", system_text("    - {name: l, between: [device, sw], pattern: complete, "
                                    "gb_per_s: 400, latency_s: 1e-6}\n"));
  const std::string msg = error_of([&] { load_system(file); });
  EXPECT_NE(msg.find("scale_up_gb_per_s"), std::string::npos) << msg;
  EXPECT_NE(msg.find("h100"), std::string::npos) << msg;
}

TEST_F(HardwareFiles, NodeCountOutOfRange) {
  const std::string file =
      write("nodes.yaml", system_text("    - {name: l, between: [device, sw], pattern: complete, "
                                      "gb_per_s: 450, latency_s: 1e-6}\n"));
  const SystemSpec s = load_system(file);
  const std::string msg = error_of([&] { expand(s, 5); });
  EXPECT_NE(msg.find(file + ":"), std::string::npos) << msg;
  EXPECT_NE(msg.find("1 to 4 nodes"), std::string::npos) << msg;
}

TEST_F(HardwareFiles, UnknownSystemField) {
  std::string text = system_text(
      "    - {name: l, between: [device, sw], pattern: complete, "
      "gb_per_s: 450, latency_s: 1e-6, bandwith: 3}\n");
  const std::string file = write("typo.yaml", text);
  const std::string msg = error_of([&] { load_system(file); });
  EXPECT_NE(msg.find("node.links[0].bandwith"), std::string::npos) << msg;
}

}  // namespace
}  // namespace v4sim
