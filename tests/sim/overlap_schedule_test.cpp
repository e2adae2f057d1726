// The two-microbatch overlap schedule (sim/overlap_schedule.h): step times derived by hand, the
// early stop against the naive schedule, and the bounds every schedule meets on random work; the
// same for steps whose layers differ (runs of dense and MoE layers, then the model-level ops).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

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
/// experts per run (beside the dispatch or beside the combine, per microbatch; bit r of `late_a`
/// and `late_b` for run r): the end of the last event.
double naive_time(std::span<const LayerRun> runs, unsigned late_a, unsigned late_b) {
  double compute = 0, comm = 0, combined_a = 0, combined_b = 0;
  const auto run = [&](double ready, double work) {
    compute = std::max(compute, ready) + work;
    return compute;
  };
  const auto send = [&](double ready, double work) {
    comm = std::max(comm, ready) + work;
    return comm;
  };
  for (std::size_t r = 0; r < runs.size(); ++r)
    for (std::int64_t l = 0; l < runs[r].layers; ++l) {
      const MicrobatchWork& a = runs[r].a;
      const MicrobatchWork& b = runs[r].b;
      const bool a_late = (late_a >> r) & 1u;
      const bool b_late = (late_b >> r) & 1u;
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

/// The best of every placement, naively.
double naive_best(std::span<const LayerRun> runs) {
  const unsigned placements = 1u << runs.size();
  double best = 1e300;
  for (unsigned late_a = 0; late_a < placements; ++late_a)
    for (unsigned late_b = 0; late_b < placements; ++late_b)
      best = std::min(best, naive_time(runs, late_a, late_b));
  return best;
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
      const LayerRun run{a, b, layers};
      const double naive = naive_best(std::span<const LayerRun>(&run, 1));
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

TEST(OverlapSchedule, DenseLayersHideNoExchange) {
  // Three dense layers (A 2, S 1, nothing sent) then the communication-bound MoE layers of
  // CommunicationBoundKeepsTheLinkBusy (49 for four from an empty pipeline). The dense layers
  // leave the link idle: 3 x 2 x (2 + 1) = 18 of compute, then the MoE layers' 49 as if the
  // pipeline were empty, 67 in all. Spread evenly over the seven layers instead, the same work
  // would let the dense compute hide part of the exchanges.
  const std::vector<LayerRun> runs{{mb(2, 1, 0, 0, 0), mb(2, 1, 0, 0, 0), 3},
                                   {mb(1, 0, 1, 3, 3), mb(1, 0, 1, 3, 3), 4}};
  EXPECT_DOUBLE_EQ(two_microbatch_time_s(runs), 67.0);
  const MicrobatchWork even = mb((3 * 2 + 4 * 1) / 7.0, 3 / 7.0, 4 / 7.0, 12 / 7.0, 12 / 7.0);
  EXPECT_LT(two_microbatch_time_s(even, even, 7), 67.0 - 10);
  // The model-level ops after the last layer wait for their microbatch's last combine: a's
  // ends at 64 (b's takes the link 64-67), so a's A 5 runs 64-69 and b's 69-74.
  std::vector<LayerRun> with_head = runs;
  with_head.push_back({mb(5, 0, 0, 0, 0), mb(5, 0, 0, 0, 0), 1});
  EXPECT_DOUBLE_EQ(two_microbatch_time_s(with_head), 74.0);
}

TEST(OverlapSchedule, OneRunIsTheUniformStep) {
  std::mt19937_64 gen(3);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int i = 0; i < 100; ++i) {
    const MicrobatchWork a = mb(u(gen), u(gen) * 0.3, u(gen), u(gen), u(gen));
    const MicrobatchWork b = mb(u(gen), u(gen) * 0.3, u(gen), u(gen), u(gen));
    const LayerRun run{a, b, 61};
    EXPECT_EQ(two_microbatch_time_s(std::span<const LayerRun>(&run, 1)),
              two_microbatch_time_s(a, b, 61));
  }
  EXPECT_EQ(two_microbatch_time_s(std::span<const LayerRun>()), 0.0);
}

TEST(OverlapSchedule, RunsEqualTheNaiveScheduleAndMeetTheBounds) {
  // Dense, MoE and model-level runs of random work, each run's shared experts placed on their
  // own: equal to the best naive placement, between the larger of all compute and all
  // communication and their sum, never shortened by more work.
  std::mt19937_64 gen(1207);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int i = 0; i < 300; ++i) {
    std::vector<LayerRun> runs;
    for (const std::int64_t layers : {3, 58, 1}) {
      const double send = layers == 58 ? 1.0 : 0.2;
      runs.push_back({mb(u(gen), u(gen) * 0.3, u(gen), send * u(gen), send * u(gen)),
                      mb(u(gen), u(gen) * 0.3, u(gen), send * u(gen), send * u(gen)), layers});
    }
    const double t = two_microbatch_time_s(runs);
    EXPECT_NEAR(t, naive_best(runs), 1e-9 * t) << i;
    double compute = 0, comm = 0;
    for (const LayerRun& r : runs) {
      const double n = static_cast<double>(r.layers);
      compute += n * (r.a.compute_s() + r.b.compute_s());
      comm += n * (r.a.communication_s() + r.b.communication_s());
    }
    const double tol = 1e-12 * (compute + comm);
    EXPECT_GE(t, std::max(compute, comm) - tol);
    EXPECT_LE(t, compute + comm + tol);
    std::vector<LayerRun> slower = runs;
    slower[1].a.combine_s += u(gen);
    EXPECT_GE(two_microbatch_time_s(slower), t - tol);
  }
}

}  // namespace
}  // namespace v4sim
