// Host ceilings and calibration: the GEMM fit, the deterministic two-thread product, and the host
// file that `v4sim calibrate` writes (it must load and validate with the hardware loader).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "hardware/accelerator.h"
#include "hardware/roofline.h"
#include "kernels/bench/host_calibration.h"
#include "kernels/bench/host_ceilings.h"
#include "tests/support/random.h"

namespace v4sim::bench {
namespace {

namespace fs = std::filesystem;

std::vector<GemmPoint> exact_points(double p, double ramp) {
  std::vector<GemmPoint> pts;
  for (std::int64_t n : {32, 64, 128, 256, 512}) {
    GemmPoint g;
    g.n = n;
    g.flops = 2.0 * n * n * n;
    g.seconds = g.flops / p + ramp;
    pts.push_back(g);
  }
  return pts;
}

TEST(Calibration, FitRecoversRateAndRamp) {
  const GemmFit f = fit_gemm_time(exact_points(4e10, 2e-6));
  EXPECT_NEAR(f.flop_per_s / 4e10, 1.0, 1e-9);
  EXPECT_NEAR(f.ramp_s, 2e-6, 1e-12);
  EXPECT_LT(f.max_rel_error, 1e-9);
}

TEST(Calibration, FitNeverReturnsANegativeRamp) {
  // Small products faster than proportional (they live in L1): no positive ramp fits.
  std::vector<GemmPoint> pts = exact_points(4e10, 0);
  pts[0].seconds *= 0.5;
  const GemmFit f = fit_gemm_time(pts);
  EXPECT_EQ(f.ramp_s, 0.0);
  EXPECT_GT(f.flop_per_s, 0.0);
  EXPECT_GT(f.max_rel_error, 0.0);
}

// Seed printed on failure; shapes with ragged edges (not multiples of the 48-column blocks, of
// Eigen's register blocks, or of its k-blocking).
TEST(Calibration, SplitProductIsBitwiseEqualToOneThread) {
  const std::uint64_t seed = 20261122;
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  struct Shape {
    int m, n, k;
  };
  for (Shape s :
       {Shape{37, 100, 700}, Shape{5, 1000, 333}, Shape{130, 97, 1500}, Shape{1, 50, 9}}) {
    const RowMatrixXf a = test_support::random_matrix(gen, s.m, s.k, u),
                      b = test_support::random_matrix(gen, s.n, s.k, u);
    RowMatrixXf one = a * b.transpose();
    for (int threads : {1, 2, 3}) {
      RowMatrixXf split;
      split_product(a, b, split, threads);
      ASSERT_EQ(split.rows(), s.m);
      ASSERT_EQ(split.cols(), s.n);
      EXPECT_TRUE(std::equal(one.data(), one.data() + one.size(), split.data()))
          << "seed " << seed << " m " << s.m << " n " << s.n << " k " << s.k << " threads "
          << threads;
    }
  }
}

TEST(Calibration, SmokeCeilingsAreMeasured) {
  const HostCeilings h = measure_host_ceilings(ceiling_options(SuiteMode::smoke));
  EXPECT_FALSE(h.simd.empty());
  EXPECT_EQ(h.gemm.size(), ceiling_options(SuiteMode::smoke).gemm_sizes.size());
  EXPECT_GT(h.gemm_flop_per_s, 0);
  EXPECT_GT(h.read_bytes_per_s, 0);
  EXPECT_GT(h.copy_bytes_per_s, 0);
  EXPECT_GT(h.gemv_bytes_per_s, 0);
  EXPECT_GT(h.tiny_call_s, 0);
  EXPECT_GE(h.best_stream_bytes_per_s(), h.read_bytes_per_s);
  if (h.hardware_threads >= 2) {
    EXPECT_TRUE(h.gemm_2threads_bitwise_equal);
    EXPECT_GT(h.gemm_flop_per_s_2threads, 0);
  }
  // fp32, bf16 and int8 GEMMs, each on the path this CPU takes (the portable loop included).
  ASSERT_EQ(h.precisions.size(), 3u);
  for (const char* p : {"fp32", "bf16", "int8"}) {
    ASSERT_NE(h.precision(p), nullptr) << p;
    EXPECT_GT(h.precision(p)->gemm_flop_per_s, 0) << p;
    EXPECT_FALSE(h.precision(p)->path.empty()) << p;
  }
  EXPECT_EQ(h.precision("fp32")->gemm_flop_per_s, h.gemm_flop_per_s);
  EXPECT_GE(h.peak.cores, 1);
  if (h.peak.fp32_lanes > 0) {  // a CPU with AVX2 + FMA or AVX-512
    EXPECT_GT(h.peak.clock_hz, 1e8);
    EXPECT_GE(h.peak.fma_units, 1);
    EXPECT_EQ(h.precision("fp32")->theoretical_flop_per_s, h.peak.fp32_flop_per_s_per_core());
  }
}

TEST(Calibration, PeakIsLanesTimesFmaUnitsTimesClockTimesCores) {
  HostPeak p;
  p.clock_hz = 3e9;
  p.fp32_lanes = 16;
  p.fma_per_cycle = 1.96;
  p.fma_units = 2;
  p.cores = 4;
  p.bf16_units = 1;
  p.int8_units = 2;
  EXPECT_DOUBLE_EQ(p.fp32_flop_per_s_per_core(), 16 * 2 * 2 * 3e9);
  EXPECT_DOUBLE_EQ(p.fp32_flop_per_s(), 4 * 16 * 2 * 2 * 3e9);
  EXPECT_DOUBLE_EQ(p.bf16_flop_per_s_per_core(), 64 * 1 * 3e9);
  EXPECT_DOUBLE_EQ(p.int8_op_per_s_per_core(), 128 * 2 * 3e9);
  // A measured GEMM above the peak raises the units it implies; below it changes nothing.
  p.at_least(250e9, 100e9, 700e9);
  EXPECT_EQ(p.fma_units, 3);   // 250 / (32 x 3) = 2.6 -> 3
  EXPECT_EQ(p.bf16_units, 1);  // 100 / (64 x 3) = 0.52
  EXPECT_EQ(p.int8_units, 2);  // 700 / (128 x 3) = 1.8
}

HostCalibration sample_calibration(const std::string& hostname) {
  HostCeilings m;
  m.simd = "SSE, SSE2";
  m.hardware_threads = 2;
  m.gemm = exact_points(4e10, 1e-6);
  m.gemm_flop_per_s = 4e10;
  m.stream_bytes = 256 << 20;
  m.read_bytes_per_s = 2.5e10;
  m.copy_bytes_per_s = 3.0e10;
  m.gemv_bytes_per_s = 2.2e10;
  m.tiny_call_s = 5e-7;
  HostInfo info;
  info.hostname = hostname;
  info.cpu_model = "Test CPU \"X\": 2 cores";
  info.date_utc = "2026-11-22T06:40Z";
  info.year = 2026;
  info.memory_bytes = 24e9;
  info.llc_bytes = 32 * 1048576.0;
  return calibrate_host(m, info);
}

TEST(Calibration, HostFileLoadsAndSaysWhatWasMeasured) {
  const HostCalibration c = sample_calibration("build-box: #1 \"a\"");
  EXPECT_NEAR(c.memory_fraction, 2.2 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(c.bandwidth_bytes_per_s, 3.0e10);
  const fs::path dir = fs::temp_directory_path() / ("v4sim_cal_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path file = dir / "host.yaml";
  std::ostringstream text;
  write_host_yaml(text, c);
  std::ofstream(file) << text.str();
  const Accelerator a = load_accelerator(file.string());
  fs::remove_all(dir);

  EXPECT_EQ(a.name, "host");
  EXPECT_EQ(a.vendor, "host");
  EXPECT_EQ(a.rank_unit, "cpu");
  EXPECT_NEAR(a.peak_flops_per_s(ComputePath::fp32) / 4e10, 1.0, 1e-5);
  for (ComputePath p : {ComputePath::tf32, ComputePath::bf16, ComputePath::fp8, ComputePath::fp4,
                        ComputePath::int8})
    EXPECT_FALSE(a.supports(p)) << to_string(p);
  for (Precision p : kAllPrecisions)
    EXPECT_EQ(a.path_for[static_cast<int>(p)], ComputePath::fp32) << to_string(p);
  EXPECT_NEAR(a.hbm_bytes_per_s() / 3.0e10, 1.0, 1e-5);
  EXPECT_NEAR(a.memory_efficiency, 2.2 / 3.0, 1e-5);
  EXPECT_NEAR(a.compute_efficiency.max_fraction, 1.0, 1e-12);
  EXPECT_NEAR(a.compute_efficiency.ramp_s / 1e-6, 1.0, 1e-4);
  EXPECT_NEAR(a.launch_overhead_s, 5e-7, 1e-12);
  EXPECT_NEAR(a.last_level_cache_mb.nominal, 33.554432, 1e-4);
  EXPECT_NE(text.str().find("measured by v4sim calibrate on 2026-11-22T06:40Z"), std::string::npos);
  EXPECT_NE(text.str().find("GENERATED"), std::string::npos);

  // Only the fp32 GEMM was measured: no BF16 / INT8 peak, so no such path.
  EXPECT_EQ(text.str().find("\n  bf16: 0"), std::string::npos);

  // A large op on it is a roofline over the calibrated figures.
  Cost big;
  big.flops_at(Precision::fp8) = 4'000'000'000;
  const OpTime t = op_time(a, big);
  EXPECT_NEAR(t.compute_s, 0.1 + 1e-6, 1e-6);
  EXPECT_TRUE(t.fallback_used);  // fp8 as fp32
}

TEST(Calibration, MeasuredBf16AndInt8GemmsBecomePeaks) {
  HostCalibration c = sample_calibration("box");
  c.ceilings.precisions = {{"fp32", "Eigen SSE", 1024, 4e10, 1e11},
                           {"bf16", "avx512_bf16", 512, 9e10, 2e11},
                           {"int8", "avx512_vnni", 512, 1.6e11, 4e11}};
  std::ostringstream text;
  write_host_yaml(text, c);
  const fs::path dir = fs::temp_directory_path() / ("v4sim_cal2_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "host.yaml") << text.str();
  const Accelerator a = load_accelerator((dir / "host.yaml").string());
  fs::remove_all(dir);
  EXPECT_NEAR(a.peak_flops_per_s(ComputePath::bf16) / 9e10, 1.0, 1e-5);
  EXPECT_NEAR(a.peak_flops_per_s(ComputePath::int8) / 1.6e11, 1.0, 1e-5);
  EXPECT_EQ(a.path_for[static_cast<int>(Precision::bf16)], ComputePath::bf16);
  EXPECT_EQ(a.path_for[static_cast<int>(Precision::int8)], ComputePath::int8);
  EXPECT_EQ(a.path_for[static_cast<int>(Precision::fp8)], ComputePath::fp32);
  EXPECT_EQ(a.path_for[static_cast<int>(Precision::fp4)], ComputePath::fp32);
  Cost core;
  core.flops_at(Precision::bf16) = 9'000'000'000;
  EXPECT_NEAR(op_time(a, core).compute_s, 0.1 + 1e-6, 1e-6);
  EXPECT_FALSE(op_time(a, core).fallback_used);
}

}  // namespace
}  // namespace v4sim::bench
