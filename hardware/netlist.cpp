#include "hardware/netlist.h"

#include <array>
#include <numeric>

#include "models/config/enum_names.h"

namespace v4sim {

namespace {
// One table for both directions; the assertion fails when an enumerator is added after
// `die_to_die` without its name here.
constexpr std::array<std::string_view, 3> kTierNames{"scale_up", "scale_out", "die_to_die"};
static_assert(kTierNames.size() == static_cast<std::size_t>(LinkTier::die_to_die) + 1);
}  // namespace

std::string_view to_string(LinkTier t) {
  return config::enum_name(kTierNames, t);
}

std::optional<LinkTier> parse_link_tier(std::string_view text) {
  return config::parse_enum<LinkTier>(kTierNames, text);
}

int Netlist::add_device(std::string vertex_name, int node) {
  // Devices must precede switches so that rank == vertex index.
  const int id = static_cast<int>(vertices.size());
  vertices.push_back({std::move(vertex_name), "device", num_devices, node});
  ++num_devices;
  return id;
}

int Netlist::add_switch(std::string vertex_name, std::string group, int node) {
  vertices.push_back({std::move(vertex_name), std::move(group), -1, node});
  return static_cast<int>(vertices.size()) - 1;
}

std::string disconnected_reason(const Netlist& net) {
  const int n = static_cast<int>(net.vertices.size());
  if (n == 0) return "the topology has no vertices";
  std::vector<int> parent(n);
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](int v) {
    while (parent[v] != v) v = parent[v] = parent[parent[v]];
    return v;
  };
  for (const NetLink& l : net.links) parent[find(l.a)] = find(l.b);
  const int root = find(0);
  for (int v = 1; v < n; ++v)
    if (find(v) != root) {
      std::string msg("the topology is disconnected: '");
      msg.append(net.vertices[v].name).append("' cannot be reached from '");
      msg.append(net.vertices[0].name).append("'");
      return msg;
    }
  return {};
}

}  // namespace v4sim
