// The compiled cost model (sim/compiled_step.h) equals the direct evaluation: on random points
// (models x systems x layouts x batches x contexts x phases, MTP on and off, tensor parallelism,
// overlap, cache hits, disaggregated prefill), every number a search's point returns
// (ServingConfig::op_timings false) is predict's with the per-op table (the reference path) to
// 1e-12 relative, and a batch sweep on one compiled setup gives each batch's own prediction.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "hardware/system.h"
#include "models/model_loader.h"
#include "sim/serving.h"
#include "tests/support/close_to_1e12.h"

namespace v4sim {
namespace {

using test_support::expect_close;

void expect_same(const ServingResult& a, const ServingResult& b) {
  EXPECT_EQ(a.feasible, b.feasible);
  EXPECT_EQ(a.why, b.why);
  EXPECT_EQ(a.devices, b.devices);
  EXPECT_EQ(a.batch, b.batch);
  EXPECT_EQ(a.sequences, b.sequences);
  EXPECT_EQ(a.precision_fallback, b.precision_fallback);
  // The same warnings; a prefill's chunks list their position-independent ops' first (they are
  // summed once for every chunk, sim/step_time.cpp FixedCompute), so compare them as sets.
  std::vector<std::string> wa = a.warnings, wb = b.warnings;
  std::sort(wa.begin(), wa.end());
  std::sort(wb.begin(), wb.end());
  EXPECT_EQ(wa, wb);
  expect_close(a.batch_per_device, b.batch_per_device, "batch_per_device");
  expect_close(a.step_s, b.step_s, "step_s");
  expect_close(a.tpot_s, b.tpot_s, "tpot_s");
  expect_close(a.ttft_s, b.ttft_s, "ttft_s");
  expect_close(a.kv_transfer_s, b.kv_transfer_s, "kv_transfer_s");
  expect_close(a.throughput_tokens_per_s, b.throughput_tokens_per_s, "throughput");
  expect_close(a.throughput_tokens_per_s_per_device, b.throughput_tokens_per_s_per_device,
               "throughput per device");
  expect_close(a.tokens_per_s_per_user, b.tokens_per_s_per_user, "tokens per user");
  expect_close(a.tokens_per_step, b.tokens_per_step, "tokens per step");
  expect_close(a.mfu, b.mfu, "mfu");
  expect_close(a.mbu, b.mbu, "mbu");
  expect_close(a.power_w, b.power_w, "power");
  const StepBreakdown &x = a.breakdown, &y = b.breakdown;
  const double total = y.total_s;
  expect_close(x.attention_s, y.attention_s, "attention_s", total);
  expect_close(x.indexer_s, y.indexer_s, "indexer_s", total);
  expect_close(x.compressor_s, y.compressor_s, "compressor_s", total);
  expect_close(x.moe_s, y.moe_s, "moe_s", total);
  expect_close(x.other_s, y.other_s, "other_s", total);
  expect_close(x.compute_s, y.compute_s, "compute_s", total);
  expect_close(x.communication_s, y.communication_s, "communication_s", total);
  expect_close(x.exposed_communication_s, y.exposed_communication_s, "exposed", total);
  expect_close(x.total_s, y.total_s, "total_s");
  const double sources = b.time_sources.total_s();
  expect_close(a.time_sources.measured_s, b.time_sources.measured_s, "measured_s", sources);
  expect_close(a.time_sources.transferred_s, b.time_sources.transferred_s, "transferred_s",
               sources);
  expect_close(a.time_sources.roofline_s, b.time_sources.roofline_s, "roofline_s", sources);
  EXPECT_EQ(a.memory.weights_bytes, b.memory.weights_bytes);
  EXPECT_EQ(a.memory.kv_bytes, b.memory.kv_bytes);
  EXPECT_EQ(a.memory.activation_bytes, b.memory.activation_bytes);
}

TEST(CompiledStep, RandomPointsEqualTheDirectEvaluation) {
  const std::vector<PreparedModel> models = {
      prepare(load_model("deepseek-v4-flash")), prepare(load_model("deepseek-v4-pro")),
      prepare(load_model("deepseek-v3.2")), prepare(load_model("deepseek-v3"))};
  // Measured tables (H200, H800), tables transferred from a sibling (H20, B300), another vendor
  // (MI300X) and FP8 as INT8 (Atlas 800T A2).
  const std::vector<SystemSpec> systems = {
      load_system("hgx-h200"), load_system("hgx-h800"),        load_system("hgx-h20"),
      load_system("hgx-b300"), load_system("mi300x-platform"), load_system("atlas-800t-a2")};
  // (tp, dp, pp, ep) over 8 ranks per node, on one or two nodes.
  const std::vector<Layout> layouts = {
      Layout{1, 8, 1, 8}, Layout{8, 1, 1, 8},   Layout{2, 4, 1, 8},  Layout{4, 2, 1, 8},
      Layout{1, 4, 2, 4}, Layout{1, 16, 1, 16}, Layout{2, 8, 1, 16}, Layout{1, 8, 2, 8}};
  const std::vector<std::int64_t> contexts = {1, 777, 4096, 32768, 100000, 131072};
  std::mt19937_64 rng(12);
  const auto pick = [&](std::size_t n) {
    return static_cast<std::size_t>(std::uniform_int_distribution<std::size_t>(0, n - 1)(rng));
  };
  int compared = 0;
  for (int i = 0; i < 80; ++i) {
    const PreparedModel& model = models[pick(models.size())];
    const SystemSpec& system = systems[pick(systems.size())];
    ServingConfig on;
    on.layout = layouts[pick(layouts.size())];
    const int nodes = on.layout.devices() > system.devices_per_node ? 2 : 1;
    on.mtp_acceptance = pick(2) == 0 ? 0.0 : 0.8;
    on.mtp_tokens = 1 + static_cast<std::int64_t>(pick(3));
    on.overlap = pick(4) != 0;
    on.cache_hit_rate = pick(3) == 0 ? 0.5 : 0.0;
    on.prefill_chunk_tokens = pick(2) == 0 ? 16384 : 5000;
    Workload w;
    w.phase = pick(3) == 0 ? Phase::prefill : Phase::decode;
    w.context_tokens = contexts[pick(contexts.size())];
    w.batch = 1 + static_cast<std::int64_t>(pick(w.phase == Phase::decode ? 300 : 4));
    ServingConfig off = on;
    off.op_timings = false;
    const ServingResult direct = predict(model, system, nodes, on, w);
    const ServingResult compiled = predict(model, system, nodes, off, w);
    SCOPED_TRACE(model.spec.name + " on " + system.name + " " + to_string(on.layout) + " " +
                 std::string(to_string(w.phase)) + " at " + std::to_string(w.context_tokens) +
                 " batch " + std::to_string(w.batch));
    expect_same(compiled, direct);
    if (direct.step_s > 0) ++compared;
  }
  EXPECT_GT(compared, 40);  // most points are priced, not refused by the layout
}

// A sweep reuses its compiled passes from the second batch on: every system kind of table, and
// kernel-only FP8 tables (H800, H20) whose GEMMs add their input quantisation.
TEST(CompiledStep, BatchSweepEqualsEachPrediction) {
  const std::vector<PreparedModel> models = {prepare(load_model("deepseek-v4-flash")),
                                             prepare(load_model("deepseek-v3"))};
  for (const char* system : {"hgx-h200", "hgx-h800", "hgx-h20", "mi300x-platform"}) {
    const SystemSpec sys = load_system(system);
    for (const PreparedModel& model : models)
      for (const std::int64_t prefill_devices : {0, 2}) {
        ServingConfig on;
        on.layout = prefill_devices > 0 ? Layout{1, 6, 1, 6} : Layout{1, 8, 1, 8};
        on.prefill_devices = prefill_devices;
        on.mtp_acceptance = 0.7;
        ServingConfig off = on;
        off.op_timings = false;
        Workload w;
        w.context_tokens = 32768;
        std::vector<std::int64_t> batches;
        for (std::int64_t b = 1; b <= 400; b += 37) batches.push_back(b);
        const std::vector<ServingResult> sweep = sweep_batches(model, sys, 1, off, w, batches);
        ASSERT_EQ(sweep.size(), batches.size());
        for (std::size_t i = 0; i < batches.size(); ++i) {
          w.batch = batches[i];
          SCOPED_TRACE(model.spec.name + " on " + std::string(system) + " batch " +
                       std::to_string(w.batch) + " prefill devices " +
                       std::to_string(prefill_devices));
          expect_same(sweep[i], predict(model, sys, 1, on, w));
        }
      }
  }
}

// A decode step priced by the compiled model (a sweep: every batch compiled, the first included)
// is the direct evaluation's bit for bit, not only to 1e-12: the compiled path does the direct
// path's operations on the same operands, so a search's numbers are the ones predict prints.
// (The time to first token is left out: a search's prefill sums its chunks' fixed ops once.)
TEST(CompiledStep, DecodeStepsEqualTheDirectEvaluationBitForBit) {
  const std::vector<PreparedModel> models = {prepare(load_model("deepseek-v4-flash")),
                                             prepare(load_model("deepseek-v4-pro")),
                                             prepare(load_model("deepseek-v3.2"))};
  int compared = 0;
  for (const char* system :
       {"hgx-h200", "hgx-h800", "hgx-h20", "hgx-b300", "mi300x-platform", "atlas-800t-a2"}) {
    const SystemSpec sys = load_system(system);
    for (const PreparedModel& model : models)
      for (const Layout& layout : {Layout{1, 8, 1, 8}, Layout{2, 4, 1, 8}, Layout{8, 1, 1, 8}}) {
        ServingConfig on;
        on.layout = layout;
        on.mtp_acceptance = layout.tp == 2 ? 0.7 : 0.0;
        ServingConfig off = on;
        off.op_timings = false;
        Workload w;
        w.context_tokens = 32768;
        const std::vector<std::int64_t> batches = {1, 16, 37, 64, 200};
        const std::vector<ServingResult> sweep = sweep_batches(model, sys, 1, off, w, batches);
        for (std::size_t i = 0; i < batches.size(); ++i) {
          w.batch = batches[i];
          const ServingResult direct = predict(model, sys, 1, on, w);
          const ServingResult& a = sweep[i];
          SCOPED_TRACE(model.spec.name + " on " + std::string(system) + " " + to_string(layout) +
                       " batch " + std::to_string(w.batch));
          ASSERT_EQ(a.feasible, direct.feasible);
          EXPECT_EQ(a.step_s, direct.step_s);
          EXPECT_EQ(a.tpot_s, direct.tpot_s);
          EXPECT_EQ(a.mfu, direct.mfu);
          EXPECT_EQ(a.mbu, direct.mbu);
          EXPECT_EQ(a.breakdown.attention_s, direct.breakdown.attention_s);
          EXPECT_EQ(a.breakdown.indexer_s, direct.breakdown.indexer_s);
          EXPECT_EQ(a.breakdown.compressor_s, direct.breakdown.compressor_s);
          EXPECT_EQ(a.breakdown.moe_s, direct.breakdown.moe_s);
          EXPECT_EQ(a.breakdown.other_s, direct.breakdown.other_s);
          EXPECT_EQ(a.breakdown.communication_s, direct.breakdown.communication_s);
          EXPECT_EQ(a.breakdown.total_s, direct.breakdown.total_s);
          EXPECT_EQ(a.time_sources.measured_s, direct.time_sources.measured_s);
          EXPECT_EQ(a.time_sources.transferred_s, direct.time_sources.transferred_s);
          EXPECT_EQ(a.time_sources.roofline_s, direct.time_sources.roofline_s);
          EXPECT_EQ(a.precision_fallback, direct.precision_fallback);
          EXPECT_EQ(a.warnings, direct.warnings);
          EXPECT_EQ(a.memory.weights_bytes, direct.memory.weights_bytes);
          compared += direct.step_s > 0;
        }
      }
  }
  EXPECT_GT(compared, 100);
}

}  // namespace
}  // namespace v4sim
