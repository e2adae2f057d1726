// Why a result is infeasible, as a value callers can test; the human sentence beside it (the
// results' `reason`) is for people and may change wording at will.
#pragma once

#include <cstdint>
#include <string_view>

namespace v4sim {

enum class Infeasible : std::uint8_t {
  none,                // feasible
  layout,              // the layout cannot run on these ranks or this model (sim/layout.h)
  memory,              // weights + KV cache + activations exceed the usable HBM per rank
  tpot_slo,            // no point (or this one) meets the time-per-output-token target
  ttft_slo,            // no point (or this one) meets the time-to-first-token target
  beyond_max_context,  // the context is longer than the model's trained maximum
};

/// "none", "layout", "memory", "tpot_slo", "ttft_slo", "beyond_max_context".
std::string_view to_string(Infeasible why);

}  // namespace v4sim
