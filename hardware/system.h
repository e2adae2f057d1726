// A system: accelerators in nodes, the switches and links that join them, how nodes compose into a
// cluster, and what the whole thing draws, costs and occupies. Boost-free; hardware/topology.h
// turns the expanded Netlist into a Boost.Graph (include that only from .cpp files).
//
// A system file describes one NODE (devices, node-level switches, links among them), an optional
// FABRIC (system-level switches that join the nodes' scale-up ports into one scale-up domain, e.g.
// CloudMatrix384's L2 UB planes) and an optional SCALE-OUT network (each device's NIC on one
// logical non-blocking switch: a fat tree abstracted to its endpoints). A cluster of N nodes is N
// copies of the node, the fabric once, and the scale-out network across all devices.
// Catalogue files: hardware/systems/<name>.yaml.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hardware/accelerator.h"
#include "hardware/netlist.h"

namespace v4sim {

/// How a link group connects its two vertex groups.
///   complete: every member of `from` to every member of `to` (a full mesh if from == to);
///   ring:     member i to member i+1 (mod count), from == to;
///   pairs:    member 2i to member 2i+1, from == to (the two dies of a package);
///   planes:   both groups split into `planes` equal consecutive blocks; block p of `from` to every
///             member of block p of `to` (CloudMatrix384: L1 chip p of each node to sub-plane p).
/// Keep `planes` last: the names table (system_expand.cpp) asserts its size against it.
enum class LinkPattern : std::uint8_t { complete, ring, pairs, planes };
std::string_view to_string(LinkPattern p);
/// The pattern named `text` ("complete", ...), or nothing.
std::optional<LinkPattern> parse_link_pattern(std::string_view text);

struct SwitchGroup {
  std::string name;
  int count = 0;
};

struct LinkGroup {
  std::string name;
  std::string from;  // "device" or a switch group
  std::string to;
  LinkPattern pattern = LinkPattern::complete;
  int planes = 1;
  double gb_per_s = 0;  // per link, per direction
  double latency_s = 0;
  LinkTier tier = LinkTier::scale_up;
  std::string where;  // file:line:col of the entry, for errors found when expanding
};

struct ScaleOut {
  double gb_per_s = 0;         // per device, per direction (the device's NIC share)
  double latency_s = 0;        // device to the logical scale-out switch
  Range price_usd_per_device;  // switches, optics, cables beyond the node's own NICs
  Range power_w_per_device;
  std::string where;
};

/// Power, price and floor space of one node (or, for a supernode, its per-node share).
struct Footprint {
  Range power_w;
  Range price_usd;
  Range floor_m2;
};

struct SystemSpec {
  std::string name;
  std::string display_name;
  std::string file;
  Accelerator accelerator;

  int devices_per_node = 0;  // ranks per node
  std::vector<SwitchGroup> node_switches;
  std::vector<LinkGroup> node_links;
  std::vector<SwitchGroup> fabric_switches;
  std::vector<LinkGroup> fabric_links;
  std::optional<ScaleOut> scale_out;

  int default_nodes = 1;
  int min_nodes = 1;
  int max_nodes = 1;
  std::string nodes_where;  // file:line:col of `nodes`, for a node count out of range
  std::string links_where;  // file:line:col of `node.links`, for a disconnected expansion

  Footprint per_node;
};

/// The whole system at `nodes` nodes: nodes x per_node + devices x scale-out per device.
struct SystemTotals {
  int nodes = 0;
  int devices = 0;   // ranks
  int packages = 0;  // purchasable accelerators
  Range power_w;
  Range price_usd;
  Range floor_m2;
  double hbm_capacity_gb = 0;                          // nominal
  double hbm_bandwidth_tb_per_s = 0;                   // nominal
  std::array<double, kNumComputePaths> peak_pflops{};  // nominal dense, 0 where unsupported
};
SystemTotals system_totals(const SystemSpec& system, int nodes);

/// Ranks of one scale-up domain of the system at `nodes` nodes: the whole system when a fabric
/// joins the nodes' scale-up ports (CloudMatrix384's UB planes), else one node (an HGX server, an
/// NVL72 rack). A group larger than this crosses the scale-out network.
int scale_up_domain_devices(const SystemSpec& system, int nodes);

/// Expands the system at `nodes` nodes (InputError when outside [min_nodes, max_nodes], when a
/// pattern does not fit its groups, or when the result is disconnected).
Netlist expand(const SystemSpec& system, int nodes);
/// expand()'s checks that need no expansion: the node count in range, and the netlist's size
/// within what v4sim models (InputError naming the system file's field).
void check_expansion(const SystemSpec& system, int nodes);

/// The share of a link's nominal bandwidth a collective achieves on tier `t` of `acc`'s links.
double link_usable_fraction(const Accelerator& acc, LinkTier t);

std::filesystem::path default_systems_dir();

/// `name_or_path`: a catalogue name (dir/<name>.yaml) or a path. The accelerator named in the
/// file is loaded from accelerators_dir (or as a path relative to the system file). Validates the
/// topology: patterns fit, links name existing groups, the default node count's netlist is within
/// size, the graph is connected, and each device's scale-up / scale-out links add up to its
/// accelerator's figures. The last two are checked on the fewest nodes the system allows: every
/// node is a copy joined to the same fabric, so the answer is the same at any node count (a path
/// through another node has a copy through node 0).
/// With no `dir` (or `accelerators_dir`), names resolve along the search path.
SystemSpec load_system(std::string_view name_or_path, const std::filesystem::path& dir = {},
                       const std::filesystem::path& accelerators_dir = {});

std::vector<std::string> list_systems(const std::filesystem::path& dir = {});

enum class HardwareKind : std::uint8_t { accelerator, system };
/// Which catalogue `name_or_path` belongs to: a catalogue name is looked up in both catalogues, a
/// path is classified by its content (a system file has a `node:` section). Unknown names throw
/// InputError with the closest catalogue name.
HardwareKind find_hardware(std::string_view name_or_path,
                           const std::filesystem::path& systems_dir = {},
                           const std::filesystem::path& accelerators_dir = {});

}  // namespace v4sim
