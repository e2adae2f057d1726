// Time of one op on one rank: a roofline at derated peaks plus a fixed launch overhead.
//
//   compute_s = sum over precisions p with FLOPs F_p of
//                 F_p / (peak(path_p) * efficiency(F_p))      (= F_p / (peak * max) + ramp_s)
//   memory_s  = (bytes read + bytes written) / (HBM bandwidth * memory_efficiency)
//   total_s   = max(compute_s, memory_s) + launch_overhead_s
//
// path_p is the device's path for precision p: its own peak, or the fallback the accelerator
// file states (FP8 on Ascend 910B/910C runs as INT8; FP32 products run on the TF32 tensor path
// where one exists). The result says which paths were used, so a report can show the fallback.
#pragma once

#include <array>
#include <string>

#include "hardware/accelerator.h"
#include "kernels/cost.h"

namespace v4sim {

enum class Bound : std::uint8_t { compute, memory };
std::string_view to_string(Bound b);

struct OpTime {
  double compute_s = 0;
  double memory_s = 0;
  double overhead_s = 0;
  double total_s = 0;
  Bound bound = Bound::memory;
  /// Path each precision ran on (meaningful where the op has FLOPs of that precision).
  std::array<ComputePath, kNumPrecisions> executed_as{};
  /// True when some FLOPs ran on a path other than their own precision's.
  bool fallback_used = false;
  /// "fp8 as int8, fp32 as tf32" (only precisions with FLOPs that were remapped); "" if none.
  std::string fallback;
};

OpTime op_time(const Accelerator& device, const Cost& cost);

/// op_time's figures of one device worked out once, for callers that time many ops on it (a
/// search's points, sim/compiled_step.h): roofline_total() then does op_time's arithmetic on them,
/// operation for operation, without building an OpTime.
struct RooflineRates {
  const Accelerator* device = nullptr;
  /// peak_flops_per_s() of the path each precision runs on (path_for), and whether that path is
  /// not the precision's own.
  std::array<double, kNumPrecisions> peak_flops_per_s{};
  std::array<bool, kNumPrecisions> remapped{};
  double memory_bytes_per_s = 0;  // hbm_bytes_per_s() x memory_efficiency
  double launch_overhead_s = 0;
};
RooflineRates roofline_rates(const Accelerator& device);

/// op_time(device, cost)'s total_s and fallback_used, bit for bit (and its InputError when a
/// precision with FLOPs has no peak).
struct RooflineTotal {
  double total_s = 0;
  bool fallback_used = false;
};
RooflineTotal roofline_total(const RooflineRates& rates, const Cost& cost);

}  // namespace v4sim
