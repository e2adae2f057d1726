// The work of one forward pass as a list of ops, each priced by its kernel's cost(shape).
// sim never re-derives a FLOP or byte formula: it only builds kernel shapes from a ModelSpec.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hardware/perf_table.h"
#include "kernels/cost.h"
#include "models/model_spec.h"
#include "models/weights.h"

namespace v4sim {

/// What an op is part of, for breakdowns.
enum class OpComponent : std::uint8_t {
  attention_projections,  // q/kv/o projections (and MLA absorptions, or the prefill expansion)
  core_attention,         // QK and PV over the attended keys
  indexer_projections,    // lightning-indexer query, key and weight projections
  indexer_scoring,        // lightning-indexer scores over every visible key
  compressor,             // KV compressors (main and indexer) of CSA/HCA layers
  router,
  routed_experts,
  shared_experts,
  dense_ffn,
  mhc,
  lm_head,
  mtp,  // everything the MTP draft block does
};
inline constexpr int kNumOpComponents = 12;
std::string_view to_string(OpComponent c);

/// Queries of one sequence at positions [start_pos, start_pos + num_tokens). Decode of the token
/// that ends a context of n tokens is {n - 1, 1}; a prefill of a T-token prompt is {0, T}.
struct Pass {
  std::int64_t start_pos = 0;
  std::int64_t num_tokens = 1;
};

enum class OpNames : std::uint8_t { full, in_layer, none };
enum class OpSelect : std::uint8_t { all, positional, fixed };

struct OpOptions {
  std::string kv_format = "deploy";  // one of the model's kv_cache formats
  bool include_mtp = false;          // add one MTP draft step per token
  /// Logits for every position (true) or only the last one, as serving prefill does (false).
  bool logits_for_all_tokens = false;
  /// The pass is a prefill chunk: dense MLA (V3) attends in the expanded (MHA) form then, with
  /// wkv_b applied to every cached entry instead of absorbed per query (kernels/mla_attention.h,
  /// MlaExpandedShape). Decode, and V3.2's DSA layers in both phases, use the absorbed form.
  bool prefill = false;
  /// Ranks the attention heads are split over (tensor parallelism). A dense MLA decode kernel
  /// folds a sequence's queries (MTP's verify step) into tiles of its rank's heads
  /// (kernels/mla_attention.h folded_queries), so how many share a tile depends on it.
  std::int64_t attention_tp = 1;
  /// Build the main layers and the model's LM head; false: only the MTP blocks with their own
  /// heads, one pass of an MTP draft chain (needs include_mtp).
  bool main_layers = true;
  /// Main layers to build (ascending; the caller's storage, read during the call); empty: every
  /// layer. Model-level ops and the MTP block are always built. With layer_groups() a caller
  /// prices one layer of each kind and scales it.
  std::span<const std::int64_t> layers;
  /// How ops are named: `full` "layers.2.core_attention" / "mtp.61.ffn.router"; `in_layer`
  /// "core_attention" / "mtp.ffn.router" (what a per-layer breakdown sums over); `none` leaves
  /// names empty for callers that only sum costs (the strings are most of a short list's time).
  OpNames names = OpNames::full;
  /// Which ops to build: all, or only those that do (`positional`) or do not (`fixed`) depend on
  /// where the pass starts, `Pass::start_pos`. The positional ops are the attention cores, the
  /// KV compressors, the indexer's scoring and the prefill expansion of MLA's cache (wkv_b over
  /// every cached entry); the projections, FFNs, mHC and LM head see only the pass's tokens. A
  /// caller evaluating many contexts at one num_tokens (decode) sums the fixed ops once
  /// (sim/analytic.h ContextSweep). Either subset keeps the order of the full list.
  OpSelect select = OpSelect::all;
};

/// Main layers whose ops are identical (the same LayerSpec: attention kind, compression, FFN kind,
/// hence the same weights and kernel shapes): the first of each kind and how many there are.
struct LayerGroup {
  std::int64_t first = 0;
  std::int64_t count = 0;
};
std::vector<LayerGroup> layer_groups(const ModelSpec& spec);
/// Main layers whose position-dependent ops (OpSelect::positional) are identical: the same
/// attention kind and compression, whatever their FFN (the other positional inputs, widths,
/// formats and the KV format, are the model's). A decode context sweep builds one of each.
std::vector<LayerGroup> positional_layer_groups(const ModelSpec& spec);

/// The kernel an op runs, as the measured tables index it (hardware/perf/README.md), per
/// sequence: the serving model scales it to a rank's batch. Ops with no table class (the V4,
/// V3.2 DSA and GQA prefill cores) are timed on the roofline, and so is an op whose class no
/// measured device has a table of (compressor, mHC and GQA decode: only the host's own tables,
/// written by `v4sim calibrate`, hold them today).
struct OpKernel {
  bool has_class = false;
  KernelClass kernel = KernelClass::gemm;
  std::int64_t tokens = 0;  // rows of a GEMM-like op per sequence (its pass or logit tokens)
  /// GEMM-like: output width and input width of one group. A grouped (block-diagonal) linear is
  /// the GEMM with every group's outputs side by side: the same FLOPs and weight bytes.
  std::int64_t n = 0, k = 0;
  std::int64_t heads = 0;   // attention or indexer heads
  std::int64_t kv_len = 0;  // keys visible to the pass's last query
  bool kv_fp8 = false;      // attention: the cache holds FP8 entries (else BF16)
  /// Grouped GEMM: the experts' down projection (n = hidden, k = inter), the second of the two
  /// GEMMs the routed experts launch; false: their gate/up projection (n = 2 x inter, k = hidden).
  bool ffn_down = false;
};

struct Op {
  std::string name;  // e.g. "layers.2.core_attention"
  /// What its time is booked as: `kind`, except in an MTP block, which books every op as mtp.
  OpComponent component = OpComponent::core_attention;
  /// What the op computes, which decides how it is placed on a rank (tp split, routed experts
  /// over the ep group): the same in an MTP block as in a main layer.
  OpComponent kind = OpComponent::core_attention;
  /// A projection's split where its kind is split over tp (its weight's, models/weights.h).
  TpSplit tp = TpSplit::columns;
  std::int64_t layer = -1;  // -1 for model-level ops
  Cost cost;
  OpKernel kernel;
};

/// Where build_ops finds its weights: each layer's (main and MTP) linear weights and the LM head,
/// as indices into the model's weight list (enumerate_weights), in list order. Computed once per
/// model by callers that build ops many times.
struct WeightIndex {
  std::vector<std::vector<std::size_t>> linears;  // by layer index
  std::optional<std::size_t> head;
};
WeightIndex index_weights(const ModelSpec& spec, const std::vector<WeightTensor>& weights);

/// Every op of a forward pass of `pass` through the model.
std::vector<Op> build_ops(const ModelSpec& spec, const Pass& pass, const OpOptions& options);
/// The same with the model's weight list already enumerated (enumerate_weights(spec)), for callers
/// that evaluate one model many times.
std::vector<Op> build_ops(const ModelSpec& spec, const std::vector<WeightTensor>& weights,
                          const Pass& pass, const OpOptions& options);
/// The same with the weight list indexed too (index_weights(spec, weights)).
std::vector<Op> build_ops(const ModelSpec& spec, const std::vector<WeightTensor>& weights,
                          const WeightIndex& index, const Pass& pass, const OpOptions& options);
/// The same ops handed to `sink` one at a time, in list order, without collecting them: for
/// callers that only sum costs (an evaluation then allocates nothing). The op is the sink's to
/// keep; it may move from it.
void for_each_op(const ModelSpec& spec, const std::vector<WeightTensor>& weights,
                 const WeightIndex& index, const Pass& pass, const OpOptions& options,
                 const std::function<void(Op&)>& sink);

}  // namespace v4sim
