// Counts are exact int64 (kernels/cost.h); inputs whose counts leave int64 must be refused, never
// wrapped into wrong numbers (issue 7). Before checked arithmetic, `cost --model deepseek-v3
// --context 1m --phase prefill --extrapolate` printed a negative FLOP total.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "kernels/cost.h"
#include "kernels/position_sums.h"
#include "models/config/input_error.h"
#include "models/model_loader.h"
#include "sim/analytic.h"

namespace v4sim {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

TEST(CheckedCounts, ExactBelowTheLimitAndThrowAbove) {
  EXPECT_EQ(checked_mul(3037000499, 3037000499), 9223372030926249001);  // floor(sqrt(2^63 - 1))
  EXPECT_THROW(checked_mul(3037000500, 3037000500), CountOverflow);
  EXPECT_EQ(checked_mul(2, 3, 7, 11), 462);
  EXPECT_THROW(checked_mul(1 << 20, 1 << 20, 1 << 20, 1 << 20), CountOverflow);
  EXPECT_EQ(checked_add(kMax - 1, 1), kMax);
  EXPECT_THROW(checked_add(kMax, 1), CountOverflow);
  Cost c;
  c.flops_at(Precision::fp8) = kMax / 2 + 1;
  EXPECT_THROW(c * 2, CountOverflow);
  EXPECT_THROW(c += c, CountOverflow);
  Cost last;  // the last element summed, so one overflow anywhere is seen
  last.written(MemClass::activations) = kMax / 2 + 1;
  EXPECT_THROW(last * 2, CountOverflow);
  EXPECT_THROW(last += last, CountOverflow);
  last.written(MemClass::activations) = kMax / 2;
  EXPECT_EQ((last * 2).written(MemClass::activations), kMax - 1);
  // Scaling skips the per-field checks when the widest field and the factor fit in 62 bits
  // together (31 + 31 here), and checks each field otherwise; both are exact up to the limit.
  Cost wide;
  wide.flops_at(Precision::bf16) = (std::int64_t{1} << 31) - 1;
  wide.read(MemClass::weights) = -(std::int64_t{1} << 31);
  const Cost scaled = wide * ((std::int64_t{1} << 31) - 1);
  EXPECT_EQ(scaled.flops_at(Precision::bf16), 4611686014132420609);  // (2^31 - 1)^2
  EXPECT_EQ(scaled.read(MemClass::weights), -4611686016279904256);   // -2^31 (2^31 - 1)
  wide.read(MemClass::weights) = std::int64_t{1} << 40;
  EXPECT_EQ((wide * (std::int64_t{1} << 22)).read(MemClass::weights), std::int64_t{1} << 62);
  EXPECT_THROW(wide * (std::int64_t{1} << 23), CountOverflow);
  EXPECT_EQ((wide * -(std::int64_t{1} << 23)).read(MemClass::weights), -kMax - 1);
  EXPECT_THROW(wide * -(std::int64_t{1} << 24), CountOverflow);
  // Sums over positions: n (n + 1) / 2 fits up to n of about 4.29e9.
  EXPECT_EQ(position_sums::range_identity(0, 1'000'000), 500'000'500'000);
  EXPECT_THROW(position_sums::range_identity(0, std::int64_t{1} << 40), CountOverflow);
}

TEST(CheckedCounts, AnalyzeRefusesCountsBeyondInt64) {
  const PreparedModel v3 = prepare(load_model("deepseek-v3"));
  // Dense MLA prefill grows as n^2 (expanded form, about 5e6 FLOPs per query-key pair over the
  // 61 layers): 1M still fits (about 2.8e18 FLOPs), 4M does not.
  const AnalyticResult ok = analyze(v3, {1048576, Phase::prefill, "deploy", false, true});
  EXPECT_GT(ok.total.total_flops(), std::int64_t{1} << 60);
  try {
    (void)analyze(v3, {4194304, Phase::prefill, "deploy", false, true});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("exceed 2^63"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("deepseek-v3 at context 4194304 (prefill)"),
              std::string::npos)
        << e.what();
  }
  // Decode is linear in n; at 2^40 tokens the KV bytes and attention FLOPs still overflow.
  EXPECT_THROW(analyze(v3, {std::int64_t{1} << 40, Phase::decode, "deploy", false, true}),
               InputError);
  // V4's sparse attention keeps a 1M prefill far below the limit.
  const PreparedModel pro = prepare(load_model("deepseek-v4-pro"));
  EXPECT_GT(analyze(pro, {1048576, Phase::prefill}).total.total_flops(), 0);
}

TEST(CheckedCounts, AbsurdWidthsAreRefusedByPrepare) {
  // Widths the loader accepts one by one (each <= 2^24) whose products overflow the weight count.
  ModelSpec spec = load_model("deepseek-v4-flash");
  spec.hidden_size = std::int64_t{1} << 24;
  spec.moe.expert_intermediate_size = std::int64_t{1} << 24;
  spec.moe.num_routed_experts = 1 << 16;
  try {
    (void)prepare(spec);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("more than 2^63 parameters"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace v4sim
