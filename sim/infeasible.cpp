#include "sim/infeasible.h"

#include <array>
#include <cstddef>

namespace v4sim {
namespace {

// Indexed by the enum's value: one name per reason, in declaration order.
constexpr std::array<std::string_view, 6> kNames = {"none",     "layout",   "memory",
                                                    "tpot_slo", "ttft_slo", "beyond_max_context"};
static_assert(kNames.size() == static_cast<std::size_t>(Infeasible::beyond_max_context) + 1,
              "one name per Infeasible value");

}  // namespace

std::string_view to_string(Infeasible why) {
  return kNames[static_cast<std::size_t>(why)];
}

}  // namespace v4sim
