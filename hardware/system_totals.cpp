// What a system at N nodes draws, costs, occupies and offers: per-node figures times N plus the
// scale-out network per device.
#include "hardware/system.h"

#include <algorithm>

namespace v4sim {

SystemTotals system_totals(const SystemSpec& s, int nodes) {
  SystemTotals t;
  t.nodes = nodes;
  t.devices = nodes * s.devices_per_node;
  t.packages = t.devices / s.accelerator.dies_per_package;
  auto scaled = [](const Range& r, double k) {
    return Range{r.nominal * k, r.low * k, r.high * k};
  };
  auto sum = [](const Range& a, const Range& b) {
    return Range{a.nominal + b.nominal, a.low + b.low, a.high + b.high};
  };
  t.power_w = scaled(s.per_node.power_w, nodes);
  t.price_usd = scaled(s.per_node.price_usd, nodes);
  t.floor_m2 = scaled(s.per_node.floor_m2, nodes);
  if (s.scale_out) {
    t.power_w = sum(t.power_w, scaled(s.scale_out->power_w_per_device, t.devices));
    t.price_usd = sum(t.price_usd, scaled(s.scale_out->price_usd_per_device, t.devices));
  }
  const Accelerator& a = s.accelerator;
  t.hbm_capacity_gb = a.hbm_capacity_gb.nominal * t.devices;
  t.hbm_bandwidth_tb_per_s = a.hbm_bandwidth_tb_per_s.nominal * t.devices;
  for (ComputePath p : kAllComputePaths)
    t.peak_pflops[static_cast<int>(p)] = a.peak_flops_per_s(p) * t.devices / 1e15;
  return t;
}

int scale_up_domain_devices(const SystemSpec& system, int nodes) {
  return system.fabric_switches.empty() ? system.devices_per_node
                                        : system.devices_per_node * std::max(nodes, 1);
}

}  // namespace v4sim
