#include "sim/analytic.h"

#include <algorithm>

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
  PreparedModel m{std::move(spec), {}, {}, {}, {}, {}};
  try {
    m.weights = enumerate_weights(m.spec);
    m.params = count_parameters(m.spec);
    m.weight_index = index_weights(m.spec, m.weights);
  } catch (const CountOverflow&) {
    throw InputError(m.spec.file + ": model " + m.spec.name +
                     ": its widths give more than 2^63 parameters or weight bytes");
  }
  m.layer_repeats.assign(static_cast<std::size_t>(m.spec.num_layers), 0);
  for (const LayerGroup& g : layer_groups(m.spec)) {
    m.representatives.push_back(g.first);
    m.layer_repeats[static_cast<std::size_t>(g.first)] = g.count;
  }
  std::sort(m.representatives.begin(), m.representatives.end());
  return m;
}

AnalyticResult analyze(const ModelSpec& spec, const AnalyticQuery& query) {
  return analyze(prepare(spec), query);
}

namespace {

OpOptions op_options(const PreparedModel& model, const AnalyticQuery& query, OpSelect select) {
  OpOptions options;
  options.kv_format = query.kv_format;
  options.include_mtp = query.include_mtp;
  options.prefill = query.phase == Phase::prefill;
  options.layers = model.representatives;
  options.names = OpNames::none;
  options.select = select;
  return options;
}

/// Adds the ops of `pass` that `select` picks to their components, representatives scaled to
/// their groups. (The pass's total is the sum of its components, taken once at the end: the same
/// integers, and counts are non-negative, so it overflows exactly when a running total would.)
void add_ops(std::array<Cost, kNumOpComponents>& by_component, const PreparedModel& model,
             const AnalyticQuery& query, const Pass& pass, OpSelect select) {
  const ModelSpec& spec = model.spec;
  const auto add = [&](const Op& op) {
    Cost& sum = by_component[static_cast<int>(op.component)];
    const bool main_layer = op.layer >= 0 && op.layer < spec.num_layers;
    const std::int64_t repeats =
        main_layer ? model.layer_repeats[static_cast<std::size_t>(op.layer)] : 1;
    if (repeats == 1)
      sum += op.cost;
    else
      sum += op.cost * repeats;
  };
  for_each_op(spec, model.weights, model.weight_index, pass, op_options(model, query, select), add);
}

Cost sum_of(const std::array<Cost, kNumOpComponents>& by_component) {
  Cost total;
  for (const Cost& c : by_component) total += c;
  return total;
}

/// analyze() with, when `fixed` is given, its ops already summed there.
AnalyticResult evaluate(const PreparedModel& model, const AnalyticQuery& query,
                        const ContextSweep* fixed) {
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
  const KvFormat& format = spec.kv_format(query.kv_format);
  try {
    r.kv_cache = kv_cache_per_sequence(spec, n, format, query.include_mtp);
    if (fixed) r.by_component = fixed->fixed_by_component;
    add_ops(r.by_component, model, query, r.pass, fixed ? OpSelect::positional : OpSelect::all);
    r.total = sum_of(r.by_component);
    (void)r.total.total_flops();  // the totals callers print must fit too
    (void)r.total.total_bytes();
    (void)r.kv_cache.total();
  } catch (const CountOverflow&) {
    // Exact int64 counts end at 9.2e18: e.g. a dense-attention prefill of millions of tokens.
    throw InputError("model " + spec.name + " at context " + std::to_string(n) + " (" +
                     std::string(to_string(query.phase)) +
                     "): FLOP or byte counts exceed 2^63 = 9.2e18, more than v4sim counts "
                     "exactly; use a shorter context");
  }
  return r;
}

}  // namespace

AnalyticResult analyze(const PreparedModel& model, const AnalyticQuery& query) {
  return evaluate(model, query, nullptr);
}

ContextSweep compile_contexts(const PreparedModel& model, const AnalyticQuery& settings) {
  ContextSweep s;
  s.model = &model;
  s.settings = settings;
  if (settings.phase != Phase::decode) return s;
  // The fixed ops see one query token wherever it stands: build them at position 0.
  try {
    add_ops(s.fixed_by_component, model, settings, Pass{0, 1}, OpSelect::fixed);
    (void)sum_of(s.fixed_by_component);  // the fixed total must fit too
    s.fixed_summed = true;
  } catch (const CountOverflow&) {
    // Left to each context's full evaluation, which reports it with the context.
    s.fixed_by_component = {};
  }
  return s;
}

AnalyticResult analyze(const ContextSweep& sweep, std::int64_t context_tokens) {
  AnalyticQuery q = sweep.settings;
  q.context_tokens = context_tokens;
  return evaluate(*sweep.model, q, sweep.fixed_summed ? &sweep : nullptr);
}

}  // namespace v4sim
