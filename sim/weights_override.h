// A deployment's override of the model's weight storage and GEMM precision (`--weights`, a
// deployment row's `weights:`): every projection and expert stored and multiplied in one format.
// Absent (std::nullopt where it is held), the model's own formats apply.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace v4sim {

/// fp8: FP8 E4M3 with 128-block UE8M0 scales; int8: W8A8 with per-channel scales; fp4: MXFP4;
/// bf16. Keep `bf16` last: the names table (serving_setup.cpp) asserts its size against it.
enum class WeightsOverride : std::uint8_t { fp8, int8, fp4, bf16 };
/// "fp8", "int8", "fp4", "bf16", as files and the command line write them.
std::string_view to_string(WeightsOverride w);
/// The override named `text`, or nothing.
std::optional<WeightsOverride> parse_weights_override(std::string_view text);

}  // namespace v4sim
