// The serving simulation against queueing theory, predict, and its own bookkeeping.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "hardware/system.h"
#include "models/model_loader.h"
#include "sim/communication.h"
#include "sim/serving.h"
#include "sim/simulate.h"
#include "sim/step_memo.h"
#include "sim/trace.h"

namespace v4sim {
namespace {

struct Deployment {
  PreparedModel flash = prepare(load_model("deepseek-v4-flash"));
  SystemSpec h200 = load_system("hgx-h200");
  ServingConfig config;
  Deployment() { config.layout = Layout{8, 1, 1, 8}; }  // one dp group: one engine
};

SimulationResult run(const Deployment& d, const ServingConfig& config, const SimulationConfig& sim,
                     const std::vector<Request>& requests) {
  CommPlanner planner(d.h200, 1);
  std::size_t next = 0;
  return simulate(
      d.flash, d.h200, 1, config, sim,
      [&](Request& out) {
        if (next >= requests.size()) return false;
        out = requests[next++];
        return true;
      },
      planner);
}

SimulationResult run_synthetic(const Deployment& d, const SimulationConfig& sim,
                               const SyntheticArrivals& spec) {
  CommPlanner planner(d.h200, 1);
  SyntheticSource source(spec, d.flash.spec.max_context_tokens);
  return simulate(
      d.flash, d.h200, 1, d.config, sim, [&](Request& out) { return source.next(out); }, planner);
}

/// Little's law from two independent sums: the event loop's area under the number in the system,
/// and the records' completion rate times mean time in system.
void expect_littles_law(const SimulationResult& r) {
  EXPECT_NEAR(r.mean_in_system, r.littles_law_rhs, 1e-9 * std::max(1.0, r.littles_law_rhs));
}

TEST(Simulate, OneRequestAtLowLoadHasPredictsPrefillAsTtft) {
  Deployment d;
  for (std::int64_t prefill_devices : {0, 4}) {
    ServingConfig c = d.config;
    if (prefill_devices > 0) c.layout = Layout{4, 1, 1, 4};
    c.prefill_devices = prefill_devices;
    Workload w;
    w.context_tokens = 4096;  // on the context grid: 2^12
    w.batch = 1;
    const ServingResult p = predict(d.flash, d.h200, 1, c, w);
    ASSERT_TRUE(p.feasible) << p.reason;
    const SimulationResult r =
        run(d, c, SimulationConfig{}, {Request{0.0, 4096, 8, {}}, Request{1000.0, 4096, 8, {}}});
    ASSERT_EQ(r.completed, 2);
    for (const RequestRecord& q : r.requests) {
      // TTFT is a difference of absolute times: the second request's arrival at 1000 s leaves
      // a few ulps of 1000 s (about 1e-13 s) of rounding in it.
      EXPECT_NEAR(q.ttft_s(), p.ttft_s, 1e-12 * p.ttft_s + 1e-15 * q.first_token_s);
    }
    if (prefill_devices > 0) {
      EXPECT_GT(p.kv_transfer_s, 0);
    }
    expect_littles_law(r);
  }
}

/// M/D/1: --max-batch 1 serves one request at a time; fixed lengths make every service the same
/// sequence of steps (deterministic by construction); Poisson arrivals. Mean wait in queue:
/// rho S / (2 (1 - rho)).
TEST(Simulate, MD1MeanWaitMatchesQueueingTheory) {
  Deployment d;
  SimulationConfig sim;
  sim.max_batch = 1;
  // The service time: one request alone.
  const SimulationResult alone = run(d, d.config, sim, {Request{0.0, 1024, 16, {}}});
  const double service_s = alone.requests[0].e2e_s();
  ASSERT_GT(service_s, 0);
  for (const auto& [rho, requests] : {std::pair{0.5, 100000}, std::pair{0.8, 300000}}) {
    SyntheticArrivals spec;
    spec.rate_per_s = rho / service_s;
    spec.requests = requests;
    spec.input = {1024, 1024};
    spec.output = {16, 16};
    spec.seed = 20261206;
    std::printf("M/D/1 rho %.1f, %d requests, seed %llu, S %.6f s\n", rho, requests,
                static_cast<unsigned long long>(spec.seed), service_s);
    const SimulationResult r = run_synthetic(d, sim, spec);
    ASSERT_EQ(r.completed, requests);
    for (const RequestRecord& q : r.requests)
      ASSERT_NEAR(q.e2e_s() - (q.start_s - q.arrival_s), service_s, 1e-9);
    const double expected = rho * service_s / (2.0 * (1.0 - rho));
    std::printf("  mean wait %.6f s, theory %.6f s, ratio %.4f\n", r.queue_s.mean, expected,
                r.queue_s.mean / expected);
    EXPECT_NEAR(r.queue_s.mean / expected, 1.0, 0.04) << "rho " << rho;
    expect_littles_law(r);
  }
}

TEST(Simulate, InfiniteCacheHitsEveryRepeatedPrefix) {
  Deployment d;
  // Conversations: each request repeats an earlier one's blocks then adds its own.
  std::vector<Request> requests;
  std::uint64_t next_id = 1000;
  std::vector<std::vector<std::uint64_t>> conversations(5);
  for (int i = 0; i < 40; ++i) {
    std::vector<std::uint64_t>& c = conversations[static_cast<std::size_t>(i % 5)];
    if (c.empty()) c.push_back(0);  // every prompt starts with block 0, as in Mooncake
    for (int k = 0; k < 1 + i % 3; ++k) c.push_back(next_id++);
    Request q;
    q.arrival_s = 10.0 * i;  // low load: each is done before the next arrives
    q.input_tokens = static_cast<std::int64_t>(c.size()) * kPrefixBlockTokens;
    q.output_tokens = 4;
    q.block_hashes = c;
    requests.push_back(q);
  }
  SimulationConfig sim;
  sim.kv_pool_bytes = 1e30;  // an infinite cache
  const SimulationResult r = run(d, d.config, sim, requests);
  ASSERT_EQ(r.completed, 40);
  std::set<std::uint64_t> seen;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    std::int64_t leading = 0;
    while (leading < static_cast<std::int64_t>(requests[i].block_hashes.size()) &&
           seen.count(requests[i].block_hashes[static_cast<std::size_t>(leading)]))
      ++leading;
    const std::int64_t expected =
        std::min(leading * kPrefixBlockTokens, requests[i].input_tokens - 1);
    EXPECT_EQ(r.requests[i].cached_tokens, expected) << "request " << i;
    seen.insert(requests[i].block_hashes.begin(), requests[i].block_hashes.end());
  }
  EXPECT_GT(r.cache_hit_rate, 0.5);
  expect_littles_law(r);
}

/// Eight dp groups under load: least-loaded routing scatters a conversation's turns over engines
/// (their caches miss); cache-aware routing sends each later turn to the engine holding its
/// previous turn, where every block of that turn hits.
TEST(Simulate, CacheAwareRoutingFollowsConversationsAcrossDpGroups) {
  Deployment d;
  ServingConfig c = d.config;
  c.layout = Layout{1, 8, 1, 8};
  std::vector<Request> requests;
  std::vector<std::size_t> previous_blocks;  // per request: blocks of its conversation's last turn
  std::vector<std::vector<std::uint64_t>> conversations(10);
  std::uint64_t next_id = 1;
  for (int turn = 0; turn < 6; ++turn) {
    for (int k = 0; k < 10; ++k) {
      std::vector<std::uint64_t>& conv = conversations[static_cast<std::size_t>(k)];
      previous_blocks.push_back(conv.size());
      if (conv.empty()) conv.push_back(0);  // a block every prompt shares
      conv.push_back(next_id++);
      if (k % 2 == 0) conv.push_back(next_id++);
      Request q;
      q.arrival_s = static_cast<double>(turn * 10 + k);
      q.input_tokens = static_cast<std::int64_t>(conv.size()) * kPrefixBlockTokens;
      q.output_tokens = 1500;  // ~20 s of decode: many requests in flight on every engine
      q.block_hashes = conv;
      requests.push_back(q);
    }
  }
  SimulationConfig sim;
  sim.kv_pool_bytes = 1e30;
  const SimulationResult spread = run(d, c, sim, requests);
  sim.cache_aware_routing = true;
  const SimulationResult aware = run(d, c, sim, requests);
  ASSERT_EQ(aware.completed, 60);
  for (std::size_t i = 10; i < requests.size(); ++i)
    EXPECT_EQ(aware.requests[i].cached_tokens,
              static_cast<std::int64_t>(previous_blocks[i]) * kPrefixBlockTokens)
        << "request " << i;
  EXPECT_GT(aware.cache_hit_rate, spread.cache_hit_rate);
  std::printf("cache hit rate: least-loaded %.3f, cache-aware %.3f\n", spread.cache_hit_rate,
              aware.cache_hit_rate);
  expect_littles_law(spread);
  expect_littles_law(aware);
}

TEST(Simulate, KvPressurePreemptsAndStillCompletesEveryRequest) {
  Deployment d;
  SimulationConfig sim;
  // A pool of 2.2 of the longest sequences: admission stops, decode growth preempts by recompute.
  SyntheticArrivals spec;
  spec.rate_per_s = 50;
  spec.requests = 40;
  spec.input = {3000, 6000};
  spec.output = {200, 2000};
  spec.seed = 7;
  sim.kv_pool_bytes = 0;
  const SimulationResult free_run = run_synthetic(d, sim, spec);
  sim.kv_pool_bytes = 2.2 * (free_run.kv_bytes_fixed + 8000 * free_run.kv_bytes_per_token);
  const SimulationResult r = run_synthetic(d, sim, spec);
  EXPECT_EQ(r.completed + r.rejected, 40);
  EXPECT_EQ(r.completed, 40);
  EXPECT_GT(r.preemptions, 0);
  for (const RequestRecord& q : r.requests) {
    EXPECT_GE(q.first_token_s, q.arrival_s);
    EXPECT_GE(q.finish_s, q.first_token_s);
  }
  expect_littles_law(r);
  expect_littles_law(free_run);
}

TEST(Simulate, MtpDecodesInPredictsTokensPerStep) {
  Deployment d;
  ServingConfig c = d.config;
  c.mtp_acceptance = 0.7;
  c.mtp_tokens = 2;
  Workload w;
  w.context_tokens = 2048;
  w.batch = 1;
  const ServingResult p = predict(d.flash, d.h200, 1, c, w);
  ASSERT_TRUE(p.feasible) << p.reason;
  EXPECT_NEAR(p.tokens_per_step, 1 + 0.7 + 0.49, 1e-12);
  const SimulationResult r = run(d, c, SimulationConfig{}, {Request{0.0, 2048, 101, {}}});
  ASSERT_EQ(r.completed, 1);
  EXPECT_EQ(r.tokens_per_step, p.tokens_per_step);
  // One prefill step, then ceil(100 / 2.19) = 46 decode steps.
  EXPECT_EQ(r.steps, 1 + 46);
}

TEST(Simulate, RequestsThatCanNeverFitAreRejectedAndCounted) {
  Deployment d;
  SimulationConfig sim;
  const SimulationResult probe = run(d, d.config, sim, {Request{0.0, 100, 10, {}}});
  // A pool for 5,000 tokens: the 8,000-token request can never fit, the others run.
  sim.kv_pool_bytes = probe.kv_bytes_fixed + 5000 * probe.kv_bytes_per_token;
  const SimulationResult r =
      run(d, d.config, sim,
          {Request{0.0, 1000, 10, {}}, Request{0.5, 7000, 1000, {}}, Request{1.0, 2000, 10, {}}});
  EXPECT_EQ(r.completed, 2);
  EXPECT_EQ(r.rejected, 1);
  EXPECT_TRUE(r.requests[1].rejected);
  EXPECT_LT(r.slo_attainment, 1.0);  // a rejected request misses every SLO
  expect_littles_law(r);
}

TEST(Simulate, PercentilesAreNearestRank) {
  const Summary s = summarize({5, 1, 4, 2, 3, 6, 7, 8, 9, 10});
  EXPECT_DOUBLE_EQ(s.mean, 5.5);
  EXPECT_DOUBLE_EQ(s.p50, 5);
  EXPECT_DOUBLE_EQ(s.p90, 9);
  EXPECT_DOUBLE_EQ(s.p99, 10);
}

TEST(Simulate, ContextGridRoundsUp) {
  for (std::int64_t c = 1; c < 300000; c += 97) {
    const std::int64_t up = StepTimes::context_bucket(c, 1 << 20);
    EXPECT_GE(up, c);
    EXPECT_LE(static_cast<double>(up), 1.1 * static_cast<double>(c) + 1);
  }
  EXPECT_EQ(StepTimes::context_bucket(4096, 1 << 20), 4096);
  EXPECT_EQ(StepTimes::context_bucket(1000000, 1000001), 1000001);
}

}  // namespace
}  // namespace v4sim
