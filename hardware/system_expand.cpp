// Expansion of a system file into a netlist at a node count: N copies of the node, the fabric
// once, the scale-out network across all devices; and the link patterns' names.
#include <array>
#include <map>
#include <optional>
#include <utility>

#include "hardware/system.h"
#include "models/config/enum_names.h"
#include "models/config/input_error.h"

namespace v4sim {
namespace {

// Refuses an expansion bigger than this before allocating it: about 3x the largest shipped system
// (GB200 NVL72 at its 256-rack maximum: 350,208 links); a typo like `devices: 65536` on a full
// mesh would otherwise ask for two billion links.
constexpr std::int64_t kMaxLinks = 1 << 20;

// One table for both directions; the assertion fails when an enumerator is added after `planes`
// without its name here.
constexpr std::array<std::string_view, 4> kPatternNames{"complete", "ring", "pairs", "planes"};
static_assert(kPatternNames.size() == static_cast<std::size_t>(LinkPattern::planes) + 1);

/// Vertex lists of every group, by node (node-level) or once (fabric-level).
struct Placed {
  std::vector<std::map<std::string, std::vector<int>>> node;  // [node][group]
  std::map<std::string, std::vector<int>> fabric;
};

void connect(Netlist& net, const LinkGroup& g, const std::vector<int>& a, const std::vector<int>& b,
             double usable) {
  auto add = [&](int u, int v) {
    net.links.push_back({u, v, g.gb_per_s, usable, g.latency_s, g.tier, g.name});
  };
  const int na = static_cast<int>(a.size());
  const int nb = static_cast<int>(b.size());
  const bool same = g.from == g.to;
  switch (g.pattern) {
    case LinkPattern::complete:
      for (int i = 0; i < na; ++i)
        for (int j = same ? i + 1 : 0; j < nb; ++j) add(a[i], b[j]);
      break;
    case LinkPattern::ring:
      for (int i = 0; i < na; ++i) add(a[i], a[(i + 1) % na]);
      break;
    case LinkPattern::pairs:
      for (int i = 0; i + 1 < na; i += 2) add(a[i], a[i + 1]);
      break;
    case LinkPattern::planes: {
      const int pa = na / g.planes;
      const int pb = nb / g.planes;
      for (int p = 0; p < g.planes; ++p)
        for (int i = 0; i < pa; ++i)
          for (int j = 0; j < pb; ++j) add(a[p * pa + i], b[p * pb + j]);
      break;
    }
  }
}

/// Links that `g` adds between groups of na and nb members (checked by read_link to fit).
std::int64_t links_of(const LinkGroup& g, std::int64_t na, std::int64_t nb) {
  switch (g.pattern) {
    case LinkPattern::complete:
      return g.from == g.to ? na * (na - 1) / 2 : na * nb;
    case LinkPattern::ring:
      return na;
    case LinkPattern::pairs:
      return na / 2;
    case LinkPattern::planes:
      return na * nb / g.planes;
  }
  return 0;
}

/// "1 node", "4 nodes".
std::string node_count(int nodes) {
  return std::to_string(nodes) + (nodes == 1 ? " node" : " nodes");
}

struct Size {
  std::int64_t vertices = 0;
  std::int64_t links = 0;
};

/// Refuses an expansion bigger than kMaxLinks before allocating it. A connected graph has at most
/// links + 1 vertices, so the vertex count is checked against the same bound. Returns the counts,
/// which expand() reserves (an 8,192-device SuperPoD has 24,000 links).
Size check_size(const SystemSpec& s, int nodes) {
  std::map<std::string, std::int64_t> size{{"device", s.devices_per_node}};
  std::map<std::string, bool> fabric;
  std::int64_t vertices = std::int64_t{nodes} * s.devices_per_node;
  for (const SwitchGroup& g : s.node_switches) {
    size[g.name] = g.count;
    vertices += std::int64_t{nodes} * g.count;
  }
  for (const SwitchGroup& g : s.fabric_switches) {
    size[g.name] = g.count;
    fabric[g.name] = true;
    vertices += g.count;
  }
  std::int64_t links = s.scale_out ? std::int64_t{nodes} * s.devices_per_node : 0;
  for (const LinkGroup& g : s.node_links) links += nodes * links_of(g, size[g.from], size[g.to]);
  for (const LinkGroup& g : s.fabric_links)
    links += (fabric[g.from] && fabric[g.to] ? 1 : nodes) * links_of(g, size[g.from], size[g.to]);
  if (links > kMaxLinks || vertices > kMaxLinks + 1)
    throw InputError(s.links_where + ": field 'node.links': system '" + s.name + "' at " +
                     node_count(nodes) + " has " + std::to_string(vertices) + " vertices and " +
                     std::to_string(links) + " links; v4sim models at most " +
                     std::to_string(kMaxLinks) + " links");
  return {vertices + (s.scale_out ? 1 : 0), links};  // the scale-out switch
}

/// check_size() after the node count's range.
Size checked_size(const SystemSpec& s, int nodes) {
  if (nodes < s.min_nodes || nodes > s.max_nodes)
    throw InputError(s.nodes_where + ": system '" + s.name + "' takes " +
                     std::to_string(s.min_nodes) + " to " + std::to_string(s.max_nodes) +
                     " nodes (field 'nodes'); asked for " + std::to_string(nodes));
  return check_size(s, nodes);
}

}  // namespace

std::string_view to_string(LinkPattern p) {
  return config::enum_name(kPatternNames, p);
}

std::optional<LinkPattern> parse_link_pattern(std::string_view text) {
  return config::parse_enum<LinkPattern>(kPatternNames, text);
}

double link_usable_fraction(const Accelerator& acc, LinkTier t) {
  // Die-to-die links have no measurement (hardware.md §8) and are not derated.
  return t == LinkTier::scale_up    ? acc.scale_up_usable_fraction
         : t == LinkTier::scale_out ? acc.scale_out_usable_fraction
                                    : 1.0;
}

namespace {

/// "n<node>.<group>.<i>". Built by appending: GCC 12 warns falsely (-Wrestrict) on the
/// `+`-chained expression once expand() inlines it.
std::string node_switch_name(int node, const std::string& group, int i) {
  std::string name = "n";
  name += std::to_string(node);
  name += '.';
  name += group;
  name += '.';
  name += std::to_string(i);
  return name;
}

}  // namespace

void check_expansion(const SystemSpec& s, int nodes) {
  checked_size(s, nodes);
}

Netlist expand(const SystemSpec& s, int nodes) {
  const Size size = checked_size(s, nodes);
  Netlist net;
  net.name = s.name;
  net.nodes = nodes;
  net.vertices.reserve(static_cast<std::size_t>(size.vertices));
  net.links.reserve(static_cast<std::size_t>(size.links));
  Placed placed;
  placed.node.resize(nodes);
  // Each group's list is looked up once, not once per member: an 8,192-device SuperPoD.
  for (int k = 0; k < nodes; ++k) {
    std::vector<int>& devices = placed.node[k]["device"];
    devices.reserve(s.devices_per_node);
    std::string prefix = "n";  // appended: GCC 12 warns falsely (-Wrestrict) on a `+` chain
    prefix += std::to_string(k);
    prefix += ".d";
    for (int d = 0; d < s.devices_per_node; ++d) {
      std::string name = prefix;
      name += std::to_string(d);
      devices.push_back(net.add_device(std::move(name), k));
    }
  }
  for (int k = 0; k < nodes; ++k)
    for (const SwitchGroup& g : s.node_switches) {
      std::vector<int>& members = placed.node[k][g.name];
      for (int i = 0; i < g.count; ++i)
        members.push_back(net.add_switch(node_switch_name(k, g.name, i), g.name, k));
    }
  for (const SwitchGroup& g : s.fabric_switches)
    for (int i = 0; i < g.count; ++i)
      placed.fabric[g.name].push_back(
          net.add_switch((g.name + "." + std::to_string(i)), g.name, -1));

  const Accelerator& acc = s.accelerator;
  auto usable = [&](LinkTier t) { return link_usable_fraction(acc, t); };
  for (int k = 0; k < nodes; ++k)
    for (const LinkGroup& g : s.node_links)
      connect(net, g, placed.node[k][g.from], placed.node[k][g.to], usable(g.tier));
  for (const LinkGroup& g : s.fabric_links) {
    const bool from_fabric = placed.fabric.count(g.from) > 0;
    const bool to_fabric = placed.fabric.count(g.to) > 0;
    if (from_fabric && to_fabric) {
      connect(net, g, placed.fabric[g.from], placed.fabric[g.to], usable(g.tier));
      continue;
    }
    for (int k = 0; k < nodes; ++k)
      connect(net, g, from_fabric ? placed.fabric[g.from] : placed.node[k][g.from],
              to_fabric ? placed.fabric[g.to] : placed.node[k][g.to], usable(g.tier));
  }
  if (s.scale_out) {
    const int sw = net.add_switch("scale_out", "scale_out", -1);
    for (int r = 0; r < net.num_devices; ++r)
      net.links.push_back({r, sw, s.scale_out->gb_per_s, acc.scale_out_usable_fraction,
                           s.scale_out->latency_s, LinkTier::scale_out, "scale_out"});
  }
  if (const std::string why = disconnected_reason(net); !why.empty())
    throw InputError(s.links_where + ": field 'node.links': " + why + " (system '" + s.name +
                     "' at " + node_count(nodes) + ")");
  return net;
}

}  // namespace v4sim
