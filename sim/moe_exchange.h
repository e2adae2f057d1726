// How the tokens of attention-DP ranks reach the routed experts held by other ranks: the one
// engine choice the step model needs to know besides the layout (sim/serving.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace v4sim {

/// How the tokens of attention-DP ranks reach the experts of other ranks.
enum class MoeExchange : std::uint8_t {
  /// Each token travels to the ranks of its top-k experts and back: DeepEP-style dispatch and
  /// combine (DeepSeek's engine, SGLang and vLLM with DP attention and expert parallelism).
  all_to_all,
  /// Every rank gathers all ranks' tokens (with their top-k choices), runs its own experts on
  /// the whole group's tokens, and a reduce-scatter sums the experts' partial outputs back to
  /// each token's rank. TensorRT-LLM runs attention DP this way unless an all-to-all backend is
  /// on (CutlassFusedMoE in tensorrt_llm/_torch/modules/fused_moe/fused_moe_cutlass.py gathers
  /// the inputs, NVFP4 ones after quantising them, and reduce-scatters the fused MoE's output;
  /// its all-to-all needs multi-node NVLink or TRTLLM_CAN_USE_DEEP_EP=1).
  all_gather,
};
/// "all_to_all", "all_gather", as files and the command line write them.
std::string_view to_string(MoeExchange e);
/// The exchange named `text`, or nothing.
std::optional<MoeExchange> parse_moe_exchange(std::string_view text);

}  // namespace v4sim
