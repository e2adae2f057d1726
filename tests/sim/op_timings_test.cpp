// ServingConfig::op_timings only decides whether the per-op table is filled: with it off, every
// time, utilisation, source share and warning is the same, on layouts with and without tensor
// parallelism, overlap, MTP, cache hits and a disaggregated prefill pool. Without the table a
// prefill's chunks share the sums of their position-independent ops (sim/step_time.cpp
// FixedCompute), which adds the same terms in another order: numbers agree to 1e-12 relative
// (issue 12's bound for a compiled cost model), decode steps bit for bit.
#include <gtest/gtest.h>

#include <cmath>

#include "hardware/system.h"
#include "models/model_loader.h"
#include "sim/serving.h"
#include "tests/support/close_to_1e12.h"

namespace v4sim {
namespace {

using test_support::expect_close;

void expect_same_numbers(const ServingResult& a, const ServingResult& b, Phase phase) {
  EXPECT_EQ(a.feasible, b.feasible);
  EXPECT_EQ(a.batch, b.batch);
  expect_close(a.step_s, b.step_s, "step_s");
  expect_close(a.ttft_s, b.ttft_s, "ttft_s");
  expect_close(a.tpot_s, b.tpot_s, "tpot_s");
  expect_close(a.throughput_tokens_per_s, b.throughput_tokens_per_s, "throughput");
  expect_close(a.mfu, b.mfu, "mfu");
  expect_close(a.mbu, b.mbu, "mbu");
  expect_close(a.breakdown.total_s, b.breakdown.total_s, "total_s");
  // Step time less compute: near 0 when compute hides it, so relative to the step.
  expect_close(a.breakdown.exposed_communication_s, b.breakdown.exposed_communication_s,
               "exposed communication", b.breakdown.total_s);
  expect_close(a.time_sources.measured_s, b.time_sources.measured_s, "measured_s");
  expect_close(a.time_sources.transferred_s, b.time_sources.transferred_s, "transferred_s");
  expect_close(a.time_sources.roofline_s, b.time_sources.roofline_s, "roofline_s");
  EXPECT_EQ(a.warnings, b.warnings);
  EXPECT_EQ(a.memory.free_bytes(), b.memory.free_bytes());
  if (phase == Phase::decode) {  // the decode step itself takes the same path either way
    EXPECT_EQ(a.step_s, b.step_s);
    EXPECT_EQ(a.breakdown.total_s, b.breakdown.total_s);
  }
}

TEST(OpTimings, OffChangesNoNumberOnlyTheTable) {
  const PreparedModel flash = prepare(load_model("deepseek-v4-flash"));
  const PreparedModel v32 = prepare(load_model("deepseek-v3.2"));
  const SystemSpec h200 = load_system("hgx-h200");
  struct Case {
    const PreparedModel* model;
    Layout layout;
    double mtp_acceptance;
    std::int64_t prefill_devices;
    Phase phase;
    std::int64_t context_tokens;
    double cache_hit_rate;
  };
  const Case cases[] = {
      {&flash, Layout{1, 8, 1, 8}, 0.0, 0, Phase::decode, 32768, 0.0},
      {&flash, Layout{8, 1, 1, 8}, 0.7, 0, Phase::decode, 32768, 0.0},
      {&v32, Layout{1, 8, 1, 8}, 0.0, 0, Phase::prefill, 20000, 0.0},
      {&flash, Layout{2, 2, 1, 4}, 0.0, 4, Phase::decode, 32768, 0.0},
      // Many chunks of one size and a shorter last one, with and without tensor parallelism.
      {&flash, Layout{1, 8, 1, 8}, 0.0, 0, Phase::prefill, 300000, 0.3},
      {&flash, Layout{8, 1, 1, 8}, 0.0, 0, Phase::prefill, 150000, 0.0},
      {&v32, Layout{2, 4, 1, 8}, 0.0, 0, Phase::decode, 100000, 0.5},
  };
  for (const Case& c : cases) {
    ServingConfig on;
    on.layout = c.layout;
    on.mtp_acceptance = c.mtp_acceptance;
    on.prefill_devices = c.prefill_devices;
    on.cache_hit_rate = c.cache_hit_rate;
    ServingConfig off = on;
    off.op_timings = false;
    Workload w;
    w.phase = c.phase;
    w.context_tokens = c.context_tokens;
    w.batch = c.phase == Phase::decode ? 0 : 2;  // decode: the largest batch that fits
    const ServingResult a = predict(*c.model, h200, 1, on, w);
    const ServingResult b = predict(*c.model, h200, 1, off, w);
    SCOPED_TRACE(c.model->spec.name + " " + std::string(to_string(c.phase)));
    ASSERT_TRUE(a.feasible) << a.reason;
    expect_same_numbers(a, b, c.phase);
    EXPECT_FALSE(a.ops.empty());
    EXPECT_TRUE(b.ops.empty());
    double table_s = 0;  // the table accounts for the step's compute and communication
    for (const OpTiming& o : a.ops) table_s += o.time_s;
    EXPECT_GT(table_s, 0.0);
  }
}

}  // namespace
}  // namespace v4sim
