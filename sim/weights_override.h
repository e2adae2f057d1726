// A deployment's override of the model's weight storage and GEMM precision (`--weights`, a
// deployment row's `weights:`): every projection and expert stored and multiplied in one format.
// Absent (std::nullopt where it is held), the model's own formats apply.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace v4sim {

/// fp8: FP8 E4M3 with 128-block UE8M0 scales; int8: W8A8 with per-channel scales; fp4: MXFP4;
/// fp4_ffn: the FFNs (routed and shared experts, dense FFN layers) in FP4 and the attention
/// projections in BF16, the recipe of NVIDIA's ModelOpt FP4 DeepSeek-R1 checkpoints that
/// TensorRT-LLM serves (TensorRT-LLM tech blog 1, "Precision Strategy": attention modules bf16,
/// dense and MoE FFN layers nvfp4, router bf16; tech blog 3: the throughput recipe is the same
/// apart from FP8 KV cache and FP8 attention kernels); bf16. Keep `bf16` last: the names table
/// (serving_setup.cpp) asserts its size against it.
enum class WeightsOverride : std::uint8_t { fp8, int8, fp4, fp4_ffn, bf16 };
/// "fp8", "int8", "fp4", "fp4_ffn", "bf16", as files and the command line write them.
std::string_view to_string(WeightsOverride w);
/// The override named `text`, or nothing.
std::optional<WeightsOverride> parse_weights_override(std::string_view text);

}  // namespace v4sim
