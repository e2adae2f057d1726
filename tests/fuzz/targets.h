// Fuzz targets: one function per loader and per command-line value parser. Each takes arbitrary
// bytes and must either succeed or throw InputError; anything else (another exception, a crash, a
// sanitizer report, a hang) is a bug. The same functions run twice:
//   * as libFuzzer executables (fuzz_<name>, built with -DV4SIM_FUZZ=ON and clang), and
//   * as the unit test fuzz_replay_tests, which feeds every committed corpus file
//     (tests/fuzz/corpus/<name>/) through them in the ordinary build, so past findings stay fixed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <span>
#include <string_view>

namespace v4sim::fuzz {

using Bytes = std::span<const std::uint8_t>;

void model(Bytes input);         // models/model_loader.h: load_model
void accelerator(Bytes input);   // hardware/accelerator.h: load_accelerator
void system(Bytes input);        // hardware/system.h: load_system
void scenario(Bytes input);      // scenarios/scenario.h: load_scenario
void demand(Bytes input);        // scenarios/demand.h: load_demand
void context_list(Bytes input);  // reports/cli/values.h: parse_context_list
void layout(Bytes input);        // sim/layout.h: parse_layout (and what the CLI does with it)

struct Target {
  std::string_view name;
  void (*run)(Bytes);
};
inline void PrintTo(const Target& t, std::ostream* os) {
  *os << t.name;
}
inline constexpr Target kTargets[] = {
    {"model", model},   {"accelerator", accelerator},   {"system", system}, {"scenario", scenario},
    {"demand", demand}, {"context_list", context_list}, {"layout", layout},
};

}  // namespace v4sim::fuzz
