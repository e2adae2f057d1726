// The system file reader: strict YAML into a SystemSpec, checked by expanding it at its default
// node count; catalogue listing and the accelerator-or-system lookup.
#include "hardware/system.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "hardware/catalogue.h"
#include "models/config/data_paths.h"

namespace v4sim {
namespace {

using config::MapReader;
using hardware_yaml::read_positive;
using hardware_yaml::read_provenance;
using hardware_yaml::read_range;

constexpr int kMaxCount = 1 << 16;
// Ranks in one system, about 3x the largest shipped one (GB200 NVL72 at its 256-rack maximum:
// 18,432 ranks); the link count is bounded at expansion (system_expand.cpp).
constexpr std::int64_t kMaxDevices = 1 << 16;
constexpr double kMaxGbPerS = 1e7;
constexpr double kMaxLatencyS = 1e-2;
constexpr double kSumTolerance = 0.01;  // link sums must match the accelerator within 1 %

std::string cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

/// Short decimal text of a number ("196", "0.837").
std::string text_of(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::vector<SwitchGroup> read_switches(MapReader& m, const std::vector<std::string>& taken) {
  std::vector<SwitchGroup> out;
  m.allow("switches");
  if (!m.has("switches")) return out;
  const YAML::Node list = m.node("switches");
  if (!list.IsSequence()) m.fail("switches", "expected a list of {name, count}");
  std::vector<std::string> names = taken;
  for (std::size_t i = 0; i < list.size(); ++i) {
    MapReader s(list[i], m.file(), m.field("switches") + "[" + std::to_string(i) + "]");
    SwitchGroup g;
    g.name = s.string("name");
    g.count = static_cast<int>(s.integer("count", 1, kMaxCount));
    s.allow("source");
    s.allow("estimate");
    if (s.has("source")) s.string("source");
    if (s.has("estimate")) s.string("estimate");
    if (g.name.empty() || g.name.find('.') != std::string::npos)
      s.fail("name", "must be a non-empty name without '.'");
    if (std::find(names.begin(), names.end(), g.name) != names.end())
      s.fail("name", "the group name is already used (or reserved: device, scale_out)");
    names.push_back(g.name);
    s.finish();
    out.push_back(g);
  }
  return out;
}

/// Vertex-group sizes by name, and whether each group is node-level.
struct Groups {
  std::map<std::string, int> count;
  std::map<std::string, bool> node_level;
  std::vector<std::string> names;

  void add(const std::string& name, int n, bool in_node) {
    count[name] = n;
    node_level[name] = in_node;
    names.push_back(name);
  }
  bool has(const std::string& name) const { return count.count(name) > 0; }
};

LinkGroup read_link(MapReader& l, const Groups& groups, bool fabric) {
  LinkGroup g;
  g.where = config::where(l.file(), l.node("name"));
  g.name = l.string("name");
  l.allow("source");
  l.allow("estimate");
  if (l.has("source")) l.string("source");
  if (l.has("estimate")) l.string("estimate");
  const YAML::Node between = l.node("between");
  if (!between.IsSequence() || between.size() != 2 || !between[0].IsScalar() ||
      !between[1].IsScalar())
    l.fail("between", "expected a list of two vertex groups, e.g. [device, nvswitch]");
  g.from = between[0].Scalar();
  g.to = between[1].Scalar();
  for (const std::string& end : {g.from, g.to}) {
    if (groups.has(end)) continue;
    std::string msg = cat({"link to a missing vertex group '", end, "'"});
    if (auto guess = config::closest(end, groups.names)) msg += " (did you mean '" + *guess + "'?)";
    msg += "; known groups:";
    for (const auto& n : groups.names) msg += " " + n;
    l.fail("between", msg);
  }
  if (const auto pattern = parse_link_pattern(l.string("pattern")))
    g.pattern = *pattern;
  else
    l.fail("pattern", "expected complete, ring, pairs or planes");
  l.allow("planes");
  if (g.pattern == LinkPattern::planes) {
    g.planes = static_cast<int>(l.integer("planes", 1, kMaxCount));
  } else if (l.has("planes")) {
    l.fail("planes", "only the 'planes' pattern takes a plane count");
  }
  g.gb_per_s = read_positive(l, "gb_per_s", kMaxGbPerS);
  g.latency_s = l.number("latency_s", 0, kMaxLatencyS);
  l.allow("tier");
  if (l.has("tier")) {
    if (const auto tier = parse_link_tier(l.string("tier")))
      g.tier = *tier;
    else
      l.fail("tier", "expected scale_up or die_to_die");
  }
  if (g.tier == LinkTier::scale_out)
    l.fail("tier", "scale-out links are described by the scale_out section, not as link groups");
  l.finish();

  const int n_from = groups.count.at(g.from);
  const int n_to = groups.count.at(g.to);
  const bool same = g.from == g.to;
  switch (g.pattern) {
    case LinkPattern::complete:
      if (same && n_from < 2) l.fail("pattern", "a full mesh needs at least two members");
      break;
    case LinkPattern::ring:
      if (!same || n_from < 3)
        l.fail("pattern", "a ring joins one group of at least three members to itself");
      break;
    case LinkPattern::pairs:
      if (!same || n_from % 2 != 0)
        l.fail("pattern", "pairs join one group with an even number of members to itself");
      break;
    case LinkPattern::planes:
      if (same) l.fail("pattern", "planes join two different groups");
      if (n_from % g.planes != 0 || n_to % g.planes != 0)
        l.fail("planes", "both groups (" + std::to_string(n_from) + " and " + std::to_string(n_to) +
                             " members) must split into this many planes");
      break;
  }
  const bool from_node = groups.node_level.at(g.from);
  const bool to_node = groups.node_level.at(g.to);
  if (!fabric && (!from_node || !to_node))
    l.fail("between", "node links join groups of the node (device or node switches)");
  if (fabric) {
    if (from_node && to_node)
      l.fail("between",
             "a fabric link needs a fabric switch group at one end (links inside a "
             "node belong under node.links)");
    if ((from_node || to_node) &&
        (g.pattern == LinkPattern::ring || g.pattern == LinkPattern::pairs))
      l.fail("pattern", "a link from every node to the fabric must be complete or planes");
  }
  if (g.tier == LinkTier::die_to_die && (g.pattern != LinkPattern::pairs || g.from != "device"))
    l.fail("tier",
           "die_to_die links join the dies of a package: between [device, device], "
           "pattern pairs");
  return g;
}

std::vector<LinkGroup> read_links(MapReader& m, const Groups& groups, bool fabric) {
  const YAML::Node list = m.node("links");
  if (!list.IsSequence() || list.size() == 0) m.fail("links", "expected a non-empty list of links");
  std::vector<LinkGroup> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    MapReader l(list[i], m.file(), m.field("links") + "[" + std::to_string(i) + "]");
    out.push_back(read_link(l, groups, fabric));
  }
  return out;
}

Footprint read_footprint(MapReader& m) {
  read_provenance(m);
  Footprint f;
  f.power_w = read_range(m, "power_w", 0, 1e9);
  f.price_usd = read_range(m, "price_usd", 0, 1e11);
  f.floor_m2 = read_range(m, "floor_m2", 0, 1e6);
  m.finish();
  return f;
}

std::filesystem::path accelerator_path(const std::string& text, const std::string& system_file,
                                       const std::filesystem::path& accelerators_dir) {
  const bool is_path = text.find('/') != std::string::npos ||
                       (text.size() > 5 && text.substr(text.size() - 5) == ".yaml");
  if (!is_path)
    return hardware_yaml::resolve(text, data::dirs_or(accelerators_dir, "hardware/accelerators"),
                                  "accelerator");
  std::filesystem::path p(text);
  return p.is_absolute() ? p : std::filesystem::path(system_file).parent_path() / p;
}

/// Each device's scale-up links must add up to its accelerator's scale-up bandwidth, and its
/// die-to-die links to the die-to-die figure: the file and the catalogue must tell one story.
void check_device_links(const SystemSpec& s, const Netlist& net) {
  std::vector<double> up(net.num_devices, 0.0), d2d(net.num_devices, 0.0);
  for (const NetLink& l : net.links) {
    for (int end : {l.a, l.b}) {
      if (end >= net.num_devices) continue;
      if (l.tier == LinkTier::scale_up) up[end] += l.gb_per_s;
      if (l.tier == LinkTier::die_to_die) d2d[end] += l.gb_per_s;
    }
  }
  const Accelerator& a = s.accelerator;
  auto mismatch = [](double have, double want) {
    return std::abs(have - want) > kSumTolerance * std::max(want, 1e-9);
  };
  for (int r = 0; r < net.num_devices; ++r) {
    if (mismatch(up[r], a.scale_up_gb_per_s.nominal))
      throw InputError(
          cat({s.links_where, ": field 'node.links': device '", net.vertices[r].name, "' has ",
               text_of(up[r]), " GB/s per direction of scale_up links, but accelerator '", a.name,
               "' states interconnect.scale_up_gb_per_s = ", text_of(a.scale_up_gb_per_s.nominal),
               " (", a.file, ")"}));
    if (mismatch(d2d[r], a.die_to_die_gb_per_s))
      throw InputError(
          cat({s.links_where, ": field 'node.links': device '", net.vertices[r].name, "' has ",
               text_of(d2d[r]), " GB/s of die_to_die links, but accelerator '", a.name,
               "' states interconnect.die_to_die_gb_per_s = ", text_of(a.die_to_die_gb_per_s), " (",
               a.file, ")"}));
  }
}

SystemSpec read_system(const config::Document& doc, const std::filesystem::path& accelerators_dir) {
  MapReader root(doc.root, doc.file, "");
  SystemSpec s;
  s.file = doc.file;
  read_provenance(root);
  s.name = root.string("name");
  s.display_name = root.string("display_name");
  try {
    s.accelerator = load_accelerator(
        accelerator_path(root.string("accelerator"), doc.file, accelerators_dir).string());
  } catch (const InputError& e) {
    // Name this file and field too: the problem may be the reference, not the accelerator file.
    root.fail("accelerator", e.what());
  }

  MapReader node = root.map("node");
  read_provenance(node);
  s.devices_per_node = static_cast<int>(node.integer("devices", 1, kMaxCount));
  if (s.devices_per_node % s.accelerator.dies_per_package != 0)
    node.fail("devices", "must be a whole number of packages (" +
                             std::to_string(s.accelerator.dies_per_package) + " dies each)");
  s.node_switches = read_switches(node, {"device", "scale_out"});
  Groups groups;
  groups.add("device", s.devices_per_node, true);
  for (const auto& g : s.node_switches) groups.add(g.name, g.count, true);
  s.links_where = config::where(doc.file, node.node("links"));
  s.node_links = read_links(node, groups, false);
  node.finish();

  root.allow("fabric");
  if (root.has("fabric")) {
    MapReader fabric = root.map("fabric");
    read_provenance(fabric);
    std::vector<std::string> taken = groups.names;
    taken.push_back("scale_out");
    s.fabric_switches = read_switches(fabric, taken);
    if (s.fabric_switches.empty()) fabric.fail("switches", "a fabric needs switches");
    for (const auto& g : s.fabric_switches) groups.add(g.name, g.count, false);
    s.fabric_links = read_links(fabric, groups, true);
    fabric.finish();
  }

  root.allow("scale_out");
  if (root.has("scale_out")) {
    MapReader so = root.map("scale_out");
    read_provenance(so);
    ScaleOut out;
    out.where = config::where(doc.file, root.node("scale_out"));
    out.gb_per_s = read_positive(so, "gb_per_s", kMaxGbPerS);
    out.latency_s = so.number("latency_s", 0, kMaxLatencyS);
    out.price_usd_per_device = read_range(so, "price_usd_per_device", 0, 1e9);
    out.power_w_per_device = read_range(so, "power_w_per_device", 0, 1e6);
    const double want = s.accelerator.scale_out_gb_per_s.nominal;
    if (std::abs(out.gb_per_s - want) > kSumTolerance * want)
      so.fail("gb_per_s", "differs from accelerator '" + s.accelerator.name +
                              "' interconnect.scale_out_gb_per_s = " + text_of(want));
    so.finish();
    s.scale_out = out;
  }

  MapReader nodes = root.map("nodes");
  read_provenance(nodes);
  s.nodes_where = config::where(doc.file, root.node("nodes"));
  s.min_nodes = static_cast<int>(nodes.integer("min", 1, kMaxCount));
  s.max_nodes = static_cast<int>(nodes.integer("max", 1, kMaxCount));
  s.default_nodes = static_cast<int>(nodes.integer("default", 1, kMaxCount));
  if (s.max_nodes < s.min_nodes) nodes.fail("max", "must not be below min");
  if (s.default_nodes < s.min_nodes || s.default_nodes > s.max_nodes)
    nodes.fail("default", "must lie in [min, max]");
  if (s.max_nodes > 1 && s.fabric_links.empty() && !s.scale_out)
    nodes.fail("max", "more than one node needs a fabric or a scale_out network to join them");
  if (std::int64_t{s.max_nodes} * s.devices_per_node > kMaxDevices)
    nodes.fail("max", "gives " + std::to_string(std::int64_t{s.max_nodes} * s.devices_per_node) +
                          " ranks (" + std::to_string(s.devices_per_node) +
                          " per node); v4sim models at most " + std::to_string(kMaxDevices));
  nodes.finish();

  MapReader footprint = root.map("footprint");
  s.per_node = read_footprint(footprint);
  root.finish();

  check_expansion(s, s.default_nodes);
  check_device_links(s, expand(s, s.min_nodes));
  return s;
}

}  // namespace

std::filesystem::path default_systems_dir() {
  return data::data_root() / "hardware" / "systems";
}

SystemSpec load_system(std::string_view name_or_path, const std::filesystem::path& dir,
                       const std::filesystem::path& accelerators_dir) {
  return read_system(config::load_file(hardware_yaml::resolve(
                         name_or_path, data::dirs_or(dir, "hardware/systems"), "system")),
                     accelerators_dir);
}

std::vector<std::string> list_systems(const std::filesystem::path& dir) {
  return hardware_yaml::list_yaml(data::dirs_or(dir, "hardware/systems"));
}

HardwareKind find_hardware(std::string_view name_or_path, const std::filesystem::path& systems_dir,
                           const std::filesystem::path& accelerators_dir) {
  const std::string text(name_or_path);
  const bool is_path = text.find('/') != std::string::npos ||
                       (text.size() > 5 && text.substr(text.size() - 5) == ".yaml") ||
                       (text.size() > 4 && text.substr(text.size() - 4) == ".yml");
  if (is_path) {
    const config::Document doc = config::load_file(text);
    const YAML::Node& root = doc.root;
    return root["node"].IsDefined() ? HardwareKind::system : HardwareKind::accelerator;
  }
  const auto systems = list_systems(systems_dir);
  const auto accelerators = list_accelerators(accelerators_dir);
  auto listed = [&](const std::vector<std::string>& v) {
    return std::find(v.begin(), v.end(), text) != v.end();
  };
  if (listed(systems)) return HardwareKind::system;
  if (listed(accelerators)) return HardwareKind::accelerator;
  std::vector<std::string> all = accelerators;
  all.insert(all.end(), systems.begin(), systems.end());
  std::string msg = cat({"unknown hardware '", text, "'"});
  if (auto guess = config::closest(text, all)) msg += " (did you mean '" + *guess + "'?)";
  msg += "; accelerators:";
  for (const auto& n : accelerators) msg += " " + n;
  msg += "; systems:";
  for (const auto& n : systems) msg += " " + n;
  throw InputError(msg);
}

}  // namespace v4sim