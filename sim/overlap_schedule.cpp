#include "sim/overlap_schedule.h"

#include <algorithm>
#include <limits>

namespace v4sim {
namespace {

/// Where a microbatch's shared experts run: right after its attention, or after its experts.
enum class SharedSlot { after_attention, after_experts };

/// When each stream is next free and when each microbatch's last combine ended, relative to the
/// start of the layer about to run (its first attention).
struct StreamState {
  double compute = 0, comm = 0, combined_a = 0, combined_b = 0;
  bool operator==(const StreamState&) const = default;
};

/// Runs one layer from `st`, which it leaves relative to the next layer's start; returns the
/// time from this layer's start to the next's.
double run_layer(StreamState& st, const MicrobatchWork& a, const MicrobatchWork& b, SharedSlot sa,
                 SharedSlot sb) {
  double& compute = st.compute;
  double& comm = st.comm;
  const auto run = [&compute](double ready, double work) {
    compute = std::max(compute, ready) + work;
    return compute;
  };
  const auto send = [&comm](double ready, double work) {
    comm = std::max(comm, ready) + work;
    return comm;
  };
  // A_a [S_a] A_b [S_b] M_a [S_a] M_b [S_b]; d_a d_b c_a c_b.
  const double attended_a = run(st.combined_a, a.attention_s);
  if (sa == SharedSlot::after_attention) run(0, a.shared_s);
  const double dispatched_a = send(attended_a, a.dispatch_s);
  const double attended_b = run(st.combined_b, b.attention_s);
  if (sb == SharedSlot::after_attention) run(0, b.shared_s);
  const double dispatched_b = send(attended_b, b.dispatch_s);
  const double experts_a = run(dispatched_a, a.experts_s);
  if (sa == SharedSlot::after_experts) run(0, a.shared_s);
  const double experts_b = run(dispatched_b, b.experts_s);
  if (sb == SharedSlot::after_experts) run(0, b.shared_s);
  st.combined_a = send(experts_a, a.combine_s);
  st.combined_b = send(experts_b, b.combine_s);
  const double next = std::max(compute, st.combined_a);
  for (double* t : {&st.compute, &st.comm, &st.combined_a, &st.combined_b}) *t -= next;
  return next;
}

/// `layers` layers from `st` (relative to the start of the first), the shared experts placed as
/// `sa` and `sb` say; leaves `st` relative to the start of the layer after them and returns the
/// time to that start. Relative to each layer's start the state reaches a fixed point within a
/// few layers; from there every layer advances by the same time, so the rest are added at once.
/// (A state that cycles instead is run layer by layer.)
double run_layers(StreamState& st, const MicrobatchWork& a, const MicrobatchWork& b, SharedSlot sa,
                  SharedSlot sb, std::int64_t layers) {
  double start = 0;  // of the layer about to run
  for (std::int64_t l = 0; l < layers; ++l) {
    const StreamState before = st;
    const double advance = run_layer(st, a, b, sa, sb);
    start += advance;
    if (st == before) {
      start += advance * static_cast<double>(layers - 1 - l);
      break;
    }
  }
  return start;
}

constexpr SharedSlot kSlots[] = {SharedSlot::after_attention, SharedSlot::after_experts};

/// The shortest time from `st` through runs[r..] to the last event's end, over the placements of
/// each run's shared experts. Where a placement cannot matter (no shared work, or nothing sent
/// for it to hide beside) only one is tried.
double best_from(const StreamState& st, std::span<const LayerRun> runs, std::size_t r) {
  while (r < runs.size() && runs[r].layers <= 0) ++r;
  if (r == runs.size()) return std::max(st.compute, st.comm);
  const LayerRun& run = runs[r];
  const bool sent = run.a.communication_s() > 0 || run.b.communication_s() > 0;
  const int choices_a = sent && run.a.shared_s > 0 ? 2 : 1;
  const int choices_b = sent && run.b.shared_s > 0 ? 2 : 1;
  double best = std::numeric_limits<double>::infinity();
  for (int i = 0; i < choices_a; ++i)
    for (int j = 0; j < choices_b; ++j) {
      StreamState next = st;
      const double start = run_layers(next, run.a, run.b, kSlots[i], kSlots[j], run.layers);
      best = std::min(best, start + best_from(next, runs, r + 1));
    }
  return best;
}

}  // namespace

double two_microbatch_time_s(std::span<const LayerRun> runs) {
  return best_from(StreamState{}, runs, 0);
}

double two_microbatch_time_s(const MicrobatchWork& a, const MicrobatchWork& b,
                             std::int64_t layers) {
  const LayerRun run{a, b, layers};
  return two_microbatch_time_s(std::span<const LayerRun>(&run, 1));
}

}  // namespace v4sim
