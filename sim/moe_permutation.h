// The two memory-bound kernels around the routed experts' grouped GEMM when its rows are not laid
// out by the exchange itself: a permute that copies each token-expert pair's quantised input row
// into its expert's contiguous block, and an unpermute that reads each pair's BF16 output, scales
// it by the pair's routing weight and sums a token's pairs back into one row.
//
// Which engines run them:
//   * DeepEP normal mode (prefill) returns the received tokens by source rank; DeepGEMM's
//     contiguous grouped GEMM wants each expert's rows adjacent (DeepGEMM README, "contiguous
//     layout"), and DeepEP's normal combine takes one row per received token, so SGLang runs
//     ep_scatter before the GEMMs and ep_gather after them
//     (python/sglang/srt/layers/moe/ep_moe/kernels.py).
//   * TensorRT-LLM's CutlassFusedMoE (its attention-DP all-gather exchange, and any rank that
//     runs experts on tokens it holds) expands the input rows per expert and finalizes the
//     routing afterwards (expandInputRowsKernel, finalizeMoeRoutingKernel in
//     cpp/tensorrt_llm/kernels/cutlass_kernels/moe_gemm), in prefill and decode.
//   * DeepEP low-latency mode (decode) needs neither: its dispatch writes the masked per-expert
//     layout the masked grouped GEMM reads, and its combine applies the weights and sums
//     (DeepEP README, low_latency_dispatch / low_latency_combine).
//
// Bytes per pair, D = hidden size:
//   ffn.permute: read and write one expert input row: FP8 or FP4 with its scales
//     (sim/activation_quant.h, quantised_row_bytes) when the experts compute in FP8 or FP4,
//     else BF16, 2 * D.
//   ffn.unpermute: read the pair's BF16 output, 2 * D, and write 2 * D. A token's row is written
//     once per rank however many of its experts the rank holds, so per pair is an upper bound
//     (equal when each token meets one local expert; DeepSeek-V3 at EP32: about 0.9 rows a pair).
// Time as every element-wise kernel (sim/elementwise.h).
#pragma once

#include <cstdint>
#include <vector>

#include "models/model_spec.h"
#include "sim/elementwise.h"
#include "sim/moe_exchange.h"

namespace v4sim {

/// Whether a rank permutes its routed pairs around the grouped GEMM. `exchange_ranks`: the ranks
/// a token's experts are spread over beyond its own tensor-parallel group (1: the rank runs its
/// experts on tokens it holds).
bool moe_permutes(MoeExchange exchange, std::int64_t exchange_ranks, bool prefill);

/// The permute and unpermute kernels of main layer `layer` for `routed_pairs` token-expert pairs
/// on a rank (none for a dense layer or without pairs). Names: ffn.permute, ffn.unpermute.
std::vector<ElementwiseKernel> moe_permutation_kernels(const ModelSpec& spec,
                                                       const LayerSpec& layer,
                                                       std::int64_t routed_pairs);

}  // namespace v4sim
