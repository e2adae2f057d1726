// The two-microbatch overlap schedule (sim/overlap_schedule.h): step times derived by hand, the
// early stop against the naive schedule, and the bounds every schedule meets on random work.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "sim/overlap_schedule.h"

namespace v4sim {
namespace {

MicrobatchWork mb(double attention, double shared, double experts, double dispatch,
                  double combine) {
  MicrobatchWork w;
  w.attention_s = attention;
  w.shared_s = shared;
  w.experts_s = experts;
  w.dispatch_s = dispatch;
  w.combine_s = combine;
  return w;
}

TEST(OverlapSchedule, ComputeBoundHidesAllCommunication) {
  // A 3, S 1, M 2 against d 1, c 1: 2 x (3 + 1 + 2) = 12 a layer, and nothing is exposed at the
  // ends either: b's shared experts go last, beside b's last combine.
  const MicrobatchWork w = mb(3, 1, 2, 1, 1);
  EXPECT_DOUBLE_EQ(two_microbatch_time_s(w, w, 1), 12.0);
  EXPECT_DOUBLE_EQ(two_microbatch_time_s(w, w, 4), 48.0);
}

TEST(OverlapSchedule, CommunicationBoundKeepsTheLinkBusy) {
  // A 1, M 1 against d 3, c 3: the link never waits once a's first attention (1) has run:
  // 1 + 4 x 2 x (3 + 3) = 49 for four layers.
  const MicrobatchWork w = mb(1, 0, 1, 3, 3);
  EXPECT_DOUBLE_EQ(two_microbatch_time_s(w, w, 4), 49.0);
}

TEST(OverlapSchedule, AttentionWaitsForItsOwnCombine) {
  // A 2, M 1, d 1, c 3. Pairing attention with combine and experts with dispatch would give
  // 2 max(A, c) + 2 max(M, d) = 8 a layer, but that is no schedule: b's attention starts when
  // b's previous combine ends, and the link then carries b's dispatch, a's combine and b's
  // combine in turn before b's next attention can start: A + d + 2 c = 9 a layer. Four layers:
  // 2 more for the first layer's fill, 9 x 4 + 2 = 38.
  const MicrobatchWork w = mb(2, 0, 1, 1, 3);
  EXPECT_DOUBLE_EQ(two_microbatch_time_s(w, w, 4), 38.0);
  EXPECT_DOUBLE_EQ(two_microbatch_time_s(w, w, 40) - two_microbatch_time_s(w, w, 39), 9.0);
}

TEST(OverlapSchedule, SharedExpertsGoWhereTheyHide) {
  // A 1, S 2, M 1, d 2, c 1. Beside its own dispatch each microbatch's shared experts fill the
  // wait for it: the compute stream runs A_a S_a A_b S_b M_a M_b = 8 a layer without a gap
  // (d_a ends at 3, d_b at 5, both before their experts start), plus b's last combine: 8 x 4 + 1.
  // After the experts instead, M_a would wait for d_a: longer.
  const MicrobatchWork w = mb(1, 2, 1, 2, 1);
  EXPECT_DOUBLE_EQ(two_microbatch_time_s(w, w, 4), 33.0);
}

TEST(OverlapSchedule, UnequalHalvesAreEachTheirOwn) {
  // Halves of one prompt: b attends over more keys. Compute-bound: the sum of both.
  EXPECT_DOUBLE_EQ(two_microbatch_time_s(mb(3, 1, 2, 1, 1), mb(5, 1, 2, 1, 1), 3), 42.0);
}

TEST(OverlapSchedule, NoLayersNoTime) {
  EXPECT_EQ(two_microbatch_time_s(mb(1, 1, 1, 1, 1), mb(1, 1, 1, 1, 1), 0), 0.0);
}

/// The schedule run naively, layer by layer in absolute time, with one placement of the shared
/// experts (beside the dispatch or beside the combine, per microbatch): the end of the last
/// event of `layers` layers.
double naive_time(const MicrobatchWork& a, const MicrobatchWork& b, bool a_late, bool b_late,
                  int layers) {
  double compute = 0, comm = 0, combined_a = 0, combined_b = 0;
  const auto run = [&](double ready, double work) {
    compute = std::max(compute, ready) + work;
    return compute;
  };
  const auto send = [&](double ready, double work) {
    comm = std::max(comm, ready) + work;
    return comm;
  };
  for (int l = 0; l < layers; ++l) {
    const double attended_a = run(combined_a, a.attention_s);
    if (!a_late) run(0, a.shared_s);
    const double dispatched_a = send(attended_a, a.dispatch_s);
    const double attended_b = run(combined_b, b.attention_s);
    if (!b_late) run(0, b.shared_s);
    const double dispatched_b = send(attended_b, b.dispatch_s);
    const double experts_a = run(dispatched_a, a.experts_s);
    if (a_late) run(0, a.shared_s);
    const double experts_b = run(dispatched_b, b.experts_s);
    if (b_late) run(0, b.shared_s);
    combined_a = send(experts_a, a.combine_s);
    combined_b = send(experts_b, b.combine_s);
  }
  return std::max(compute, comm);
}

TEST(OverlapSchedule, EqualsTheNaiveScheduleLayerByLayer) {
  // The schedule stops stepping at the first repeated state and adds the remaining layers at
  // once; run naively for every layer, the best of the four placements agrees to rounding.
  std::mt19937_64 gen(71207);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int i = 0; i < 300; ++i) {
    const MicrobatchWork a = mb(u(gen), u(gen) * 0.3, u(gen), u(gen), u(gen));
    const MicrobatchWork b = mb(u(gen), u(gen) * 0.3, u(gen), u(gen), u(gen));
    for (int layers : {1, 2, 7, 61}) {
      double naive = 1e300;
      for (bool a_late : {false, true})
        for (bool b_late : {false, true})
          naive = std::min(naive, naive_time(a, b, a_late, b_late, layers));
      EXPECT_NEAR(two_microbatch_time_s(a, b, layers), naive, 1e-9 * naive) << i << " " << layers;
    }
  }
}

TEST(OverlapSchedule, BoundsHoldOnRandomWork) {
  std::mt19937_64 gen(20261207);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  constexpr int kLayers = 61;
  for (int i = 0; i < 2000; ++i) {
    const MicrobatchWork a = mb(u(gen), u(gen) * 0.3, u(gen), u(gen), u(gen));
    const MicrobatchWork b = mb(u(gen), u(gen) * 0.3, u(gen), u(gen), u(gen));
    const double t = two_microbatch_time_s(a, b, kLayers);
    const double compute = kLayers * (a.compute_s() + b.compute_s());
    const double comm = kLayers * (a.communication_s() + b.communication_s());
    const double tol = 1e-12 * (compute + comm);
    EXPECT_GE(t, std::max(compute, comm) - tol);
    for (const MicrobatchWork& w : {a, b})
      EXPECT_GE(t, kLayers * (w.attention_s + w.dispatch_s + w.experts_s + w.combine_s) - tol);
    EXPECT_LE(t, compute + comm + tol);
    // More work never shortens the step.
    MicrobatchWork slower = a;
    slower.combine_s += u(gen);
    EXPECT_GE(two_microbatch_time_s(slower, b, kLayers), t - tol);
  }
}

}  // namespace
}  // namespace v4sim
