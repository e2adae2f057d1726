#include "kernels/moe.h"

#include <algorithm>

#include "kernels/linear.h"

namespace v4sim {
Cost swiglu_gate_up_cost(std::int64_t tokens, std::int64_t hidden, std::int64_t inter,
                         WeightFormat w, Precision p) {
  return cost(LinearShape{tokens, hidden, inter, 1, w, p}) * 2;
}

Cost swiglu_down_cost(std::int64_t tokens, std::int64_t hidden, std::int64_t inter, WeightFormat w,
                      Precision p) {
  return cost(LinearShape{tokens, inter, hidden, 1, w, p});
}

namespace {

// One SwiGLU expert on `tokens` tokens: gate and up projections D->inter, down inter->D.
Cost swiglu_cost(std::int64_t tokens, std::int64_t hidden, std::int64_t inter, WeightFormat w,
                 Precision p) {
  return swiglu_gate_up_cost(tokens, hidden, inter, w, p) +
         swiglu_down_cost(tokens, hidden, inter, w, p);
}

}  // namespace

std::int64_t expert_parameter_count(const MoeShape& s) {
  return checked_mul(3, s.hidden, s.inter);
}

std::int64_t experts_touched(const MoeShape& s) {
  if (s.experts_touched >= 0) return std::min(s.experts_touched, s.num_experts);
  return std::min(s.num_experts, checked_mul(s.tokens, s.topk));
}

Cost router_cost(const MoeShape& s) {
  if (s.num_experts == 0) return {};
  return cost(LinearShape{s.tokens, s.hidden, s.num_experts, 1, s.router_weight, s.router_compute});
}

namespace {

/// `per_pair`, the products of every token-expert pair, reading one expert's weights: the
/// weights of each touched expert instead (FLOPs and activations follow the pairs).
Cost over_touched_experts(Cost per_pair, const MoeShape& s) {
  const std::int64_t one_expert_bytes = per_pair.read(MemClass::weights);
  per_pair.read(MemClass::weights) = checked_mul(one_expert_bytes, experts_touched(s));
  return per_pair;
}

bool has_routed(const MoeShape& s) {
  return s.num_experts > 0 && s.topk > 0;
}

}  // namespace

Cost routed_gate_up_cost(const MoeShape& s) {
  if (!has_routed(s)) return {};
  return over_touched_experts(swiglu_gate_up_cost(checked_mul(s.tokens, s.topk), s.hidden, s.inter,
                                                  s.expert_weight, s.expert_compute),
                              s);
}

Cost routed_down_cost(const MoeShape& s) {
  if (!has_routed(s)) return {};
  return over_touched_experts(swiglu_down_cost(checked_mul(s.tokens, s.topk), s.hidden, s.inter,
                                               s.expert_weight, s.expert_compute),
                              s);
}

Cost routed_cost(const MoeShape& s) {
  return routed_gate_up_cost(s) + routed_down_cost(s);
}

Cost shared_cost(const MoeShape& s) {
  if (s.num_shared == 0) return {};
  return swiglu_cost(s.tokens, s.hidden, s.inter, s.shared_weight, s.shared_compute) * s.num_shared;
}

Cost cost(const MoeShape& s) {
  return router_cost(s) + routed_cost(s) + shared_cost(s);
}

}  // namespace v4sim
