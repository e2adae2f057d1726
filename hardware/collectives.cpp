#include "hardware/collectives.h"

#include <algorithm>
#include <deque>
#include <numeric>

#include "hardware/topology.h"
#include "models/config/input_error.h"

namespace v4sim {
namespace {

bool is_scale_up(LinkTier t) {
  return t != LinkTier::scale_out;
}

/// Per-arc byte loads and per-flow path latencies, computed one source at a time: a BFS builds
/// the shortest-path DAG, then a reverse sweep pushes each destination's bytes back towards the
/// source, splitting at every vertex in proportion to the number of shortest paths through each
/// predecessor (Brandes' dependency accumulation, weighted by bytes). O(V + E) per source.
class LoadAccumulator {
 public:
  explicit LoadAccumulator(const Topology& topo)
      : topo_(topo),
        n_(static_cast<int>(boost::num_vertices(topo.graph))),
        arc_load_(boost::num_edges(topo.graph), 0.0),
        arc_ids_(),
        dist_(n_),
        sigma_(n_),
        delta_(n_),
        demand_(n_),
        latency_(n_) {
    // Arcs get dense ids in out-edge order so loads can live in a vector.
    arc_ids_.resize(n_);
    std::size_t id = 0;
    for (int u = 0; u < n_; ++u)
      for (auto [it, end] = boost::out_edges(u, topo.graph); it != end; ++it) {
        arc_ids_[u].push_back(id++);
        arcs_.push_back(*it);
      }
  }

  /// Adds the flows from `src` to the destinations in `demand` (rank -> bytes).
  void add_source(int src, const std::vector<std::pair<int, double>>& demand) {
    // Destinations in src's scale-up domain route over scale-up links only; the others over all.
    std::vector<std::pair<int, double>> local, remote;
    for (const auto& [dst, bytes] : demand) {
      if (dst == src || bytes <= 0) continue;
      (topo_.scale_up_domain[dst] == topo_.scale_up_domain[src] ? local : remote)
          .emplace_back(dst, bytes);
    }
    if (!local.empty()) route(src, local, true);
    if (!remote.empty()) route(src, remote, false);
  }

  const std::vector<double>& loads() const { return arc_load_; }
  const std::vector<TopologyGraph::edge_descriptor>& arcs() const { return arcs_; }
  double max_latency_s() const { return max_latency_s_; }

 private:
  void route(int src, const std::vector<std::pair<int, double>>& demand, bool scale_up_only) {
    std::fill(dist_.begin(), dist_.end(), -1);
    std::fill(sigma_.begin(), sigma_.end(), 0.0);
    std::fill(delta_.begin(), delta_.end(), 0.0);
    std::fill(demand_.begin(), demand_.end(), 0.0);
    std::fill(latency_.begin(), latency_.end(), 0.0);
    order_.clear();
    dist_[src] = 0;
    sigma_[src] = 1;
    std::deque<int> queue{src};
    while (!queue.empty()) {
      const int u = queue.front();
      queue.pop_front();
      order_.push_back(u);
      for (std::size_t k = 0; k < arc_ids_[u].size(); ++k) {
        const auto& arc = topo_.graph[arcs_[arc_ids_[u][k]]];
        if (scale_up_only && !is_scale_up(arc.tier)) continue;
        const int v = static_cast<int>(boost::target(arcs_[arc_ids_[u][k]], topo_.graph));
        if (dist_[v] < 0) {
          dist_[v] = dist_[u] + 1;
          queue.push_back(v);
        }
        if (dist_[v] == dist_[u] + 1) {
          sigma_[v] += sigma_[u];
          latency_[v] = std::max(latency_[v], latency_[u] + arc.latency_s);
        }
      }
    }
    for (const auto& [dst, bytes] : demand) {
      if (dist_[dst] < 0)
        throw InputError("topology '" + topo_.name + "': no route from rank " +
                         std::to_string(src) + " to rank " + std::to_string(dst));
      demand_[dst] += bytes;
      max_latency_s_ = std::max(max_latency_s_, latency_[dst]);
    }
    // Reverse BFS order: every vertex's successors are finished before it.
    for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
      const int u = *it;
      for (std::size_t k = 0; k < arc_ids_[u].size(); ++k) {
        const std::size_t id = arc_ids_[u][k];
        const auto& arc = topo_.graph[arcs_[id]];
        if (scale_up_only && !is_scale_up(arc.tier)) continue;
        const int v = static_cast<int>(boost::target(arcs_[id], topo_.graph));
        if (dist_[v] != dist_[u] + 1) continue;
        const double through = sigma_[u] / sigma_[v] * (demand_[v] + delta_[v]);
        if (through == 0) continue;
        arc_load_[id] += through;
        delta_[u] += through;
      }
    }
  }

  const Topology& topo_;
  int n_;
  std::vector<double> arc_load_;
  std::vector<std::vector<std::size_t>> arc_ids_;
  std::vector<TopologyGraph::edge_descriptor> arcs_;
  std::vector<int> dist_;
  std::vector<double> sigma_, delta_, demand_, latency_;
  std::vector<int> order_;
  double max_latency_s_ = 0;
};

void check_rank(const Topology& topo, int r) {
  if (r < 0 || r >= topo.num_devices)
    throw InputError("rank " + std::to_string(r) + " is not a device of '" + topo.name + "' (" +
                     std::to_string(topo.num_devices) + " devices)");
}

void check_ranks(const Topology& topo, std::span<const int> ranks) {
  std::vector<int> sorted(ranks.begin(), ranks.end());
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    check_rank(topo, sorted[i]);
    if (i > 0 && sorted[i] == sorted[i - 1])
      throw InputError("rank " + std::to_string(sorted[i]) + " appears twice in a collective");
  }
}

/// A step repeated `steps` times.
CommTime repeat(CommTime step, int steps, std::string algorithm) {
  step.transfer_s *= steps;
  step.latency_s *= steps;
  step.total_s = step.transfer_s + step.latency_s;
  step.steps = steps;
  step.algorithm = std::move(algorithm);
  return step;
}

CommTime both(const CommTime& a, const CommTime& b) {
  CommTime t;
  t.transfer_s = a.transfer_s + b.transfer_s;
  t.latency_s = a.latency_s + b.latency_s;
  t.total_s = a.total_s + b.total_s;
  t.steps = a.steps + b.steps;
  t.algorithm = a.algorithm + "+" + b.algorithm;
  const bool first = a.total_s >= b.total_s;
  t.bottleneck = first ? a.bottleneck : b.bottleneck;
  t.bottleneck_bytes = first ? a.bottleneck_bytes : b.bottleneck_bytes;
  return t;
}

/// Bidirectional ring over `ranks` in the given order: each step, every rank sends
/// bytes_per_neighbour / 2 to each of its two ring neighbours.
CommTime ring_steps(const Topology& topo, std::span<const int> ranks, double chunk_bytes,
                    int steps) {
  const int n = static_cast<int>(ranks.size());
  std::vector<Flow> flows;
  for (int i = 0; i < n; ++i) {
    flows.push_back({ranks[i], ranks[(i + 1) % n], chunk_bytes / 2});
    flows.push_back({ranks[i], ranks[(i + n - 1) % n], chunk_bytes / 2});
  }
  return repeat(transfer_time(topo, flows), steps, "ring");
}

/// Reduce-scatter and all-gather move the same bytes: n-1 chunks of `chunk_bytes` leave every
/// rank, one for each other rank. Direct sends them at once; the ring passes them along.
CommTime scatter_or_gather(const Topology& topo, std::span<const int> ranks, double chunk_bytes) {
  check_ranks(topo, ranks);
  const int n = static_cast<int>(ranks.size());
  if (n <= 1 || chunk_bytes <= 0) return CommTime{0, 0, 0, 0, "none", "", 0};
  CommTime direct = repeat(all_to_all(topo, ranks, chunk_bytes), 1, "direct");
  if (n == 2) return direct;
  CommTime ring = ring_steps(topo, ranks, chunk_bytes, n - 1);
  return ring.total_s < direct.total_s ? ring : direct;
}

}  // namespace

namespace {

/// Routes every source's demand (built on the fly by `demand_of(i)` for source ranks[i], so an
/// all-to-all needs O(n) memory, not O(n^2)) and times the step by its most loaded arc.
template <class DemandOf>
CommTime route_step(const Topology& topo, std::span<const int> sources, DemandOf demand_of) {
  LoadAccumulator acc(topo);
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const std::vector<std::pair<int, double>> demand = demand_of(i);
    if (!demand.empty()) acc.add_source(sources[i], demand);
  }
  CommTime t;
  t.steps = 1;
  t.algorithm = "direct";
  const auto& loads = acc.loads();
  std::size_t worst = loads.size();
  for (std::size_t id = 0; id < loads.size(); ++id) {
    if (loads[id] <= 0) continue;
    const TopoArc& arc = topo.graph[acc.arcs()[id]];
    const double s = loads[id] / (arc.usable_gb_per_s * 1e9);
    if (s > t.transfer_s) {
      t.transfer_s = s;
      worst = id;
    }
  }
  if (worst < loads.size()) {
    const auto e = acc.arcs()[worst];
    t.bottleneck = topo.graph[boost::source(e, topo.graph)].name;
    t.bottleneck.append(" -> ").append(topo.graph[boost::target(e, topo.graph)].name);
    t.bottleneck.append(" (").append(to_string(topo.graph[e].tier)).append(")");
    t.bottleneck_bytes = loads[worst];
  }
  t.latency_s = acc.max_latency_s();
  t.total_s = t.transfer_s + t.latency_s;
  return t;
}

}  // namespace

CommTime transfer_time(const Topology& topo, std::span<const Flow> flows) {
  // Group flows by source so each source needs one routing pass.
  std::vector<std::vector<std::pair<int, double>>> by_source(topo.num_devices);
  for (const Flow& f : flows) {
    check_rank(topo, f.src);
    check_rank(topo, f.dst);
    if (f.bytes < 0) throw InputError("a flow cannot carry negative bytes");
    if (f.src != f.dst && f.bytes > 0) by_source[f.src].emplace_back(f.dst, f.bytes);
  }
  std::vector<int> sources;
  for (int r = 0; r < topo.num_devices; ++r)
    if (!by_source[r].empty()) sources.push_back(r);
  return route_step(topo, sources, [&](std::size_t i) { return std::move(by_source[sources[i]]); });
}

CommTime point_to_point(const Topology& topo, int src, int dst, double bytes) {
  const Flow f{src, dst, bytes};
  return transfer_time(topo, std::span<const Flow>(&f, 1));
}

CommTime all_to_all(const Topology& topo, std::span<const int> ranks, double bytes_per_pair) {
  check_ranks(topo, ranks);
  if (bytes_per_pair < 0) throw InputError("all_to_all: negative bytes per pair");
  return route_step(topo, ranks, [&](std::size_t i) {
    std::vector<std::pair<int, double>> demand;
    demand.reserve(ranks.size());
    for (std::size_t j = 0; j < ranks.size(); ++j)
      if (j != i) demand.emplace_back(ranks[j], bytes_per_pair);
    return demand;
  });
}

CommTime moe_all_to_all(const Topology& topo, std::span<const int> ranks,
                        std::span<const double> bytes_per_rank) {
  check_ranks(topo, ranks);
  if (bytes_per_rank.size() != ranks.size()) {
    std::string msg("moe_all_to_all: ");
    msg.append(std::to_string(bytes_per_rank.size())).append(" byte counts for ");
    msg.append(std::to_string(ranks.size())).append(" ranks");
    throw InputError(msg);
  }
  for (double b : bytes_per_rank)
    if (b < 0) throw InputError("moe_all_to_all: negative bytes for a rank");
  const double n = static_cast<double>(ranks.size());
  return route_step(topo, ranks, [&](std::size_t i) {
    std::vector<std::pair<int, double>> demand;
    demand.reserve(ranks.size());
    for (std::size_t j = 0; j < ranks.size(); ++j)
      if (j != i) demand.emplace_back(ranks[j], bytes_per_rank[i] / n);
    return demand;
  });
}

CommTime reduce_scatter(const Topology& topo, std::span<const int> ranks, double bytes_per_rank) {
  const double n = static_cast<double>(ranks.size());
  return scatter_or_gather(topo, ranks, n > 0 ? bytes_per_rank / n : 0.0);
}

CommTime all_gather(const Topology& topo, std::span<const int> ranks, double bytes_per_rank) {
  return scatter_or_gather(topo, ranks, bytes_per_rank);
}

CommTime all_reduce(const Topology& topo, std::span<const int> ranks, double bytes) {
  const double n = static_cast<double>(ranks.size());
  if (ranks.size() <= 1) {
    check_ranks(topo, ranks);
    return CommTime{0, 0, 0, 0, "none", "", 0};
  }
  return both(reduce_scatter(topo, ranks, bytes), all_gather(topo, ranks, bytes / n));
}

std::vector<int> first_ranks(int n) {
  std::vector<int> r(std::max(n, 0));
  std::iota(r.begin(), r.end(), 0);
  return r;
}

}  // namespace v4sim
