// analyze() builds one layer of each kind and scales it by the kind's count; these tests sum every
// layer's ops directly and ask for the same integers, on every catalogue model and random
// contexts in both phases, with and without MTP.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "models/model_loader.h"
#include "sim/analytic.h"
#include "sim/op_list.h"

namespace v4sim {
namespace {

/// The direct evaluation: every op of every layer, summed.
std::array<Cost, kNumOpComponents> every_layer(const ModelSpec& spec, const AnalyticQuery& q) {
  OpOptions options;
  options.kv_format = q.kv_format;
  options.include_mtp = q.include_mtp;
  options.prefill = q.phase == Phase::prefill;
  const Pass pass =
      q.phase == Phase::decode ? Pass{q.context_tokens - 1, 1} : Pass{0, q.context_tokens};
  std::array<Cost, kNumOpComponents> out{};
  for (const Op& op : build_ops(spec, pass, options))
    out[static_cast<int>(op.component)] += op.cost;
  return out;
}

TEST(AnalyticGrouped, EqualsEveryLayerSummedOnTheCatalogue) {
  std::mt19937_64 rng(20261206);
  int checked = 0;
  for (const std::string& name : list_models()) {
    const PreparedModel m = prepare(load_model(name));
    // Short prefills keep the direct path quick; decode goes to the model's maximum.
    std::uniform_int_distribution<std::int64_t> decode_ctx(1, m.spec.max_context_tokens);
    std::uniform_int_distribution<std::int64_t> prefill_ctx(
        1, std::min<std::int64_t>(m.spec.max_context_tokens, 20000));
    for (int i = 0; i < 6; ++i)
      for (Phase phase : {Phase::decode, Phase::prefill})
        for (bool mtp : {false, true}) {
          AnalyticQuery q;
          q.phase = phase;
          q.include_mtp = mtp;
          q.context_tokens = phase == Phase::decode ? decode_ctx(rng) : prefill_ctx(rng);
          const AnalyticResult r = analyze(m, q);
          const auto direct = every_layer(m.spec, q);
          Cost total;
          for (int c = 0; c < kNumOpComponents; ++c) {
            EXPECT_EQ(r.by_component[c], direct[c])
                << name << " " << to_string(phase) << " at " << q.context_tokens << ", "
                << to_string(static_cast<OpComponent>(c)) << (mtp ? " with MTP" : "");
            total += direct[c];
          }
          EXPECT_EQ(r.total, total) << name;
          ++checked;
        }
  }
  EXPECT_GT(checked, 0);
}

TEST(AnalyticGrouped, RepeatsCoverEveryMainLayerOnce) {
  for (const std::string& name : list_models()) {
    const PreparedModel m = prepare(load_model(name));
    std::int64_t layers = 0;
    for (std::int64_t r : m.representatives) layers += m.layer_repeats[static_cast<std::size_t>(r)];
    EXPECT_EQ(layers, m.spec.num_layers) << name;
    EXPECT_TRUE(std::is_sorted(m.representatives.begin(), m.representatives.end())) << name;
  }
}

TEST(AnalyticGrouped, OpsWithoutNamesCostTheSame) {
  const ModelSpec spec = load_model("deepseek-v4-flash");
  OpOptions named, in_layer, bare;
  named.include_mtp = in_layer.include_mtp = bare.include_mtp = true;
  in_layer.names = OpNames::in_layer;
  bare.names = OpNames::none;
  const std::vector<Op> a = build_ops(spec, Pass{4095, 1}, named);
  const std::vector<Op> b = build_ops(spec, Pass{4095, 1}, in_layer);
  const std::vector<Op> c = build_ops(spec, Pass{4095, 1}, bare);
  ASSERT_EQ(a.size(), b.size());
  ASSERT_EQ(a.size(), c.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].cost, c[i].cost) << a[i].name;
    EXPECT_TRUE(c[i].name.empty());
    // "layers.3.attn.wq_a" -> "attn.wq_a", "mtp.43.ffn.router" -> "mtp.ffn.router".
    std::string expected = a[i].name;
    if (a[i].layer >= 0) expected = expected.substr(expected.find('.', expected.find('.') + 1) + 1);
    if (a[i].component == OpComponent::mtp) expected = "mtp." + expected;
    EXPECT_EQ(b[i].name, expected);
  }
}

}  // namespace
}  // namespace v4sim
