// The prefill memo (sim/prefill_memo.h) returns what pricing the prefill again returns: sweeps
// sharing one memo, each differing from the first in one input of the key, equal the same sweeps
// without it; for the inputs that change one prompt's prefill, the uncached time to first token
// differs from the first sweep's, so a key that dropped the input would hand back the first's
// prefill and fail.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "hardware/system.h"
#include "models/model_loader.h"
#include "sim/prefill_memo.h"
#include "sim/serving.h"

namespace v4sim {
namespace {

struct Variation {
  std::string what;
  std::function<void(ServingConfig&, Workload&, int& nodes)> change;
  bool changes_prefill = true;  // false: in the key, but one prompt's prefill does not read it
};

void expect_identical(const ServingResult& a, const ServingResult& b, const std::string& what) {
  EXPECT_EQ(a.feasible, b.feasible) << what;
  EXPECT_EQ(a.ttft_s, b.ttft_s) << what;
  EXPECT_EQ(a.step_s, b.step_s) << what;
  EXPECT_EQ(a.throughput_tokens_per_s, b.throughput_tokens_per_s) << what;
  EXPECT_EQ(a.mfu, b.mfu) << what;
  EXPECT_EQ(a.mbu, b.mbu) << what;
  EXPECT_EQ(a.breakdown.total_s, b.breakdown.total_s) << what;
  EXPECT_EQ(a.breakdown.attention_s, b.breakdown.attention_s) << what;
  EXPECT_EQ(a.time_sources.measured_s, b.time_sources.measured_s) << what;
  EXPECT_EQ(a.warnings, b.warnings) << what;
}

TEST(PrefillMemo, KeyedByEveryInputOfAPrefill) {
  const PreparedModel flash = prepare(load_model("deepseek-v4-flash"));
  const SystemSpec h200 = load_system("hgx-h200");
  const std::vector<Variation> variations = {
      {"first", [](ServingConfig&, Workload&, int&) {}},
      {"context", [](ServingConfig&, Workload& w, int&) { w.context_tokens = 20000; }},
      {"tp",
       [](ServingConfig& c, Workload&, int&) {
         c.layout = Layout{2, 4, 1, 8};
       }},
      {"pp",
       [](ServingConfig& c, Workload&, int&) {
         c.layout = Layout{1, 4, 2, 4};
       }},
      {"ep",
       [](ServingConfig& c, Workload&, int&) {
         c.layout = Layout{1, 8, 1, 4};
       }},
      // The first node's 8 ranks of two nodes: the same ranks, so the same prefill.
      {"nodes",
       [](ServingConfig& c, Workload&, int& nodes) {
         nodes = 2;
         c.devices = 8;
       },
       false},
      {"expert_imbalance", [](ServingConfig& c, Workload&, int&) { c.expert_imbalance = 2.0; }},
      {"overlap", [](ServingConfig& c, Workload&, int&) { c.overlap = false; }},
      // Right after "overlap": without overlap the exchange shows, and a memo keyed without it
      // would return that entry.
      {"moe_exchange",
       [](ServingConfig& c, Workload&, int&) {
         c.overlap = false;
         c.moe_exchange = MoeExchange::all_gather;
       }},
      {"mtp_acceptance", [](ServingConfig& c, Workload&, int&) { c.mtp_acceptance = 0.7; }},
      {"measured_tables", [](ServingConfig& c, Workload&, int&) { c.measured_tables = false; }},
      {"normal_mode_compute_share",
       [](ServingConfig& c, Workload&, int&) { c.normal_mode_compute_share = 0.5; }},
      {"kv_format", [](ServingConfig& c, Workload&, int&) { c.kv_format = "bf16"; }},
      {"weights", [](ServingConfig& c, Workload&, int&) { c.weights = WeightsOverride::bf16; }},
      {"cache_hit_rate", [](ServingConfig& c, Workload&, int&) { c.cache_hit_rate = 0.5; }},
      {"prefill_chunk_tokens",
       [](ServingConfig& c, Workload&, int&) { c.prefill_chunk_tokens = 4096; }},
      {"redundant_experts",
       [](ServingConfig& c, Workload&, int&) { c.redundant_experts_per_device = 8; }},
      {"devices", [](ServingConfig& c, Workload&, int&) { c.devices = 8; }, false},
      {"mtp_tokens",
       [](ServingConfig& c, Workload&, int&) {
         c.mtp_acceptance = 0.7;
         c.mtp_tokens = 3;
       },
       false},
      {"cuda_graph", [](ServingConfig& c, Workload&, int&) { c.cuda_graph = false; }, false},
      {"reserved_hbm_fraction",
       [](ServingConfig& c, Workload&, int&) { c.reserved_hbm_fraction = 0.2; }, false},
      {"scheduler_overhead_s",
       [](ServingConfig& c, Workload&, int&) { c.scheduler_overhead_s = 1e-3; }, false},
  };
  for (Phase phase : {Phase::decode, Phase::prefill}) {
    PrefillMemo memo(flash, h200);
    double first_ttft = 0;
    for (const Variation& v : variations) {
      ServingConfig config;
      config.layout = Layout{1, 8, 1, 8};
      config.op_timings = false;
      Workload w;
      w.phase = phase;
      w.context_tokens = 40000;
      int nodes = 1;
      v.change(config, w, nodes);
      const std::vector<std::int64_t> batches = {1, 4};
      const auto plain = sweep_batches(flash, h200, nodes, config, w, batches);
      const auto kept =
          sweep_batches(flash, h200, nodes, config, w, batches, nullptr, nullptr, &memo);
      ASSERT_EQ(kept.size(), plain.size());
      ASSERT_TRUE(plain[0].feasible) << v.what << ": " << plain[0].reason;
      for (std::size_t i = 0; i < plain.size(); ++i) expect_identical(kept[i], plain[i], v.what);
      if (&v == &variations.front()) {
        first_ttft = plain[0].ttft_s;
      } else if (v.changes_prefill) {
        EXPECT_NE(plain[0].ttft_s, first_ttft) << v.what << " does not change the prefill";
      }
    }
    EXPECT_GT(memo.size(), 1u);
  }
}

TEST(PrefillMemo, ServesOnlyItsModelAndSystem) {
  const PreparedModel flash = prepare(load_model("deepseek-v4-flash"));
  const PreparedModel v32 = prepare(load_model("deepseek-v3.2"));
  const SystemSpec h200 = load_system("hgx-h200");
  const SystemSpec h800 = load_system("hgx-h800");
  PrefillMemo memo(flash, h200);
  EXPECT_TRUE(memo.serves(flash, h200));
  EXPECT_FALSE(memo.serves(v32, h200));
  EXPECT_FALSE(memo.serves(flash, h800));
  ServingConfig config;
  config.layout = Layout{1, 8, 1, 8};
  config.op_timings = false;
  Workload w;
  w.context_tokens = 40000;
  const auto on_h200 = sweep_batches(flash, h200, 1, config, w, {1}, nullptr, nullptr, &memo);
  // The same key on another system or model: not served from the memo.
  for (const auto& [model, system] : {std::pair{&flash, &h800}, std::pair{&v32, &h200}}) {
    const auto plain = sweep_batches(*model, *system, 1, config, w, {1});
    const auto with = sweep_batches(*model, *system, 1, config, w, {1}, nullptr, nullptr, &memo);
    expect_identical(with[0], plain[0], system->name);
    EXPECT_NE(with[0].ttft_s, on_h200[0].ttft_s);
  }
  EXPECT_EQ(memo.size(), 1u);
}

}  // namespace
}  // namespace v4sim
