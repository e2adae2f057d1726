// An op of the list on the busiest rank: its share of the work, kernel call and breakdown bucket.
#include "sim/op_on_rank.h"

#include <algorithm>

#include "kernels/moe.h"
#include "sim/exchange_quant.h"
#include "sim/moe_permutation.h"

namespace v4sim::serving_detail {

bool tp_split(OpComponent c) {
  return c == OpComponent::attention_projections || c == OpComponent::core_attention ||
         c == OpComponent::lm_head || c == OpComponent::shared_experts ||
         c == OpComponent::dense_ffn;
}

bool split_over_tp(const Op& op) {
  return tp_split(op.kind) && op.tp != TpSplit::replicated;
}

Cost on_rank(const Cost& c, double token_share, double kv_share, double weight_share) {
  return shared(c, token_share, kv_share, weight_share);
}

void add_time(StepBreakdown& b, OpComponent c, double s) {
  switch (c) {
    case OpComponent::attention_projections:
    case OpComponent::core_attention:
      b.attention_s += s;
      break;
    case OpComponent::indexer_projections:
    case OpComponent::indexer_scoring:
      b.indexer_s += s;
      break;
    case OpComponent::compressor:
      b.compressor_s += s;
      break;
    case OpComponent::router:
      b.moe_s += s;
      break;
    case OpComponent::routed_experts:
      b.moe_s += s;
      b.routed_s += s;
      break;
    case OpComponent::shared_experts:
    case OpComponent::dense_ffn:
      b.moe_s += s;
      b.shared_s += s;
      break;
    case OpComponent::mhc:
    case OpComponent::lm_head:
    case OpComponent::mtp:
      b.other_s += s;
      break;
  }
}

bool is_dense_layer(const ModelSpec& spec, std::int64_t layer) {
  return layer >= 0 && layer < spec.num_layers &&
         spec.layers[static_cast<std::size_t>(layer)].ffn == FfnKind::dense;
}

std::int64_t moe_exchange_ranks(const Setup& s) {
  return s.layout.ep <= s.layout.tp ? 1 : std::min(s.layout.ep, s.layout.devices_per_stage());
}

std::vector<std::int64_t> elementwise_layers(const Setup& s) {
  std::vector<std::int64_t> out = s.layer_representatives;
  for (std::int64_t k = 0; k < s.mtp_layers; ++k) out.push_back(s.spec.num_layers + k);
  return out;
}

std::optional<Precision> exchange_quant(const Setup& s, bool prefill) {
  return exchange_quant_precision(s.spec, s.config.moe_exchange, moe_exchange_ranks(s), prefill);
}

bool permutes_routed_pairs(const Setup& s, bool prefill) {
  return moe_permutes(s.config.moe_exchange, moe_exchange_ranks(s), prefill);
}

double pairs_on_rank(const Setup& s, double stage_tokens) {
  const double ranks = static_cast<double>(s.layout.devices_per_stage());
  // Pairs spread evenly over ranks, then the busiest gets `expert_imbalance` times the mean.
  return stage_tokens * static_cast<double>(s.spec.moe.experts_per_token) / ranks *
         s.config.expert_imbalance;
}

RoutedOnRank routed_on_rank(const Setup& s, double stage_tokens) {
  const MoeSpec& m = s.spec.moe;
  const double ranks = static_cast<double>(s.layout.devices_per_stage());
  // Copies of each expert over the stage: its ep groups, and the redundant slots (or, with ep
  // wider than the experts, the slots beyond them) that hold further copies.
  const double replicas =
      ranks * static_cast<double>(s.local_experts) / static_cast<double>(m.num_routed_experts);
  const double pairs = pairs_on_rank(s, stage_tokens);
  // Distinct local experts touched: tokens pick experts near-uniformly (the load-balancing bias
  // aims for that), so a replica of an expert sees Poisson(lambda) tokens.
  const double lambda = stage_tokens * static_cast<double>(m.experts_per_token) /
                        (static_cast<double>(m.num_routed_experts) * replicas);
  const double touched = static_cast<double>(s.local_experts) * (1.0 - std::exp(-lambda));
  MoeShape shape;
  shape.tokens = std::max<std::int64_t>(1, std::llround(pairs));
  shape.hidden = s.spec.hidden_size;
  shape.inter = m.expert_intermediate_size;
  shape.num_experts = s.local_experts;
  shape.topk = 1;  // tokens here are token-expert pairs
  shape.experts_touched = std::max<std::int64_t>(1, std::llround(touched));
  shape.expert_weight = s.spec.weights.routed_experts;
  shape.expert_compute = s.spec.compute.routed_experts;
  return {routed_gate_up_cost(shape), routed_down_cost(shape)};
}

Precision main_precision(const Cost& c) {
  Precision best = Precision::bf16;
  std::int64_t most = 0;
  for (Precision p : kAllPrecisions)
    if (c.flops_at(p) > most) {
      most = c.flops_at(p);
      best = p;
    }
  return best;
}

KernelCall call_shape(const Setup& s, const Op& op, bool prefill) {
  const OpKernel& k = op.kernel;
  const double tp = static_cast<double>(s.layout.tp);
  KernelCall call;
  call.kernel = k.kernel;
  call.n = static_cast<double>(k.n);
  call.k = static_cast<double>(k.k);
  // Tensor-parallel GEMMs split their output columns over tp (or, row-parallel, their input);
  // replicated ones keep both whole.
  if (split_over_tp(op)) {
    if (op.tp == TpSplit::rows)
      call.k = std::max(1.0, call.k / tp);
    else
      call.n = std::max(1.0, call.n / tp);
  }
  call.heads = static_cast<double>(k.heads) / tp;
  call.kv_fp8 = k.kv_fp8;
  call.kv_len = static_cast<double>(k.kv_len);
  call.seq_len = static_cast<double>(k.kv_len);
  if (k.kernel == KernelClass::grouped_gemm) {
    call.experts = static_cast<double>(std::max<std::int64_t>(1, s.local_experts));
    call.masked = !prefill;
    call.ffn_down = k.ffn_down;
  }
  // Their tables' rows are grouped by the model width: V4-Flash's 4096 and V4-Pro's 7168.
  if (k.kernel == KernelClass::mhc || k.kernel == KernelClass::compressor)
    call.hidden = static_cast<double>(s.spec.hidden_size);
  return call;
}

void place_call(KernelCall& call, const Setup& s, const Op& op, const Cost& c, double seqs,
                double stage_tokens) {
  const OpKernel& k = op.kernel;
  call.cost = c;
  call.precision = main_precision(c);
  // Every op sees every token of the group: a tensor-parallel GEMM its share of the output
  // columns, a replicated op (router, compressor, mHC) the whole (engines run them on every tp
  // rank; aiconfigurator's TP module rows do the same).
  call.m = static_cast<double>(k.tokens) * seqs;
  call.batch = seqs;
  if (k.kernel == KernelClass::grouped_gemm)
    call.tokens_per_expert = pairs_on_rank(s, stage_tokens) / call.experts;
}

KernelCall kernel_call(const Setup& s, const Op& op, const Cost& c, double seqs,
                       double stage_tokens, bool prefill) {
  KernelCall call = call_shape(s, op, prefill);
  place_call(call, s, op, c, seqs, stage_tokens);
  return call;
}

}  // namespace v4sim::serving_detail
