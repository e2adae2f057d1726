// Internal to sim/step_time.cpp and sim/serving_setup.cpp: the compiled cost model. A search
// prices one layout at many batches; everything about an op that the batch does not change is
// worked out once per (setup, pass) and kept here, so that a point costs, per op, its rank's
// share of the cost, one roofline, one table lookup and a few sums. Not installed; the public
// interface is sim/serving.h.
//
// What is compiled, per setup (model, system, layout, precision, config) and pass shape (start,
// tokens, logits, phase, which ops): the op list itself (build_ops, with names, costs per
// sequence and kernel shapes), each op's layer repeats and breakdown bucket, its share of the
// weights on the rank, which of its cost terms are non-zero, and its kernel call with every field
// but the batch's (rows, batch, tokens per expert, cost, precision) filled in.
//
// What is not: the per-point work, through the same functions the direct path uses
// (sim/op_on_rank.h), in the same order, so that results equal the direct evaluation's bit for
// bit (tests/sim/compiled_step_test.cpp). The direct path stays the reference: it is what runs
// when a per-op table is asked for (ServingConfig::op_timings).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <tuple>
#include <vector>

#include "hardware/perf_model.h"
#include "hardware/roofline.h"
#include "sim/attention_module.h"
#include "sim/elementwise.h"
#include "sim/op_list.h"
#include "sim/serving_internal.h"

namespace v4sim::serving_detail {

/// One non-zero term of an op's cost per sequence: which field (Cost slot: FLOPs by precision,
/// then bytes read, then bytes written, each by memory class) and which share scales it.
enum class Share : std::uint8_t { tokens, kv, weights };
struct CostTerm {
  std::uint8_t slot = 0;
  Share share = Share::tokens;
  std::int64_t value = 0;
};
inline constexpr int kCostSlots = kNumPrecisions + 2 * kNumMemClasses;

/// An op with what pricing derives from it alone.
struct CompiledOp {
  const Op* op = nullptr;  // into CompiledPass::ops
  std::string_view component_name;
  bool main_layer = false;
  bool dense_layer = false;  // of a main layer without routed experts (is_dense_layer)
  double repeats = 1.0;      // layers this representative stands for (1 for model-level ops)
  bool routed = false;       // routed experts: the stage's routed work, priced once per pass
  bool table = false;        // looked up in the measured tables (else the roofline alone)
  bool gemm = false;         // a GEMM: its input may need quantising (sim/activation_quant.h)
  bool tp_split =
      false;  // split over tp (split_over_tp()): its share of the tokens' work, else all
  double weight_share = 1.0;
  std::array<CostTerm, kCostSlots> terms{};
  int num_terms = 0;
  KernelCall call;         // call_shape(): the batch's fields are filled per point
  PerfModel::Shape shape;  // of `call`, for the table lookups (ops priced once: same_as < 0)
  /// An earlier op of the pass whose cost, time and table lookup are this one's at every batch
  /// (the same projection or FFN in layers of another attention kind), or -1: priced once.
  int same_as = -1;
  /// A digest of what same_as compares, so that finding it is one integer compare per op.
  std::uint64_t digest = 0;
  /// Its layer's slot when the op is part of a sublayer a module table may time, else -1
  /// (sim/attention_module.h).
  int module_slot = -1;
};

/// A compiled op priced at one point: its rank's cost, roofline and table time, and the input
/// quantisation after it (activation bytes only, timed as an element-wise kernel) when it has one.
struct PricedOp {
  Cost cost;
  RooflineTotal roofline;
  const PerfEstimate* estimate = nullptr;
  double time_s = 0;
  /// Work::add's terms of the cost (for this op and those reusing its price): FLOPs over peak of
  /// each precision it adds, in precision order, and the bytes.
  std::array<double, kNumPrecisions> ideal_s{};
  int ideal_terms = 0;
  double bytes = 0;
  bool quant = false;
  double quant_bytes = 0;
  double quant_s = 0;
};

/// The compiled ops of one pass, in op-list order.
struct CompiledPass {
  int uses = 0;  // times priced; compiled from the second (a pass priced once is not worth it)
  bool ready = false;  // compiled
  std::vector<Op> ops;
  std::vector<CompiledOp> compiled;
  /// One point's prices, by op (the storage a point reuses; filled by the step timing).
  std::vector<PricedOp> priced;
  /// The interned shapes of the pass's module calls, by slot (sim/attention_module.h).
  std::array<std::optional<PerfModel::Shape>, kMaxModuleSlots> module_shapes{};
  /// The ops with a module slot, in pass order: added once their module is asked for.
  std::vector<std::size_t> module_ops;
};

/// An element-wise kernel between a layer's ops (sim/elementwise.h, sim/ffn_activation.h,
/// sim/moe_permutation.h) by its bytes per row: the rows are the group's tokens, or the rank's
/// routed token-expert pairs. Its bytes at n rows are these times n, the integers
/// elementwise_kernels(), ffn_activation_kernels() and moe_permutation_kernels() give for n.
struct CompiledElementwise {
  OpComponent component = OpComponent::attention_projections;
  double repeats = 1.0;      // layers its layer representative stands for
  bool per_pair = false;     // rows: routed token-expert pairs (else tokens)
  bool dense_layer = false;  // its layer has no routed experts (is_dense_layer)
  /// A permute or unpermute (sim/moe_permutation.h): only in the phases that run them.
  bool permutation = false;
  /// The quantisation before the MoE exchange (sim/exchange_quant.h): only in the phases whose
  /// exchange runs it; rows: the tokens the rank sends.
  bool exchange_quant = false;
  /// Of an MTP block: booked with the model-level ops as mtp.
  bool mtp = false;
  /// Done inside a fused MoE kernel (ElementwiseKernel::moe_glue).
  bool moe_glue = false;
  std::int64_t read_per_row = 0;
  std::int64_t written_per_row = 0;
  /// The first kernel of the list with the same rows and bytes (this one's index if none): its
  /// time and bytes at a point are this one's.
  std::size_t same_as = 0;
};

/// A setup's compiled passes, compiled when first priced. Owned by the setup (one per layout).
struct CompiledSteps {
  std::map<std::tuple<std::int64_t, std::int64_t, bool, bool, OpSelect>, CompiledPass> passes;
  /// The use of a pass that compiles it: the second by default, the first once the caller knows
  /// the pass recurs (a sweep of several batches: compile_sweeps()).
  int compile_at_use = 2;
  /// compiled_elementwise(), built on first request.
  std::vector<CompiledElementwise> elementwise;
  bool elementwise_ready = false;
  /// One point's time and bytes of each element-wise kernel (by same_as; the storage reused).
  std::vector<double> elementwise_s, elementwise_bytes;
};

/// The pass compiled for `s` (from its cache, or compiled now and kept there), or null before
/// its compile_at_use-th use: the direct pricing costs less than compiling a pass used once (the
/// chunks of one prompt's prefill), and gives the same numbers.
CompiledPass* compiled_pass(const Setup& s, const Pass& pass, bool logits_all, bool prefill,
                            OpSelect select);

/// The setup's element-wise kernels (it has a compiled model), layer representative by
/// representative in the order the direct pricing adds them (step_time.cpp).
const std::vector<CompiledElementwise>& compiled_elementwise(const Setup& s);

/// From now on, compile the setup's passes on their first use: the caller prices each of them
/// again (a sweep's batches). No-op without a compiled model.
void compile_sweeps(const Setup& s);

/// The rank's cost of a compiled op: on_rank() of its per-sequence cost, on its non-zero terms.
Cost compiled_cost(const CompiledOp& op, double token_share, double kv_share);

}  // namespace v4sim::serving_detail
