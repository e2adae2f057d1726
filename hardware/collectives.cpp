#include "hardware/collectives.h"

#include <algorithm>
#include <limits>
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
///
/// Pruning (Routing::pruned): once every destination of a source has been reached at most D hops
/// away, a vertex u at d hops whose nearest possible destination is h(u) hops off, d + h(u) > D
/// (or d >= D), lies on no shortest path to a destination: it is not expanded. Such a vertex
/// carries no bytes and adds to no destination's path count or latency, and the vertices that do
/// are reached in the same order from the same predecessors, so every load, path count and
/// latency is the same double as without pruning (tests/hardware/collectives_test.cpp compares
/// them on the shipped systems). A 256-rank all-to-all on an 8,192-device SuperPoD then visits
/// the cabinets of its ranks instead of all 128.
class LoadAccumulator {
 public:
  /// `destinations`: every rank a flow may go to (h(u) is the distance to the nearest of them).
  LoadAccumulator(const Topology& topo, std::span<const int> destinations, Routing routing)
      : topo_(topo),
        n_(static_cast<int>(boost::num_vertices(topo.graph))),
        prune_(routing == Routing::pruned),
        arc_load_(boost::num_edges(topo.graph), 0.0),
        first_all_(n_ + 1, 0),
        first_up_(n_ + 1, 0),
        dist_(n_, -1),
        sigma_(n_, 0.0),
        delta_(n_, 0.0),
        demand_(n_, 0.0),
        latency_(n_, 0.0),
        wanted_(n_, 0) {
    // Arcs get dense ids in out-edge order so loads can live in a vector. Each vertex's arcs are
    // copied, in that order, into two flat lists for the BFS: all of them, and the scale-up ones
    // (a route within a scale-up domain then needs no per-arc tier test).
    arcs_.reserve(arc_load_.size());
    all_.reserve(arc_load_.size());
    for (int u = 0; u < n_; ++u) {
      for (auto [it, end] = boost::out_edges(u, topo.graph); it != end; ++it) {
        const TopoArc& arc = topo.graph[*it];
        const Arc a{static_cast<int>(boost::target(*it, topo.graph)),
                    static_cast<int>(arcs_.size()), arc.latency_s};
        arcs_.push_back(*it);
        all_.push_back(a);
        if (is_scale_up(arc.tier)) up_.push_back(a);
      }
      first_all_[u + 1] = all_.size();
      first_up_[u + 1] = up_.size();
    }
    if (prune_) {
      nearest_up_ = hops_to(destinations, true);
      nearest_all_ = hops_to(destinations, false);
    }
  }

  /// Adds the flows from `src` to the destinations in `demand` (rank -> bytes).
  void add_source(int src, const std::vector<std::pair<int, double>>& demand) {
    // Destinations in src's scale-up domain route over scale-up links only; the others over all.
    local_.clear();
    remote_.clear();
    for (const auto& [dst, bytes] : demand) {
      if (dst == src || bytes <= 0) continue;
      (topo_.scale_up_domain[dst] == topo_.scale_up_domain[src] ? local_ : remote_)
          .emplace_back(dst, bytes);
    }
    if (!local_.empty()) route(src, local_, true);
    if (!remote_.empty()) route(src, remote_, false);
  }

  const std::vector<double>& loads() const { return arc_load_; }
  const std::vector<TopologyGraph::edge_descriptor>& arcs() const { return arcs_; }
  double max_latency_s() const { return max_latency_s_; }

 private:
  static constexpr int kFar = std::numeric_limits<int>::max() / 4;

  /// Hops from each vertex to the nearest of `ranks` over the allowed arcs. Every link is two
  /// arcs of one tier (build_topology), so a BFS from the ranks gives the distance to them.
  std::vector<int> hops_to(std::span<const int> ranks, bool scale_up_only) const {
    std::vector<int> hops(n_, kFar);
    std::vector<int> queue;
    for (int r : ranks)
      if (hops[r] != 0) {
        hops[r] = 0;
        queue.push_back(r);
      }
    const std::vector<Arc>& arcs = scale_up_only ? up_ : all_;
    const std::vector<std::size_t>& first = scale_up_only ? first_up_ : first_all_;
    for (std::size_t head = 0; head < queue.size(); ++head) {
      const int u = queue[head];
      for (std::size_t a = first[u]; a < first[u + 1]; ++a) {
        const int v = arcs[a].target;
        if (hops[v] != kFar) continue;
        hops[v] = hops[u] + 1;
        queue.push_back(v);
      }
    }
    return hops;
  }

  void route(int src, const std::vector<std::pair<int, double>>& demand, bool scale_up_only) {
    const std::vector<int>& nearest = scale_up_only ? nearest_up_ : nearest_all_;
    const std::vector<Arc>& arcs = scale_up_only ? up_ : all_;
    const std::vector<std::size_t>& first = scale_up_only ? first_up_ : first_all_;
    int pending = 0;  // destinations not reached yet
    for (const auto& d : demand)
      if (!wanted_[d.first]) {
        wanted_[d.first] = 1;
        ++pending;
      }
    int farthest = 0;  // hops to the farthest destination reached
    order_.clear();
    queue_.clear();
    dag_.clear();
    dag_first_.clear();
    dist_[src] = 0;
    sigma_[src] = 1;
    queue_.push_back(src);
    for (std::size_t head = 0; head < queue_.size(); ++head) {
      const int u = queue_[head];
      const int du = dist_[u];
      if (prune_ && pending == 0) {
        if (du >= farthest) break;  // BFS order: every later vertex is as far
        if (du + nearest[u] > farthest) continue;
      }
      order_.push_back(u);
      // The arcs from u to the next BFS level are the shortest-path DAG's: recorded here, in
      // out-edge order, so the reverse sweep visits exactly them (a vertex's distance is final
      // once any neighbour has been expanded).
      dag_first_.push_back(dag_.size());
      const double sigma_u = sigma_[u];
      const double latency_u = latency_[u];
      for (std::size_t a = first[u]; a < first[u + 1]; ++a) {
        const Arc& arc = arcs[a];
        const int v = arc.target;
        if (dist_[v] < 0) {
          dist_[v] = du + 1;
          queue_.push_back(v);
          if (wanted_[v]) {
            --pending;
            farthest = std::max(farthest, du + 1);
          }
        }
        if (dist_[v] == du + 1) {
          sigma_[v] += sigma_u;
          latency_[v] = std::max(latency_[v], latency_u + arc.latency_s);
          dag_.push_back({v, arc.id});
        }
      }
    }
    dag_first_.push_back(dag_.size());
    for (const auto& [dst, bytes] : demand) {
      if (dist_[dst] < 0) {
        reset(demand);
        throw InputError("topology '" + topo_.name + "': no route from rank " +
                         std::to_string(src) + " to rank " + std::to_string(dst));
      }
      demand_[dst] += bytes;
      max_latency_s_ = std::max(max_latency_s_, latency_[dst]);
    }
    // Reverse BFS order: every vertex's successors are finished before it.
    for (std::size_t i = order_.size(); i-- > 0;) {
      const int u = order_[i];
      const double sigma_u = sigma_[u];
      double delta_u = delta_[u];
      for (std::size_t k = dag_first_[i]; k < dag_first_[i + 1]; ++k) {
        const int v = dag_[k].target;
        const double through = sigma_u / sigma_[v] * (demand_[v] + delta_[v]);
        if (through == 0) continue;
        arc_load_[dag_[k].id] += through;
        delta_u += through;
      }
      delta_[u] = delta_u;
    }
    reset(demand);
  }

  /// Clears what route() wrote: the vertices it reached (all of them are in the queue).
  void reset(const std::vector<std::pair<int, double>>& demand) {
    for (int v : queue_) {
      dist_[v] = -1;
      sigma_[v] = delta_[v] = demand_[v] = latency_[v] = 0;
    }
    for (const auto& d : demand) wanted_[d.first] = 0;
  }

  const Topology& topo_;
  int n_;
  bool prune_;
  std::vector<double> arc_load_;
  /// An arc in a flat out-edge list: its head, its dense id (index into arc_load_ and arcs_) and
  /// its latency, together so a BFS step touches one cache line.
  struct Arc {
    int target;
    int id;
    double latency_s;
  };
  struct DagArc {
    int target;
    int id;
  };
  std::vector<TopologyGraph::edge_descriptor> arcs_;  // by id
  std::vector<Arc> all_, up_;  // out-arcs of u: [first_*_[u], first_*_[u + 1]); up_: scale-up only
  std::vector<std::size_t> first_all_, first_up_;
  std::vector<int> nearest_up_, nearest_all_;  // hops to the nearest destination
  std::vector<int> dist_;
  std::vector<double> sigma_, delta_, demand_, latency_;
  std::vector<char> wanted_;
  std::vector<int> order_, queue_;
  std::vector<DagArc> dag_;             // shortest-path DAG arcs of order_[i]: [dag_first_[i],
  std::vector<std::size_t> dag_first_;  // dag_first_[i + 1])
  std::vector<std::pair<int, double>> local_, remote_;  // add_source's split of a demand
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

/// Routes every source's demand (written on the fly by `demand_of(i, demand)` for source
/// ranks[i] into one reused vector, so an all-to-all needs O(n) memory, not O(n^2)) and times the step by its most loaded arc.
/// `destinations`: every rank a demand may name.
template <class DemandOf>
CommTime route_step(const Topology& topo, std::span<const int> sources,
                    std::span<const int> destinations, Routing routing, DemandOf demand_of) {
  LoadAccumulator acc(topo, destinations, routing);
  std::vector<std::pair<int, double>> demand;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    demand.clear();
    demand_of(i, demand);
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

CommTime transfer_time(const Topology& topo, std::span<const Flow> flows, Routing routing) {
  // Group flows by source so each source needs one routing pass.
  std::vector<std::vector<std::pair<int, double>>> by_source(topo.num_devices);
  std::vector<int> destinations;
  for (const Flow& f : flows) {
    check_rank(topo, f.src);
    check_rank(topo, f.dst);
    if (f.bytes < 0) throw InputError("a flow cannot carry negative bytes");
    if (f.src != f.dst && f.bytes > 0) {
      by_source[f.src].emplace_back(f.dst, f.bytes);
      destinations.push_back(f.dst);
    }
  }
  std::vector<int> sources;
  for (int r = 0; r < topo.num_devices; ++r)
    if (!by_source[r].empty()) sources.push_back(r);
  return route_step(topo, sources, destinations, routing,
                    [&](std::size_t i, std::vector<std::pair<int, double>>& demand) {
                      demand.swap(by_source[sources[i]]);
                    });
}

CommTime point_to_point(const Topology& topo, int src, int dst, double bytes) {
  const Flow f{src, dst, bytes};
  return transfer_time(topo, std::span<const Flow>(&f, 1));
}

CommTime all_to_all(const Topology& topo, std::span<const int> ranks, double bytes_per_pair,
                    Routing routing) {
  check_ranks(topo, ranks);
  if (bytes_per_pair < 0) throw InputError("all_to_all: negative bytes per pair");
  return route_step(topo, ranks, ranks, routing,
                    [&](std::size_t i, std::vector<std::pair<int, double>>& demand) {
                      for (std::size_t j = 0; j < ranks.size(); ++j)
                        if (j != i) demand.emplace_back(ranks[j], bytes_per_pair);
                    });
}

CommTime moe_all_to_all(const Topology& topo, std::span<const int> ranks,
                        std::span<const double> bytes_per_rank, Routing routing) {
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
  return route_step(topo, ranks, ranks, routing,
                    [&](std::size_t i, std::vector<std::pair<int, double>>& demand) {
                      for (std::size_t j = 0; j < ranks.size(); ++j)
                        if (j != i) demand.emplace_back(ranks[j], bytes_per_rank[i] / n);
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
