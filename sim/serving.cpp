// Serving: one layout and batch assembled into throughput, latency, utilisation and memory, with
// SLOs checked; the batch search. Step timing is in step_time.cpp, capacity in
// serving_memory.cpp, validation and setup in serving_setup.cpp.
#include "sim/serving.h"

#include <cstdio>
#include <utility>

#include "sim/compiled_step.h"
#include "sim/serving_internal.h"

namespace v4sim {
namespace {

using namespace serving_detail;

/// Prices `batch` on the setup. `decode_ttft_s` is the time to first token of one prompt, which
/// a decode batch does not change (computed once by the caller).
ServingResult evaluate(const Setup& s, std::int64_t batch, const SystemTotals& totals,
                       double decode_ttft_s) {
  ServingResult r;
  const Workload& w = s.workload;
  r.prefill_devices = s.config.prefill_devices;
  r.devices = s.layout.devices() + r.prefill_devices;
  r.layout = s.layout;
  r.batch = batch;
  r.power_w = totals.power_w.nominal;
  const double b = static_cast<double>(batch);
  const std::int64_t n = w.context_tokens;
  r.memory = memory_use(s, batch);
  r.batch_per_device =
      b * static_cast<double>(s.layout.dp * s.layout.pp) / static_cast<double>(s.layout.devices());
  r.sequences = batch * s.layout.dp * s.layout.pp;
  if (r.memory.free_bytes() < 0) {
    r.reason = memory_reason(r.memory);
    r.why = Infeasible::memory;
    return r;
  }
  const double hbm = s.device.hbm_bytes_per_s();
  if (w.phase == Phase::prefill) {
    Prefill own;
    const Prefill& p = batch == 1 ? one_prompt(s, own) : (own = price_prefill(s, b));
    const double new_tokens = static_cast<double>(n - cached_tokens(s));
    const double stage_s = p.time_s / static_cast<double>(s.layout.pp);
    r.ttft_s = p.time_s;
    r.step_s = p.time_s;
    r.breakdown = p.breakdown;
    // pp prompt batches in flight; each dp group finishes b prompts per stage time.
    r.throughput_tokens_per_s = b * new_tokens * static_cast<double>(s.layout.dp) / stage_s;
    r.throughput_tokens_per_s_per_device =
        r.throughput_tokens_per_s / static_cast<double>(r.devices);
    r.mfu = p.work.ideal_compute_s / stage_s;
    r.mbu = p.work.bytes / (hbm * stage_s);
    r.precision_fallbacks = p.work.fallback;
    r.time_sources = p.ledger.sources;
    if (&p == &own) {
      r.ops = std::move(own.ledger.ops);
      r.warnings = own.ledger.texts();
    } else {
      r.ops = p.ledger.ops;
      r.warnings = p.ledger.texts();
    }
  } else {
    Pricing p = price_stage(s, Pass{n - 1, s.q}, b, true, /*prefill=*/false);
    double chain_s = 0;
    if (s.mtp_chain) {
      // Drafts 2..K, one after the other, each on the token the pass before drafted.
      const double drafts = static_cast<double>(s.config.mtp_tokens - 1);
      const Pricing d = price_stage(*s.mtp_chain, Pass{n - 1 + s.q, 1}, b, true, false);
      StepBreakdown scaled = d.breakdown;
      for (double* v : {&scaled.attention_s, &scaled.indexer_s, &scaled.compressor_s, &scaled.moe_s,
                        &scaled.routed_s, &scaled.shared_s, &scaled.other_s, &scaled.compute_s,
                        &scaled.communication_s, &scaled.exposed_communication_s, &scaled.total_s})
        *v *= drafts;
      p.breakdown += scaled;
      p.work.ideal_compute_s += d.work.ideal_compute_s * drafts;
      p.work.bytes += d.work.bytes * drafts;
      p.work.merge_fallback(d.work.fallback);
      p.ledger.merge(d.ledger, drafts, drafts);
      chain_s = scaled.total_s;
    }
    r.ttft_s = decode_ttft_s;
    r.kv_transfer_s = kv_transfer_s(s);
    r.breakdown = p.breakdown;
    // The chain runs on the last stage once the step's pass has crossed every stage.
    r.step_s = (p.breakdown.total_s - chain_s) * static_cast<double>(s.layout.pp) + chain_s +
               s.config.scheduler_overhead_s;
    // Draft i (1-based) is kept when it and every earlier draft are accepted: a^i.
    double tokens_per_step = 1.0, accepted = 1.0;
    for (std::int64_t i = 0; s.mtp && i < s.config.mtp_tokens; ++i) {
      accepted *= s.config.mtp_acceptance;
      tokens_per_step += accepted;
    }
    r.tokens_per_step = tokens_per_step;
    r.tpot_s = r.step_s / tokens_per_step;
    r.tokens_per_s_per_user = 1.0 / r.tpot_s;
    r.throughput_tokens_per_s = static_cast<double>(r.sequences) / r.tpot_s;
    r.throughput_tokens_per_s_per_device =
        r.throughput_tokens_per_s / static_cast<double>(r.devices);
    r.mfu = p.work.ideal_compute_s / p.breakdown.total_s;
    r.mbu = p.work.bytes / (hbm * p.breakdown.total_s);
    r.precision_fallbacks = p.work.fallback;
    r.time_sources = p.ledger.sources;
    r.ops = std::move(p.ledger.ops);
    r.warnings = p.ledger.texts();
  }
  r.precision_fallback = to_string(r.precision_fallbacks);
  // SLOs: a miss makes the point infeasible with the reason, never silently dropped.
  char buf[200];
  if (w.slo_tpot_s && w.phase == Phase::decode && r.tpot_s > *w.slo_tpot_s) {
    std::snprintf(buf, sizeof buf, "TPOT %.1f ms exceeds the %.1f ms SLO", r.tpot_s * 1e3,
                  *w.slo_tpot_s * 1e3);
    r.reason = buf;
    r.why = Infeasible::tpot_slo;
    return r;
  }
  if (w.slo_ttft_s && r.ttft_s > *w.slo_ttft_s) {
    std::snprintf(buf, sizeof buf, "TTFT %.2f s exceeds the %.2f s SLO", r.ttft_s, *w.slo_ttft_s);
    r.reason = buf;
    r.why = Infeasible::ttft_slo;
    return r;
  }
  r.feasible = true;
  return r;
}

}  // namespace

std::string to_string(const std::vector<PrecisionFallback>& fallbacks) {
  std::string out;
  for (const PrecisionFallback& f : fallbacks) {
    if (!out.empty()) out += ", ";
    out.append(to_string(f.precision)).append(" as ").append(to_string(f.path));
  }
  return out;
}

StepBreakdown& StepBreakdown::operator+=(const StepBreakdown& o) {
  attention_s += o.attention_s;
  indexer_s += o.indexer_s;
  compressor_s += o.compressor_s;
  moe_s += o.moe_s;
  routed_s += o.routed_s;
  shared_s += o.shared_s;
  other_s += o.other_s;
  compute_s += o.compute_s;
  communication_s += o.communication_s;
  exposed_communication_s += o.exposed_communication_s;
  total_s += o.total_s;
  return *this;
}

std::vector<ServingResult> sweep_batches(const PreparedModel& model, const SystemSpec& system,
                                         int nodes, const ServingConfig& config,
                                         const Workload& workload,
                                         const std::vector<std::int64_t>& batches,
                                         CommPlanner* planner, ModelCache* cache,
                                         PrefillMemo* memo) {
  Prepared p;
  prepare_setup(p, model, system, nodes, config, workload, planner, cache, memo);
  std::vector<ServingResult> out;
  if (!p.setup) {
    out.assign(batches.size(), p.problem);
    return out;
  }
  const double ttft = decode_ttft(*p.setup);
  // Every batch prices the same passes: compiled at the first rather than the second.
  if (batches.size() > 1) compile_sweeps(*p.setup);
  out.reserve(batches.size());
  for (std::int64_t b : batches) out.push_back(evaluate(*p.setup, b, p.totals, ttft));
  return out;
}

std::int64_t max_batch_that_fits(const PreparedModel& model, const SystemSpec& system, int nodes,
                                 const ServingConfig& config, const Workload& workload,
                                 CommPlanner* planner, ModelCache* cache) {
  Prepared p;
  prepare_setup(p, model, system, nodes, config, workload, planner, cache);
  return p.setup ? largest_fitting(*p.setup) : 0;
}

ServingResult predict(const PreparedModel& model, const SystemSpec& system, int nodes,
                      const ServingConfig& config, const Workload& workload, CommPlanner* planner) {
  Prepared p;
  prepare_setup(p, model, system, nodes, config, workload, planner);
  if (!p.setup) return p.problem;
  const Setup& s = *p.setup;
  const SystemTotals& totals = p.totals;
  const double ttft = decode_ttft(s);
  if (workload.batch > 0) return evaluate(s, workload.batch, totals, ttft);

  // The largest batch that fits (memory grows linearly in the batch).
  const std::int64_t lo = largest_fitting(s);
  if (lo == 0) return evaluate(s, 1, totals, ttft);  // not even one sequence fits: say why
  ServingResult best = evaluate(s, lo, totals, ttft);
  if (best.feasible) return best;
  // An SLO fails at the memory limit. Step time grows with the batch, so bisect for the largest
  // batch that meets it (or report why even one sequence misses it).
  const ServingResult one = evaluate(s, 1, totals, ttft);
  if (!one.feasible) return one;
  std::int64_t ok = 1, bad = lo;
  while (bad - ok > 1) {
    const std::int64_t mid = (ok + bad) / 2;
    (evaluate(s, mid, totals, ttft).feasible ? ok : bad) = mid;
  }
  return evaluate(s, ok, totals, ttft);
}

}  // namespace v4sim
