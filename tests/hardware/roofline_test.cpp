// Roofline timing on hand-derivable cases; comments show the arithmetic.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "hardware/accelerator.h"
#include "hardware/roofline.h"
#include "models/config/input_error.h"

namespace v4sim {
namespace {

/// BF16 100 TFLOPS, INT8 200 TOPS, no FP8; HBM 1 TB/s; half of each peak is reachable.
Accelerator toy() {
  Accelerator a;
  a.name = "toy";
  a.peak_tflops[static_cast<int>(ComputePath::bf16)] = Range::exactly(100);
  a.peak_tflops[static_cast<int>(ComputePath::int8)] = Range::exactly(200);
  a.peak_tflops[static_cast<int>(ComputePath::fp32)] = Range::exactly(10);
  a.path_for = {ComputePath::fp32, ComputePath::bf16, ComputePath::int8, ComputePath::int8,
                ComputePath::int8};  // by Precision: fp32, bf16, fp8, fp4, int8
  a.hbm_bandwidth_tb_per_s = Range::exactly(1.0);
  a.compute_efficiency = {0.5, 0.0};
  a.memory_efficiency = 0.5;
  a.launch_overhead_s = 2e-6;
  return a;
}

TEST(DeviceRoofline, ComputeBound) {
  Cost c;
  c.flops_at(Precision::bf16) = 1'000'000'000'000;  // 1e12 FLOPs
  c.read(MemClass::weights) = 1'000'000'000;        // 1e9 B
  const OpTime t = op_time(toy(), c);
  // compute = 1e12 / (100e12 x 0.5) = 0.02 s; memory = 1e9 / (1e12 x 0.5) = 0.002 s.
  EXPECT_DOUBLE_EQ(t.compute_s, 0.02);
  EXPECT_DOUBLE_EQ(t.memory_s, 0.002);
  EXPECT_DOUBLE_EQ(t.overhead_s, 2e-6);
  EXPECT_DOUBLE_EQ(t.total_s, 0.02 + 2e-6);
  EXPECT_EQ(t.bound, Bound::compute);
  EXPECT_FALSE(t.fallback_used);
  EXPECT_EQ(t.fallback, "");
}

TEST(DeviceRoofline, MemoryBound) {
  Cost c;
  c.flops_at(Precision::bf16) = 1'000'000'000;       // 1e9 FLOPs -> 2e-5 s
  c.read(MemClass::kv_cache) = 3'000'000'000;        // read 3e9 B
  c.written(MemClass::activations) = 1'000'000'000;  // written 1e9 B
  const OpTime t = op_time(toy(), c);
  // memory = (3e9 + 1e9) / 0.5e12 = 0.008 s > compute = 1e9 / 50e12 = 2e-5 s.
  EXPECT_DOUBLE_EQ(t.memory_s, 0.008);
  EXPECT_DOUBLE_EQ(t.compute_s, 2e-5);
  EXPECT_EQ(t.bound, Bound::memory);
  EXPECT_DOUBLE_EQ(t.total_s, 0.008 + 2e-6);
}

TEST(DeviceRoofline, Fp8FallsBackToInt8AndSaysSo) {
  Cost c;
  c.flops_at(Precision::fp8) = 1'000'000'000'000;  // runs at the INT8 peak, 200e12 x 0.5
  const OpTime t = op_time(toy(), c);
  EXPECT_DOUBLE_EQ(t.compute_s, 0.01);  // 1e12 / 100e12
  EXPECT_TRUE(t.fallback_used);
  EXPECT_EQ(t.fallback, "fp8 as int8");
  EXPECT_EQ(t.executed_as[static_cast<int>(Precision::fp8)], ComputePath::int8);
}

TEST(DeviceRoofline, MixedPrecisionsAddUp) {
  Cost c;
  c.flops_at(Precision::bf16) = 500'000'000'000;   // 5e11 / 50e12  = 0.01 s
  c.flops_at(Precision::fp32) = 50'000'000'000;    // 5e10 / 5e12   = 0.01 s
  c.flops_at(Precision::fp4) = 1'000'000'000'000;  // 1e12 / 100e12 = 0.01 s (as int8)
  const OpTime t = op_time(toy(), c);
  EXPECT_NEAR(t.compute_s, 0.03, 1e-15);
  EXPECT_EQ(t.fallback, "fp4 as int8");
}

TEST(DeviceRoofline, SmallOpsPayTheRamp) {
  Accelerator a = toy();
  a.compute_efficiency = {0.5, 1e-6};
  Cost c;
  c.flops_at(Precision::bf16) = 50'000'000;  // 5e7 FLOPs
  const OpTime t = op_time(a, c);
  // efficiency = 0.5 x F / (F + 100e12 x 0.5 x 1e-6) = 0.5 x 5e7 / (5e7 + 5e7) = 0.25:
  // time = 5e7 / (100e12 x 0.25) = 2e-6 s = F / (peak x max) + ramp = 1e-6 + 1e-6.
  EXPECT_NEAR(a.compute_efficiency.at(5e7, 100e12), 0.25, 1e-15);
  EXPECT_NEAR(t.compute_s, 2e-6, 1e-18);
}

TEST(DeviceRoofline, EmptyOpCostsTheLaunchOnly) {
  const OpTime t = op_time(toy(), Cost{});
  EXPECT_EQ(t.compute_s, 0);
  EXPECT_EQ(t.memory_s, 0);
  EXPECT_DOUBLE_EQ(t.total_s, 2e-6);
  EXPECT_EQ(t.bound, Bound::memory);
}

TEST(DeviceRoofline, ShippedH100Fp8Gemm) {
  // FP8 GEMM 4096 x 4096 x 4096: 2 x 4096^3 = 137,438,953,472 FLOPs; A and B FP8 (16,777,216 B
  // each) read, C BF16 (33,554,432 B) written = 67,108,864 B.
  Cost c;
  c.flops_at(Precision::fp8) = 2LL * 4096 * 4096 * 4096;
  c.read(MemClass::activations) = 4096LL * 4096;
  c.read(MemClass::weights) = 4096LL * 4096;
  c.written(MemClass::activations) = 2LL * 4096 * 4096;
  const Accelerator h100 = load_accelerator("h100");
  const OpTime t = op_time(h100, c);
  // compute = F / (1,979e12 x 0.80) + 1e-6 = 86.81 us + 1 us = 87.81 us
  // memory  = 67,108,864 / (3.35e12 x 0.896) = 22.36 us  -> compute-bound; + 2 us launch.
  const double compute = 137438953472.0 / (1979e12 * 0.80) + 1e-6;
  const double memory = 67108864.0 / (3.35e12 * 0.896);
  EXPECT_NEAR(t.compute_s, compute, 1e-12);
  EXPECT_NEAR(t.memory_s, memory, 1e-12);
  EXPECT_EQ(t.bound, Bound::compute);
  EXPECT_NEAR(t.total_s, compute + 2e-6, 1e-12);
  EXPECT_FALSE(t.fallback_used);
}

TEST(DeviceRoofline, Shipped910cRunsFp8AsInt8) {
  Cost c;
  c.flops_at(Precision::fp8) = 1'000'000'000'000;
  const OpTime t = op_time(load_accelerator("ascend-910c"), c);
  // INT8 per die 752e12 x 0.80 = 601.6e12 -> 1e12 / 601.6e12 + 1 us ramp.
  EXPECT_NEAR(t.compute_s, 1e12 / 601.6e12 + 1e-6, 1e-12);
  EXPECT_EQ(t.fallback, "fp8 as int8");
}

// roofline_total (a search's points) does op_time's arithmetic on figures worked out once: the
// same total and fallback bit for bit, on every shipped device and the toy, over random costs
// from empty ops to compute- and memory-bound ones in any mix of precisions.
TEST(DeviceRoofline, RatesGiveOpTimeBitForBit) {
  std::vector<Accelerator> devices = {toy()};
  for (const std::string& name : list_accelerators()) devices.push_back(load_accelerator(name));
  std::mt19937_64 gen(20261207);
  const auto draw = [&](int max_log10) {
    // Zero a quarter of the time, else 10^[0, max_log10) with random digits.
    if (std::uniform_int_distribution<int>(0, 3)(gen) == 0) return std::int64_t{0};
    return static_cast<std::int64_t>(
        std::pow(10.0, std::uniform_real_distribution<double>(0, max_log10)(gen)));
  };
  for (const Accelerator& d : devices) {
    SCOPED_TRACE(d.name);
    const RooflineRates rates = roofline_rates(d);
    int compared = 0;
    for (int trial = 0; trial < 200; ++trial) {
      Cost c;
      for (int p = 0; p < kNumPrecisions; ++p)
        if (trial % 3 == 0 || p == trial % kNumPrecisions) c.flops[p] = draw(15);
      for (int m = 0; m < kNumMemClasses; ++m) {
        c.bytes_read[m] = draw(11);
        c.bytes_written[m] = draw(9);
      }
      bool direct_threw = false, rates_threw = false;
      OpTime t;
      RooflineTotal r;
      try {
        t = op_time(d, c);
      } catch (const InputError&) {
        direct_threw = true;
      }
      try {
        r = roofline_total(rates, c);
      } catch (const InputError&) {
        rates_threw = true;
      }
      ASSERT_EQ(direct_threw, rates_threw) << "trial " << trial;
      if (direct_threw) continue;
      EXPECT_EQ(r.total_s, t.total_s) << "trial " << trial;
      EXPECT_EQ(r.fallback_used, t.fallback_used) << "trial " << trial;
      ++compared;
    }
    EXPECT_GT(compared, 20);  // devices without some peak throw for costs using it
  }
}

}  // namespace
}  // namespace v4sim
