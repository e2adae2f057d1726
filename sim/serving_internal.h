// Internal to sim/serving*.cpp, sim/step_time.cpp and sim/op_ledger.cpp: the per-request setup
// that serving.cpp builds once and the step timing (step_time.cpp, its ledger op_ledger.cpp) and
// capacity (serving_memory.cpp) read. Not installed and not for other folders: the public
// interface is sim/serving.h.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "hardware/roofline.h"
#include "sim/serving.h"

namespace v4sim {

class PerfModel;      // hardware/perf_model.h
struct PerfEstimate;  // hardware/perf_model.h
struct OpTime;        // hardware/roofline.h

namespace serving_detail {

struct CompiledSteps;  // sim/compiled_step.h

/// Roofline work of a rank: time at 100% of the peaks the FLOPs run on, and bytes moved.
struct Work {
  double ideal_compute_s = 0;
  double bytes = 0;
  /// Precisions that ran on another path, in the order first met (typed: formatted by writers).
  std::vector<PrecisionFallback> fallback;
  void add(const Accelerator& d, const Cost& c, const OpTime& t, double times = 1.0);
  /// The same from the device's rates and roofline_total()'s fallback_used, bit for bit.
  void add(const RooflineRates& r, const Cost& c, bool fallback_used, double times);
  /// Adds the fallbacks of `list` not yet present.
  void merge_fallback(const std::vector<PrecisionFallback>& list);
};

/// Op timings by name, summed over layers and microbatches, with where each came from.
struct OpLedger {
  /// False: add() keeps the sources and warnings only (ServingConfig::op_timings).
  bool detail = true;
  std::vector<OpTiming> ops;
  TimeSources sources;
  /// Shared texts: ledgers are merged several times per step and prefill chunk, and a merge then
  /// copies pointers instead of strings. texts() gives them as ServingResult::warnings.
  std::vector<std::shared_ptr<const std::string>> warnings;
  std::vector<std::string> texts() const;

  /// `warn` false: the estimate's extrapolation is warned about elsewhere (once for the ops of a
  /// measured module, sim/attention_module.h).
  void add(std::string_view name, std::string_view component, double time_s, double repeats,
           const PerfEstimate& e, bool warn = true);
  /// The warning that `name`'s estimate held a table's end, once per text.
  void warn_if_extrapolated(std::string_view name, const PerfEstimate& e);
  /// Adds `o` with its times scaled by `times` and its call counts by `calls` (the stage's share
  /// of the layers scales both; a slowdown scales only the time).
  void merge(const OpLedger& o, double times, double calls);

 private:
  /// The entry of `name` timed by `source`, or ops.size(). Ledgers are built in op-list order, so
  /// the search starts where the last one matched.
  std::size_t find(std::string_view name, std::string_view source);
  std::size_t cursor_ = 0;
};

struct Pricing {
  StepBreakdown breakdown;  // one pipeline stage
  /// Of `breakdown`'s compute, by where it runs (the overlap schedule's runs): the stage's dense
  /// FFN layers, its MoE layers, and the model-level ops with the MTP block.
  StepBreakdown dense_layers, moe_layers, model_level;
  Work work;
  OpLedger ledger;
};

/// Everything about one (model, system, config, workload) that does not depend on the batch.
struct Setup {
  const ModelSpec& spec;
  const std::vector<WeightTensor>& weights;
  const SystemSpec& system;
  int nodes;
  const ServingConfig& config;
  const Workload& workload;
  const Accelerator& device;
  Layout layout;
  bool mtp;
  std::int64_t q;            // query positions per sequence per decode step
  double stage_layer_share;  // main layers on the heaviest stage / all main layers
  std::int64_t stage_layers;
  std::int64_t stage_moe_layers;
  std::int64_t local_experts;  // routed experts held per rank per layer
  CommModel comm;
  /// Measured kernel tables (null: roofline only).
  const PerfModel* perf = nullptr;
  /// Disaggregated prefill: its pool's setup and the KV transfer to a decode rank.
  std::shared_ptr<const Setup> prefill_pool;
  CommLine kv_transfer;
  /// One main layer of each kind (layer_groups) and, by layer index, how many it stands for.
  std::vector<std::int64_t> layer_representatives{};
  std::vector<double> layer_repeats{};
  const WeightIndex* weight_index = nullptr;  // of `weights`
  const WeightSums* weight_sums = nullptr;    // of `weights`
  /// Capacity terms that do not depend on the batch (fill_capacity).
  double weights_bytes_per_rank = 0;
  double kv_bytes_per_sequence = 0;
  /// The compiled cost model's passes for this setup (sim/compiled_step.h), when the config keeps
  /// no per-op table (a search's points); null: every point builds and prices its op list.
  std::shared_ptr<CompiledSteps> compiled{};
  /// Op lists and weights per rank shared with the model's other setups (sim/model_cache.h), or
  /// null: built here.
  ModelCache* model_cache = nullptr;
  /// One prompt's prefill shared with the other searches of the model on the system
  /// (sim/prefill_memo.h), or null: priced here.
  PrefillMemo* prefill_memo = nullptr;
  /// smallest_kernel_s(perf, device) (sim/elementwise.h): the floor of every element-wise kernel,
  /// a table lookup asked once here rather than per kernel per point.
  double smallest_kernel_s = 0;
  /// roofline_rates(device): op_time's figures, for the compiled passes' roofline_total().
  RooflineRates rates{};
  /// The MTP blocks the step runs (0 without MTP) and those of them with routed experts: they
  /// exchange tokens and reduce over tp as a main layer does, counted on the heaviest stage.
  std::int64_t mtp_layers = 0;
  std::int64_t mtp_moe_layers = 0;
  /// With K > 1 MTP drafts (mtp_tokens), the chain's drafts after the first: each a pass of the
  /// MTP blocks alone (no main layers, stage_layers 0) over one token per sequence, since a draft
  /// needs the one before it. The step's own MTP pass, over its K + 1 positions, makes the first.
  /// Null without MTP or with one draft.
  std::shared_ptr<const Setup> mtp_chain{};
};

// Setup (serving_setup.cpp).

/// A validated request with everything that does not depend on the batch, or, when the layout
/// cannot run, an infeasible result in `problem` (and no setup).
struct Prepared {
  std::unique_ptr<CommPlanner> own_planner;  // when the caller gave none (the setup points into it)
  std::optional<PreparedModel> overridden;
  std::optional<Setup> setup;
  SystemTotals totals;
  ServingResult problem;
};

/// Validates the request (InputError when malformed) and fills `p`. `cache` (optional) is used
/// when it serves `model` and the config overrides no weights, `memo` (optional) when it serves
/// `model` on `system`.
void prepare_setup(Prepared& p, const PreparedModel& model, const SystemSpec& system, int nodes,
                   const ServingConfig& config, const Workload& workload, CommPlanner* planner,
                   ModelCache* cache = nullptr, PrefillMemo* memo = nullptr);

/// The op-list options every pricing of the setup uses (the direct and the compiled path alike,
/// so that both price the same list): the setup's KV format and MTP, one layer of each kind, names
/// within a layer (a breakdown sums an op over layers).
OpOptions setup_op_options(const Setup& s, bool prefill, bool logits_all, OpSelect select);

/// The op list of `pass` for the setup: from its model cache, or built into `own`.
const std::vector<Op>& setup_ops(const Setup& s, const Pass& pass, const OpOptions& options,
                                 std::vector<Op>& own);

// Step timing (step_time.cpp).

/// A stage's compute sums (step_time.cpp) of the ops that do not depend on where a pass starts,
/// by (pass tokens, sequences, logits for all tokens, prefill): the chunks of one prefill share
/// them. Used only when the config keeps no per-op table (ServingConfig::op_timings false, as a
/// search runs), since the ledger then lists no ops whose order could change.
struct ComputeSums;
struct FixedCompute {
  std::map<std::tuple<std::int64_t, double, bool, bool>, std::shared_ptr<const ComputeSums>> sums;
};

/// One pipeline stage's time for `seqs` sequences per dp group, each contributing the queries of
/// `pass`, with two-microbatch overlap when the config asks for it and there is something to hide.
/// `fixed` (optional): reuse and keep the position-independent ops' sums there.
Pricing price_stage(const Setup& s, const Pass& pass, double seqs, bool logits_all, bool prefill,
                    FixedCompute* fixed = nullptr);

/// Prefill of `prompts` prompts per dp group of the workload's context (cache hits skipped),
/// chunk by chunk through every pipeline stage.
struct Prefill {
  double time_s = 0;        // all stages: the time to first token
  StepBreakdown breakdown;  // one stage, summed over chunks
  Work work;
  OpLedger ledger;
};
Prefill price_prefill(const Setup& s, double prompts);

/// price_prefill(s, 1.0), from the setup's prefill memo when it has one (else priced into `own`).
const Prefill& one_prompt(const Setup& s, Prefill& own);

/// Prompt tokens whose KV is already cached (skipped by prefill).
std::int64_t cached_tokens(const Setup& s);

/// Disaggregated: shipping one sequence's KV cache from the prefill pool to its decode rank.
double kv_transfer_s(const Setup& s);

/// Time to first token of one prompt: on the decode ranks when colocated, or on the prefill pool
/// plus the KV transfer when disaggregated (0 for a prefill workload).
double decode_ttft(const Setup& s);

// Capacity (serving_memory.cpp).

/// Sets the setup's weights per rank and KV bytes per sequence, once its layout is final.
void fill_capacity(Setup& s);

MemoryUse memory_use(const Setup& s, std::int64_t batch);
std::string memory_reason(const MemoryUse& m);
/// The largest batch per dp group that fits in HBM (0 if none).
std::int64_t largest_fitting(const Setup& s);

}  // namespace serving_detail
}  // namespace v4sim
