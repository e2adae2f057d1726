#include "scenarios/run.h"

#include "models/config/input_error.h"

namespace v4sim {

report::Report run_scenario(const Scenario& s, const ProgressFn& progress) {
  if (s.kind == "long_context") return run_long_context(s, progress);
  throw InputError(s.file + ": scenario kind '" + s.kind + "' has no runner yet");
}

}  // namespace v4sim
