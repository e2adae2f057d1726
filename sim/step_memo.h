// Step times for the serving simulation, asked of the same step model as `predict`
// (sim/serving.h) and memoised on a grid, so a run of a million steps makes a few hundred calls.
//
// Keys: the batch exactly (sequences decoding in one dp group: the step the simulation has), and
// the context on a grid that rounds up, so a step is never cheaper than the state it stands for:
// ceil(2^(k/8)) tokens (<= 9% up), capped at the model's maximum context.
// A decode step of b sequences whose contexts differ is priced as b sequences at their mean
// context (attention and KV reads are linear in the context; the rest does not depend on it).
// Prefill of prompt tokens [from, to) costs P(to) - P(from), where P(n) is predict's time to first
// token of one n-token prompt (chunked at the config's prefill_chunk_tokens, on the prefill pool
// when disaggregated, without the KV transfer): causal attention makes the tokens after `from`
// cost what the whole prompt costs less its first `from` tokens, and a prompt's chunks telescope
// to P(prompt). The lookups ignore the reserved HBM share: the simulator keeps its own KV
// accounting (sim/simulate.h) and only asks for states that fit it. Where a rounded-up grid point
// does not fit in HBM while the real state does, predict is asked for the real state and its time
// stands for that grid point from then on (the one case where a lookup may round down).
#pragma once

#include <cstdint>
#include <unordered_map>

#include "hardware/system.h"
#include "sim/communication.h"
#include "sim/serving.h"

namespace v4sim {

class StepTimes {
 public:
  /// `config` as predict takes it (its cache_hit_rate is ignored: hits come from the simulated
  /// cache). `planner` must outlive this object.
  StepTimes(const PreparedModel& model, const SystemSpec& system, int nodes,
            const ServingConfig& config, CommPlanner& planner);

  /// One decode step of `batch` sequences per dp group at `mean_context` tokens (all stages,
  /// scheduler overhead included).
  double decode_step_s(std::int64_t batch, double mean_context);
  /// P(tokens): prefill of one prompt of `tokens` tokens from empty; P(0) = 0.
  double prefill_s(std::int64_t tokens);
  /// Tokens [from, to) of one prompt: P(to) - P(from).
  double prefill_chunk_s(std::int64_t from, std::int64_t to) {
    return prefill_s(to) - prefill_s(from);
  }
  /// Disaggregated: one sequence's KV of `context` tokens from its prefill rank to a decode rank
  /// (0 when colocated).
  double kv_transfer_s(std::int64_t context);
  /// Tokens each decode step yields per sequence: 1 + a + ... + a^K with MTP, else 1.
  double tokens_per_step() const { return tokens_per_step_; }
  /// Calls made to predict so far (the memo's misses).
  std::int64_t predict_calls() const { return calls_; }

  static std::int64_t context_bucket(std::int64_t context, std::int64_t max_context);

 private:
  struct Prompt {
    double prefill_s = 0, kv_transfer_s = 0;
  };
  const Prompt& prompt(std::int64_t tokens);
  /// predict at the grid point, or at the exact state when the grid point does not fit in HBM.
  ServingResult ask(std::int64_t batch, std::int64_t context, std::int64_t exact_batch,
                    std::int64_t exact_context);

  const PreparedModel& model_;
  const SystemSpec& system_;
  int nodes_;
  ServingConfig config_;
  CommPlanner& planner_;
  double tokens_per_step_ = 1.0;
  std::int64_t calls_ = 0;
  std::unordered_map<std::uint64_t, double> decode_;
  std::unordered_map<std::int64_t, Prompt> prompts_;
};

}  // namespace v4sim
