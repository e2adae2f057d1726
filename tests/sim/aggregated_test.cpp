// The attention-DP prefill stall of aggregated serving (sim/aggregated.h), on numbers small
// enough to derive by hand.
#include <gtest/gtest.h>

#include "models/config/input_error.h"
#include "sim/aggregated.h"

namespace v4sim {
namespace {

AggregatedInputs two_groups() {
  AggregatedInputs in;
  in.step_s = 0.05;
  in.tokens_per_step = 1;
  in.prefill_s = 0.1;
  in.rank_local_prefill_s = 0.08;
  in.batch = 4;
  in.output_tokens = 16;
  in.synchronised_groups = 2;
  return in;
}

TEST(AggregatedTime, TwoGroupsAdmittingIndependentlyByHand) {
  // I = 16 iterations; p = 4 / 16 = 0.25; q = 1 - 0.75^2 = 0.4375.
  // decode 16 * 0.05 = 0.8; prefill 4 * 0.1 = 0.4; skew 16 * (0.4375 - 0.25) * 0.08 = 0.24.
  const AggregatedTime t = aggregated_time(two_groups());
  EXPECT_DOUBLE_EQ(t.iterations, 16.0);
  EXPECT_DOUBLE_EQ(t.admit_probability, 0.25);
  EXPECT_DOUBLE_EQ(t.stalled_share, 0.4375);
  EXPECT_DOUBLE_EQ(t.decode_s, 0.8);
  EXPECT_DOUBLE_EQ(t.prefill_s, 0.4);
  EXPECT_NEAR(t.skew_s, 0.24, 1e-15);
  EXPECT_NEAR(t.total_s, 1.44, 1e-15);
}

TEST(AggregatedTime, MtpShortensTheIterations) {
  // Two tokens per step: I = 8, p = 0.5, q = 0.75, skew 8 * 0.25 * 0.08 = 0.16, decode 0.4.
  AggregatedInputs in = two_groups();
  in.tokens_per_step = 2;
  const AggregatedTime t = aggregated_time(in);
  EXPECT_DOUBLE_EQ(t.iterations, 8.0);
  EXPECT_DOUBLE_EQ(t.stalled_share, 0.75);
  EXPECT_NEAR(t.skew_s, 0.16, 1e-15);
  EXPECT_NEAR(t.total_s, 0.4 + 0.4 + 0.16, 1e-15);
}

TEST(AggregatedTime, AlignedPrefillsStallNothing) {
  // One group (q = p), or a prompt in every iteration (p = q = 1): the aligned sum alone.
  AggregatedInputs one = two_groups();
  one.synchronised_groups = 1;
  EXPECT_DOUBLE_EQ(aggregated_time(one).skew_s, 0.0);
  EXPECT_NEAR(aggregated_time(one).total_s, 1.2, 1e-15);
  AggregatedInputs full = two_groups();
  full.batch = 32;  // B > I: p capped at 1
  EXPECT_DOUBLE_EQ(aggregated_time(full).admit_probability, 1.0);
  EXPECT_DOUBLE_EQ(aggregated_time(full).skew_s, 0.0);
}

TEST(AggregatedTime, TheStallGrowsWithTheGroups) {
  AggregatedInputs in = two_groups();
  double last = aggregated_time(in).skew_s;
  for (std::int64_t g : {4, 8, 64}) {
    in.synchronised_groups = g;
    const double now = aggregated_time(in).skew_s;
    EXPECT_GT(now, last) << g;
    last = now;
  }
  // Never beyond every iteration stalled: I * (1 - p) * rank-local = 16 * 0.75 * 0.08.
  EXPECT_LT(last, 0.96);
}

TEST(AggregatedTime, BadInputIsRefused) {
  AggregatedInputs in = two_groups();
  in.batch = 0;
  EXPECT_THROW(aggregated_time(in), InputError);
  in = two_groups();
  in.rank_local_prefill_s = 0.2;  // more than the prefill itself
  EXPECT_THROW(aggregated_time(in), InputError);
  in = two_groups();
  in.synchronised_groups = 0;
  EXPECT_THROW(aggregated_time(in), InputError);
  in = two_groups();
  in.tokens_per_step = 0;
  EXPECT_THROW(aggregated_time(in), InputError);
}

TEST(SynchronisedGroups, ExpertParallelismAcrossGroupsJoinsThem) {
  EXPECT_EQ(synchronised_dp_groups({1, 8, 1, 8}), 8);   // attention DP8 + EP8
  EXPECT_EQ(synchronised_dp_groups({8, 1, 1, 8}), 1);   // TP8 + EP8: one group
  EXPECT_EQ(synchronised_dp_groups({2, 4, 1, 8}), 4);   // ep / tp = 4 groups
  EXPECT_EQ(synchronised_dp_groups({1, 16, 1, 8}), 8);  // two EP8 groups of 8
  EXPECT_EQ(synchronised_dp_groups({1, 8, 1, 1}), 1);   // replicas: no shared experts
}

TEST(RankLocalShare, EverythingButTheRoutedExperts) {
  ServingResult r;
  r.ops.push_back({"ffn.routed_experts", "routed_experts", 58, 0.25, "measured", "", false});
  r.ops.push_back({"attn.wo", "attention_projections", 61, 0.5, "measured", "", false});
  r.ops.push_back({"ffn.dispatch", "communication", 58, 0.25, "measured", "", false});
  EXPECT_DOUBLE_EQ(rank_local_share(r), 0.75);
  EXPECT_DOUBLE_EQ(rank_local_share(ServingResult{}), 1.0);
}

}  // namespace
}  // namespace v4sim
