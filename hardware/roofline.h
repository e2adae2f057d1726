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

}  // namespace v4sim
