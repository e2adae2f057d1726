// Mixture-of-experts FFN (cost side): router, routed experts (clamped SwiGLU, top-k per token) and
// shared experts (reference/kernels.md §6). A dense SwiGLU FFN is the case num_experts = 0,
// num_shared = 1. Hash-routed V4 layers still evaluate the router: their weights come from it.
#pragma once

#include <cstdint>

#include "kernels/cost.h"
#include "kernels/storage.h"

namespace v4sim {

struct MoeShape {
  std::int64_t tokens = 1;
  std::int64_t hidden = 0;            // D
  std::int64_t inter = 0;             // intermediate width of one expert (routed and shared)
  std::int64_t num_experts = 0;       // routed experts E (0: dense FFN)
  std::int64_t topk = 0;              // routed experts per token
  std::int64_t num_shared = 0;        // always-on experts
  std::int64_t experts_touched = -1;  // distinct routed experts read; -1: min(E, tokens * topk)
  WeightFormat expert_weight = WeightFormat::mxfp4;
  WeightFormat shared_weight = WeightFormat::fp8_block128_ue8m0;
  WeightFormat router_weight = WeightFormat::bf16;
  Precision expert_compute = Precision::fp8;
  Precision shared_compute = Precision::fp8;
  Precision router_compute = Precision::fp32;
};

/// Parameters of one expert: W1, W3 [inter, D] and W2 [D, inter].
std::int64_t expert_parameter_count(const MoeShape& s);
/// Routed experts whose weights this batch reads.
std::int64_t experts_touched(const MoeShape& s);

/// Router logits: 2*tokens*E*D FLOPs.
Cost router_cost(const MoeShape& s);
/// Routed experts: 2*tokens*topk*3*D*inter FLOPs; reads the touched experts' weights.
Cost routed_cost(const MoeShape& s);
/// The two grouped GEMMs of routed_cost(), as the engines launch them: every touched expert's
/// gate and up projections (2*tokens*topk*2*D*inter FLOPs) and its down projection
/// (2*tokens*topk*D*inter). Their sum is routed_cost().
Cost routed_gate_up_cost(const MoeShape& s);
Cost routed_down_cost(const MoeShape& s);
/// Shared experts: 2*tokens*num_shared*3*D*inter FLOPs.
Cost shared_cost(const MoeShape& s);

/// One SwiGLU FFN's products on `tokens` tokens, as the engines launch them: the gate and up
/// projections hidden -> inter (one GEMM of 2 x inter outputs, costed as the two products), and
/// the down projection inter -> hidden. Their sum is one expert's part of shared_cost().
Cost swiglu_gate_up_cost(std::int64_t tokens, std::int64_t hidden, std::int64_t inter,
                         WeightFormat w, Precision p);
Cost swiglu_down_cost(std::int64_t tokens, std::int64_t hidden, std::int64_t inter, WeightFormat w,
                      Precision p);
/// Sum of the three.
Cost cost(const MoeShape& s);

}  // namespace v4sim
