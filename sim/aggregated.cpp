#include "sim/aggregated.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "models/config/input_error.h"

namespace v4sim {
namespace {

void require_positive(double v, const char* what) {
  if (!(v > 0) || !std::isfinite(v))
    throw InputError(std::string("aggregated serving: ") + what + " " + std::to_string(v) +
                     " must be positive");
}

}  // namespace

AggregatedTime aggregated_time(const AggregatedInputs& in) {
  require_positive(in.step_s, "decode step time");
  require_positive(in.tokens_per_step, "tokens per step");
  require_positive(in.batch, "batch");
  require_positive(in.output_tokens, "output tokens");
  if (!(in.prefill_s >= 0) || !(in.rank_local_prefill_s >= 0) ||
      in.rank_local_prefill_s > in.prefill_s)
    throw InputError("aggregated serving: rank-local prefill time " +
                     std::to_string(in.rank_local_prefill_s) + " must lie in [0, prefill " +
                     std::to_string(in.prefill_s) + "]");
  if (in.synchronised_groups < 1)
    throw InputError("aggregated serving: synchronised dp groups " +
                     std::to_string(in.synchronised_groups) + " must be at least 1");
  AggregatedTime t;
  t.iterations = in.output_tokens / in.tokens_per_step;
  t.admit_probability = std::min(1.0, in.batch / t.iterations);
  t.stalled_share =
      1.0 - std::pow(1.0 - t.admit_probability, static_cast<double>(in.synchronised_groups));
  t.decode_s = t.iterations * in.step_s;
  t.prefill_s = in.batch * in.prefill_s;
  // q >= p always; the difference is the iterations stalled by another group's prompt.
  t.skew_s =
      t.iterations * std::max(0.0, t.stalled_share - t.admit_probability) * in.rank_local_prefill_s;
  t.total_s = t.decode_s + t.prefill_s + t.skew_s;
  return t;
}

std::int64_t synchronised_dp_groups(const Layout& layout) {
  if (layout.ep <= layout.tp) return 1;
  return std::clamp<std::int64_t>(layout.ep / std::max<std::int64_t>(1, layout.tp), 1, layout.dp);
}

double rank_local_share(const ServingResult& prefill) {
  double all_s = 0, routed_s = 0;
  for (const OpTiming& o : prefill.ops) {
    all_s += o.time_s;
    if (o.component == "routed_experts") routed_s += o.time_s;
  }
  return all_s > 0 ? 1.0 - routed_s / all_s : 1.0;
}

}  // namespace v4sim
