#include "hardware/topology.h"

#include <algorithm>
#include <limits>
#include <ostream>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/push_relabel_max_flow.hpp>

namespace v4sim {
namespace {

bool is_scale_up(LinkTier t) {
  return t != LinkTier::scale_out;
}

/// Max flow over the arcs passing `keep`, from the ranks in [0, half) to the ranks in
/// [half, num_devices), in GB/s.
template <class Keep>
double half_to_half_flow(const Topology& topo, Keep keep) {
  using Traits = boost::adjacency_list_traits<boost::vecS, boost::vecS, boost::directedS>;
  using FlowGraph = boost::adjacency_list<
      boost::vecS, boost::vecS, boost::directedS, boost::no_property,
      boost::property<
          boost::edge_capacity_t, double,
          boost::property<boost::edge_residual_capacity_t, double,
                          boost::property<boost::edge_reverse_t, Traits::edge_descriptor>>>>;
  const int n = topo.num_vertices();
  const int half = topo.num_devices / 2;
  if (half == 0) return 0.0;
  FlowGraph g(n + 2);
  const int source = n;
  const int sink = n + 1;
  auto capacity = boost::get(boost::edge_capacity, g);
  auto reverse = boost::get(boost::edge_reverse, g);
  auto add = [&](int u, int v, double cap) {
    auto e = boost::add_edge(u, v, g).first;
    auto r = boost::add_edge(v, u, g).first;
    capacity[e] = cap;
    capacity[r] = 0;
    reverse[e] = r;
    reverse[r] = e;
  };
  const TopologyGraph& t = topo.graph;
  for (auto [it, end] = boost::edges(t); it != end; ++it)
    if (keep(t[*it]))
      add(static_cast<int>(boost::source(*it, t)), static_cast<int>(boost::target(*it, t)),
          t[*it].gb_per_s);
  // A device's own links bound what it can send; the super-source adds no limit of its own.
  constexpr double kUnbounded = std::numeric_limits<double>::max() / 4;
  for (int r = 0; r < topo.num_devices; ++r) {
    if (r < half)
      add(source, r, kUnbounded);
    else if (r < 2 * half)
      add(r, sink, kUnbounded);
  }
  return boost::push_relabel_max_flow(g, source, sink);
}

/// Hop distances from `from` over the arcs passing `keep` (-1 = unreachable), reaching a vertex
/// v from u only when `reach(u, v)` and going on from it only when `expand(v)`.
template <class Keep, class Reach, class Expand>
std::vector<int> hops_from(const Topology& topo, int from, Keep keep, Reach reach, Expand expand) {
  std::vector<int> dist(topo.num_vertices(), -1);
  std::vector<int> queue{from};
  dist[from] = 0;
  for (std::size_t head = 0; head < queue.size(); ++head) {
    const int u = queue[head];
    for (auto [it, end] = boost::out_edges(static_cast<std::size_t>(u), topo.graph); it != end;
         ++it) {
      if (!keep(topo.graph[*it])) continue;
      const int v = static_cast<int>(boost::target(*it, topo.graph));
      if (dist[v] >= 0 || !reach(u, v)) continue;
      dist[v] = dist[u] + 1;
      if (expand(v)) queue.push_back(v);
    }
  }
  return dist;
}

template <class Keep>
std::vector<int> hops_from(const Topology& topo, int from, Keep keep) {
  const auto always = [](auto...) { return true; };
  return hops_from(topo, from, keep, always, always);
}

}  // namespace

Topology build_topology(const Netlist& net) {
  Topology topo;
  topo.name = net.name;
  topo.nodes = net.nodes;
  topo.num_devices = net.num_devices;
  topo.num_links = static_cast<int>(net.links.size());
  // Each link's two arcs in link order; the graph sorts them by source stably (a counting sort),
  // so each vertex's out-arcs keep the order of its links.
  std::vector<std::pair<std::size_t, std::size_t>> ends;
  std::vector<TopoArc> arcs;
  ends.reserve(2 * net.links.size());
  arcs.reserve(2 * net.links.size());
  for (std::size_t i = 0; i < net.links.size(); ++i) {
    const NetLink& l = net.links[i];
    const TopoArc arc{l.gb_per_s, l.gb_per_s * l.usable_fraction, l.latency_s, l.tier,
                      static_cast<int>(i)};
    ends.emplace_back(l.a, l.b);
    arcs.push_back(arc);
    ends.emplace_back(l.b, l.a);
    arcs.push_back(arc);
  }
  topo.graph = TopologyGraph(boost::edges_are_unsorted_multi_pass, ends.begin(), ends.end(),
                             arcs.begin(), net.vertices.size());
  for (std::size_t v = 0; v < net.vertices.size(); ++v) {
    const NetVertex& nv = net.vertices[v];
    topo.graph[v] = TopoVertex{nv.name, nv.group, nv.rank, nv.node};
  }
  // Scale-up domains: components over scale-up and die-to-die arcs, numbered by first rank.
  topo.scale_up_domain.assign(net.num_devices, -1);
  int next = 0;
  for (int r = 0; r < net.num_devices; ++r) {
    if (topo.scale_up_domain[r] >= 0) continue;
    const auto dist = hops_from(topo, r, [](const TopoArc& a) { return is_scale_up(a.tier); });
    for (int q = r; q < net.num_devices; ++q)
      if (dist[q] >= 0) topo.scale_up_domain[q] = next;
    ++next;
  }
  return topo;
}

namespace {

/// same_routes_with_more_nodes() for the routes over the arcs passing `keep`, between device
/// pairs in one scale-up domain (`within`) or in different ones.
template <class Keep>
bool detours_are_longer(const Topology& topo, Keep keep, bool within) {
  const int n = topo.num_vertices();
  const int per_node = topo.num_devices / topo.nodes;
  constexpr int kFar = std::numeric_limits<int>::max() / 4;
  // Every node is a copy of node 0, so node 0's devices stand for all sources, and nodes 0 and 1
  // for all destinations.
  int longest = -1;
  std::vector<int> nearest(n, kFar);  // a(X): hops from the nearest device
  for (int src = 0; src < per_node; ++src) {
    const std::vector<int> dist = hops_from(topo, src, keep);
    for (int dst = 0; dst < std::min(topo.num_devices, 2 * per_node); ++dst) {
      const bool same_domain = topo.scale_up_domain[dst] == topo.scale_up_domain[src];
      if (dst != src && same_domain == within && dist[dst] >= 0)
        longest = std::max(longest, dist[dst]);
    }
    for (int v = 0; v < n; ++v)
      if (dist[v] >= 0) nearest[v] = std::min(nearest[v], dist[v]);
  }
  if (longest < 0) return true;  // no pair routes this way
  const auto system_level = [&](int v) { return topo.graph[v].node < 0; };
  for (int x = 0; x < n; ++x) {
    if (!system_level(x) || nearest[x] == kFar) continue;
    // T(X, .): hops from X to the other system-level vertices through node 0 alone; a
    // system-level vertex ends the detour.
    const auto in_node_0 = [&](int v) { return topo.graph[v].node == 0; };
    const std::vector<int> dist = hops_from(
        topo, x, keep, [&](int u, int v) { return in_node_0(v) || (system_level(v) && u != x); },
        in_node_0);
    for (int y = 0; y < n; ++y)
      if (y != x && system_level(y) && dist[y] > 0 && nearest[y] != kFar &&
          nearest[x] + dist[y] + nearest[y] <= longest)
        return false;
  }
  return true;
}

}  // namespace

bool same_routes_with_more_nodes(const Topology& topo) {
  if (topo.nodes < 1 || topo.num_devices % topo.nodes != 0) return false;
  const auto up = [](const TopoArc& a) { return is_scale_up(a.tier); };
  const auto any = [](const TopoArc&) { return true; };
  return detours_are_longer(topo, up, true) && detours_are_longer(topo, any, false);
}

TopologySummary summarize(const Topology& topo) {
  TopologySummary s;
  s.devices = topo.num_devices;
  s.switches = topo.num_vertices() - topo.num_devices;
  s.links = topo.num_links;
  s.nodes = topo.nodes;
  std::vector<int> domain_size;
  for (int d : topo.scale_up_domain) {
    if (d >= static_cast<int>(domain_size.size())) domain_size.resize(d + 1, 0);
    ++domain_size[d];
  }
  s.scale_up_domains = static_cast<int>(domain_size.size());
  s.largest_scale_up_domain =
      domain_size.empty() ? 0 : *std::max_element(domain_size.begin(), domain_size.end());

  constexpr double kNone = std::numeric_limits<double>::max();
  double up = kNone, out = kNone, d2d = kNone;
  for (int r = 0; r < topo.num_devices; ++r) {
    double u = 0, o = 0, d = 0;
    for (auto [it, end] = boost::out_edges(static_cast<std::size_t>(r), topo.graph); it != end;
         ++it) {
      const TopoArc& arc = topo.graph[*it];
      (arc.tier == LinkTier::scale_up    ? u
       : arc.tier == LinkTier::scale_out ? o
                                         : d) += arc.gb_per_s;
    }
    up = std::min(up, u);
    out = std::min(out, o);
    d2d = std::min(d2d, d);
  }
  s.scale_up_injection_gb_per_s = topo.num_devices ? up : 0;
  s.scale_out_injection_gb_per_s = topo.num_devices ? out : 0;
  s.die_to_die_gb_per_s = topo.num_devices ? d2d : 0;
  s.bisection_gb_per_s = half_to_half_flow(topo, [](const TopoArc&) { return true; });
  s.scale_up_bisection_gb_per_s =
      half_to_half_flow(topo, [](const TopoArc& a) { return is_scale_up(a.tier); });
  for (int r = 0; r < topo.num_devices; ++r) {
    const auto dist = hops_from(topo, r, [](const TopoArc& a) { return is_scale_up(a.tier); });
    for (int q = 0; q < topo.num_devices; ++q)
      s.max_scale_up_hops = std::max(s.max_scale_up_hops, dist[q]);
  }
  return s;
}

void write_dot(const Topology& topo, std::ostream& out) {
  out << "graph \"" << topo.name << "\" {\n  node [fontsize=9];\n";
  for (std::size_t i = 0; i < boost::num_vertices(topo.graph); ++i) {
    const TopoVertex& v = topo.graph[i];
    out << "  v" << i << " [label=\"" << v.name << "\", shape=" << (v.rank >= 0 ? "box" : "ellipse")
        << "];\n";
  }
  // Two arcs per link: print each physical link once.
  std::vector<bool> printed(topo.num_links, false);
  for (auto [it, end] = boost::edges(topo.graph); it != end; ++it) {
    const TopoArc& arc = topo.graph[*it];
    if (printed[arc.link]) continue;
    printed[arc.link] = true;
    out << "  v" << boost::source(*it, topo.graph) << " -- v" << boost::target(*it, topo.graph)
        << " [label=\"" << arc.gb_per_s << "\""
        << (arc.tier == LinkTier::scale_out ? ", style=dashed" : "") << "];\n";
  }
  out << "}\n";
}

}  // namespace v4sim
