#include "hardware/roofline.h"

#include <algorithm>
#include <string>

#include "models/config/input_error.h"

namespace v4sim {

std::string_view to_string(Bound b) {
  return b == Bound::compute ? "compute" : "memory";
}

namespace {

/// The roofline's terms of `cost` on `rates`, in one order for op_time and roofline_total (so
/// the two agree bit for bit); the InputError for a precision whose path has no peak.
struct Terms {
  double compute_s = 0, memory_s = 0;
  bool fallback_used = false;
};
Terms terms(const RooflineRates& rates, const Cost& cost) {
  const Accelerator& device = *rates.device;
  Terms t;
  for (Precision p : kAllPrecisions) {
    const auto i = static_cast<std::size_t>(p);
    const double flops = static_cast<double>(cost.flops[i]);
    if (flops <= 0) continue;
    const double peak = rates.peak_flops_per_s[i];
    if (peak <= 0) {
      std::string msg("accelerator '");
      msg.append(device.name).append("' has no ").append(to_string(device.path_for[i]));
      msg.append(" peak for its ").append(to_string(p)).append(" ops");
      throw InputError(msg);
    }
    t.compute_s += flops / (peak * device.compute_efficiency.at(flops, peak));
    t.fallback_used = t.fallback_used || rates.remapped[i];
  }
  t.memory_s = static_cast<double>(cost.total_bytes()) / rates.memory_bytes_per_s;
  return t;
}

}  // namespace

OpTime op_time(const Accelerator& device, const Cost& cost) {
  const RooflineRates rates = roofline_rates(device);
  const Terms terms_ = terms(rates, cost);
  OpTime t;
  t.executed_as = device.path_for;
  t.compute_s = terms_.compute_s;
  t.memory_s = terms_.memory_s;
  t.fallback_used = terms_.fallback_used;
  for (Precision p : kAllPrecisions) {
    const auto i = static_cast<std::size_t>(p);
    if (cost.flops[i] <= 0 || !rates.remapped[i]) continue;
    if (!t.fallback.empty()) t.fallback.append(", ");
    t.fallback.append(to_string(p)).append(" as ").append(to_string(device.path_for[i]));
  }
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
  const Terms t = terms(rates, cost);
  return {std::max(t.compute_s, t.memory_s) + rates.launch_overhead_s, t.fallback_used};
}

}  // namespace v4sim
