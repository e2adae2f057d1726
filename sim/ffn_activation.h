// The activation kernel between an FFN's two products: SwiGLU (silu(gate) x up) over the first
// product's BF16 output, re-quantised for the second product when that runs in FP8 (or FP4
// weights with FP8 activations, V4's experts). Every GEMM table the step model prices FFNs from
// times one product per call with its input already quantised (DeepGEMM's grouped and dense
// GEMMs: "activations already FP8"; aiconfigurator's per-GEMM rows), so the pass between them is
// a kernel of its own: the "TileLang helper kernels" DeepGEMM's Mega MoE fuses away (DeepGEMM
// PR #316, speed-up measured against DeepEP + grouped GEMMs + those kernels), SGLang's
// silu_and_mul / silu_and_mul_masked_post_quant kernels.
//
// Bytes per row (a token of a dense FFN or shared expert, a token-expert pair of the routed
// experts), I = the intermediate width on this rank:
//   read gate and up, BF16: 2 * I * 2;
//   write the activation: FP8 with an FP32 scale per 128 elements (DeepSeek's 1 x 128 activation
//   scaling): I + 4 * ceil(I / 128); BF16 products: 2 * I.
// Time as every element-wise kernel (sim/elementwise.h): the larger of the device's smallest
// kernel and the bytes at derated HBM bandwidth.
#pragma once

#include <cstdint>
#include <vector>

#include "models/model_spec.h"
#include "sim/elementwise.h"

namespace v4sim {

/// The activation kernels of main layer `layer` on one rank: `tokens` tokens of the group (dense
/// FFN, shared experts; intermediate split over `tp`) and `routed_pairs` token-expert pairs
/// (routed experts, whole intermediate). Names: ffn.act (dense), ffn.shared_act, ffn.routed_act.
std::vector<ElementwiseKernel> ffn_activation_kernels(const ModelSpec& spec, const LayerSpec& layer,
                                                      std::int64_t tokens,
                                                      std::int64_t routed_pairs, std::int64_t tp);

/// Bytes written per row for an activation of width `inter` feeding a product in `compute`.
std::int64_t activation_out_bytes(std::int64_t inter, Precision compute);

}  // namespace v4sim
