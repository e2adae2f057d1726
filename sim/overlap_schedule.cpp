#include "sim/overlap_schedule.h"

#include <algorithm>
#include <array>
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

/// Layers run at most. The schedule is a max-plus recurrence over ten events: relative to each
/// layer's start its state reaches a fixed point (or a cycle of two) within a few layers, from
/// which every layer advances by the same time; without one, the mean advance of the last half.
constexpr int kMaxLayers = 16;

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

double period_s(const MicrobatchWork& a, const MicrobatchWork& b, SharedSlot sa, SharedSlot sb) {
  std::array<StreamState, kMaxLayers + 1> states{};
  std::array<double, kMaxLayers> advance{};
  for (int l = 0; l < kMaxLayers; ++l) {
    states[l + 1] = states[l];
    advance[l] = run_layer(states[l + 1], a, b, sa, sb);
    if (l >= 1 && states[l + 1] == states[l]) return advance[l];
    if (l >= 2 && states[l + 1] == states[l - 1]) return (advance[l] + advance[l - 1]) / 2;
  }
  double sum = 0;
  for (int l = kMaxLayers / 2; l < kMaxLayers; ++l) sum += advance[l];
  return sum / (kMaxLayers / 2);
}

}  // namespace

double two_microbatch_period_s(const MicrobatchWork& a, const MicrobatchWork& b) {
  double best = std::numeric_limits<double>::infinity();
  for (SharedSlot sa : {SharedSlot::after_attention, SharedSlot::after_experts})
    for (SharedSlot sb : {SharedSlot::after_attention, SharedSlot::after_experts})
      best = std::min(best, period_s(a, b, sa, sb));
  return best;
}

}  // namespace v4sim
