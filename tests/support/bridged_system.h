// A system whose nodes bridge two fabric switches: two devices per node, each on its own fabric
// switch (f.0, f.1), and a node switch `b` on both at 1 GB/s. The way from a node's first device
// to its second goes through some node's `b`, any node's, so more nodes add routes between the
// same two devices (hardware/topology.h, same_routes_with_more_nodes). At N nodes a transfer
// between them splits over N bridges: N GB/s.
#pragma once

#include <string>
#include <utility>

#include "hardware/system.h"

namespace v4sim::test_support {

/// A link group between `from` and `to` at `gb_per_s` (1 us a hop).
inline LinkGroup link_group(std::string name, std::string from, std::string to, double gb_per_s,
                            LinkPattern pattern = LinkPattern::complete, int planes = 1) {
  LinkGroup g;
  g.name = std::move(name);
  g.from = std::move(from);
  g.to = std::move(to);
  g.pattern = pattern;
  g.planes = planes;
  g.gb_per_s = gb_per_s;
  g.latency_s = 1e-6;
  return g;
}

inline SystemSpec bridged_system(int max_nodes) {
  SystemSpec s;
  s.name = "bridged";
  s.devices_per_node = 2;
  s.min_nodes = 1;
  s.default_nodes = max_nodes;
  s.max_nodes = max_nodes;
  s.node_switches = {{"b", 1}};
  s.fabric_switches = {{"f", 2}};
  s.fabric_links = {link_group("own", "device", "f", 100, LinkPattern::planes, 2),
                    link_group("bridge", "b", "f", 1)};
  return s;
}

}  // namespace v4sim::test_support
