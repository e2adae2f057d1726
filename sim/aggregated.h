// Aggregated serving (prefill and decode on the same ranks, in-flight batching) with attention
// data parallelism: the time B requests of one dp group take, including the stall the dp groups
// impose on each other when one of them runs a prompt's prefill while the others only decode.
//
// Why: dp groups that share the MoE layers (expert parallelism across them) meet at every MoE
// layer's dispatch and combine, so an iteration's attention side lasts as long as the busiest
// group's. With the engines' default admission (TensorRT-LLM's round-robin request distribution,
// `attention_dp_config.enable_balance` off by default), each group admits a new prompt when one of
// its own requests finishes, independently of the others, so prefills land in different
// iterations and every group waits for each one: "the iteration time is dominated by the slowest
// rank" (TensorRT-LLM tech blog 10, "ADP Balance Strategy", github.com/NVIDIA/TensorRT-LLM
// docs/source/blogs/tech_blog/blog10_ADP_Balance_Strategy.md: DeepSeek-V3 on 8 GB200, DP8/EP8,
// 54 % average balance ratio and 1.31-1.33x throughput once context phases are synchronised).
//
// The rule. A group holding B sequences of O output tokens, each iteration yielding
// `tokens_per_step` per sequence, runs I = O / tokens_per_step iterations per request and, in
// steady state, admits a prompt in an iteration with probability p = min(1, B / I). With G groups
// admitting independently, an iteration holds at least one prefill with probability
// q = 1 - (1 - p)^G. Aligned prefills (q = p: G = 1, or p = 1) cost B * prefill_s per group, the
// prompts of every group priced together; each further iteration in which some other group
// prefills stalls this one for the prefill's rank-local part (everything but the routed experts,
// whose work is shared over the groups and merges into the decode step's expert GEMMs):
//   total = I * step_s + B * prefill_s + I * (q - p) * rank_local_prefill_s.
#pragma once

#include <cstdint>

#include "sim/serving.h"

namespace v4sim {

struct AggregatedInputs {
  double step_s = 0;                // one decode iteration at batch B
  double tokens_per_step = 1;       // output tokens per sequence per iteration (1 + MTP accepted)
  double prefill_s = 0;             // one prompt's prefill, every group prefilling one together
  double rank_local_prefill_s = 0;  // the part of prefill_s the other groups wait for
  double batch = 0;                 // B: sequences per dp group
  double output_tokens = 0;         // O: output tokens per request
  std::int64_t synchronised_groups = 1;  // G: dp groups meeting at every MoE layer
};

struct AggregatedTime {
  double iterations = 0;         // I: decode iterations per request
  double admit_probability = 0;  // p
  double stalled_share = 0;      // q: iterations holding at least one group's prefill
  double decode_s = 0;           // I * step_s
  double prefill_s = 0;          // B * prefill_s
  double skew_s = 0;             // I * (q - p) * rank_local_prefill_s
  double total_s = 0;            // the three summed: B requests of one group, start to end
};

/// The time B requests of one dp group take (rule above). Throws InputError for a non-positive
/// batch, output length, step time or tokens per step, or a rank-local part outside
/// [0, prefill_s].
AggregatedTime aggregated_time(const AggregatedInputs& in);

/// The dp groups of `layout` that meet at every MoE layer: the groups an expert-parallel group
/// spans when experts are spread wider than a tensor-parallel group (ep / tp, at most dp), else 1
/// (each group runs its own experts and waits for no other).
std::int64_t synchronised_dp_groups(const Layout& layout);

/// The share of a prefill's time that runs on the prompt's own ranks: 1 minus the routed experts'
/// share of the summed op times (`prefill.ops`; 1 when it has no op times).
double rank_local_share(const ServingResult& prefill);

}  // namespace v4sim
