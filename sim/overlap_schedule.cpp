#include "sim/overlap_schedule.h"

#include <algorithm>
#include <array>
#include <limits>

namespace v4sim {
namespace {

/// Where a microbatch's shared experts run: right after its attention, or after its experts.
enum class SharedSlot { after_attention, after_experts };

/// Layers run before the period is read, and layers it is read over. The schedule is a max-plus
/// recurrence over ten events; it settles within a few layers, and a period that alternates
/// between two values (or four) averages exactly over eight.
constexpr int kSettleLayers = 4;
constexpr int kReadLayers = 8;

double period_s(const MicrobatchWork& a, const MicrobatchWork& b, SharedSlot sa, SharedSlot sb) {
  double compute = 0, comm = 0;           // when each stream is next free
  double combined_a = 0, combined_b = 0;  // the previous layer's combines' ends
  double start_a = 0, mark = 0;
  const auto run = [&compute](double ready, double work) {
    compute = std::max(compute, ready) + work;
    return compute;
  };
  const auto send = [&comm](double ready, double work) {
    comm = std::max(comm, ready) + work;
    return comm;
  };
  for (int layer = 0; layer < kSettleLayers + kReadLayers; ++layer) {
    if (layer == kSettleLayers) mark = start_a;
    // A_a [S_a] A_b [S_b] M_a [S_a] M_b [S_b]; d_a d_b c_a c_b.
    start_a = std::max(compute, combined_a);
    const double attended_a = run(combined_a, a.attention_s);
    if (sa == SharedSlot::after_attention) run(0, a.shared_s);
    const double dispatched_a = send(attended_a, a.dispatch_s);
    const double attended_b = run(combined_b, b.attention_s);
    if (sb == SharedSlot::after_attention) run(0, b.shared_s);
    const double dispatched_b = send(attended_b, b.dispatch_s);
    const double experts_a = run(dispatched_a, a.experts_s);
    if (sa == SharedSlot::after_experts) run(0, a.shared_s);
    const double experts_b = run(dispatched_b, b.experts_s);
    if (sb == SharedSlot::after_experts) run(0, b.shared_s);
    combined_a = send(experts_a, a.combine_s);
    combined_b = send(experts_b, b.combine_s);
  }
  return (start_a - mark) / kReadLayers;
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
