// The model cache (sim/model_cache.h) returns what the uncached path computes, for every field of
// its keys: each variation below differs from the first request in one field only, and its
// uncached value differs from the first's, so a key that dropped the field would hand back the
// first value and fail. A search with the cache gives the search without it, bit for bit.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "hardware/system.h"
#include "models/model_loader.h"
#include "sim/model_cache.h"
#include "sim/serving.h"

namespace v4sim {
namespace {

bool same_ops(const std::vector<Op>& a, const std::vector<Op>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].name != b[i].name || a[i].component != b[i].component || a[i].layer != b[i].layer ||
        !(a[i].cost == b[i].cost) || a[i].kernel.has_class != b[i].kernel.has_class ||
        a[i].kernel.kernel != b[i].kernel.kernel)
      return false;
  return true;
}

struct Request {
  const char* what;
  Pass pass;
  OpOptions options;
};

void expect_each_field_keyed(const PreparedModel& m, std::vector<Request> variations) {
  ModelCache cache(m);
  const Request& first = variations.front();
  const std::vector<Op> first_direct =
      build_ops(m.spec, m.weights, m.weight_index, first.pass, first.options);
  for (const Request& r : variations) {
    const std::vector<Op> direct = build_ops(m.spec, m.weights, m.weight_index, r.pass, r.options);
    EXPECT_TRUE(same_ops(cache.ops(r.pass, r.options), direct)) << r.what;
    if (&r != &variations.front()) {
      EXPECT_FALSE(same_ops(direct, first_direct)) << r.what << " does not change the op list";
    }
  }
  // Asked again (from the cache this time), each is still its own.
  for (const Request& r : variations)
    EXPECT_TRUE(same_ops(cache.ops(r.pass, r.options),
                         build_ops(m.spec, m.weights, m.weight_index, r.pass, r.options)))
        << r.what;
}

TEST(ModelCache, OpListsAreKeyedByEveryField) {
  const PreparedModel flash = prepare(load_model("deepseek-v4-flash"));
  OpOptions base;
  base.layers = flash.representatives;
  base.names = OpNames::in_layer;
  std::vector<Request> v(10, Request{"first", Pass{4096, 1}, base});
  v[1].what = "start_pos";
  v[1].pass.start_pos = 65536;
  v[2].what = "num_tokens";
  v[2].pass.num_tokens = 2;
  v[3].what = "kv_format";
  v[3].options.kv_format = "bf16";
  v[4].what = "include_mtp";
  v[4].options.include_mtp = true;
  v[5].what = "logits_for_all_tokens";
  v[5].pass.num_tokens = 2;  // with one token, all logits are the last one's
  v[5].options.logits_for_all_tokens = true;
  v[6].what = "layers";
  const std::vector<std::int64_t> first_layer{flash.representatives.front()};
  v[6].options.layers = first_layer;
  v[7].what = "names";
  v[7].options.names = OpNames::full;
  v[8].what = "select";
  v[8].options.select = OpSelect::fixed;
  v[9].what = "prefill";
  v[9].options.prefill = true;
  // v[5] and v[2] differ from the first in num_tokens; v[5] from v[2] in logits only.
  expect_each_field_keyed(flash, v);
  expect_each_field_keyed(flash, {v[2], v[5]});
}

TEST(ModelCache, PrefillIsKeyed) {
  // Dense MLA (V3) attends in the expanded form in prefill: another op list.
  const PreparedModel v3 = prepare(load_model("deepseek-v3"));
  OpOptions base;
  base.layers = v3.representatives;
  OpOptions prefill = base;
  prefill.prefill = true;
  expect_each_field_keyed(
      v3, {{"decode", Pass{4096, 512}, base}, {"prefill", Pass{4096, 512}, prefill}});
}

TEST(ModelCache, WeightsAreKeyedByEveryField) {
  const PreparedModel flash = prepare(load_model("deepseek-v4-flash"));
  ModelCache cache(flash);
  struct Split {
    std::int64_t tp, local_experts;
    bool mtp;
  };
  const std::vector<Split> splits = {
      {1, 256, false}, {2, 256, false}, {1, 32, false}, {1, 256, true}, {4, 8, true}};
  std::vector<WeightBytesOnRank> direct;
  for (const Split& s : splits)
    direct.push_back(weight_bytes_on_rank(flash.spec, flash.weights, s.tp, s.local_experts, s.mtp));
  for (int pass = 0; pass < 2; ++pass)
    for (std::size_t i = 0; i < splits.size(); ++i) {
      const WeightBytesOnRank& w =
          cache.weights(splits[i].tp, splits[i].local_experts, splits[i].mtp);
      EXPECT_EQ(w.main_layers, direct[i].main_layers) << i;
      EXPECT_EQ(w.model_level, direct[i].model_level) << i;
    }
  for (std::size_t i = 1; i < splits.size(); ++i)
    EXPECT_TRUE(direct[i].main_layers != direct[0].main_layers ||
                direct[i].model_level != direct[0].model_level)
        << i << " does not change the weights";
}

void expect_identical(const std::vector<ServingResult>& a, const std::vector<ServingResult>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].feasible, b[i].feasible) << i;
    EXPECT_EQ(a[i].reason, b[i].reason) << i;
    EXPECT_EQ(a[i].step_s, b[i].step_s) << i;
    EXPECT_EQ(a[i].ttft_s, b[i].ttft_s) << i;
    EXPECT_EQ(a[i].throughput_tokens_per_s, b[i].throughput_tokens_per_s) << i;
    EXPECT_EQ(a[i].mfu, b[i].mfu) << i;
    EXPECT_EQ(a[i].mbu, b[i].mbu) << i;
    EXPECT_EQ(a[i].memory.weights_bytes, b[i].memory.weights_bytes) << i;
    EXPECT_EQ(a[i].breakdown.total_s, b[i].breakdown.total_s) << i;
    EXPECT_EQ(a[i].breakdown.moe_s, b[i].breakdown.moe_s) << i;
    EXPECT_EQ(a[i].time_sources.measured_s, b[i].time_sources.measured_s) << i;
    EXPECT_EQ(a[i].warnings, b[i].warnings) << i;
  }
}

TEST(ModelCache, SweepsEqualTheUncachedSweeps) {
  const PreparedModel flash = prepare(load_model("deepseek-v4-flash"));
  const PreparedModel v32 = prepare(load_model("deepseek-v3.2"));
  const SystemSpec h200 = load_system("hgx-h200");
  ModelCache cache(flash);
  ModelCache other(v32);  // built for another model: not used
  const std::vector<std::int64_t> batches = {1, 3, 8, 32};
  for (const Layout& layout :
       {Layout{1, 8, 1, 8}, Layout{2, 4, 1, 8}, Layout{1, 4, 2, 4}, Layout{1, 4, 1, 4}})
    for (Phase phase : {Phase::decode, Phase::prefill})
      for (std::int64_t prefill_devices : {0, 4}) {
        // A layout of 4 ranks: alone on a slice, or with a prefill pool of the other 4.
        if ((prefill_devices > 0) != (layout.devices() == 4)) continue;
        if (prefill_devices > 0 && phase == Phase::prefill) continue;
        ServingConfig config;
        config.layout = layout;
        config.op_timings = false;
        config.mtp_acceptance = phase == Phase::decode ? 0.8 : 0.0;
        config.cache_hit_rate = 0.25;
        config.prefill_devices = prefill_devices;
        config.devices = prefill_devices > 0 ? 0 : layout.devices();
        Workload w;
        w.phase = phase;
        w.context_tokens = 40000;
        // Twice on the cache: the second sweep reads what the first kept.
        const auto plain = sweep_batches(flash, h200, 1, config, w, batches);
        for (int again = 0; again < 2; ++again)
          expect_identical(sweep_batches(flash, h200, 1, config, w, batches, nullptr, &cache),
                           plain);
        expect_identical(sweep_batches(flash, h200, 1, config, w, batches, nullptr, &other), plain);
        EXPECT_EQ(max_batch_that_fits(flash, h200, 1, config, w, nullptr, &cache),
                  max_batch_that_fits(flash, h200, 1, config, w));
      }
}

}  // namespace
}  // namespace v4sim
