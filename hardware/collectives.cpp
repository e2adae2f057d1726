#include "hardware/collectives.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>

#include "hardware/node_swap.h"
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
///
/// Replay (Routing::pruned): a system of identical nodes is usually symmetric under exchanging two
/// nodes (NodeSwap checks the exchange is an automorphism). The first source at each place in a
/// node is routed and its additions to the loads recorded; a later source at the same place in
/// another node, with the mapped demand (same bytes to the images of the same destinations), adds
/// the recorded bytes to the images of the arcs instead of routing. That gives the same doubles
/// as routing it, because every value of its route is computed from the same operands in the same
/// order: distances and DAG arcs map; path counts are integers below 2^53 (checked), so their
/// sums do not depend on the order of the terms; latencies are maxima; and a vertex's share sum
/// runs over its out-arcs, whose order the exchange keeps except at some shared switches: there
/// the recorded source's nonzero shares must all be equal (checked), so the order is moot. Each
/// arc gets at most one addition per route, so the loads, added in source order, are the same.
class LoadAccumulator {
 public:
  /// `destinations`: every rank a flow may go to (h(u) is the distance to the nearest of them).
  LoadAccumulator(const Topology& topo, std::span<const int> destinations, Routing routing)
      : topo_(topo),
        n_(topo.num_vertices()),
        prune_(routing == Routing::pruned),
        arc_load_(boost::num_edges(topo.graph), 0.0),
        destinations_(destinations),
        dist_(n_, -1),
        sigma_(n_, 0.0),
        delta_(n_, 0.0),
        demand_(n_, 0.0),
        latency_(n_, 0.0),
        wanted_(n_, 0),
        order_(n_),
        queue_(n_),
        // Not zeroed: route() writes each entry before reading it, and the pages a pruned
        // route never reaches (most of them on a SuperPoD) are never touched.
        dag_(new DagArc[boost::num_edges(topo.graph)]),
        dag_first_(n_ + 1),
        demand_at_(n_, 0.0) {}

  /// Adds the flows from `src` to the destinations in `demand` (rank -> bytes).
  void add_source(int src, const std::vector<std::pair<int, double>>& demand) {
    add(src, &demand, 0);
  }

  /// Adds `bytes` from `src` to every destination but itself (a row of an all-to-all): the same
  /// loads as add_source with that demand in destination order, which a replay checks at once.
  void add_source_to_all(int src, double bytes) { add(src, nullptr, bytes); }

  /// The loads and counts so far (the accumulator is spent).
  StepLoads take() {
    StepLoads step;
    step.arc_bytes = std::move(arc_load_);
    step.latency_s = max_latency_s_;
    step.routed_sources = routed_;
    step.replayed_sources = replayed_;
    return step;
  }

 private:
  static constexpr int kFar = std::numeric_limits<int>::max() / 4;

  /// What routing one source added (add_source's replay).
  struct Record {
    int src = -1;
    std::vector<std::pair<int, double>> demand;  // dst != src, bytes > 0; local ones first
    bool distinct = true;                        // no destination twice
    bool to_all = false;                         // recorded by add_source_to_all
    double to_all_bytes = 0;                     // its bytes
    bool exact_counts = true;                    // every path count below 2^53
    // The additions to the loads, in order: arcs, and their bytes as runs of equal values (one
    // vertex's shares often are), each run's bytes and the end of its arcs in add_arcs.
    std::vector<int> add_arcs;
    std::vector<std::pair<double, std::size_t>> runs;
    std::vector<int> mixed;  // expanded vertices whose nonzero shares are not all equal
    double max_latency_s = 0;
  };

  /// add_source (`demand`) or add_source_to_all (`demand` null, `to_all_bytes`).
  void add(int src, const std::vector<std::pair<int, double>>* demand, double to_all_bytes) {
    ++routed_;  // undone by a replay
    const auto flows = [&]() -> const std::vector<std::pair<int, double>>& {
      if (demand) return *demand;
      row_.clear();
      for (int dst : destinations_)
        if (dst != src) row_.emplace_back(dst, to_all_bytes);
      return row_;
    };
    const auto record = [&](Record& rec) {
      add_flows(src, flows(), &rec);
      rec.to_all = demand == nullptr;
      rec.to_all_bytes = to_all_bytes;
    };
    // One node has no twins to replay for: route without recording.
    if (!prune_ || topo_.nodes < 2) return add_flows(src, flows(), nullptr);
    if (!swap_) {
      // The first source is recorded aside: build the node map only for a second.
      if (first_.src < 0) return record(first_);
      swap_.emplace(topo_);
      if (swap_->node_of(first_.src) >= 0) {
        records_.resize(swap_->index_in_node(first_.src) + 1);
        records_.back() = std::move(first_);
      }
    }
    const int node = swap_->node_of(src);
    if (node < 0) return add_flows(src, flows(), nullptr);
    const auto place = static_cast<std::size_t>(swap_->index_in_node(src));
    if (place >= records_.size()) records_.resize(place + 1);
    Record& rec = records_[place];
    if (rec.src < 0) return record(rec);
    if (swap_->set(swap_->node_of(rec.src), node) &&
        (demand ? replay(rec, src, *demand) : replay_to_all(rec, src, to_all_bytes))) {
      --routed_;
      ++replayed_;
      return;
    }
    add_flows(src, flows(), nullptr);
  }

  /// Routes the flows from `src` (recording them in `rec` when given).
  void add_flows(int src, const std::vector<std::pair<int, double>>& demand, Record* rec) {
    // Destinations in src's scale-up domain route over scale-up links only; the others over all.
    local_.clear();
    remote_.clear();
    for (const auto& [dst, bytes] : demand) {
      if (dst == src || bytes <= 0) continue;
      (topo_.scale_up_domain[dst] == topo_.scale_up_domain[src] ? local_ : remote_)
          .emplace_back(dst, bytes);
    }
    if (rec) {
      rec->src = src;
      rec->add_arcs.reserve(record_size_);
      rec->demand = local_;
      rec->demand.insert(rec->demand.end(), remote_.begin(), remote_.end());
      if (!local_.empty()) route<true>(src, local_, true, rec);
      if (!remote_.empty()) route<true>(src, remote_, false, rec);
      record_size_ = std::max(record_size_, rec->add_arcs.size());
    } else {
      if (!local_.empty()) route<false>(src, local_, true, nullptr);
      if (!remote_.empty()) route<false>(src, remote_, false, nullptr);
    }
  }

  /// Adds `rec`'s loads mapped by the node exchange set in swap_, if it maps rec.src to `src` and
  /// rec's demand onto src's; false (nothing added) otherwise.
  bool replay(const Record& rec, int src, const std::vector<std::pair<int, double>>& demand) {
    const NodeSwap& swap = *swap_;
    if (!maps_onto(rec, src)) return false;
    // src's demand by destination (bytes > 0, so 0 means none), then rec's mapped onto it.
    std::size_t count = 0;
    bool same = true;
    for (const auto& [dst, bytes] : demand) {
      if (dst == src || bytes <= 0) continue;
      if (demand_at_[dst] != 0) same = false;  // a destination twice
      demand_at_[dst] = bytes;
      ++count;
    }
    same = same && count == rec.demand.size();
    const int domain = topo_.scale_up_domain[src];
    const int rec_domain = topo_.scale_up_domain[rec.src];
    for (std::size_t k = 0; same && k < rec.demand.size(); ++k) {
      const auto& [dst, bytes] = rec.demand[k];
      const int image = swap.vertex(dst);
      same = demand_at_[image] == bytes &&
             (topo_.scale_up_domain[image] == domain) == (topo_.scale_up_domain[dst] == rec_domain);
    }
    for (const auto& d : demand) demand_at_[d.first] = 0;
    if (!same) return false;
    apply(rec);
    return true;
  }

  /// replay() for add_source_to_all: the same bytes, and the exchange maps the destinations onto
  /// themselves (so rec's row onto src's). Domains need no check: the exchange keeps tiers, so it
  /// maps scale-up components onto scale-up components.
  bool replay_to_all(const Record& rec, int src, double bytes) {
    if (!rec.to_all || rec.to_all_bytes != bytes || !maps_onto(rec, src)) return false;
    const NodeSwap& swap = *swap_;
    if (is_destination_.empty()) {
      is_destination_.assign(n_, 0);
      for (int dst : destinations_) is_destination_[dst] = 1;
    }
    if (swap.swapped() != invariant_for_) {
      invariant_for_ = swap.swapped();
      invariant_ = std::all_of(destinations_.begin(), destinations_.end(),
                               [&](int dst) { return is_destination_[swap.vertex(dst)] != 0; });
    }
    if (!invariant_) return false;
    apply(rec);
    return true;
  }

  /// What every replay needs: the exchange maps rec's source to `src`, and the sums of rec's route
  /// come out the same in the mapped order.
  bool maps_onto(const Record& rec, int src) const {
    const NodeSwap& swap = *swap_;
    if (!rec.distinct || !rec.exact_counts || swap.vertex(rec.src) != src) return false;
    for (int u : rec.mixed)
      if (!swap.keeps_order(u)) return false;
    return true;
  }

  /// Adds rec's loads, mapped by the exchange.
  void apply(const Record& rec) {
    const NodeSwap& swap = *swap_;
    double* arc_load = arc_load_.data();
    const int* ids = rec.add_arcs.data();
    std::size_t k = 0;
    for (const auto& [bytes, end] : rec.runs)
      for (; k < end; ++k) arc_load[swap.arc(ids[k])] += bytes;
    max_latency_s_ = std::max(max_latency_s_, rec.max_latency_s);
  }

  /// An arc in a compact out-arc list: its head and its id (its edge_index in Topology::graph and
  /// arc_load_); 8 bytes, since the BFS streams the whole list once per source.
  struct Arc {
    int target;
    int id;
  };
  using DagArc = Arc;

  /// The arcs route() walks for one kind of flow, built on first use: a SuperPoD's all-to-all
  /// stays in its scale-up domain and never needs the list of all arcs.
  struct ArcList {
    std::vector<Arc> arcs;  // each vertex's allowed arcs, in order: [first[u], first[u + 1])
    std::vector<double> latency_s;  // of arcs[a]
    std::vector<std::size_t> first;
    std::vector<int> nearest;  // hops to the nearest destination (pruned routing only)
  };

  const ArcList& list(bool scale_up_only) {
    std::optional<ArcList>& slot = scale_up_only ? up_ : all_;
    if (slot) return *slot;
    ArcList& l = slot.emplace();
    l.first.assign(n_ + 1, 0);
    const TopologyGraph& g = topo_.graph;
    l.arcs.reserve(boost::num_edges(g));
    l.latency_s.reserve(boost::num_edges(g));
    for (int u = 0; u < n_; ++u) {
      for (auto [it, end] = boost::out_edges(static_cast<std::size_t>(u), g); it != end; ++it) {
        const TopoArc& arc = g[*it];
        if (scale_up_only && !is_scale_up(arc.tier)) continue;
        l.arcs.push_back({static_cast<int>(boost::target(*it, g)),
                          static_cast<int>(boost::get(boost::edge_index, g, *it))});
        l.latency_s.push_back(arc.latency_s);
      }
      l.first[u + 1] = l.arcs.size();
    }
    if (prune_) l.nearest = hops_to(destinations_, l);
    return l;
  }

  /// Hops from each vertex to the nearest of `ranks` over the arcs of `l`. Every link is two
  /// arcs of one tier (build_topology), so a BFS from the ranks gives the distance to them.
  std::vector<int> hops_to(std::span<const int> ranks, const ArcList& l) const {
    std::vector<int> hops(n_, kFar);
    std::vector<int> queue;
    for (int r : ranks)
      if (hops[r] != 0) {
        hops[r] = 0;
        queue.push_back(r);
      }
    for (std::size_t head = 0; head < queue.size(); ++head) {
      const int u = queue[head];
      for (std::size_t a = l.first[u]; a < l.first[u + 1]; ++a) {
        const int v = l.arcs[a].target;
        if (hops[v] != kFar) continue;
        hops[v] = hops[u] + 1;
        queue.push_back(v);
      }
    }
    return hops;
  }

  template <bool kRecord>
  void route(int src, const std::vector<std::pair<int, double>>& demand, bool scale_up_only,
             Record* rec) {
    // Raw pointers: the loops below run ~10^7 times for a 384-rank all-to-all, and the compiler
    // cannot keep vector internals in registers across the stores.
    const ArcList& l = list(scale_up_only);
    const int* nearest = l.nearest.data();
    const Arc* arcs = l.arcs.data();
    const std::size_t* first = l.first.data();
    const double* arc_latency_s = l.latency_s.data();
    int* dist = dist_.data();
    double* sigma = sigma_.data();
    double* latency = latency_.data();
    const char* wanted = wanted_.data();
    int* queue = queue_.data();
    int* order = order_.data();
    std::size_t* dag_first = dag_first_.data();
    DagArc* dag = dag_.get();
    int pending = 0;  // destinations not reached yet
    for (const auto& d : demand) {
      if (!wanted_[d.first]) {
        wanted_[d.first] = 1;
        ++pending;
      } else if constexpr (kRecord) {
        rec->distinct = false;
      }
    }
    int farthest = 0;  // hops to the farthest destination reached
    std::size_t queued = 0, expanded = 0, dag_arcs = 0;
    dist[src] = 0;
    sigma[src] = 1;
    queue[queued++] = src;
    for (std::size_t head = 0; head < queued; ++head) {
      const int u = queue[head];
      const int du = dist[u];
      if (prune_ && pending == 0) {
        if (du >= farthest) break;  // BFS order: every later vertex is as far
        if (du + nearest[u] > farthest) continue;
      }
      // The arcs from u to the next BFS level are the shortest-path DAG's: recorded here, in
      // out-edge order, so the reverse sweep visits exactly them (a vertex's distance is final
      // once any neighbour has been expanded).
      order[expanded] = u;
      dag_first[expanded++] = dag_arcs;
      const double sigma_u = sigma[u];
      const double latency_u = latency[u];
      for (std::size_t a = first[u]; a < first[u + 1]; ++a) {
        const int v = arcs[a].target;
        int dv = dist[v];
        if (dv < 0) {
          dist[v] = dv = du + 1;
          queue[queued++] = v;
          if (wanted[v]) {
            --pending;
            farthest = std::max(farthest, dv);
          }
        }
        if (dv == du + 1) {
          sigma[v] += sigma_u;
          latency[v] = std::max(latency[v], latency_u + arc_latency_s[a]);
          dag[dag_arcs++] = {v, arcs[a].id};
        }
      }
    }
    dag_first[expanded] = dag_arcs;
    queued_ = queued;
    for (const auto& [dst, bytes] : demand) {
      if (dist[dst] < 0) {
        reset(demand);
        throw InputError("topology '" + topo_.name + "': no route from rank " +
                         std::to_string(src) + " to rank " + std::to_string(dst));
      }
      demand_[dst] += bytes;
      max_latency_s_ = std::max(max_latency_s_, latency[dst]);
      if constexpr (kRecord) rec->max_latency_s = std::max(rec->max_latency_s, latency[dst]);
    }
    if constexpr (kRecord) {
      constexpr double kExact = 9007199254740992.0;  // 2^53
      for (std::size_t i = 0; i < queued; ++i)
        if (!(sigma[queue[i]] < kExact)) rec->exact_counts = false;
    }
    // Reverse BFS order: every vertex's successors are finished before it.
    const double* demand_bytes = demand_.data();
    double* delta = delta_.data();
    double* arc_load = arc_load_.data();
    for (std::size_t i = expanded; i-- > 0;) {
      const int u = order[i];
      const double sigma_u = sigma[u];
      double delta_u = delta[u];
      [[maybe_unused]] double first_share = 0;
      [[maybe_unused]] bool mixed = false;
      for (std::size_t k = dag_first[i]; k < dag_first[i + 1]; ++k) {
        const int v = dag[k].target;
        const double through = sigma_u / sigma[v] * (demand_bytes[v] + delta[v]);
        if (through == 0) continue;
        arc_load[dag[k].id] += through;
        delta_u += through;
        if constexpr (kRecord) {
          rec->add_arcs.push_back(dag[k].id);
          if (rec->runs.empty() || rec->runs.back().first != through)
            rec->runs.emplace_back(through, 0);
          rec->runs.back().second = rec->add_arcs.size();
          if (first_share == 0) first_share = through;
          mixed = mixed || through != first_share;
        }
      }
      if constexpr (kRecord)
        if (mixed) rec->mixed.push_back(u);
      delta[u] = delta_u;
    }
    reset(demand);
  }

  /// Clears what route() wrote: the vertices it reached (all of them are in the queue).
  void reset(const std::vector<std::pair<int, double>>& demand) {
    for (std::size_t i = 0; i < queued_; ++i) {
      const int v = queue_[i];
      dist_[v] = -1;
      sigma_[v] = delta_[v] = demand_[v] = latency_[v] = 0;
    }
    for (const auto& d : demand) wanted_[d.first] = 0;
  }

  const Topology& topo_;
  int n_;
  bool prune_;
  std::vector<double> arc_load_;
  std::span<const int> destinations_;
  std::optional<ArcList> up_, all_;  // scale-up arcs only; all arcs
  std::vector<int> dist_;
  std::vector<double> sigma_, delta_, demand_, latency_;
  std::vector<char> wanted_;
  // route()'s scratch, sized once: a vertex is reached at most once, an arc is in the DAG at
  // most once.
  std::vector<int> order_;  // expanded vertices, in BFS order
  std::vector<int> queue_;  // reached vertices: [0, queued_)
  std::size_t queued_ = 0;
  std::unique_ptr<DagArc[]> dag_;       // shortest-path DAG arcs of order_[i]: [dag_first_[i],
  std::vector<std::size_t> dag_first_;  // dag_first_[i + 1])
  std::vector<std::pair<int, double>> local_, remote_;  // add_source's split of a demand
  double max_latency_s_ = 0;
  // Replay: the node exchanges (built at the second source), one record per place in a node, and
  // scratch for comparing demands (zeroed after each use).
  std::optional<NodeSwap> swap_;
  Record first_;
  int routed_ = 0, replayed_ = 0;
  std::vector<Record> records_;
  std::vector<double> demand_at_;
  std::size_t record_size_ = 0;
  std::vector<std::pair<int, double>> row_;    // add_source_to_all's demand
  std::vector<char> is_destination_;           // by vertex, built on first use
  std::pair<int, int> invariant_for_{-2, -2};  // the exchange invariant_ is for
  bool invariant_ =
      false;  // whether it maps the destinations onto themselves  // of the largest record so far: the next one's reserve
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
/// sources[i] into one reused vector, so an all-to-all needs O(n) memory, not O(n^2)).
/// `destinations`: every rank a demand may name.
template <class DemandOf>
StepLoads step_loads(const Topology& topo, std::span<const int> sources,
                     std::span<const int> destinations, Routing routing, DemandOf demand_of) {
  LoadAccumulator acc(topo, destinations, routing);
  std::vector<std::pair<int, double>> demand;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    demand.clear();
    demand_of(i, demand);
    if (!demand.empty()) acc.add_source(sources[i], demand);
  }
  return acc.take();
}

/// step_loads for rows of an all-to-all: sources[i] sends bytes_of(i) to each other rank.
template <class BytesOf>
StepLoads step_loads_to_all(const Topology& topo, std::span<const int> ranks, Routing routing,
                            BytesOf bytes_of) {
  LoadAccumulator acc(topo, ranks, routing);
  if (ranks.size() > 1)
    for (std::size_t i = 0; i < ranks.size(); ++i) acc.add_source_to_all(ranks[i], bytes_of(i));
  return acc.take();
}

/// Times a step by its most loaded arc (the first in id order on a tie).
CommTime time_step(const Topology& topo, const StepLoads& step) {
  CommTime t;
  t.steps = 1;
  t.algorithm = "direct";
  const std::vector<double>& loads = step.arc_bytes;
  const TopologyGraph& g = topo.graph;
  std::optional<TopologyGraph::edge_descriptor> worst;
  for (auto [it, end] = boost::edges(g); it != end; ++it) {  // in id order
    const double load = loads[boost::get(boost::edge_index, g, *it)];
    if (load <= 0) continue;
    const double s = load / (g[*it].usable_gb_per_s * 1e9);
    if (s > t.transfer_s) {
      t.transfer_s = s;
      worst = *it;
    }
  }
  if (worst) {
    t.bottleneck = g[boost::source(*worst, g)].name;
    t.bottleneck.append(" -> ").append(g[boost::target(*worst, g)].name);
    t.bottleneck.append(" (").append(to_string(g[*worst].tier)).append(")");
    t.bottleneck_bytes = loads[boost::get(boost::edge_index, g, *worst)];
  }
  t.latency_s = step.latency_s;
  t.total_s = t.transfer_s + t.latency_s;
  return t;
}

}  // namespace

StepLoads transfer_loads(const Topology& topo, std::span<const Flow> flows, Routing routing) {
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
  return step_loads(topo, sources, destinations, routing,
                    [&](std::size_t i, std::vector<std::pair<int, double>>& demand) {
                      demand.swap(by_source[sources[i]]);
                    });
}

CommTime transfer_time(const Topology& topo, std::span<const Flow> flows, Routing routing) {
  return time_step(topo, transfer_loads(topo, flows, routing));
}

CommTime point_to_point(const Topology& topo, int src, int dst, double bytes) {
  const Flow f{src, dst, bytes};
  return transfer_time(topo, std::span<const Flow>(&f, 1));
}

CommTime all_to_all(const Topology& topo, std::span<const int> ranks, double bytes_per_pair,
                    Routing routing) {
  check_ranks(topo, ranks);
  if (bytes_per_pair < 0) throw InputError("all_to_all: negative bytes per pair");
  return time_step(
      topo, step_loads_to_all(topo, ranks, routing, [&](std::size_t) { return bytes_per_pair; }));
}

StepLoads moe_all_to_all_loads(const Topology& topo, std::span<const int> ranks,
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
  return step_loads_to_all(topo, ranks, routing,
                           [&](std::size_t i) { return bytes_per_rank[i] / n; });
}

CommTime moe_all_to_all(const Topology& topo, std::span<const int> ranks,
                        std::span<const double> bytes_per_rank, Routing routing) {
  return time_step(topo, moe_all_to_all_loads(topo, ranks, bytes_per_rank, routing));
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
