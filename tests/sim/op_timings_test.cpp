// ServingConfig::op_timings only decides whether the per-op table is filled: with it off, every
// time, utilisation, source share and warning is the same double, on layouts with and without
// tensor parallelism, overlap, MTP and a disaggregated prefill pool.
#include <gtest/gtest.h>

#include "hardware/system.h"
#include "models/model_loader.h"
#include "sim/serving.h"

namespace v4sim {
namespace {

void expect_same_numbers(const ServingResult& a, const ServingResult& b) {
  EXPECT_EQ(a.feasible, b.feasible);
  EXPECT_EQ(a.batch, b.batch);
  EXPECT_EQ(a.step_s, b.step_s);
  EXPECT_EQ(a.ttft_s, b.ttft_s);
  EXPECT_EQ(a.tpot_s, b.tpot_s);
  EXPECT_EQ(a.throughput_tokens_per_s, b.throughput_tokens_per_s);
  EXPECT_EQ(a.mfu, b.mfu);
  EXPECT_EQ(a.mbu, b.mbu);
  EXPECT_EQ(a.breakdown.total_s, b.breakdown.total_s);
  EXPECT_EQ(a.breakdown.exposed_communication_s, b.breakdown.exposed_communication_s);
  EXPECT_EQ(a.time_sources.measured_s, b.time_sources.measured_s);
  EXPECT_EQ(a.time_sources.transferred_s, b.time_sources.transferred_s);
  EXPECT_EQ(a.time_sources.roofline_s, b.time_sources.roofline_s);
  EXPECT_EQ(a.warnings, b.warnings);
  EXPECT_EQ(a.memory.free_bytes(), b.memory.free_bytes());
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
  };
  const Case cases[] = {
      {&flash, Layout{1, 8, 1, 8}, 0.0, 0, Phase::decode},
      {&flash, Layout{8, 1, 1, 8}, 0.7, 0, Phase::decode},
      {&v32, Layout{1, 8, 1, 8}, 0.0, 0, Phase::prefill},
      {&flash, Layout{2, 2, 1, 4}, 0.0, 4, Phase::decode},
  };
  for (const Case& c : cases) {
    ServingConfig on;
    on.layout = c.layout;
    on.mtp_acceptance = c.mtp_acceptance;
    on.prefill_devices = c.prefill_devices;
    ServingConfig off = on;
    off.op_timings = false;
    Workload w;
    w.phase = c.phase;
    w.context_tokens = c.phase == Phase::decode ? 32768 : 20000;
    w.batch = c.phase == Phase::decode ? 0 : 2;  // decode: the largest batch that fits
    const ServingResult a = predict(*c.model, h200, 1, on, w);
    const ServingResult b = predict(*c.model, h200, 1, off, w);
    SCOPED_TRACE(c.model->spec.name + " " + std::string(to_string(c.phase)));
    ASSERT_TRUE(a.feasible) << a.reason;
    expect_same_numbers(a, b);
    EXPECT_FALSE(a.ops.empty());
    EXPECT_TRUE(b.ops.empty());
    double table_s = 0;  // the table accounts for the step's compute and communication
    for (const OpTiming& o : a.ops) table_s += o.time_s;
    EXPECT_GT(table_s, 0.0);
  }
}

}  // namespace
}  // namespace v4sim
