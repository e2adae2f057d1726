// Step timing: the op list priced on the busiest rank (measured tables, transferred, or the
// roofline), communication over tables or the topology, two-microbatch overlap, chunked prefill.
// The modelling assumptions are listed in sim/serving.h.
#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <vector>

#include "hardware/perf_model.h"
#include "hardware/roofline.h"
#include "kernels/moe.h"
#include "sim/activation_quant.h"
#include "sim/attention_module.h"
#include "sim/compiled_step.h"
#include "sim/elementwise.h"
#include "sim/exchange_quant.h"
#include "sim/ffn_activation.h"
#include "sim/kv_cache.h"
#include "sim/mla_key_assembly.h"
#include "sim/moe_permutation.h"
#include "sim/op_on_rank.h"
#include "sim/overlap_schedule.h"
#include "sim/prefill_memo.h"
#include "sim/serving_internal.h"

namespace v4sim::serving_detail {

/// The sums of a stage's compute before its layer share scales them: the main layers' (one of
/// each kind, scaled to its group) and the rest (model-level ops and the MTP block).
struct ComputeSums {
  StepBreakdown main, rest;
  /// Of `main`: the layers without routed experts (dense FFNs), which send nothing to hide.
  StepBreakdown dense;
  Work main_work, rest_work;
  OpLedger main_ops, rest_ops;
};

namespace {

/// Adds the ops `select` picks of `seqs` sequences per dp group, each contributing the queries of
/// `pass`, to `sums`: time by component, roofline work and where each op's time came from. The
/// element-wise kernels between them count with the fixed ops (they see only the tokens).
void add_compute(ComputeSums& sums, const Setup& s, const Pass& pass, double seqs, bool logits_all,
                 bool prefill, OpSelect select) {
  const double tp = static_cast<double>(s.layout.tp);
  // A tensor-parallel op's share of the group's tokens on this rank (its FLOPs and activations); a
  // replicated op (split_over_tp false) runs on all `seqs`' tokens on every tp rank.
  const double token_share = seqs / tp;
  const double stage_tokens = seqs * static_cast<double>(s.layout.dp * pass.num_tokens);
  StepBreakdown &main = sums.main, &rest = sums.rest;
  Work &main_work = sums.main_work, &rest_work = sums.rest_work;
  OpLedger &main_ops = sums.main_ops, &rest_ops = sums.rest_ops;
  main_ops.detail = rest_ops.detail = s.config.op_timings;
  // A main layer's time, also kept apart when the layer is dense (ComputeSums::dense).
  const auto add_main = [&](bool dense, OpComponent c, double t) {
    add_time(main, c, t);
    if (dense) add_time(sums.dense, c, t);
  };
  RoutedOnRank routed;
  bool routed_done = false;
  // The routed experts were timed from a fused MoE table: its rows include the top-k, the
  // permutation and the activation around the GEMMs, which are then not launched apart.
  bool fused_moe = false;
  CompiledPass* compiled =
      s.compiled ? compiled_pass(s, pass, logits_all, prefill, select) : nullptr;
  const PerfEstimate roofline;  // what an op without a table is timed from
  const double floor_s = s.smallest_kernel_s;
  const auto group_tokens = std::llround(seqs * static_cast<double>(pass.num_tokens));
  // A V4 attention sublayer timed as a whole (sim/attention_module.h): per layer representative,
  // the factor its sublayer ops' times take and the module's estimate, once every op is priced.
  ModuleScales modules{};
  bool any_module = false;
  const auto sum_module = [&](int slot, double time_s, const Cost& c) {
    if (slot < 0) return;
    ModuleScale& m = modules[static_cast<std::size_t>(slot)];
    m.composed_s += time_s;
    m.cost += c;
    any_module = true;
  };
  const auto scale_modules = [&](CompiledPass* shapes) {
    if (!any_module) return;
    Cost norm;
    norm.read(MemClass::activations) = norm.written(MemClass::activations) =
        latent_norm_bytes(s.spec, group_tokens);
    const double norm_s = elementwise_time_s(s.device, norm, floor_s);
    for (std::size_t r = 0; r < modules.size(); ++r) {
      ModuleScale& m = modules[r];
      if (!(m.composed_s > 0)) continue;
      double module_s = 0;
      m.estimate =
          attention_module_estimate(s, pass, seqs, s.layer_representatives[r], m.cost, module_s,
                                    shapes ? &shapes->module_shapes[r] : nullptr);
      if (!m.estimate) continue;
      m.factor = module_scale(module_s, norm_s, m.composed_s);
      main_ops.warn_if_extrapolated("attention module", *m.estimate);
    }
  };
  const auto module_of = [&](int slot) -> const ModuleScale* {
    if (slot < 0) return nullptr;
    const ModuleScale& m = modules[static_cast<std::size_t>(slot)];
    return m.estimate ? &m : nullptr;
  };
  if (compiled) {
    // The compiled ops (sim/compiled_step.h): the same steps as below on what was kept. A setup
    // has compiled passes only without a per-op table, so the ledgers keep sources and warnings
    // (OpLedger::detail is false): the names passed for a GEMM's input quantisation are unused.
    CompiledPass& pass_ops = *compiled;
    const RooflineRates& rates = s.rates;
    const auto add_compiled = [&](std::size_t i) {
      const CompiledOp& op = pass_ops.compiled[i];
      const PricedOp& p = op.same_as < 0 ? pass_ops.priced[i]
                                         : pass_ops.priced[static_cast<std::size_t>(op.same_as)];
      const ModuleScale* m = module_of(op.module_slot);
      const bool scaled_op = m != nullptr;
      const double factor = scaled_op ? m->factor : 1.0;
      const auto add = [&](double t) {
        if (op.main_layer)
          add_main(op.dense_layer, op.op->component, t);
        else
          add_time(rest, op.op->component, t);
      };
      Work& work = op.main_layer ? main_work : rest_work;
      OpLedger& ops = op.main_layer ? main_ops : rest_ops;
      // An op of a measured module carries its input quantisation in its own share.
      const double quant_s = p.quant ? p.quant_s : 0.0;
      const double time_s = scaled_op ? (p.time_s + quant_s) * factor : p.time_s;
      add(time_s * op.repeats);
      if (p.roofline.fallback_used) {
        work.add(rates, p.cost, true, op.repeats);
      } else {
        for (int q = 0; q < p.ideal_terms; ++q)
          work.ideal_compute_s += p.ideal_s[static_cast<std::size_t>(q)] * op.repeats;
        work.bytes += p.bytes * op.repeats;
      }
      ops.add(op.op->name, op.component_name, time_s, op.repeats,
              scaled_op ? *m->estimate : *p.estimate, !scaled_op);
      if (p.quant) {
        // The quantisation: element-wise, on the roofline, no FLOPs (Work::add adds its
        // bytes alone).
        work.bytes += p.quant_bytes * op.repeats;
        if (!scaled_op) {
          add(p.quant_s * op.repeats);
          ops.add(op.op->name, op.component_name, p.quant_s, op.repeats, roofline);
        }
      }
    };
    // Every op priced and added as it comes, but a measured module's: those once the module is
    // asked for, in the order of the pass.
    for (std::size_t i = 0; i < pass_ops.compiled.size(); ++i) {
      const CompiledOp& op = pass_ops.compiled[i];
      PricedOp& priced = pass_ops.priced[i];
      if (op.same_as < 0) {
        Cost& c = priced.cost;
        if (op.routed) {
          if (!routed_done) routed = routed_on_rank(s, stage_tokens);
          routed_done = true;
          c = routed.of(*op.op);
        } else {
          c = compiled_cost(op, op.tp_split ? token_share : seqs, seqs);
        }
        priced.roofline = roofline_total(rates, c);
        // Work::add's operations on the cost, kept for each time it is added.
        priced.ideal_terms = 0;
        for (int q = 0; q < kNumPrecisions; ++q) {
          const std::int64_t flops = c.flops[static_cast<std::size_t>(q)];
          if (flops <= 0) continue;
          const double peak = rates.peak_flops_per_s[static_cast<std::size_t>(q)];
          if (peak > 0)
            priced.ideal_s[static_cast<std::size_t>(priced.ideal_terms++)] =
                static_cast<double>(flops) / peak;
        }
        priced.bytes = static_cast<double>(c.total_bytes());
        priced.estimate = &roofline;
        double table_s = 0;
        priced.quant = false;
        if (op.table) {
          KernelCall call = op.call;
          place_call(call, s, *op.op, c, seqs, stage_tokens);
          priced.estimate = &s.perf->estimate(op.shape, call, table_s);
          // The GEMM's input quantisation, as the direct pricing below adds it.
          if (op.gemm)
            if (const std::optional<Cost> q = activation_quant_cost(
                    std::llround(call.m), std::llround(call.k), call.precision, *priced.estimate)) {
              priced.quant = true;
              priced.quant_bytes = static_cast<double>(q->total_bytes());
              priced.quant_s = std::max(s.smallest_kernel_s, roofline_total(rates, *q).total_s);
            }
        }
        const PerfEstimate& e = *priced.estimate;
        const double gap_s = e.includes_launch_gap ? 0.0 : s.device.launch_overhead_s;
        priced.time_s = e.found ? table_s + gap_s : priced.roofline.total_s;
        if (op.routed && e.includes_moe_glue) fused_moe = true;
      }
      const PricedOp& p =
          op.same_as < 0 ? priced : pass_ops.priced[static_cast<std::size_t>(op.same_as)];
      if (op.module_slot < 0)
        add_compiled(i);
      else
        sum_module(op.module_slot, p.time_s + (p.quant ? p.quant_s : 0.0), p.cost);
    }
    scale_modules(&pass_ops);
    for (const std::size_t i : pass_ops.module_ops) add_compiled(i);
  } else {
    const OpOptions options = setup_op_options(s, prefill, logits_all, select);
    std::vector<Op> own;
    // Each op priced: what the second loop adds.
    struct PricedDirect {
      const Op* op = nullptr;
      int module_slot = -1;
      Cost cost;
      RooflineTotal roofline;
      const PerfEstimate* estimate = nullptr;
      double time_s = 0;
      std::optional<Cost> quant;
      double quant_s = 0;
    };
    std::vector<PricedDirect> deferred;  // a measured module's ops, added once it is asked for
    const auto add_direct = [&](const PricedDirect& d) {
      const Op& op = *d.op;
      const bool main_layer = op.layer >= 0 && op.layer < s.spec.num_layers;
      const ModuleScale* m = module_of(d.module_slot);
      const bool scaled_op = m != nullptr;
      const double factor = scaled_op ? m->factor : 1.0;
      const double repeats = main_layer ? s.layer_repeats[static_cast<std::size_t>(op.layer)] : 1.0;
      const bool dense = is_dense_layer(s.spec, op.layer);
      const auto add = [&](double t) {
        if (main_layer)
          add_main(dense, op.component, t);
        else
          add_time(rest, op.component, t);
      };
      Work& work = main_layer ? main_work : rest_work;
      OpLedger& ops = main_layer ? main_ops : rest_ops;
      // An op of a measured module carries its input quantisation in its own share.
      const double time_s = scaled_op ? (d.time_s + d.quant_s) * factor : d.time_s;
      add(time_s * repeats);
      work.add(s.rates, d.cost, d.roofline.fallback_used, repeats);
      ops.add(op.name, to_string(op.component), time_s, repeats,
              scaled_op ? *m->estimate : *d.estimate, !scaled_op);
      if (d.quant) {
        work.add(s.rates, *d.quant, false, repeats);
        if (!scaled_op) {
          add(d.quant_s * repeats);
          ops.add(ops.detail ? op.name + ".quant" : std::string(), to_string(op.component),
                  d.quant_s, repeats, roofline);
        }
      }
    };
    for (const Op& op : setup_ops(s, pass, options, own)) {
      PricedDirect d;
      d.op = &op;
      Cost& c = d.cost;
      if (op.kind == OpComponent::routed_experts) {
        if (!routed_done) routed = routed_on_rank(s, stage_tokens);
        routed_done = true;
        c = routed.of(op);
      } else if (split_over_tp(op)) {
        // Heads and projection weights split over tp; with one shared KV head every TP rank reads
        // the whole KV of its dp group's sequences.
        c = on_rank(op.cost, token_share, seqs, 1.0 / tp);
      } else {
        c = on_rank(op.cost, seqs, seqs, 1.0);  // replicated weights, every token of the group
      }
      d.roofline = roofline_total(s.rates, c);
      d.estimate = &roofline;
      double table_s = 0;
      KernelCall call;
      if (s.perf && op.kernel.has_class) {
        call = kernel_call(s, op, c, seqs, stage_tokens, prefill);
        d.estimate = &s.perf->estimate(call, table_s);
      }
      const PerfEstimate& e = *d.estimate;
      // A kernel-only table time still pays the gap before the next kernel; a graph-replay table
      // has it inside its rows.
      const double gap_s = e.includes_launch_gap ? 0.0 : s.device.launch_overhead_s;
      d.time_s = e.found ? table_s + gap_s : d.roofline.total_s;
      if (op.kind == OpComponent::routed_experts && e.includes_moe_glue) fused_moe = true;
      // The GEMM's input quantisation (sim/activation_quant.h), beside it: an element-wise kernel
      // on the roofline, named after its GEMM.
      if (op.kernel.has_class && op.kernel.kernel == KernelClass::gemm) {
        d.quant =
            activation_quant_cost(std::llround(call.m), std::llround(call.k), call.precision, e);
        if (d.quant)
          d.quant_s = std::max(s.smallest_kernel_s, roofline_total(s.rates, *d.quant).total_s);
      }
      d.module_slot = module_slot(s, op, prefill);
      if (d.module_slot < 0) {
        add_direct(d);
      } else {
        sum_module(d.module_slot, d.time_s + d.quant_s, c);
        deferred.push_back(std::move(d));
      }
    }
    scale_modules(nullptr);
    for (const PricedDirect& d : deferred) add_direct(d);
  }
  // Dense MLA's expanded prefill assembles its queries' RoPE and every entry's key between the
  // expansion and the core (sim/mla_key_assembly.h). The entries grow with the chunk's start, so
  // these go with the positional ops.
  if (prefill && select != OpSelect::fixed) {
    const auto queries = std::llround(seqs * static_cast<double>(pass.num_tokens));
    const auto entries = std::llround(seqs * static_cast<double>(pass.start_pos + pass.num_tokens));
    for (const std::int64_t layer : s.layer_representatives) {
      const double repeats = s.layer_repeats[static_cast<std::size_t>(layer)];
      const LayerSpec& spec = s.spec.layers[static_cast<std::size_t>(layer)];
      for (const ElementwiseKernel& k :
           mla_key_assembly_kernels(s.spec, spec, queries, entries, s.layout.tp)) {
        const double time_s = elementwise_time_s(s.device, k.cost, floor_s);
        add_main(is_dense_layer(s.spec, layer), k.component, time_s * repeats);
        main_work.add(s.device, k.cost, op_time(s.device, k.cost), repeats);
        main_ops.add(k.name, to_string(k.component), time_s, repeats, roofline);
      }
    }
  }
  // The element-wise kernels between them (sim/elementwise.h), on every token of the group (tp
  // ranks each normalise all of them).
  if (select == OpSelect::positional) return;
  const bool permutes = permutes_routed_pairs(s, prefill);
  // The tokens a rank sends to the MoE exchange, and whether it quantises them first.
  const std::optional<Precision> send_quant = exchange_quant(s, prefill);
  const auto send_tokens = std::llround(token_share * static_cast<double>(pass.num_tokens));
  if (s.compiled) {
    // The same kernels, compiled (sim/compiled_step.h): no per-op table, so no names.
    const RooflineRates& rates = s.rates;
    const std::int64_t pairs = std::llround(pairs_on_rank(s, stage_tokens));
    const std::vector<CompiledElementwise>& kernels = compiled_elementwise(s);
    std::vector<double>& times_s = s.compiled->elementwise_s;
    std::vector<double>& bytes = s.compiled->elementwise_bytes;
    for (std::size_t i = 0; i < kernels.size(); ++i) {
      const CompiledElementwise& k = kernels[i];
      if (k.permutation && !permutes) continue;
      if (k.exchange_quant && !send_quant) continue;
      if (k.moe_glue && fused_moe) continue;
      const std::int64_t rows = k.per_pair ? pairs : k.exchange_quant ? send_tokens : group_tokens;
      if (rows <= 0) continue;
      if (k.same_as == i) {
        Cost c;
        c.read(MemClass::activations) = k.read_per_row * rows;
        c.written(MemClass::activations) = k.written_per_row * rows;
        times_s[i] = std::max(floor_s, roofline_total(rates, c).total_s);
        bytes[i] = static_cast<double>(c.total_bytes());  // Work::add of a cost without FLOPs
      }
      const double time_s = times_s[k.same_as];
      if (k.mtp) {
        add_time(rest, OpComponent::mtp, time_s * k.repeats);
        rest_work.bytes += bytes[k.same_as] * k.repeats;
        rest_ops.add({}, {}, time_s, k.repeats, roofline);
        continue;
      }
      add_main(k.dense_layer, k.component, time_s * k.repeats);
      main_work.bytes += bytes[k.same_as] * k.repeats;
      main_ops.add({}, {}, time_s, k.repeats, roofline);
    }
    return;
  }
  // The main layers' (one of each kind), then the MTP blocks', booked as mtp with the
  // model-level ops.
  for (const std::int64_t layer : elementwise_layers(s)) {
    const bool mtp = layer >= s.spec.num_layers;
    const double repeats = mtp ? 1.0 : s.layer_repeats[static_cast<std::size_t>(layer)];
    const LayerSpec& spec = s.spec.layers[static_cast<std::size_t>(layer)];
    const bool dense = is_dense_layer(s.spec, layer);
    const auto add = [&](const std::vector<ElementwiseKernel>& kernels) {
      for (const ElementwiseKernel& k : kernels) {
        if (k.moe_glue && fused_moe) continue;
        const double time_s = elementwise_time_s(s.device, k.cost, floor_s);
        if (mtp) {
          add_time(rest, OpComponent::mtp, time_s);
          rest_work.add(s.device, k.cost, op_time(s.device, k.cost), 1.0);
          rest_ops.add(rest_ops.detail ? "mtp." + k.name : std::string(),
                       to_string(OpComponent::mtp), time_s, 1.0, roofline);
          continue;
        }
        add_main(dense, k.component, time_s * repeats);
        main_work.add(s.device, k.cost, op_time(s.device, k.cost), repeats);
        main_ops.add(k.name, to_string(k.component), time_s, repeats, roofline);
      }
    };
    add(elementwise_kernels(s.spec, spec, group_tokens));
    // The activation between each FFN's two products (sim/ffn_activation.h): the routed experts'
    // over the rank's token-expert pairs.
    const std::int64_t pairs = std::llround(pairs_on_rank(s, stage_tokens));
    add(ffn_activation_kernels(s.spec, spec, group_tokens, pairs, s.layout.tp));
    if (permutes) add(moe_permutation_kernels(s.spec, spec, pairs));
    if (send_quant) add(exchange_quant_kernels(s.spec, spec, send_tokens, *send_quant));
  }
}

/// (`a` - `b`) x `f` component by component, `b` optional; compute_s their sum.
StepBreakdown compute_share(const StepBreakdown& a, const StepBreakdown* b, double f) {
  const StepBreakdown none;
  const StepBreakdown& minus = b ? *b : none;
  StepBreakdown out;
  out.attention_s = (a.attention_s - minus.attention_s) * f;
  out.indexer_s = (a.indexer_s - minus.indexer_s) * f;
  out.compressor_s = (a.compressor_s - minus.compressor_s) * f;
  out.moe_s = (a.moe_s - minus.moe_s) * f;
  out.routed_s = (a.routed_s - minus.routed_s) * f;
  out.shared_s = (a.shared_s - minus.shared_s) * f;
  out.other_s = (a.other_s - minus.other_s) * f;
  out.compute_s = out.attention_s + out.indexer_s + out.compressor_s + out.moe_s + out.other_s;
  return out;
}

/// The stage's compute from its sums. The heaviest stage holds ceil(L / pp) of the L main layers,
/// plus the model-level ops and the MTP block (counted on it in full: conservative for pp > 1).
Pricing finish_compute(const Setup& s, const ComputeSums& sums) {
  const StepBreakdown &main = sums.main, &rest = sums.rest;
  const Work &main_work = sums.main_work, &rest_work = sums.rest_work;
  Pricing out;
  out.ledger.detail = s.config.op_timings;
  const double f = s.stage_layer_share;
  StepBreakdown& b = out.breakdown;
  b.attention_s = main.attention_s * f + rest.attention_s;
  b.indexer_s = main.indexer_s * f + rest.indexer_s;
  b.compressor_s = main.compressor_s * f + rest.compressor_s;
  b.moe_s = main.moe_s * f + rest.moe_s;
  b.routed_s = main.routed_s * f + rest.routed_s;
  b.shared_s = main.shared_s * f + rest.shared_s;
  b.other_s = main.other_s * f + rest.other_s;
  b.compute_s = b.attention_s + b.indexer_s + b.compressor_s + b.moe_s + b.other_s;
  out.work.ideal_compute_s = main_work.ideal_compute_s * f + rest_work.ideal_compute_s;
  out.work.bytes = main_work.bytes * f + rest_work.bytes;
  out.work.fallback = main_work.fallback;
  out.work.merge_fallback(rest_work.fallback);
  out.ledger.merge(sums.main_ops, f, f);
  out.ledger.merge(sums.rest_ops, 1.0, 1.0);
  out.dense_layers = compute_share(sums.dense, nullptr, f);
  out.moe_layers = compute_share(main, &sums.dense, f);
  out.model_level = compute_share(rest, nullptr, 1.0);
  return out;
}

/// Compute of one pipeline stage for `seqs` sequences per dp group, each contributing the
/// queries of `pass`. With `fixed` (a search's prefill: no per-op table, chunks of one size), the
/// ops that do not depend on the chunk's position are priced once per (tokens, sequences) and
/// each chunk adds its attention side: the same sums in another order (relative differences at
/// rounding level, tests/sim/prefill_chunks_test.cpp).
Pricing price_compute(const Setup& s, const Pass& pass, double seqs, bool logits_all, bool prefill,
                      FixedCompute* fixed) {
  ComputeSums sums;
  if (fixed == nullptr || s.config.op_timings) {
    add_compute(sums, s, pass, seqs, logits_all, prefill, OpSelect::all);
    return finish_compute(s, sums);
  }
  const auto key = std::make_tuple(pass.num_tokens, seqs, logits_all, prefill);
  auto it = fixed->sums.find(key);
  if (it == fixed->sums.end()) {
    ComputeSums once;
    add_compute(once, s, pass, seqs, logits_all, prefill, OpSelect::fixed);
    it = fixed->sums.emplace(key, std::make_shared<const ComputeSums>(std::move(once))).first;
  }
  sums = *it->second;
  add_compute(sums, s, pass, seqs, logits_all, prefill, OpSelect::positional);
  return finish_compute(s, sums);
}

/// Communication of one stage for `seqs` sequences per dp group: MoE dispatch (FP8: 1 B per
/// element) and combine (BF16: 2 B) of the rank's tokens to top-k experts per MoE layer, an
/// all-reduce of the attention output per layer when tp > 1, one hop to the next stage when
/// pp > 1. Measured tables first (hardware/perf_model.h), else the topology graph.
struct CommTimes {
  double dispatch_s = 0;  // the main MoE layers'
  double combine_s = 0;
  double mtp_dispatch_s = 0;  // the MTP blocks'
  double mtp_combine_s = 0;
  double all_reduce_s = 0;  // TP all-reduces, two in every layer and MTP block
  double hop_s = 0;         // the pipeline hop, once a step
  double total_s() const {
    return dispatch_s + combine_s + mtp_dispatch_s + mtp_combine_s + all_reduce_s + hop_s;
  }
};

/// A stage's communication and its ledger entries, in the order it books them: the ledger is
/// filled by book() (twice for two microbatches of the same pass, priced once).
struct CommPricing {
  struct Entry {
    std::string_view name;
    double t = 0;
    double repeats = 0;
    const PerfEstimate* e = nullptr;
  };
  CommTimes times;
  std::array<Entry, 7> entries{};
  int size = 0;
};

void book(OpLedger& ledger, const CommPricing& c) {
  for (int i = 0; i < c.size; ++i) {
    const CommPricing::Entry& e = c.entries[static_cast<std::size_t>(i)];
    ledger.add(e.name, "communication", e.t, e.repeats, *e.e);
  }
}

/// `none`: the estimate of a time from the topology (not found in a table), kept by the caller
/// as long as the result.
CommPricing price_comm(const Setup& s, const Pass& pass, double seqs, bool prefill,
                       const PerfEstimate& none) {
  CommPricing priced;
  const double D = static_cast<double>(s.spec.hidden_size);
  const double tp = static_cast<double>(s.layout.tp);
  const double rank_tokens = seqs * static_cast<double>(pass.num_tokens) / tp;
  // The busiest rank receives (dispatch) and returns (combine) its imbalance times the mean.
  const double moe_tokens = rank_tokens * s.config.expert_imbalance;
  const double k = static_cast<double>(s.spec.moe.experts_per_token);
  const CommModel& net = s.comm;
  // A group wider than one scale-up domain crosses the scale-out network.
  const int scale_up = scale_up_domain_devices(s.system, s.nodes);
  CommTimes& out = priced.times;
  const PerfEstimate& graph = none;  // what a collective without a table is timed from
  // One call's time (from its table, else the line) and where it came from.
  struct Timed {
    double t = 0;
    const PerfEstimate* e = nullptr;
  };
  const auto time_of = [&](KernelCall call, const CommLine& line, double bytes) {
    const PerfEstimate* found = &graph;
    double table_s = 0;
    call.link_latency_s = line.latency_s;
    if (s.perf && bytes > 0) found = &s.perf->estimate(call, table_s);
    return Timed{found->found ? table_s : line.at(bytes), found};
  };
  const auto book = [&](std::string_view name, const Timed& timed, double repeats, double& comm) {
    if (timed.t <= 0 || repeats <= 0) return;
    comm += timed.t * repeats;
    priced.entries[static_cast<std::size_t>(priced.size++)] = {name, timed.t, repeats, timed.e};
  };
  // A MoE exchange, once per main MoE layer and once per MTP block with routed experts.
  const double mtp_moe = static_cast<double>(s.mtp_moe_layers);
  const auto exchange = [&](std::string_view name, std::string_view mtp_name,
                            const KernelCall& call, const CommLine& line, double bytes,
                            double layers, double& comm, double& mtp_comm) {
    const Timed timed = time_of(call, line, bytes);
    book(name, timed, layers, comm);
    if (mtp_moe > 0) book(mtp_name, timed, mtp_moe, mtp_comm);
  };
  // With group 1 the FFN all-reduce sums the experts' outputs and nothing is dispatched.
  const std::int64_t group = moe_exchange_ranks(s);
  // A pass of the MTP draft chain has no main MoE layer but its blocks' exchange.
  const bool exchanges = s.stage_moe_layers > 0 || s.mtp_moe_layers > 0;
  if (exchanges && group > 1 && s.config.moe_exchange == MoeExchange::all_gather) {
    // Every rank gathers the group's tokens with their top-k expert ids (int32) and weights
    // (fp32), the hidden state in the experts' input format when it is FP4 (quantised before
    // the gather) and in BF16 otherwise (the FP8 block-scaled MoE quantises inside its kernel),
    // then reduce-scatters the experts' BF16 partial sums over the same tokens. The traffic is
    // the same on every rank: routing skew changes the experts' work, not what is exchanged.
    const double layers = static_cast<double>(s.stage_moe_layers);
    const std::int64_t hidden = s.spec.hidden_size;
    const double hidden_bytes =
        s.spec.compute.routed_experts == Precision::fp4
            ? static_cast<double>(quantised_row_bytes(hidden, Precision::fp4))
            : 2.0 * D;
    const double gathered_per_token = hidden_bytes + k * (4.0 + 4.0);
    const double n = static_cast<double>(group);
    KernelCall call;
    call.ranks = n;
    call.spans_nodes = group > scale_up;
    call.scale_up_ranks = scale_up;
    call.cuda_graph = !prefill && s.config.cuda_graph;
    call.kernel = KernelClass::all_gather;
    call.message_bytes = n * rank_tokens * gathered_per_token;
    exchange("ffn.all_gather", "mtp.ffn.all_gather", call, net.moe_all_gather,
             rank_tokens * gathered_per_token, layers, out.dispatch_s, out.mtp_dispatch_s);
    call.kernel = KernelClass::reduce_scatter;
    call.message_bytes = n * rank_tokens * D * 2.0;
    exchange("ffn.reduce_scatter", "mtp.ffn.reduce_scatter", call, net.moe_reduce_scatter,
             n * rank_tokens * D * 2.0, layers, out.combine_s, out.mtp_combine_s);
  } else if (exchanges && group > 1) {
    const double layers = static_cast<double>(s.stage_moe_layers);
    KernelCall call;
    call.ep = static_cast<double>(group);
    call.tokens_per_rank = moe_tokens;
    call.low_latency = !prefill;
    call.spans_nodes = group > scale_up;
    call.scale_up_ranks = scale_up;
    call.kernel = KernelClass::dispatch;
    call.hidden = D;
    call.topk = k;
    call.payload_bytes_per_token = k * D * 1.0;
    exchange("ffn.dispatch", "mtp.ffn.dispatch", call, net.moe_all_to_all, moe_tokens * k * D * 1.0,
             layers, out.dispatch_s, out.mtp_dispatch_s);
    call.kernel = KernelClass::combine;
    call.payload_bytes_per_token = k * D * 2.0;
    exchange("ffn.combine", "mtp.ffn.combine", call, net.moe_all_to_all, moe_tokens * k * D * 2.0,
             layers, out.combine_s, out.mtp_combine_s);
  }
  if (s.layout.tp > 1) {
    const double bytes = seqs * static_cast<double>(pass.num_tokens) * D * 2.0;
    KernelCall call;
    call.kernel = KernelClass::all_reduce;
    call.ranks = tp;
    call.message_bytes = bytes;
    call.spans_nodes = s.layout.tp > scale_up;
    call.scale_up_ranks = scale_up;
    // Inside one scale-up domain the engines run their own one-shot/two-shot all-reduce, NCCL
    // across nodes; decode steps replay CUDA graphs, prefill launches eagerly.
    call.custom_all_reduce = !call.spans_nodes;
    call.cuda_graph = !prefill && s.config.cuda_graph;
    const Timed all_reduce = time_of(call, net.tp_all_reduce, bytes);
    // In every layer and MTP block.
    const double layers = static_cast<double>(s.stage_layers + s.mtp_layers);
    book("attn.all_reduce", all_reduce, layers, out.all_reduce_s);
    // The FFN's output (shared experts or dense FFN, with the routed experts' combine) is
    // reduced over tp once more per layer: the same call, timed once.
    book("ffn.all_reduce", all_reduce, layers, out.all_reduce_s);
  }
  const double streams = static_cast<double>(std::max<std::int64_t>(1, s.spec.mhc.streams));
  // The draft chain runs on the last stage, after its hop.
  const double hop =
      s.stage_layers > 0
          ? net.stage_hop.at(seqs * static_cast<double>(pass.num_tokens) * streams * D * 2.0)
          : 0.0;
  if (hop > 0) {
    out.hop_s += hop;
    priced.entries[static_cast<std::size_t>(priced.size++)] = {"stage_hop", hop, 1.0, &none};
  }
  return priced;
}

/// One microbatch's runs of the overlap schedule (sim/overlap_schedule.h LayerRun), from its
/// compute by where it runs and its communication, compute times `slowdown`: the stage's dense
/// layers, then its MoE layers, then the model-level ops once. Each kind's compute spreads evenly
/// over its layers on the stage (a kind with no layer there hands its compute to the other).
/// The TP all-reduces are one call timed twice in every layer and MTP block (price_comm): the
/// attention output's precedes the dispatch, the FFN output's follows the combine. Dispatch and
/// combine run in the MoE layers only. The model-level run sends what its MTP blocks exchange and
/// reduce after its compute (its MTP block's attention, LM head and experts are not told apart),
/// then the pipeline hop.
struct MicrobatchRuns {
  std::array<MicrobatchWork, 3> runs{};
  std::array<std::int64_t, 3> layers{};
};
MicrobatchRuns microbatch_runs(const Setup& s, const Pricing& p, const CommTimes& comm,
                               double slowdown) {
  std::int64_t moe = s.stage_moe_layers;
  std::int64_t dense = std::max<std::int64_t>(0, s.stage_layers - moe);
  StepBreakdown dense_work = p.dense_layers, moe_work = p.moe_layers;
  if (dense == 0) {
    moe_work += dense_work;
    dense_work = StepBreakdown{};
  }
  if (moe == 0) {
    dense_work += moe_work;
    moe_work = StepBreakdown{};
    dense = std::max<std::int64_t>(1, s.stage_layers);
  }
  const auto work = [slowdown](const StepBreakdown& compute, std::int64_t layers) {
    const double per_layer = slowdown / static_cast<double>(std::max<std::int64_t>(1, layers));
    MicrobatchWork w;
    w.experts_s = compute.routed_s * per_layer;
    w.shared_s = compute.shared_s * per_layer;
    w.attention_s = (compute.compute_s - compute.routed_s - compute.shared_s) * per_layer;
    return w;
  };
  const double mtp = static_cast<double>(s.mtp_layers);
  const double all_reduce = comm.all_reduce_s /
                            (static_cast<double>(std::max<std::int64_t>(1, s.stage_layers)) + mtp) /
                            2;
  MicrobatchRuns out;
  out.runs[0] = work(dense_work, dense);
  out.runs[0].dispatch_s = out.runs[0].combine_s = all_reduce;
  out.runs[1] = work(moe_work, moe);
  if (moe > 0) {
    out.runs[1].dispatch_s = comm.dispatch_s / static_cast<double>(moe) + all_reduce;
    out.runs[1].combine_s = comm.combine_s / static_cast<double>(moe) + all_reduce;
  }
  out.runs[2] = work(p.model_level, 1);
  out.runs[2].dispatch_s = comm.mtp_dispatch_s + mtp * all_reduce;
  out.runs[2].combine_s = comm.mtp_combine_s + mtp * all_reduce + comm.hop_s;
  out.layers = {dense, moe, 1};
  return out;
}

}  // namespace

/// One pipeline stage's time for `seqs` sequences per dp group, each contributing the queries of
/// `pass`. With overlap, two microbatches (halves of the sequences, or of one prompt's chunk)
/// each run every op, and one's communication hides behind the other's compute as the layer's
/// dependencies allow, layer after layer from an empty pipeline (sim/overlap_schedule.h:
/// DeepSeek's schedule, profile-data README and V3 report §3.4; SGLang's two-batch overlap).
Pricing price_stage(const Setup& s, const Pass& pass, double seqs, bool logits_all, bool prefill,
                    FixedCompute* fixed) {
  const bool has_comm = (s.stage_moe_layers > 0 && s.layout.ep > 1) || s.layout.tp > 1;
  // A pass of the MTP draft chain (no main layers) is one small batch: nothing is split.
  const bool has_layers = s.stage_layers > 0;
  const bool split_seqs = seqs >= 2;
  const bool split_tokens = !split_seqs && prefill && pass.num_tokens >= 2;
  if (!s.config.overlap || !has_comm || !has_layers || !(split_seqs || split_tokens)) {
    Pricing p = price_compute(s, pass, seqs, logits_all, prefill, fixed);
    const PerfEstimate none;
    const CommPricing c = price_comm(s, pass, seqs, prefill, none);
    book(p.ledger, c);
    const double comm = c.times.total_s();
    p.breakdown.communication_s = comm;
    p.breakdown.exposed_communication_s = comm;
    p.breakdown.total_s = p.breakdown.compute_s + comm;
    return p;
  }
  // The two halves.
  std::array<Pass, 2> passes{pass, pass};
  std::array<double, 2> half{seqs / 2, seqs / 2};
  if (split_tokens) {
    const std::int64_t first = pass.num_tokens / 2;
    passes[0] = Pass{pass.start_pos, first};
    passes[1] = Pass{pass.start_pos + first, pass.num_tokens - first};
    half = {seqs, seqs};
  }
  Pricing out;
  OpLedger compute_ops, comm_ops;
  comm_ops.detail = s.config.op_timings;
  CommTimes comm;
  // Normal-mode all-to-all kernels hold a share of the compute units while they overlap.
  const double slowdown = prefill ? 1.0 / (1.0 - s.config.normal_mode_compute_share) : 1.0;
  std::array<MicrobatchRuns, 2> work;
  // Halves of the sequences are the same pass: their compute is priced once and counted twice
  // (the same sums as pricing it twice, bit for bit).
  std::optional<Pricing> first;
  const PerfEstimate none;
  CommPricing c;
  for (int i = 0; i < 2; ++i) {
    if (i == 0 || split_tokens)
      first = price_compute(s, passes[i], half[i], logits_all, prefill, fixed);
    const Pricing& p = *first;
    out.breakdown += p.breakdown;  // compute only: communication is priced below
    out.work.ideal_compute_s += p.work.ideal_compute_s;
    out.work.bytes += p.work.bytes;
    out.work.merge_fallback(p.work.fallback);
    compute_ops.merge(p.ledger, 1.0, 1.0);
    // Halves of the sequences: their communication too.
    if (i == 0 || split_tokens) c = price_comm(s, passes[i], half[i], prefill, none);
    book(comm_ops, c);
    comm.dispatch_s += c.times.dispatch_s;
    comm.combine_s += c.times.combine_s;
    comm.mtp_dispatch_s += c.times.mtp_dispatch_s;
    comm.mtp_combine_s += c.times.mtp_combine_s;
    comm.all_reduce_s += c.times.all_reduce_s;
    comm.hop_s += c.times.hop_s;
    work[static_cast<std::size_t>(i)] = microbatch_runs(s, p, c.times, slowdown);
  }
  StepBreakdown& b = out.breakdown;
  for (double* v : {&b.attention_s, &b.indexer_s, &b.compressor_s, &b.moe_s, &b.routed_s,
                    &b.shared_s, &b.other_s, &b.compute_s})
    *v *= slowdown;
  std::array<LayerRun, 3> runs;
  for (std::size_t r = 0; r < runs.size(); ++r)
    runs[r] = LayerRun{work[0].runs[r], work[1].runs[r], work[0].layers[r]};
  out.ledger.merge(compute_ops, slowdown, 1.0);
  out.ledger.merge(comm_ops, 1.0, 1.0);
  b.communication_s = comm.total_s();
  // Never below the compute it schedules; the max keeps rounding from saying otherwise.
  b.total_s = std::max(b.compute_s, two_microbatch_time_s(runs));
  b.exposed_communication_s = b.total_s - b.compute_s;
  return out;
}

std::int64_t cached_tokens(const Setup& s) {
  return static_cast<std::int64_t>(
      std::floor(s.config.cache_hit_rate * static_cast<double>(s.workload.context_tokens)));
}

Prefill price_prefill(const Setup& s, double prompts) {
  Prefill out;
  FixedCompute fixed;  // the chunks' position-independent ops, priced once per chunk size
  const std::int64_t n = s.workload.context_tokens;
  for (std::int64_t start = cached_tokens(s); start < n; start += s.config.prefill_chunk_tokens) {
    const Pass chunk{start, std::min(s.config.prefill_chunk_tokens, n - start)};
    const Pricing p = price_stage(s, chunk, prompts, false, /*prefill=*/true, &fixed);
    out.time_s += p.breakdown.total_s * static_cast<double>(s.layout.pp);
    out.work.ideal_compute_s += p.work.ideal_compute_s;
    out.work.bytes += p.work.bytes;
    out.work.merge_fallback(p.work.fallback);
    out.ledger.merge(p.ledger, 1.0, 1.0);
    out.breakdown += p.breakdown;
  }
  return out;
}

const Prefill& one_prompt(const Setup& s, Prefill& own) {
  if (s.prefill_memo) return s.prefill_memo->one_prompt(s);
  own = price_prefill(s, 1.0);
  return own;
}

/// Disaggregated: shipping one sequence's KV cache from the prefill pool to its decode rank.
double kv_transfer_s(const Setup& s) {
  if (!s.prefill_pool) return 0.0;
  const KvCacheBytes kv = kv_cache_per_sequence(s.spec, s.workload.context_tokens,
                                                s.spec.kv_format(s.config.kv_format), s.mtp);
  return s.kv_transfer.at(static_cast<double>(kv.total()));
}

/// Time to first token of one prompt: on the decode ranks when colocated, or on the prefill pool
/// plus the KV transfer when disaggregated.
double decode_ttft(const Setup& s) {
  if (s.workload.phase != Phase::decode) return 0.0;
  Prefill own;
  if (!s.prefill_pool) return one_prompt(s, own).time_s;
  return price_prefill(*s.prefill_pool, 1.0).time_s + kv_transfer_s(s);
}

}  // namespace v4sim::serving_detail
