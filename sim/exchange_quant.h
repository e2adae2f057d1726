// The routed experts' input quantised by a kernel of its own before the MoE exchange sends it.
// The measured grouped-GEMM tables take their input already quantised (sim/activation_quant.h),
// and the exchange moves the quantised rows (sim/step_time.cpp prices dispatch at FP8 and an FP4
// all-gather at FP4), so the sender quantises each of its tokens once per MoE layer:
//   * DeepEP normal mode (prefill): SGLang quantises the hidden states per token group of 128
//     before the dispatch (python/sglang/srt/layers/moe/token_dispatcher/deepep.py,
//     _DeepEPDispatcherImplNormal.dispatch_a: sglang_per_token_group_quant_fp8); DeepSeek's
//     prefill dispatches FP8 as well (profile-data README). FP8 rows whenever the experts take
//     FP8 or FP4 activations (V4's FP4 experts run on FP8 activations).
//   * The attention-DP all-gather of FP4 rows: TensorRT-LLM's CutlassFusedMoE quantises to NVFP4
//     before the gather (tensorrt_llm/_torch/modules/fused_moe/fused_moe_cutlass.py); with FP8
//     experts it gathers BF16 and its fused MoE quantises inside (no kernel here).
//   * DeepEP low-latency mode (decode) casts to FP8 inside its dispatch kernel (DeepEP README,
//     low_latency_dispatch use_fp8): no kernel of its own. Neither without an exchange.
// Bytes per token: read the BF16 hidden state, 2 * D; write the quantised row,
// quantised_row_bytes(D, precision). Timed as every element-wise kernel (sim/elementwise.h). It
// runs before the dispatch, so it is booked with the router.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "models/model_spec.h"
#include "sim/elementwise.h"
#include "sim/moe_exchange.h"

namespace v4sim {

/// The precision the sender quantises a token's hidden state to in a kernel of its own before
/// the exchange, or nothing. `exchange_ranks`: the ranks a token's experts are spread over
/// beyond its own tensor-parallel group (1: no exchange).
std::optional<Precision> exchange_quant_precision(const ModelSpec& spec, MoeExchange exchange,
                                                  std::int64_t exchange_ranks, bool prefill);

/// That kernel for the `tokens` tokens a rank sends in main layer `layer` (none for a dense
/// layer or without tokens): ffn.exchange.quant, component router.
std::vector<ElementwiseKernel> exchange_quant_kernels(const ModelSpec& spec, const LayerSpec& layer,
                                                      std::int64_t tokens, Precision precision);

}  // namespace v4sim
