// Mixture-of-experts FFN: float32 reference kernels (reference/kernels.md §6). The cost side is
// kernels/moe.h (MoeShape, router_cost / routed_cost / shared_cost / cost).
//
//   logits  l = W_g x                                  [T, E], fp32
//   scores  s = sqrt(softplus(l))  (V4)  |  sigmoid(l)  (V3)
//   select  Top = top-k of s + b   (V4: over all experts; V3: only inside the topk_group groups
//           with the largest "sum of the 2 best s + b" of their E / n_group experts)
//           or Top = tid2eid[token id]   (V4 hash layers 0-2; no bias)
//   weights γ_e = route_scale * s_e / Σ_{e' ∈ Top} s_e'    (the bias never enters the weights)
//   expert  h = SiLU(min(W1 x, L)) ⊙ clamp(W3 x, -L, L),  y_e = W2 (γ_e h)   (L = swiglu_limit)
//   shared  y_sh = W2 h with the same clamp;  y = Σ_{e ∈ Top} y_e + Σ y_sh
//
// Routed experts run grouped: the tokens routed to an expert are gathered into one matrix and each
// of its three projections is one GEMM over that group, as an expert-parallel serving stack does.
// Arithmetic is float32 throughout; MoeShape's formats and precisions only decide what is COUNTED
// (no FP8 / FP4 quantisation is simulated here).
//
// Numerics: softplus is evaluated stably (max(l,0) + log1p(exp(-|l|))) and the weights are
// normalised in the log domain (γ = route_scale * softmax over Top of log s), which equals the
// plain ratio but stays finite when every selected score underflows (logits of -1e4).
// Ties in top-k go to the lower expert index (PyTorch's topk leaves ties unspecified).
//
// Counting (kernels/cost.h): each forward adds what it executed to *counted: per GEMM 2*rows*in*out
// FLOPs at the shape's precision, its weight once per expert touched at the shape's weight format,
// inputs at compute precision, outputs as BF16. A whole layer then counts exactly
// cost(shape) with shape.experts_touched = distinct_experts(routing).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Core>

#include "kernels/cost.h"
#include "kernels/moe.h"
#include "kernels/token_selection.h"

namespace v4sim {

/// [rows, k] expert ids (same type as TokenSelection).
using ExpertIds = Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

enum class RouterScore : std::uint8_t { sqrt_softplus, sigmoid };

struct RouterParams {
  RouterScore score = RouterScore::sqrt_softplus;
  std::int64_t topk = 6;
  float route_scale = 1.5f;     // routed_scaling_factor
  std::int64_t n_group = 1;     // V3: 8 expert groups (1: no group limit)
  std::int64_t topk_group = 1;  // V3: 4 groups kept per token
};

/// The V4 (Flash) router and the V3 / V3.2 router.
RouterParams v4_router(std::int64_t topk, float route_scale);
RouterParams v3_router(std::int64_t topk, float route_scale, std::int64_t n_group,
                       std::int64_t topk_group);

struct Routing {
  ExpertIds experts;    // [T, k], in selection order (highest biased score first for score routing)
  RowMatrixXf weights;  // [T, k], γ of each selected expert
};

/// Expert weights as stored in the checkpoint ([out, in]).
struct ExpertWeights {
  RowMatrixXf w1;  // [I, D] gate projection
  RowMatrixXf w3;  // [I, D] up projection
  RowMatrixXf w2;  // [D, I] down projection
};

/// Stable scores: sqrt(softplus(l)) or sigmoid(l), and their logarithms.
double router_score(RouterScore f, double logit);
double router_log_score(RouterScore f, double logit);

/// logits = x W_g^T. Counts router_cost(s).
void moe_router_logits(const MoeShape& s,
                       const Eigen::Ref<const RowMatrixXf>& x,       // [T, D]
                       const Eigen::Ref<const RowMatrixXf>& w_gate,  // [E, D]
                       Eigen::Ref<RowMatrixXf> logits,               // [T, E]
                       Cost* counted = nullptr);

/// Score routing: bias [E] or empty (no bias).
Routing moe_route_by_score(const RouterParams& p,
                           const Eigen::Ref<const RowMatrixXf>& logits,  // [T, E]
                           std::span<const float> bias);                 // [E] or empty

/// Hash routing: experts = table[token_ids[t]], weights from the (unbiased) scores of `logits`.
Routing moe_route_by_hash(const RouterParams& p,
                          const Eigen::Ref<const RowMatrixXf>& logits,  // [T, E]
                          std::span<const std::int64_t> token_ids,      // [T]
                          const Eigen::Ref<const ExpertIds>& table);    // [V, k]

/// Weights γ for a given selection: route_scale * normalised unbiased scores over each row.
RowMatrixXf moe_routing_weights(const RouterParams& p,
                                const Eigen::Ref<const RowMatrixXf>& logits,  // [T, E]
                                const Eigen::Ref<const ExpertIds>& experts);  // [T, k]

/// Number of distinct experts a routing selects (what MoeShape::experts_touched should say).
std::int64_t distinct_experts(const Routing& r);

/// Routed experts, grouped per expert; out += Σ_e y_e. experts[e] points at expert e's weights
/// (several ids may share one object); a selected expert with a null pointer throws.
/// Counts routed_cost(s) with s.experts_touched = distinct experts selected.
void moe_routed_forward(const MoeShape& s,
                        const Eigen::Ref<const RowMatrixXf>& x,         // [T, D]
                        const Routing& routing,                         // [T, k]
                        std::span<const ExpertWeights* const> experts,  // [E]
                        float swiglu_limit,
                        Eigen::Ref<RowMatrixXf> out,  // [T, D], accumulated into
                        Cost* counted = nullptr);

/// Shared experts on every token; out += Σ y_sh. Counts shared_cost(s).
void moe_shared_forward(const MoeShape& s,
                        const Eigen::Ref<const RowMatrixXf>& x,  // [T, D]
                        std::span<const ExpertWeights> shared,   // [num_shared]
                        float swiglu_limit,
                        Eigen::Ref<RowMatrixXf> out,  // [T, D], accumulated into
                        Cost* counted = nullptr);

/// Everything a MoE layer holds.
struct MoeLayer {
  RouterParams router;
  float swiglu_limit = 10.0f;                 // +Inf: no clamp (V3)
  RowMatrixXf gate;                           // [E, D]
  std::vector<float> bias;                    // [E] or empty
  std::vector<const ExpertWeights*> experts;  // [E]
  std::vector<ExpertWeights> shared;          // [num_shared]
  const ExpertIds* tid2eid = nullptr;         // [V, k]: hash-routed layer if set
};

/// The whole layer: logits, routing (hash if layer.tid2eid, then token_ids [T] are required),
/// routed and shared experts. out [T, D] is overwritten. Returns the routing used.
/// Counts cost(s) with s.experts_touched = distinct_experts(routing).
Routing moe_forward(const MoeShape& s, const MoeLayer& layer,
                    const Eigen::Ref<const RowMatrixXf>& x,   // [T, D]
                    std::span<const std::int64_t> token_ids,  // [T] (hash layers) or empty
                    Eigen::Ref<RowMatrixXf> out,              // [T, D]
                    Cost* counted = nullptr);

}  // namespace v4sim
