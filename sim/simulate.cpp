#include "sim/simulate.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <queue>
#include <set>
#include <unordered_map>
#include <utility>

#include "models/config/input_error.h"
#include "sim/kv_pool.h"
#include "sim/layout.h"
#include "sim/prefix_cache.h"
#include "sim/simulate_stats.h"
#include "sim/step_memo.h"

namespace v4sim {
namespace {

/// A sequence in flight.
struct Live {
  std::int64_t id = 0;      // its record
  std::int64_t prompt = 0;  // tokens to prefill: the input, or input + generated on recompute
  std::int64_t done = 0;    // prompt tokens computed or found in the cache
  double generated = 0;     // output tokens produced (the first included)
  std::int64_t admit_order = 0;
  std::int64_t dec_start = 0, dec_finish = 0;  // engine step counters of its decode
  bool decoding = false;
  bool recompute = false;  // re-prefilling after preemption: no first token, no cache lookup
  bool looked_up = false;  // the cache was consulted (once per request)
};

struct Engine {
  bool prefill_only = false;
  double pool_bytes = 0;
  std::deque<int> waiting, prefilling;
  std::set<std::pair<std::int64_t, int>> by_finish;  // decoding: (finish counter, slot)
  std::set<std::pair<std::int64_t, int>> by_admit;   // every admitted: (admit order, slot)
  double kv_tokens = 0;    // summed context (or reserved prompt) of the admitted
  double dec_context = 0;  // summed context of the decoding
  std::int64_t counter = 0;
  bool busy = false;
  PrefixCache cache;
  std::vector<std::pair<int, std::int64_t>> chunks;  // the step in flight: (slot, tokens)
  std::int64_t step_decoders = 0;
  std::size_t load() const { return waiting.size() + by_admit.size(); }
};

struct Event {
  double time_s;
  std::int64_t order;  // ties: first scheduled first
  int kind;            // 0: step end of engine `index`; 1: handoff of slot `index`
  int index;
  bool operator>(const Event& o) const {
    return time_s != o.time_s ? time_s > o.time_s : order > o.order;
  }
};

class Simulator {
 public:
  Simulator(const PreparedModel& model, const SystemSpec& system, int nodes,
            const ServingConfig& config, const SimulationConfig& sim, CommPlanner& planner)
      : config_(config), sim_(sim), steps_(model, system, nodes, config, planner) {
    if (sim.max_batch < 1) throw InputError("--max-batch must be at least 1");
    budget_ = sim.token_budget > 0 ? sim.token_budget : config.prefill_chunk_tokens;
    if (budget_ < 1) throw InputError("token budget must be at least 1");
    if (!(sim.timeline_interval_s > 0)) throw InputError("timeline interval must be positive");
    const ModelSpec& spec = model.spec;
    const LinearKv kv =
        linear_kv(spec, spec.kv_format(config.kv_format), config.mtp_acceptance > 0);
    kv_fixed_ = kv.fixed_bytes;
    kv_per_token_ = kv.per_token_bytes;
    tps_ = steps_.tokens_per_step();
    r_.kv_bytes_per_token = kv_per_token_;
    r_.kv_bytes_fixed = kv_fixed_;
    r_.tokens_per_step = tps_;

    const Layout& l = config.layout;
    auto pool_bytes = [&](const ServingConfig& c) {
      return engine_kv_pool_bytes(model, system, nodes, c, sim.max_batch, budget_, planner);
    };
    const double decode_pool = sim.kv_pool_bytes > 0 ? sim.kv_pool_bytes : pool_bytes(config);
    double prefill_pool = decode_pool;
    const std::int64_t n = config.prefill_devices;
    if (n > 0 && sim.kv_pool_bytes <= 0) {
      ServingConfig pool = config;
      pool.layout = dp_attention_layout(n, spec.moe.num_routed_experts);
      pool.prefill_devices = 0;
      pool.devices = n;
      prefill_pool = pool_bytes(pool);
    }
    for (std::int64_t i = 0; i < n; ++i) {
      engines_.push_back(Engine{});
      engines_.back().prefill_only = true;
      engines_.back().pool_bytes = prefill_pool;
    }
    for (std::int64_t i = 0; i < l.dp; ++i) {
      engines_.push_back(Engine{});
      engines_.back().pool_bytes = decode_pool;
    }
    first_decode_ = static_cast<std::size_t>(n);
    r_.engines = static_cast<std::int64_t>(engines_.size());
    r_.prefill_engines = n;
    r_.kv_pool_bytes = decode_pool;
    r_.devices = l.devices() + n;
    for (const Engine& e : engines_) total_pool_ += e.pool_bytes;
  }

  SimulationResult run(const RequestSource& source) {
    Request next;
    bool more = source(next);
    double previous_arrival = 0;
    if (more) clock_ = next.arrival_s;
    while (more || !events_.empty()) {
      const bool take_arrival = more && (events_.empty() || next.arrival_s < events_.top().time_s);
      if (take_arrival) {
        if (next.arrival_s < previous_arrival)
          throw InputError("request arrivals must not go back in time");
        previous_arrival = next.arrival_s;
        advance(next.arrival_s);
        arrive(next);
        more = source(next);
        continue;
      }
      const Event e = events_.top();
      events_.pop();
      advance(e.time_s);
      if (e.kind == 0) {
        end_step(static_cast<std::size_t>(e.index));
      } else {
        handoff(e.index);
      }
    }
    return finish();
  }

 private:
  double bytes(double tokens, double sequences) const {
    return sequences * kv_fixed_ + tokens * kv_per_token_;
  }
  double used(const Engine& e) const {
    return bytes(e.kv_tokens, static_cast<double>(e.by_admit.size()));
  }
  double cache_bytes(const Engine& e) const {
    return static_cast<double>(e.cache.size()) * kv_per_token_ *
           static_cast<double>(kPrefixBlockTokens);
  }
  /// Evicts cached blocks until `extra` more bytes fit; false if they cannot.
  bool make_room(Engine& e, double extra) {
    while (used(e) + cache_bytes(e) + extra > e.pool_bytes)
      if (!e.cache.evict_one()) return false;
    return true;
  }

  std::size_t least_loaded(std::size_t from, std::size_t to) const {
    std::size_t best = from;
    for (std::size_t i = from + 1; i < to; ++i)
      if (engines_[i].load() < engines_[best].load()) best = i;
    return best;
  }

  /// The prefilling engine in [0, to) with the most leading blocks of `hashes` cached (ties: the
  /// least loaded, then the lowest index) when they are more than half the prompt's blocks; else
  /// the least loaded. The threshold keeps a prefix every prompt shares (a system prompt,
  /// Mooncake's block 0) from sending all traffic to one engine, as cache-aware routers' match-rate
  /// thresholds do.
  std::size_t best_cached(const std::vector<std::uint64_t>& hashes, std::size_t to) const {
    std::size_t best = 0;
    std::int64_t best_hits = -1;
    for (std::size_t i = 0; i < to; ++i) {
      const std::int64_t hits = engines_[i].cache.peek_leading_hits(hashes);
      if (hits > best_hits || (hits == best_hits && engines_[i].load() < engines_[best].load())) {
        best = i;
        best_hits = hits;
      }
    }
    if (2 * best_hits <= static_cast<std::int64_t>(hashes.size())) return least_loaded(0, to);
    return best;
  }

  void schedule(double t, int kind, int index) { events_.push(Event{t, order_++, kind, index}); }

  int new_slot() {
    if (!free_.empty()) {
      const int s = free_.back();
      free_.pop_back();
      return s;
    }
    live_.emplace_back();
    return static_cast<int>(live_.size() - 1);
  }

  void arrive(const Request& q) {
    RequestRecord rec;
    rec.arrival_s = q.arrival_s;
    rec.input_tokens = q.input_tokens;
    rec.output_tokens = q.output_tokens;
    const std::int64_t id = static_cast<std::int64_t>(r_.requests.size());
    const bool disaggregated = first_decode_ > 0;
    const std::size_t to = disaggregated ? first_decode_ : engines_.size();
    const std::size_t target = sim_.cache_aware_routing && sim_.prefix_cache
                                   ? best_cached(q.block_hashes, to)
                                   : least_loaded(0, to);
    // Never fits, even alone in an empty engine: rejected now, counted, not dropped.
    const double whole = bytes(static_cast<double>(q.input_tokens + q.output_tokens), 1.0);
    const double prompt = bytes(static_cast<double>(q.input_tokens), 1.0);
    if ((disaggregated ? prompt : whole) > engines_[target].pool_bytes ||
        whole > engines_[first_decode_].pool_bytes) {
      rec.rejected = true;
      ++r_.rejected;
      r_.requests.push_back(rec);
      return;
    }
    r_.requests.push_back(rec);
    hashes_.emplace(id, q.block_hashes);
    const int s = new_slot();
    live_[static_cast<std::size_t>(s)] = Live{};
    live_[static_cast<std::size_t>(s)].id = id;
    live_[static_cast<std::size_t>(s)].prompt = q.input_tokens;
    ++in_system_;
    engines_[target].waiting.push_back(s);
    if (!engines_[target].busy) start_step(target);
  }

  void handoff(int s) {
    const std::size_t target = least_loaded(first_decode_, engines_.size());
    engines_[target].waiting.push_back(s);
    if (!engines_[target].busy) start_step(target);
  }

  /// Removes an admitted sequence's KV and bookkeeping from its engine.
  void release(Engine& e, int s) {
    Live& v = live_[static_cast<std::size_t>(s)];
    double tokens = static_cast<double>(v.prompt);
    if (v.decoding) {
      tokens += static_cast<double>(e.counter - v.dec_start) * tps_;
      e.dec_context -= tokens;
      e.by_finish.erase({v.dec_finish, s});
      v.generated += static_cast<double>(e.counter - v.dec_start) * tps_;
      v.decoding = false;
    }
    e.kv_tokens -= tokens;
    e.by_admit.erase({v.admit_order, s});
    if (e.by_admit.empty()) e.kv_tokens = e.dec_context = 0;  // no drift across idle periods
  }

  void join_decode(Engine& e, int s) {
    Live& v = live_[static_cast<std::size_t>(s)];
    const double left =
        static_cast<double>(r_.requests[static_cast<std::size_t>(v.id)].output_tokens) -
        v.generated;
    const auto steps = static_cast<std::int64_t>(std::ceil(left / tps_ - 1e-9));
    v.decoding = true;
    v.dec_start = e.counter;
    v.dec_finish = e.counter + std::max<std::int64_t>(1, steps);
    e.dec_context += static_cast<double>(v.prompt);
    e.by_finish.insert({v.dec_finish, s});
  }

  void complete(int s, double t) {
    Live& v = live_[static_cast<std::size_t>(s)];
    RequestRecord& rec = r_.requests[static_cast<std::size_t>(v.id)];
    rec.finish_s = t;
    ++r_.completed;
    --in_system_;
    hashes_.erase(v.id);
    free_.push_back(s);
  }

  void preempt_newest(Engine& e) {
    const int s = e.by_admit.rbegin()->second;
    Live& v = live_[static_cast<std::size_t>(s)];
    const bool was_decoding = v.decoding;
    release(e, s);
    if (!was_decoding) e.prefilling.erase(std::find(e.prefilling.begin(), e.prefilling.end(), s));
    if (v.recompute || was_decoding) {
      v.prompt = r_.requests[static_cast<std::size_t>(v.id)].input_tokens +
                 static_cast<std::int64_t>(std::floor(v.generated));
      v.recompute = true;
    }
    v.done = 0;
    ++r_.requests[static_cast<std::size_t>(v.id)].preemptions;
    ++r_.preemptions;
    e.waiting.push_front(s);
  }

  void admit(Engine& e, double t) {
    while (!e.waiting.empty() && static_cast<std::int64_t>(e.by_admit.size()) < sim_.max_batch) {
      const int s = e.waiting.front();
      Live& v = live_[static_cast<std::size_t>(s)];
      RequestRecord& rec = r_.requests[static_cast<std::size_t>(v.id)];
      // Colocated engines and prefill engines hold a cache; decode engines never look.
      const bool has_cache = sim_.prefix_cache && (e.prefill_only || first_decode_ == 0);
      if (has_cache && !v.looked_up && !v.recompute && v.done == 0) {
        const std::int64_t hits = e.cache.leading_hits(hashes_.at(v.id));
        rec.cached_tokens = std::min(hits * kPrefixBlockTokens, rec.input_tokens - 1);
        v.looked_up = true;
      }
      if (!make_room(e, bytes(static_cast<double>(v.prompt), 1.0))) break;
      e.waiting.pop_front();
      if (rec.start_s < 0) rec.start_s = t;
      v.admit_order = admit_counter_++;
      e.by_admit.insert({v.admit_order, s});
      e.kv_tokens += static_cast<double>(v.prompt);
      if (!v.recompute && v.done == 0 && v.generated == 0) v.done = rec.cached_tokens;
      if (v.done >= v.prompt) {
        join_decode(e, s);  // a handed-off sequence: its prompt's KV came with it
      } else {
        e.prefilling.push_back(s);
      }
    }
  }

  void start_step(std::size_t i) {
    Engine& e = engines_[i];
    admit(e, clock_);
    // Decode growth must fit: evict cached blocks, then preempt the newest sequences.
    // A lone sequence always fits (arrivals that could not were rejected), so it is never
    // preempted by itself; its last fraction of a token may round past the pool.
    while (e.by_admit.size() > 1 && !e.by_finish.empty() &&
           !make_room(e, static_cast<double>(e.by_finish.size()) * tps_ * kv_per_token_))
      preempt_newest(e);
    const auto decoders = static_cast<std::int64_t>(e.by_finish.size());
    double step_s =
        decoders > 0 ? steps_.decode_step_s(decoders, e.dec_context / static_cast<double>(decoders))
                     : 0.0;
    std::int64_t budget = budget_ - decoders;
    e.chunks.clear();
    for (int s : e.prefilling) {
      if (budget <= 0) break;
      const Live& v = live_[static_cast<std::size_t>(s)];
      const std::int64_t take = std::min(v.prompt - v.done, budget);
      step_s += steps_.prefill_chunk_s(v.done, v.done + take);
      e.chunks.push_back({s, take});
      budget -= take;
    }
    if (decoders == 0 && e.chunks.empty()) {
      e.busy = false;
      return;
    }
    e.step_decoders = decoders;
    e.busy = true;
    ++r_.steps;
    schedule(clock_ + step_s, 0, static_cast<int>(i));
  }

  void end_step(std::size_t i) {
    Engine& e = engines_[i];
    const double t = clock_;
    if (e.step_decoders > 0) {
      ++e.counter;
      const double grown = static_cast<double>(e.step_decoders) * tps_;
      e.kv_tokens += grown;
      e.dec_context += grown;
    }
    while (!e.by_finish.empty() && e.by_finish.begin()->first <= e.counter) {
      const int s = e.by_finish.begin()->second;
      release(e, s);
      complete(s, t);
    }
    for (const auto& [s, take] : e.chunks) {
      Live& v = live_[static_cast<std::size_t>(s)];
      v.done += take;
      if (v.done < v.prompt) continue;
      e.prefilling.pop_front();  // chunks are taken from the front, in order
      RequestRecord& rec = r_.requests[static_cast<std::size_t>(v.id)];
      if (!v.recompute) {
        if (sim_.prefix_cache) cache_prompt(e, v.id);
        v.generated = 1;
      }
      if (e.prefill_only) {
        release(e, s);
        const double arrive_s = t + steps_.kv_transfer_s(v.prompt);
        rec.first_token_s = arrive_s;
        v.done = v.prompt;
        if (rec.output_tokens <= 1) {
          complete(s, arrive_s);
        } else {
          schedule(arrive_s, 1, s);
        }
        continue;
      }
      if (!v.recompute) rec.first_token_s = t;
      if (v.generated >= static_cast<double>(rec.output_tokens)) {
        release(e, s);
        complete(s, t);
      } else {
        join_decode(e, s);
      }
    }
    e.chunks.clear();
    e.busy = false;
    start_step(i);
  }

  void cache_prompt(Engine& e, std::int64_t id) {
    for (std::uint64_t h : hashes_.at(id)) {
      if (!e.cache.contains(h) &&
          !make_room(e, kv_per_token_ * static_cast<double>(kPrefixBlockTokens)))
        return;  // no room even with every other block evicted: not cached
      e.cache.touch_or_add(h);
    }
  }

  /// Accumulates the time averages up to `t` (the state is constant since the last event).
  void advance(double t) {
    const double dt = t - clock_;
    if (dt > 0) {
      double running = 0, waiting = 0, kv = 0, cache = 0;
      for (const Engine& e : engines_) {
        running += static_cast<double>(e.by_admit.size());
        waiting += static_cast<double>(e.waiting.size());
        kv += used(e);
        cache += cache_bytes(e);
      }
      in_system_area_ += static_cast<double>(in_system_) * dt;
      running_area_ += running * dt;
      max_running_ = std::max(max_running_, running);
      OccupancySample state;
      state.running = running;
      state.waiting = waiting;
      state.kv_fraction = kv / total_pool_;
      state.cache_fraction = cache / total_pool_;
      add_occupancy(r_.timeline, sim_.timeline_interval_s, clock_, t, state);
    }
    clock_ = std::max(clock_, t);
  }

  SimulationResult finish() {
    const double span = summarize_requests(r_, sim_);
    r_.mean_in_system = in_system_area_ / span;
    r_.mean_running = running_area_ / span;
    r_.max_running = max_running_;
    r_.predict_calls = steps_.predict_calls();
    return std::move(r_);
  }

  ServingConfig config_;
  SimulationConfig sim_;
  StepTimes steps_;
  std::int64_t budget_ = 0;
  double kv_fixed_ = 0, kv_per_token_ = 0, tps_ = 1, total_pool_ = 0;
  std::vector<Engine> engines_;
  std::size_t first_decode_ = 0;  // engines [0, first_decode_) prefill only
  std::vector<Live> live_;
  std::vector<int> free_;
  std::unordered_map<std::int64_t, std::vector<std::uint64_t>> hashes_;  // in flight only
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  std::int64_t order_ = 0, admit_counter_ = 0, in_system_ = 0;
  double clock_ = 0, in_system_area_ = 0, running_area_ = 0, max_running_ = 0;
  SimulationResult r_;
};

}  // namespace

SimulationResult simulate(const PreparedModel& model, const SystemSpec& system, int nodes,
                          const ServingConfig& config, const SimulationConfig& sim,
                          const RequestSource& source, CommPlanner& planner) {
  Simulator s(model, system, nodes, config, sim, planner);
  return s.run(source);
}

}  // namespace v4sim
