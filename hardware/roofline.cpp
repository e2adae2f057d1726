#include "hardware/roofline.h"

#include <algorithm>

#include "models/config/input_error.h"

namespace v4sim {

std::string_view to_string(Bound b) {
  return b == Bound::compute ? "compute" : "memory";
}

OpTime op_time(const Accelerator& device, const Cost& cost) {
  OpTime t;
  t.executed_as = device.path_for;
  for (Precision p : kAllPrecisions) {
    const double flops = static_cast<double>(cost.flops_at(p));
    if (flops <= 0) continue;
    const ComputePath path = device.path_for[static_cast<int>(p)];
    const double peak = device.peak_flops_per_s(path);
    if (peak <= 0) {
      std::string msg("accelerator '");
      msg.append(device.name).append("' has no ").append(to_string(path));
      msg.append(" peak for its ").append(to_string(p)).append(" ops");
      throw InputError(msg);
    }
    t.compute_s += flops / (peak * device.compute_efficiency.at(flops, peak));
    if (path != native_path(p)) {
      t.fallback_used = true;
      if (!t.fallback.empty()) t.fallback.append(", ");
      t.fallback.append(to_string(p)).append(" as ").append(to_string(path));
    }
  }
  const double bytes = static_cast<double>(cost.total_bytes());
  t.memory_s = bytes / (device.hbm_bytes_per_s() * device.memory_efficiency);
  t.overhead_s = device.launch_overhead_s;
  t.bound = t.compute_s >= t.memory_s && t.compute_s > 0 ? Bound::compute : Bound::memory;
  t.total_s = std::max(t.compute_s, t.memory_s) + t.overhead_s;
  return t;
}

RooflineRates roofline_rates(const Accelerator& device) {
  RooflineRates r;
  r.device = &device;
  for (Precision p : kAllPrecisions) {
    const ComputePath path = device.path_for[static_cast<int>(p)];
    r.peak_flops_per_s[static_cast<int>(p)] = device.peak_flops_per_s(path);
    r.remapped[static_cast<int>(p)] = path != native_path(p);
  }
  r.memory_bytes_per_s = device.hbm_bytes_per_s() * device.memory_efficiency;
  r.launch_overhead_s = device.launch_overhead_s;
  return r;
}

RooflineTotal roofline_total(const RooflineRates& rates, const Cost& cost) {
  // op_time's operations in its order, on the same operands.
  RooflineTotal out;
  double compute_s = 0;
  for (int p = 0; p < kNumPrecisions; ++p) {
    const double flops = static_cast<double>(cost.flops[static_cast<std::size_t>(p)]);
    if (flops <= 0) continue;
    const double peak = rates.peak_flops_per_s[static_cast<std::size_t>(p)];
    if (peak <= 0) return {op_time(*rates.device, cost).total_s, true};  // throws its InputError
    compute_s += flops / (peak * rates.device->compute_efficiency.at(flops, peak));
    out.fallback_used = out.fallback_used || rates.remapped[static_cast<std::size_t>(p)];
  }
  const double memory_s = static_cast<double>(cost.total_bytes()) / rates.memory_bytes_per_s;
  out.total_s = std::max(compute_s, memory_s) + rates.launch_overhead_s;
  return out;
}

}  // namespace v4sim
