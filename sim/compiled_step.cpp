// The compiled cost model: a pass's ops with their batch-independent parts worked out once.
#include "sim/compiled_step.h"

#include <bit>
#include <cmath>
#include <cstddef>

#include "sim/activation_quant.h"
#include "sim/exchange_quant.h"
#include "sim/ffn_activation.h"
#include "sim/moe_permutation.h"
#include "sim/op_on_rank.h"

namespace v4sim::serving_detail {
namespace {

std::int64_t& slot(Cost& c, int i) {
  if (i < kNumPrecisions) return c.flops[static_cast<std::size_t>(i)];
  i -= kNumPrecisions;
  if (i < kNumMemClasses) return c.bytes_read[static_cast<std::size_t>(i)];
  return c.bytes_written[static_cast<std::size_t>(i - kNumMemClasses)];
}

std::int64_t slot(const Cost& c, int i) {
  return slot(const_cast<Cost&>(c), i);
}

/// The share on_rank() scales a slot by: FLOPs and activations with the rank's tokens, weights
/// with the rank's share of them, KV and state with its sequences.
Share share_of(int i) {
  if (i < kNumPrecisions) return Share::tokens;
  const auto m = static_cast<MemClass>((i - kNumPrecisions) % kNumMemClasses);
  return m == MemClass::weights       ? Share::weights
         : m == MemClass::activations ? Share::tokens
                                      : Share::kv;
}

CompiledOp compile_op(const Setup& s, const Op& op, bool prefill) {
  CompiledOp c;
  c.op = &op;
  c.component_name = to_string(op.component);
  c.main_layer = op.layer >= 0 && op.layer < s.spec.num_layers;
  c.dense_layer = is_dense_layer(s.spec, op.layer);
  if (c.main_layer) c.repeats = s.layer_repeats[static_cast<std::size_t>(op.layer)];
  c.routed = op.kind == OpComponent::routed_experts;
  c.table = s.perf && op.kernel.has_class;
  c.gemm = op.kernel.has_class && op.kernel.kernel == KernelClass::gemm;
  c.tp_split = split_over_tp(op);
  c.weight_share = c.tp_split ? 1.0 / static_cast<double>(s.layout.tp) : 1.0;
  for (int i = 0; i < kCostSlots; ++i)
    if (const std::int64_t v = slot(op.cost, i); v != 0)
      c.terms[static_cast<std::size_t>(c.num_terms++)] =
          CostTerm{static_cast<std::uint8_t>(i), share_of(i), v};
  if (c.table) c.call = call_shape(s, op, prefill);
  c.module_slot = module_slot(s, op, prefill);
  // FNV-1a over the fields same_prices() compares first; equal ops have equal digests.
  const auto mix = [&c](std::uint64_t v) { c.digest = (c.digest ^ v) * 0x100000001b3ull; };
  c.digest = 0xcbf29ce484222325ull;
  mix(c.routed);
  mix(c.table);
  mix(static_cast<std::uint64_t>(c.num_terms));
  for (int i = 0; i < c.num_terms; ++i) {
    const CostTerm& t = c.terms[static_cast<std::size_t>(i)];
    mix(t.slot);
    mix(static_cast<std::uint64_t>(t.share));
    mix(static_cast<std::uint64_t>(t.value));
  }
  return c;
}

/// Whether `b` costs, times and looks up what `a` does at every batch: the same cost terms and
/// shares, and the same kernel call once placed (place_call reads the rows per sequence, whether
/// the op is tensor-parallel, and the call's shape).
bool same_prices(const CompiledOp& a, const CompiledOp& b) {
  if (a.routed != b.routed || a.table != b.table || a.weight_share != b.weight_share ||
      a.num_terms != b.num_terms)
    return false;
  for (int i = 0; i < a.num_terms; ++i) {
    const CostTerm &x = a.terms[static_cast<std::size_t>(i)],
                   &y = b.terms[static_cast<std::size_t>(i)];
    if (x.slot != y.slot || x.share != y.share || x.value != y.value) return false;
  }
  if (!a.table) return true;
  return a.op->kernel.tokens == b.op->kernel.tokens && a.tp_split == b.tp_split &&
         lookup_key(a.call) == lookup_key(b.call);
}

}  // namespace

// Cost's slots lie in slot order, one int64 each (FLOPs, bytes read, bytes written), so a cost
// is its slots' bytes: compiled_cost fills them without slot()'s branches.
static_assert(sizeof(Cost) == kCostSlots * sizeof(std::int64_t));
static_assert(offsetof(Cost, flops) == 0);
static_assert(offsetof(Cost, bytes_read) == kNumPrecisions * sizeof(std::int64_t));
static_assert(offsetof(Cost, bytes_written) ==
              (kNumPrecisions + kNumMemClasses) * sizeof(std::int64_t));

Cost compiled_cost(const CompiledOp& op, double token_share, double kv_share) {
  const std::array<double, 3> shares{token_share, kv_share, op.weight_share};
  std::array<std::int64_t, kCostSlots> slots{};
  for (int i = 0; i < op.num_terms; ++i) {
    const CostTerm& t = op.terms[static_cast<std::size_t>(i)];
    slots[t.slot] = scaled(t.value, shares[static_cast<std::size_t>(t.share)]);
  }
  return std::bit_cast<Cost>(slots);
}

CompiledPass* compiled_pass(const Setup& s, const Pass& pass, bool logits_all, bool prefill,
                            OpSelect select) {
  const auto key = std::make_tuple(pass.start_pos, pass.num_tokens, logits_all, prefill, select);
  CompiledPass& p = s.compiled->passes[key];
  ++p.uses;
  if (p.ready) return &p;
  if (p.uses < s.compiled->compile_at_use) return nullptr;
  const OpOptions options = setup_op_options(s, prefill, logits_all, select);
  std::vector<Op> own;
  const std::vector<Op>& ops = setup_ops(s, pass, options, own);
  p.ops = &own == &ops ? std::move(own) : ops;
  p.compiled.reserve(p.ops.size());
  for (const Op& op : p.ops) {
    CompiledOp c = compile_op(s, op, prefill);
    for (std::size_t j = 0; j < p.compiled.size() && c.same_as < 0; ++j)
      // The same name and component too: a reused price carries its input quantisation, which
      // is named and booked after its GEMM.
      if (p.compiled[j].digest == c.digest && same_prices(p.compiled[j], c) &&
          p.compiled[j].op->name == op.name && p.compiled[j].op->component == op.component)
        c.same_as = static_cast<int>(j);
    // Looked up by shape only where priced.
    if (c.table && c.same_as < 0) c.shape = s.perf->shape(c.call);
    if (c.module_slot >= 0) p.module_ops.push_back(p.compiled.size());
    p.compiled.push_back(c);
  }
  p.priced.resize(p.compiled.size());
  p.ready = true;
  return &p;
}

const std::vector<CompiledElementwise>& compiled_elementwise(const Setup& s) {
  CompiledSteps& steps = *s.compiled;
  if (steps.elementwise_ready) return steps.elementwise;
  steps.elementwise_ready = true;
  const auto add = [&](const std::vector<ElementwiseKernel>& kernels, double repeats, bool per_pair,
                       bool dense_layer, bool permutation = false, bool exchange_quant = false,
                       bool mtp = false) {
    for (const ElementwiseKernel& k : kernels) {
      CompiledElementwise c{k.component,
                            repeats,
                            per_pair,
                            dense_layer,
                            permutation,
                            exchange_quant,
                            mtp,
                            k.moe_glue,
                            k.cost.read(MemClass::activations),
                            k.cost.written(MemClass::activations),
                            steps.elementwise.size()};
      // A kernel shares the times of an earlier one only when both run in the same phases.
      for (const CompiledElementwise& e : steps.elementwise)
        if (e.per_pair == c.per_pair && e.permutation == c.permutation &&
            e.exchange_quant == c.exchange_quant && e.mtp == c.mtp && e.moe_glue == c.moe_glue &&
            e.read_per_row == c.read_per_row && e.written_per_row == c.written_per_row) {
          c.same_as = e.same_as;
          break;
        }
      steps.elementwise.push_back(c);
    }
  };
  // One row of each: every kernel's bytes are its bytes per row times its rows (element-wise
  // kernels touch activations only).
  for (const std::int64_t layer : elementwise_layers(s)) {
    const bool mtp = layer >= s.spec.num_layers;
    const double repeats = mtp ? 1.0 : s.layer_repeats[static_cast<std::size_t>(layer)];
    const LayerSpec& spec = s.spec.layers[static_cast<std::size_t>(layer)];
    const bool dense = is_dense_layer(s.spec, layer);
    add(elementwise_kernels(s.spec, spec, 1), repeats, false, dense, false, false, mtp);
    add(ffn_activation_kernels(s.spec, spec, 1, 0, s.layout.tp), repeats, false, dense, false,
        false, mtp);
    add(ffn_activation_kernels(s.spec, spec, 0, 1, s.layout.tp), repeats, true, dense, false, false,
        mtp);
    add(moe_permutation_kernels(s.spec, spec, 1), repeats, true, dense, true, false, mtp);
    // Compiled with the precision it has where it runs (an FP8 normal-mode dispatch runs in
    // prefill only; an FP4 all-gather in both phases).
    if (const std::optional<Precision> q = exchange_quant(s, /*prefill=*/true))
      add(exchange_quant_kernels(s.spec, spec, 1, *q), repeats, false, dense, false, true, mtp);
  }
  steps.elementwise_s.resize(steps.elementwise.size());
  steps.elementwise_bytes.resize(steps.elementwise.size());
  return steps.elementwise;
}

void compile_sweeps(const Setup& s) {
  if (s.compiled) s.compiled->compile_at_use = 1;
}

}  // namespace v4sim::serving_detail
