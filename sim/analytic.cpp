#include "sim/analytic.h"

#include <algorithm>
#include <span>

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
  PreparedModel m{std::move(spec), {}, {}, {}, {}, {}, {}};
  try {
    m.weights = enumerate_weights(m.spec);
    m.params = count_parameters(m.weights);
    m.weight_index = index_weights(m.spec, m.weights);
    m.weight_sums = weight_sums(m.spec, m.weights);
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

OpOptions op_options(const AnalyticQuery& query, OpSelect select,
                     std::span<const std::int64_t> layers) {
  OpOptions options;
  options.kv_format = query.kv_format;
  options.include_mtp = query.include_mtp;
  options.prefill = query.phase == Phase::prefill;
  options.layers = layers;
  options.names = OpNames::none;
  options.select = select;
  return options;
}

/// Adds the ops of `pass` that `options` picks to their components, each main layer's scaled by
/// `repeats[layer]`, the layers it stands for (model-level and MTP ops count once). (The pass's
/// total is the sum of its components, taken once at the end: the same integers, and counts are
/// non-negative, so it overflows exactly when a running total would.)
void add_ops(std::array<Cost, kNumOpComponents>& by_component, const PreparedModel& model,
             const OpOptions& options, std::span<const std::int64_t> repeats, const Pass& pass) {
  // Two references: std::function keeps a capture of up to 16 bytes without allocating.
  // `repeats` has one entry per main layer, so the MTP layers after them count once.
  const auto add = [&by_component, &repeats](const Op& op) {
    Cost& sum = by_component[static_cast<int>(op.component)];
    const auto layer = static_cast<std::size_t>(op.layer);
    const std::int64_t times = op.layer >= 0 && layer < repeats.size() ? repeats[layer] : 1;
    if (times == 1)
      sum += op.cost;
    else
      sum += op.cost * times;
  };
  for_each_op(model.spec, model.weights, model.weight_index, pass, options, add);
}

Cost sum_of(const std::array<Cost, kNumOpComponents>& by_component) {
  Cost total;
  for (const Cost& c : by_component) total += c;
  return total;
}

/// analyze(), through `sweep`'s precomputed parts when it is given.
AnalyticResult evaluate(const PreparedModel& model, const AnalyticQuery& query,
                        const ContextSweep* sweep) {
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
  try {
    if (sweep) {
      r.kv_cache = kv_cache_per_sequence(spec, sweep->kv_layers, n, *sweep->kv_format);
      r.by_component = sweep->fixed_by_component;
      add_ops(r.by_component, model,
              op_options(query, OpSelect::positional, sweep->positional_layers),
              sweep->positional_repeats, r.pass);
      r.total = sweep->fixed_elsewhere;
      for (int c = 0; c < kNumOpComponents; ++c)
        if (sweep->positional_component[c]) r.total += r.by_component[c];
    } else {
      r.kv_cache =
          kv_cache_per_sequence(spec, n, spec.kv_format(query.kv_format), query.include_mtp);
      add_ops(r.by_component, model, op_options(query, OpSelect::all, model.representatives),
              model.layer_repeats, r.pass);
      r.total = sum_of(r.by_component);
    }
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
  const ModelSpec& spec = model.spec;
  s.kv_format = &spec.kv_format(settings.kv_format);
  s.kv_layers = kv_layer_groups(spec, settings.include_mtp);
  s.positional_repeats.assign(static_cast<std::size_t>(spec.num_layers), 0);
  for (const LayerGroup& g : positional_layer_groups(spec)) {
    s.positional_layers.push_back(g.first);
    s.positional_repeats[static_cast<std::size_t>(g.first)] = g.count;
  }
  std::sort(s.positional_layers.begin(), s.positional_layers.end());
  // The positional ops are the same list at every position: see which components they add to.
  OpOptions positional = op_options(settings, OpSelect::positional, s.positional_layers);
  for_each_op(spec, model.weights, model.weight_index, Pass{0, 1}, positional, [&s](const Op& op) {
    s.positional_component[static_cast<int>(op.component)] = true;
  });
  // The fixed ops see one query token wherever it stands: build them at position 0.
  try {
    add_ops(s.fixed_by_component, model,
            op_options(settings, OpSelect::fixed, model.representatives), model.layer_repeats,
            Pass{0, 1});
    (void)sum_of(s.fixed_by_component);  // the fixed total must fit too
    for (int c = 0; c < kNumOpComponents; ++c)
      if (!s.positional_component[c]) s.fixed_elsewhere += s.fixed_by_component[c];
    s.fixed_summed = true;
  } catch (const CountOverflow&) {
    // Left to each context's full evaluation, which reports it with the context.
    s.fixed_by_component = {};
    s.fixed_elsewhere = {};
  }
  return s;
}

AnalyticResult analyze(const ContextSweep& sweep, std::int64_t context_tokens) {
  AnalyticQuery q = sweep.settings;
  q.context_tokens = context_tokens;
  return evaluate(*sweep.model, q, sweep.fixed_summed ? &sweep : nullptr);
}

}  // namespace v4sim
