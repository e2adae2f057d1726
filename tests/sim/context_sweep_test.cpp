// compile_contexts() sums a decode pass's position-independent ops once; these tests ask every
// context of every catalogue model for the same integers as analyze(), and check the op subsets
// it rests on: the fixed and positional ops split the full list, and the fixed ops do not move
// with the pass's position.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "models/config/input_error.h"
#include "models/model_loader.h"
#include "sim/analytic.h"
#include "sim/op_list.h"

namespace v4sim {
namespace {

void expect_same(const AnalyticResult& a, const AnalyticResult& b, const std::string& what) {
  EXPECT_EQ(a.total, b.total) << what;
  for (int c = 0; c < kNumOpComponents; ++c)
    EXPECT_EQ(a.by_component[c], b.by_component[c])
        << what << ", " << to_string(static_cast<OpComponent>(c));
  EXPECT_EQ(a.pass.start_pos, b.pass.start_pos) << what;
  EXPECT_EQ(a.pass.num_tokens, b.pass.num_tokens) << what;
  EXPECT_EQ(a.kv_cache.total(), b.kv_cache.total()) << what;
  EXPECT_EQ(a.kv_cache.by_layer_kind, b.kv_cache.by_layer_kind) << what;
  EXPECT_EQ(a.params.total_params, b.params.total_params) << what;
  EXPECT_EQ(a.beyond_max_context, b.beyond_max_context) << what;
}

/// The catalogue, the tiny V4 of analytic_test.cpp and a dense GQA-8 attention on V3.2's body
/// (the catalogue has no GQA model).
std::vector<ModelSpec> models() {
  std::vector<ModelSpec> out;
  for (const std::string& name : list_models()) out.push_back(load_model(name));
  out.push_back(load_model(std::string(V4SIM_TEST_DATA) + "/tiny-v4.yaml"));
  ModelSpec gqa = load_model("deepseek-v3.2");
  gqa.name = "gqa-8";
  gqa.architecture = Architecture::gqa;
  gqa.attention.num_kv_heads = 8;
  gqa.attention.head_dim = 128;
  out.push_back(gqa);
  return out;
}

/// Contexts where the attention side changes shape (window, compression blocks, top-k, the
/// maximum), and random ones up to twice the maximum (evaluated beyond it, as --extrapolate does).
std::vector<std::int64_t> contexts(const ModelSpec& spec, std::mt19937_64& rng,
                                   std::int64_t longest) {
  std::vector<std::int64_t> out{1, 2, 127, 128, 129, 4096, longest};
  for (std::int64_t edge : {spec.attention.sliding_window, spec.indexer.topk * 4,
                            spec.indexer.topk * 128, spec.max_context_tokens})
    for (std::int64_t d : {-1, 0, 1})
      if (edge + d >= 1 && edge + d <= longest) out.push_back(edge + d);
  std::uniform_int_distribution<std::int64_t> any(1, longest);
  for (int i = 0; i < 12; ++i) out.push_back(any(rng));
  return out;
}

TEST(ContextSweep, EqualsAnalyzeOnEveryModelFormatAndContext) {
  std::mt19937_64 rng(20261206);
  int checked = 0;
  for (const ModelSpec& spec : models()) {
    const PreparedModel m = prepare(spec);
    const std::string& name = spec.name;
    for (const KvFormat& format : m.spec.kv_formats)
      for (bool mtp : {false, true})
        for (Phase phase : {Phase::decode, Phase::prefill}) {
          AnalyticQuery settings;
          settings.phase = phase;
          settings.kv_format = format.name;
          settings.include_mtp = mtp;
          settings.allow_beyond_max_context = true;
          const ContextSweep sweep = compile_contexts(m, settings);
          EXPECT_EQ(sweep.fixed_summed, phase == Phase::decode) << name;
          // Long prefills build every op either way: short ones keep the test quick.
          const std::int64_t longest =
              phase == Phase::decode ? 2 * m.spec.max_context_tokens : std::int64_t{20000};
          for (std::int64_t n : contexts(m.spec, rng, longest)) {
            AnalyticQuery q = settings;
            q.context_tokens = n;
            expect_same(analyze(sweep, n), analyze(m, q),
                        name + " " + format.name + " " + std::string(to_string(phase)) + " at " +
                            std::to_string(n) + (mtp ? " with MTP" : ""));
            ++checked;
          }
        }
  }
  EXPECT_GT(checked, 100);
}

TEST(ContextSweep, KeepsAnalyzesErrors) {
  const PreparedModel m = prepare(load_model("deepseek-v4-flash"));
  const ContextSweep sweep = compile_contexts(m, AnalyticQuery{});
  EXPECT_THROW(analyze(sweep, 0), InputError);
  EXPECT_THROW(analyze(sweep, m.spec.max_context_tokens + 1), InputError);
  EXPECT_NO_THROW(analyze(sweep, m.spec.max_context_tokens));
}

TEST(OpSelect, FixedAndPositionalOpsSplitTheFullListInOrder) {
  for (const ModelSpec& spec : models()) {
    const std::string& name = spec.name;
    for (bool prefill : {false, true}) {
      OpOptions all;
      all.include_mtp = true;
      all.prefill = prefill;
      OpOptions fixed = all, positional = all;
      fixed.select = OpSelect::fixed;
      positional.select = OpSelect::positional;
      const Pass pass = prefill ? Pass{1000, 3000} : Pass{70000, 1};
      const std::vector<Op> every = build_ops(spec, pass, all);
      const std::vector<Op> f = build_ops(spec, pass, fixed);
      const std::vector<Op> p = build_ops(spec, pass, positional);
      ASSERT_EQ(f.size() + p.size(), every.size()) << name;
      ASSERT_FALSE(f.empty()) << name;
      ASSERT_FALSE(p.empty()) << name;
      // Merge back by walking the full list: each op is the next of one subset.
      std::size_t i = 0, j = 0;
      for (const Op& op : every) {
        const bool from_f = i < f.size() && f[i].name == op.name && f[i].cost == op.cost;
        const bool from_p = !from_f && j < p.size() && p[j].name == op.name && p[j].cost == op.cost;
        ASSERT_TRUE(from_f || from_p) << name << ": " << op.name;
        (from_f ? i : j) += 1;
      }
    }
  }
}

TEST(OpSelect, FixedOpsDoNotMoveWithThePosition) {
  for (const ModelSpec& spec : models()) {
    const std::string& name = spec.name;
    for (bool prefill : {false, true}) {
      OpOptions fixed;
      fixed.include_mtp = true;
      fixed.prefill = prefill;
      fixed.select = OpSelect::fixed;
      const std::int64_t tokens = prefill ? 2048 : 1;
      const std::vector<Op> near = build_ops(spec, Pass{0, tokens}, fixed);
      const std::vector<Op> far = build_ops(spec, Pass{500000, tokens}, fixed);
      ASSERT_EQ(near.size(), far.size()) << name;
      for (std::size_t k = 0; k < near.size(); ++k) {
        EXPECT_EQ(near[k].name, far[k].name) << name;
        EXPECT_EQ(near[k].cost, far[k].cost) << name << ": " << near[k].name;
        EXPECT_EQ(near[k].kernel.kv_len, far[k].kernel.kv_len) << name << ": " << near[k].name;
      }
    }
  }
}

/// A context sweep builds one layer of each positional group: every layer of a group must build
/// the same positional ops as its first, in decode and in prefill.
TEST(OpSelect, PositionalGroupsBuildTheSameOps) {
  for (const ModelSpec& spec : models()) {
    const std::string& name = spec.name;
    const std::vector<LayerGroup> groups = positional_layer_groups(spec);
    std::int64_t layers = 0;
    for (const LayerGroup& g : groups) layers += g.count;
    EXPECT_EQ(layers, spec.num_layers) << name;
    for (bool prefill : {false, true}) {
      OpOptions positional;
      positional.prefill = prefill;
      positional.select = OpSelect::positional;
      positional.names = OpNames::in_layer;
      const Pass pass = prefill ? Pass{1000, 3000} : Pass{70000, 1};
      const std::vector<Op> ops = build_ops(spec, pass, positional);
      const auto of_layer = [&ops](std::int64_t layer) {
        std::vector<const Op*> out;
        for (const Op& op : ops)
          if (op.layer == layer) out.push_back(&op);
        return out;
      };
      for (std::int64_t i = 0; i < spec.num_layers; ++i) {
        const LayerSpec& l = spec.layers[i];
        const auto first = std::find_if(groups.begin(), groups.end(), [&](const LayerGroup& g) {
          const LayerSpec& f = spec.layers[g.first];
          return f.attention == l.attention && f.compress_ratio == l.compress_ratio;
        });
        ASSERT_NE(first, groups.end()) << name;
        const std::vector<const Op*> mine = of_layer(i), theirs = of_layer(first->first);
        ASSERT_EQ(mine.size(), theirs.size()) << name << " layer " << i;
        ASSERT_FALSE(mine.empty()) << name << " layer " << i;
        for (std::size_t k = 0; k < mine.size(); ++k) {
          EXPECT_EQ(mine[k]->name, theirs[k]->name) << name << " layer " << i;
          EXPECT_EQ(mine[k]->component, theirs[k]->component) << name << " layer " << i;
          EXPECT_EQ(mine[k]->cost, theirs[k]->cost) << name << " layer " << i;
          EXPECT_EQ(mine[k]->kernel.kv_len, theirs[k]->kernel.kv_len) << name << " layer " << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace v4sim
