// The five catalogue loaders under fuzzing. Each input becomes a file and goes through the same
// entry point the CLI uses; InputError is the expected answer to bad bytes.
#include <algorithm>
#include <stdexcept>

#include "hardware/accelerator.h"
#include "hardware/system.h"
#include "models/config/input_error.h"
#include "models/model_loader.h"
#include "scenarios/demand.h"
#include "scenarios/scenario.h"
#include "sim/analytic.h"
#include "tests/fuzz/targets.h"
#include "tests/fuzz/temp_input.h"

namespace v4sim::fuzz {
namespace {

template <class Load>
void load_or_reject(Bytes input, Load load) {
  const std::filesystem::path file = write_temp_input(input);
  try {
    load(file);
  } catch (const InputError&) {
    // Bad input, reported as such: the wanted outcome for malformed files.
  }
}

}  // namespace

void model(Bytes input) {
  load_or_reject(input, [](const std::filesystem::path& f) {
    // Beyond the loader: the weight list and the analytic model over whatever the file says.
    // Counts must come out exact and non-negative, or as InputError (kernels/cost.h overflow).
    const PreparedModel m = prepare(load_model(f.string()));
    for (const std::int64_t n : {std::int64_t{1}, m.spec.max_context_tokens}) {
      for (const AnalyticQuery& q :
           {AnalyticQuery{n, Phase::decode},
            AnalyticQuery{std::min<std::int64_t>(n, 1 << 16), Phase::prefill}}) {
        const AnalyticResult r = analyze(m, q);
        if (r.total.total_flops() < 0 || r.kv_cache.total() < 0 || r.params.total_params < 0)
          throw std::logic_error("negative count");
      }
    }
  });
}

void accelerator(Bytes input) {
  load_or_reject(input, [](const std::filesystem::path& f) { (void)load_accelerator(f.string()); });
}

void system(Bytes input) {
  // Accelerator names resolve in the shipped catalogue; relative paths next to the input file.
  load_or_reject(input, [](const std::filesystem::path& f) { (void)load_system(f.string()); });
}

void scenario(Bytes input) {
  load_or_reject(input, [](const std::filesystem::path& f) { (void)load_scenario(f.string()); });
}

void demand(Bytes input) {
  load_or_reject(input, [](const std::filesystem::path& f) { (void)load_demand(f); });
}

}  // namespace v4sim::fuzz
