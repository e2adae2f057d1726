// The command-line value parsers under fuzzing: context lists and layouts. A parsed layout is also
// printed and checked against a device count, as `predict --layout` does.
#include <string_view>

#include "models/config/input_error.h"
#include "reports/cli/values.h"
#include "sim/layout.h"
#include "tests/fuzz/targets.h"

namespace v4sim::fuzz {
namespace {

std::string_view text_of(Bytes input) {
  return {reinterpret_cast<const char*>(input.data()), input.size()};
}

}  // namespace

void context_list(Bytes input) {
  try {
    for (std::int64_t n : cli::parse_context_list(text_of(input), "--context"))
      if (n < 1 || n > (std::int64_t{1} << 40)) throw std::logic_error("context out of range");
  } catch (const InputError&) {
  }
}

void layout(Bytes input) {
  try {
    const Layout l = parse_layout(text_of(input));
    if (l.tp < 1 || l.dp < 1 || l.pp < 1 || l.ep < 1) throw std::logic_error("layout below 1");
    if (parse_layout(to_string(l)).devices() != l.devices())
      throw std::logic_error("to_string does not round-trip");
    // The checks `predict` applies, on a V4-Pro-like model (61 layers, 384 experts, 128 heads).
    (void)layout_problem(l, 64, 61, 384, 128);
    (void)layout_problem(l, l.devices(), 61, 384, 128);
    (void)widest_ep(l.devices_per_stage(), 384);
  } catch (const InputError&) {
  }
}

}  // namespace v4sim::fuzz
