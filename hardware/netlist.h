// A system expanded into plain vertices and links: what topology.cpp turns into a Boost.Graph.
// Boost-free, so tests and tools can also write small topologies (ring, mesh, switch) by hand.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace v4sim {

/// What a link belongs to. Traffic between two devices of one scale-up domain stays on
/// scale_up / die_to_die links (as NCCL and HCCL route: NVLink / UB / HCCS first); traffic
/// between domains may also use scale_out links.
/// Keep `die_to_die` last: the names table (netlist.cpp) asserts its size against it.
enum class LinkTier : std::uint8_t { scale_up, scale_out, die_to_die };
std::string_view to_string(LinkTier t);
/// The tier named `text` ("scale_up", ...), or nothing.
std::optional<LinkTier> parse_link_tier(std::string_view text);

struct NetVertex {
  std::string name;   // "n0.d3", "n0.l1.2", "l2.17", "scale_out"
  std::string group;  // "device" or the switch group name
  int rank = -1;      // device index (== vertex index) for a device; -1 for a switch
  int node = -1;      // node of a device or node-level switch; -1 for system-level switches
};

/// A full-duplex link: gb_per_s in EACH direction.
struct NetLink {
  int a = 0;
  int b = 0;
  double gb_per_s = 0;         // nominal, per direction, GB/s (1e9 B/s)
  double usable_fraction = 1;  // share of gb_per_s a collective achieves (measured/estimated)
  double latency_s = 0;        // one traversal
  LinkTier tier = LinkTier::scale_up;
  std::string name;  // the link group it came from
};

/// Devices come first: vertex r is device (rank) r, numbered node-major.
struct Netlist {
  std::string name;
  int nodes = 1;
  int num_devices = 0;
  std::vector<NetVertex> vertices;
  std::vector<NetLink> links;

  int add_device(std::string name, int node);
  int add_switch(std::string name, std::string group, int node);
};

/// Empty when every vertex is reachable from vertex 0; otherwise a sentence naming a vertex that
/// cannot be reached.
std::string disconnected_reason(const Netlist& net);

}  // namespace v4sim
