// Internal to sim/step_time.cpp and sim/compiled_step.cpp: an op of the list placed on the
// busiest rank of a layout (its share of the work, its kernel call as the tables index it, the
// breakdown bucket its time goes to). Both the direct pricing and the compiled one use these, so
// the two agree by construction. Not installed; the public interface is sim/serving.h.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include "hardware/perf_model.h"
#include "sim/op_list.h"
#include "sim/serving_internal.h"

namespace v4sim::serving_detail {

/// Work split over the tp ranks of a group (Megatron-style: column- then row-parallel weights,
/// every token of the group on each rank): attention projections and core, the indexer, the LM
/// head, and the shared experts and dense FFNs (vLLM and SGLang shard those over tp too, reducing
/// the MoE output with the attention's kind of all-reduce).
bool tp_split(OpComponent c);

/// Whether op `op` is split over tp: its kind's rule, less the projections the engines replicate
/// (Op::tp). A split op's rank holds 1/tp of its weights and does 1/tp of its tokens' work; a
/// replicated one holds all and does all.
bool split_over_tp(const Op& op);

/// An op's cost on one rank: `token_share` of its FLOPs and activations (the rank's tokens),
/// `kv_share` of its KV traffic and `weight_share` of its weights.
Cost on_rank(const Cost& c, double token_share, double kv_share, double weight_share);

void add_time(StepBreakdown& b, OpComponent c, double s);

/// Whether main layer `layer` has a dense FFN (no routed experts: nothing to dispatch or
/// combine); false for model-level ops (layer -1 or past the main layers).
bool is_dense_layer(const ModelSpec& spec, std::int64_t layer);

/// Token-expert pairs on the busiest rank of a stage when `stage_tokens` tokens pass it.
double pairs_on_rank(const Setup& s, double stage_tokens);

/// The ranks a token's routed experts are exchanged over: 1 when experts spread over no more
/// ranks than a tensor-parallel group (every rank of it holds all of its tokens after the
/// attention all-reduce and runs its own experts on them: vLLM and SGLang TP + EP without DP
/// attention), else the ep group, at most the stage's ranks.
std::int64_t moe_exchange_ranks(const Setup& s);

/// Whether the rank permutes its routed pairs around the grouped GEMM in this phase
/// (sim/moe_permutation.h).
bool permutes_routed_pairs(const Setup& s, bool prefill);

/// The layers whose element-wise kernels a step prices: one main layer of each kind, then the
/// MTP blocks the step runs.
std::vector<std::int64_t> elementwise_layers(const Setup& s);

/// The precision a rank quantises its tokens to before the MoE exchange in this phase, when that
/// is a kernel of its own (sim/exchange_quant.h).
std::optional<Precision> exchange_quant(const Setup& s, bool prefill);

/// Routed-expert work of one MoE layer on the busiest rank, when `stage_tokens` tokens pass the
/// stage in one step: its two grouped GEMMs.
struct RoutedOnRank {
  Cost gate_up, down;
  /// The part a routed-experts op computes (OpKernel::ffn_down).
  const Cost& of(const Op& op) const { return op.kernel.ffn_down ? down : gate_up; }
};
RoutedOnRank routed_on_rank(const Setup& s, double stage_tokens);

/// The precision carrying most of an op's FLOPs (its kernel's input type).
Precision main_precision(const Cost& c);

/// The fields of an op's kernel call that the batch does not change (class, n, k, heads, cache
/// and key lengths, local experts, grouped layout).
KernelCall call_shape(const Setup& s, const Op& op, bool prefill);

/// Fills the fields of `call` (from call_shape) that depend on the rank's `seqs` sequences per
/// dp group and the stage's tokens: its cost, precision, rows, batch and tokens per expert.
void place_call(KernelCall& call, const Setup& s, const Op& op, const Cost& c, double seqs,
                double stage_tokens);

/// The op's kernel call on a rank holding `seqs` sequences (`tokens` of them for token-parallel
/// work) of its dp group: call_shape then place_call.
KernelCall kernel_call(const Setup& s, const Op& op, const Cost& c, double seqs,
                       double stage_tokens, bool prefill);

}  // namespace v4sim::serving_detail
