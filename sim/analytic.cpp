#include "sim/analytic.h"

#include "models/config/input_error.h"

namespace v4sim {

std::string_view to_string(Phase p) {
  return p == Phase::decode ? "decode" : "prefill";
}

double AnalyticResult::flops_per_token() const {
  return static_cast<double>(total.total_flops()) / static_cast<double>(pass.num_tokens);
}

double AnalyticResult::fp8_equivalent_flops_per_token() const {
  return total.fp8_equivalent_flops() / static_cast<double>(pass.num_tokens);
}

PreparedModel prepare(ModelSpec spec) {
  PreparedModel m{std::move(spec), {}, {}};
  m.weights = enumerate_weights(m.spec);
  m.params = count_parameters(m.spec);
  return m;
}

AnalyticResult analyze(const ModelSpec& spec, const AnalyticQuery& query) {
  return analyze(prepare(spec), query);
}

AnalyticResult analyze(const PreparedModel& model, const AnalyticQuery& query) {
  const ModelSpec& spec = model.spec;
  const std::int64_t n = query.context_tokens;
  if (n < 1) throw InputError("context " + std::to_string(n) + " must be at least 1 token");
  if (n > spec.max_context_tokens && !query.allow_beyond_max_context)
    throw InputError("context " + std::to_string(n) + " exceeds max_context_tokens " +
                     std::to_string(spec.max_context_tokens) + " of model " + spec.name +
                     " (pass --extrapolate to evaluate the formulas there anyway)");
  AnalyticResult r;
  r.beyond_max_context = n > spec.max_context_tokens;
  r.query = query;
  r.pass = query.phase == Phase::decode ? Pass{n - 1, 1} : Pass{0, n};
  r.params = model.params;
  r.kv_cache = kv_cache_per_sequence(spec, n, spec.kv_format(query.kv_format), query.include_mtp);
  OpOptions options;
  options.kv_format = query.kv_format;
  options.include_mtp = query.include_mtp;
  for (const Op& op : build_ops(spec, model.weights, r.pass, options)) {
    r.total += op.cost;
    r.by_component[static_cast<int>(op.component)] += op.cost;
  }
  return r;
}

}  // namespace v4sim
