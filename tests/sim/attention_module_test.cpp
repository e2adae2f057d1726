// A V4 attention sublayer timed as a whole (sim/attention_module.h). An attention_module table's
// row stands for the work the step model composes that sublayer from, placed on the rank as the
// step model places it, so a call at a measured shape gets the measured time back; and the
// sublayer's ops share the module's time in proportion to their own.
#include <gtest/gtest.h>

#include <vector>

#include "hardware/perf_model.h"
#include "hardware/perf_table.h"
#include "hardware/system.h"
#include "models/model_loader.h"
#include "sim/analytic.h"
#include "sim/attention_module.h"
#include "sim/elementwise.h"
#include "sim/op_list.h"
#include "sim/op_on_rank.h"
#include "sim/serving.h"

namespace v4sim {
namespace {

using serving_detail::in_attention_module;
using serving_detail::module_scale;
using serving_detail::split_over_tp;

const PerfTable& table(const PerfTables& all, const std::string& name) {
  for (const PerfTable& t : all.tables)
    if (t.name == name) return t;
  ADD_FAILURE() << "no table " << name;
  return all.tables.front();
}

TEST(AttentionModule, ARowCostsWhatTheStepModelsOpsCostOnTheRank) {
  const ModelSpec pro = load_model("deepseek-v4-pro");
  const PerfTables b300 = load_perf_tables("b300");
  for (const AttentionKind kind : {AttentionKind::csa, AttentionKind::hca}) {
    std::int64_t layer = 0;
    while (pro.layers[static_cast<std::size_t>(layer)].attention != kind) ++layer;
    const PerfTable& t = table(b300, kind == AttentionKind::csa ? "attention-module-v4-pro-csa"
                                                                : "attention-module-v4-pro-hca");
    for (const std::int64_t tp : {1, 8})
      for (const double batch : {1.0, 64.0})
        for (const std::int64_t kv_len : {2, 4097}) {
          OpOptions options;
          const std::vector<Op> ops = build_ops(pro, Pass{kv_len - 1, 1}, options);
          Cost composed;
          // A tensor-parallel op's share of the tokens' work and weights; a replicated op (the
          // compressors) all of the group's tokens on every rank, with whole weights.
          for (const Op& op : ops)
            if (op.layer == layer && in_attention_module(op.component)) {
              const bool split = split_over_tp(op);
              const double share = split ? 1.0 / static_cast<double>(tp) : 1.0;
              composed += shared(op.cost, batch * share, batch, share);
            }
          const std::vector<double> row = {batch, static_cast<double>(kv_len),
                                           static_cast<double>(128 / tp), 1.0};
          EXPECT_EQ(row_cost(t, row), composed)
              << t.name << " tp " << tp << " batch " << batch << " kv " << kv_len;
        }
  }
}

TEST(AttentionModule, TheOpsShareTheModuleLessTheNormsPricedApart) {
  // Module 100 us, its q/kv norms 4 us priced on their own, ops composed to 160 us: each op takes
  // 96 / 160 of its time.
  EXPECT_DOUBLE_EQ(module_scale(100e-6, 4e-6, 160e-6), 96.0 / 160.0);
  EXPECT_DOUBLE_EQ(module_scale(3e-6, 4e-6, 160e-6), 0.0);  // never negative
  EXPECT_DOUBLE_EQ(module_scale(100e-6, 4e-6, 0.0), 1.0);   // nothing to scale
}

// On B300, V4-Pro's decode at tensor parallelism 8 and batch 1: every CSA and HCA sublayer op is
// timed from the module tables (measured), and one sublayer's ops add up to the module's row
// less its q/kv norms. Context 4,097: the new token at position 4,096 attends over 4,097 positions,
// the row of 4,096 cached tokens.
TEST(AttentionModule, DecodeTakesTheMeasuredSublayer) {
  const PreparedModel pro = prepare(load_model("deepseek-v4-pro"));
  const SystemSpec b300 = load_system("hgx-b300");
  ServingConfig c;
  c.layout = Layout{8, 1, 1, 8};
  c.overlap = false;
  Workload w;
  w.phase = Phase::decode;
  w.context_tokens = 4097;
  w.batch = 1;
  const ServingResult r = predict(pro, b300, 1, c, w);
  ASSERT_TRUE(r.feasible) << r.reason;
  double module_ops_s = 0;
  for (const OpTiming& o : r.ops) {
    if (o.table.rfind("attention-module-", 0) != 0) continue;
    EXPECT_EQ(o.efficiency_source, "measured") << o.name;
    module_ops_s += o.time_s;
  }
  EXPECT_GT(module_ops_s, 0);
  for (const char* name : {"wq_a", "wq_b", "wkv", "wo_a", "wo_b", "core_attention", "compressor"})
    for (const OpTiming& o : r.ops)
      if (o.name == name) {
        EXPECT_EQ(o.table.rfind("attention-module-", 0), 0u) << name;
      }
  // The step's module ops: 61 layers' sublayers minus the window-only ones, each at its row.
  const PerfTables tables = load_perf_tables("b300");
  const auto row_us = [&](const std::string& name) {
    for (const auto& row : table(tables, name).rows)
      if (row[0] == 1 && row[1] == 4097 && row[2] == 16) return row[3];
    ADD_FAILURE() << "no row";
    return 0.0;
  };
  std::int64_t csa = 0, hca = 0;
  for (const LayerSpec& l : pro.spec.layers) {
    csa += l.attention == AttentionKind::csa;
    hca += l.attention == AttentionKind::hca;
  }
  const Accelerator& device = b300.accelerator;
  const PerfModel perf(device);
  Cost norm;
  norm.read(MemClass::activations) = norm.written(MemClass::activations) =
      latent_norm_bytes(pro.spec, 1);
  const double norm_s = elementwise_time_s(device, norm, smallest_kernel_s(&perf, device));
  const double expected_s =
      static_cast<double>(csa) * (row_us("attention-module-v4-pro-csa") * 1e-6 - norm_s) +
      static_cast<double>(hca) * (row_us("attention-module-v4-pro-hca") * 1e-6 - norm_s);
  EXPECT_NEAR(module_ops_s, expected_s, 1e-9 * expected_s);
}

}  // namespace
}  // namespace v4sim
