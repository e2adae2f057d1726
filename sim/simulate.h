// Serving simulation: requests arrive over time (sim/trace.h), a scheduler like the engines'
// batches them step by step, and each step's time comes from the same step model as `predict`
// (sim/step_memo.h). Event-driven at step granularity; memory grows with the requests in flight
// (plus one small record per request for the latency statistics).
//
// The model, each part stated:
//  * Engines: colocated, each dp group of the layout is an engine with its own queue, KV pool and
//    prefix cache; a request goes to the engine with the fewest requests (waiting + running,
//    lowest index on ties; or, with cache-aware routing, the one whose prefix cache holds the
//    longest run of its leading blocks when that is more than half of them). Engines step
//    independently, each step priced at its own batch (the MoE all-to-all that couples dp groups in
//    reality is priced by predict as if every group ran that batch). Disaggregated
//    (--prefill-devices N): N prefill engines (tp=1, one rank each) and the layout's dp groups as
//    decode engines; a prompt finished on a prefill engine reaches the least-loaded decode engine
//    after predict's KV transfer time, which is also when its first token counts (TTFT = prefill +
//    transfer, as predict has it).
//  * Continuous batching: a step runs every decoding sequence of its engine plus prompt chunks
//    under a token budget (decode tokens count against it, Sarathi-style); prompts are chunked in
//    admission order (FIFO). A step costs decode_step(b, mean context) + the chunks' prefill time:
//    mixed steps pay both (conservative: weights are read by both).
//  * --max-batch caps the sequences an engine holds (prefilling + decoding).
//  * KV memory per engine: the usable HBM of a rank (after the reserved share) less the weights
//    and the activations of a full step, from predict's MemoryUse. A sequence holds the KV of its
//    context (kv_cache_per_sequence, linear between 1 token and the model's maximum); a prompt
//    reserves its whole prompt's KV when admitted. Admission is FIFO and stops at the first
//    request that does not fit. When decode growth overflows the pool, cached prefix blocks are
//    evicted first (LRU), then the most recently admitted sequence is preempted by recompute: its
//    KV is dropped and it returns to the front of its engine's queue to prefill its prompt plus
//    the tokens it had generated (its first-token time stays). A request whose prompt plus output
//    cannot fit in an empty engine is rejected at arrival and counted, never silently dropped.
//  * Prefix cache: per prefilling engine, by the trace's 512-token block hashes; a request hits
//    its longest run of leading blocks present (at most input - 1 tokens, so one token is always
//    computed), and its prompt's blocks enter the cache when its prefill ends. Cached blocks
//    share the KV pool with running sequences and are evicted LRU. Blocks are priced at the
//    linear KV bytes per token; a running sequence also holds its own copy of its hit blocks
//    (conservative). Recompute after preemption does not look in the cache.
//  * MTP: every decode step yields predict's tokens_per_step per sequence (an expected value,
//    fractional), so a request with O output tokens decodes for ceil((O - 1) / tokens_per_step)
//    steps after its first token.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "hardware/system.h"
#include "sim/communication.h"
#include "sim/percentiles.h"
#include "sim/serving.h"
#include "sim/trace.h"

namespace v4sim {

struct SimulationConfig {
  std::int64_t max_batch = 256;   // sequences per engine (prefilling + decoding)
  std::int64_t token_budget = 0;  // tokens per step per engine; 0: the prefill chunk size
  double kv_pool_bytes = 0;       // per engine; 0: from the memory model (above)
  bool prefix_cache = true;
  /// Route a request to the prefilling engine whose cache holds the longest run of its leading
  /// blocks when that run is more than half its blocks (ties: the least loaded), else to the least
  /// loaded, as cache-aware routers do; false: always the least loaded.
  bool cache_aware_routing = false;
  std::optional<double> slo_ttft_s, slo_tpot_s;
  double timeline_interval_s = 1.0;  // resolution of the occupancy timeline
};

/// One request's fate. Times are from the start of the run.
struct RequestRecord {
  double arrival_s = 0;
  double start_s = -1;        // start of the first step that worked on it (queueing ends)
  double first_token_s = -1;  // -1: never (rejected)
  double finish_s = -1;
  std::int64_t input_tokens = 0, output_tokens = 0;
  std::int64_t cached_tokens = 0;  // prompt tokens found in the prefix cache
  std::int32_t preemptions = 0;
  bool rejected = false;
  double ttft_s() const { return first_token_s - arrival_s; }
  double e2e_s() const { return finish_s - arrival_s; }
  /// Time per output token after the first (0 for a one-token answer).
  double tpot_s() const {
    return output_tokens > 1 ? (finish_s - first_token_s) / static_cast<double>(output_tokens - 1)
                             : 0.0;
  }
};

/// Time averages over one interval of the run, summed over engines.
struct OccupancySample {
  double start_s = 0;
  double running = 0;         // sequences held by engines (prefilling + decoding)
  double waiting = 0;         // queued in engines (not yet admitted)
  double kv_fraction = 0;     // running sequences' KV over the pools
  double cache_fraction = 0;  // cached prefix blocks over the pools
};

struct SimulationResult {
  std::vector<RequestRecord> requests;
  std::int64_t completed = 0, rejected = 0, preemptions = 0, steps = 0;
  Summary ttft_s, tpot_s, e2e_s, queue_s;
  double slo_attainment = 0;  // share of all requests completed within every SLO given
  double goodput_requests_per_s = 0;
  double makespan_s = 0;                                   // first arrival to last completion
  double input_tokens_per_s = 0, output_tokens_per_s = 0;  // whole deployment
  std::int64_t devices = 0;                                // both pools
  double cache_hit_rate = 0;                               // cached prompt tokens / prompt tokens
  /// Little's law, measured independently: the time average of requests in the system (from the
  /// event loop) against the completion rate times the mean time in the system (from records).
  double mean_in_system = 0, littles_law_rhs = 0;
  std::int64_t engines = 0, prefill_engines = 0;
  double kv_pool_bytes = 0;       // per decode (or colocated) engine
  double kv_bytes_per_token = 0;  // linear KV model: bytes = fixed + per_token x context
  double kv_bytes_fixed = 0;
  double tokens_per_step = 1;
  double max_running = 0, mean_running = 0;
  std::int64_t predict_calls = 0;
  std::vector<OccupancySample> timeline;
};

/// Fills `out` with the next request (arrivals non-decreasing); false when there are no more.
using RequestSource = std::function<bool(Request& out)>;

/// Runs the simulation. InputError for a configuration that cannot run (layout infeasible, a
/// budget or batch below 1, no KV memory left after weights).
SimulationResult simulate(const PreparedModel& model, const SystemSpec& system, int nodes,
                          const ServingConfig& config, const SimulationConfig& sim,
                          const RequestSource& source, CommPlanner& planner);

}  // namespace v4sim
