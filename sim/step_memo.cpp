#include "sim/step_memo.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace v4sim {

std::int64_t StepTimes::context_bucket(std::int64_t context, std::int64_t max_context) {
  if (context <= 1) return 1;
  std::int64_t k =
      static_cast<std::int64_t>(std::floor(8.0 * std::log2(static_cast<double>(context))));
  auto value = [](std::int64_t i) {
    return static_cast<std::int64_t>(std::ceil(std::exp2(static_cast<double>(i) / 8.0)));
  };
  while (value(k) < context) ++k;
  return std::min(value(k), max_context);
}

StepTimes::StepTimes(const PreparedModel& model, const SystemSpec& system, int nodes,
                     const ServingConfig& config, CommPlanner& planner)
    : model_(model), system_(system), nodes_(nodes), config_(config), planner_(planner) {
  config_.cache_hit_rate = 0.0;
  config_.reserved_hbm_fraction = 0.0;
  config_.op_timings = false;  // only step times are looked up
  tokens_per_step_ = ask(1, 1, 1, 1).tokens_per_step;
}

ServingResult StepTimes::ask(std::int64_t batch, std::int64_t context, std::int64_t exact_batch,
                             std::int64_t exact_context) {
  Workload w;
  w.phase = Phase::decode;
  w.context_tokens = context;
  w.batch = batch;
  ++calls_;
  ServingResult r = predict(model_, system_, nodes_, config_, w, &planner_);
  if (!r.feasible && (batch != exact_batch || context != exact_context)) {
    // The rounded-up state may not fit in HBM where the real one does: ask for the real one.
    w.batch = exact_batch;
    w.context_tokens = exact_context;
    ++calls_;
    r = predict(model_, system_, nodes_, config_, w, &planner_);
  }
  if (!r.feasible)
    // The simulator only asks for states its own KV accounting admitted, and the lookup has the
    // whole HBM: a refusal here is a bug, not an input problem.
    throw std::logic_error("step model refused batch " + std::to_string(batch) + " at context " +
                           std::to_string(context) + ": " + r.reason);
  return r;
}

double StepTimes::decode_step_s(std::int64_t batch, double mean_context) {
  const std::int64_t max = model_.spec.max_context_tokens;
  const auto context = static_cast<std::int64_t>(std::ceil(mean_context));
  const std::int64_t c = context_bucket(context, max);
  const std::uint64_t key = static_cast<std::uint64_t>(batch) << 32 | static_cast<std::uint64_t>(c);
  if (auto it = decode_.find(key); it != decode_.end()) return it->second;
  return decode_[key] = ask(batch, c, batch, std::max<std::int64_t>(1, context)).step_s;
}

const StepTimes::Prompt& StepTimes::prompt(std::int64_t tokens) {
  const std::int64_t c = context_bucket(tokens, model_.spec.max_context_tokens);
  if (auto it = prompts_.find(c); it != prompts_.end()) return it->second;
  const ServingResult r = ask(1, c, 1, tokens);
  // predict's ttft_s is the prefill (on the prefill pool when disaggregated) plus the transfer.
  return prompts_[c] = Prompt{r.ttft_s - r.kv_transfer_s, r.kv_transfer_s};
}

double StepTimes::prefill_s(std::int64_t tokens) {
  return tokens <= 0 ? 0.0 : prompt(tokens).prefill_s;
}

double StepTimes::kv_transfer_s(std::int64_t context) {
  return config_.prefill_devices > 0 ? prompt(context).kv_transfer_s : 0.0;
}

}  // namespace v4sim
