// One V4 attention block (kernels/attention_layer_forward.h) for SWA, CSA and HCA layers:
//   * against the naive double reference recomputed from the raw inputs of the whole sequence
//     (small widths, production window 128 and ratios 4 / 128, 300 tokens), run token by token,
//     as one prefill and as random chunks - the cache holds only what the model caches;
//   * counted work == cost(layer shape) for decode and prefill shapes at the edges;
//   * the layer shape prices exactly what the analytic model (sim/op_list.cpp) prices;
//   * compressed entries cannot influence t < 3 (CSA) / t < 127 (HCA);
//   * Flash-width decode against a randomly filled long-context cache.
//
// Tolerance (float32 vs double): max |error| <= 1e-4 of the output's max |value| - five chained
// projections and norms, each ~1e-6 relative, plus the attention (observed ~1e-6).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "kernels/attention_layer_forward.h"
#include "models/model_loader.h"
#include "sim/op_list.h"
#include "tests/kernels/reference/v4_layer_ref.h"
#include "tests/support/closeness.h"
#include "tests/support/random.h"

namespace v4sim {
namespace {

using test_support::random_chunks;
using test_support::relatively_close;
using test_support::SeededRng;

constexpr double kLayerTolerance = 1e-4;

// Narrow dims with the production window, ratios, RoPE width and indexer head width (Hadamard-128).
AttentionLayerShape small(AttentionLayerKind kind) {
  AttentionLayerShape s;
  s.kind = kind;
  s.hidden = 96;
  s.num_heads = 4;
  s.head_dim = 128;
  s.q_lora_rank = 48;
  s.o_groups = 2;
  s.o_lora_rank = 32;
  s.indexer_heads = 8;
  s.indexer_dim = 128;
  s.topk = 5;
  return s;
}

AttentionLayerShape chunk(AttentionLayerShape s, std::int64_t start, std::int64_t tokens) {
  s.start_pos = start;
  s.num_tokens = tokens;
  return s;
}

const char* name_of(AttentionLayerKind k) {
  return k == AttentionLayerKind::swa ? "swa" : k == AttentionLayerKind::csa ? "csa" : "hca";
}

struct SequenceRun {
  RowMatrixXf y;
  std::vector<std::vector<std::int64_t>> selected;
  Cost counted, expected;
};

SequenceRun run_sequence(const AttentionLayerShape& base, const AttentionLayerWeights& w,
                         const RowMatrixXf& x, const std::vector<std::int64_t>& chunks) {
  SequenceRun r{RowMatrixXf(x.rows(), base.hidden), {}, {}, {}};
  AttentionLayerCache cache = make_layer_cache(base);
  // The reference is exact float arithmetic: the indexer keys too (deployed tables hold MXFP4).
  cache.indexer_keys = IndexerKeyTable(base.indexer_dim, /*exact_mode=*/true);
  std::int64_t start = 0;
  for (std::int64_t T : chunks) {
    const AttentionLayerShape s = chunk(base, start, T);
    EntrySelection sel;
    r.y.middleRows(start, T) =
        attention_layer_forward(s, w, {}, x.middleRows(start, T), cache, &r.counted, &sel);
    for (std::int64_t i = 0; i < T; ++i) {
      const auto picks = sel.of(i);
      r.selected.emplace_back(picks.begin(), picks.end());
    }
    r.expected += cost(s);
    start += T;
  }
  return r;
}

TEST(AttentionLayerForward, MatchesReferenceForEveryLayerKindAndChunking) {
  const std::int64_t N = 300;
  for (AttentionLayerKind kind :
       {AttentionLayerKind::swa, AttentionLayerKind::csa, AttentionLayerKind::hca}) {
    const AttentionLayerShape base = small(kind);
    SeededRng rng((std::string("layer.") + name_of(kind)).c_str(), 600 + int(kind));
    const AttentionLayerWeights w = random_layer_weights(base, 6000 + int(kind));
    const RowMatrixXf x = rng.normal(N, base.hidden);
    const SequenceRun decode = run_sequence(base, w, x, std::vector<std::int64_t>(N, 1));
    // CSA: take the kernel's top-k for the reference once it is shown to be a top-k of the
    // reference scores up to float ties.
    const reference::LayerRefResult ref =
        reference::layer_ref(base, w, x, [&](std::int64_t t, const std::vector<double>& scores) {
          const std::vector<std::int64_t>& got = decode.selected[t];
          const std::vector<std::int64_t> want = reference::topk_ref(scores, base.topk);
          EXPECT_EQ(got.size(), want.size()) << "t " << t;
          if (got != want) {
            std::vector<double> sorted = scores;
            std::sort(sorted.begin(), sorted.end(), std::greater<>());
            for (std::int64_t e : got)
              EXPECT_GE(scores[e], sorted[base.topk - 1] - 1e-6) << "t " << t;
          }
          return got;
        });
    EXPECT_TRUE(relatively_close(name_of(kind), decode.y, ref.y, kLayerTolerance));
    EXPECT_EQ(decode.counted, decode.expected);
    for (int trial = 0; trial < 3; ++trial) {
      const std::vector<std::int64_t> chunks =
          trial == 0 ? std::vector<std::int64_t>{N} : random_chunks(rng, N, trial == 1 ? 9 : 140);
      const SequenceRun r = run_sequence(base, w, x, chunks);
      EXPECT_EQ(r.selected, decode.selected) << name_of(kind) << " trial " << trial;
      EXPECT_TRUE(relatively_close("chunked vs decode", r.y, decode.y, 1e-5)) << name_of(kind);
      EXPECT_EQ(r.counted, r.expected) << name_of(kind);
    }
    // Compressed entries never reach t < 3 (CSA) / t < 127 (HCA): every selection is visible.
    const std::int64_t ratio = compress_ratio(base);
    for (std::int64_t t = 0; t < N; ++t) {
      for (std::int64_t e : decode.selected[t]) EXPECT_LE(ratio * e + ratio - 1, t);
      if (ratio == 0 || t + 1 < ratio) {
        EXPECT_TRUE(decode.selected[t].empty());
      }
    }
  }
}

TEST(AttentionLayerForward, CompressedBranchIsInvisibleBeforeTheFirstBlock) {
  // Changing the compressor weights changes nothing before the first complete block (t < 3 for
  // CSA, t < 127 for HCA) and changes the output at that block's last token.
  for (AttentionLayerKind kind : {AttentionLayerKind::csa, AttentionLayerKind::hca}) {
    const AttentionLayerShape base = small(kind);
    const std::int64_t first = compress_ratio(base) - 1;
    SeededRng rng((std::string("layer.window_only.") + name_of(kind)).c_str(), 610 + int(kind));
    const AttentionLayerWeights w = random_layer_weights(base, 6100);
    AttentionLayerWeights other = w;
    other.compressor = random_compressor_weights(compressor_shape(base), 6199);
    const RowMatrixXf x = rng.normal(first + 1, base.hidden);
    const SequenceRun a = run_sequence(base, w, x, {first + 1});
    const SequenceRun b = run_sequence(base, other, x, {first + 1});
    EXPECT_EQ(a.y.topRows(first), b.y.topRows(first)) << name_of(kind);
    EXPECT_NE(a.y.row(first), b.y.row(first)) << name_of(kind);
  }
}

TEST(AttentionLayerForward, CountedWorkEqualsCost) {
  SeededRng rng("layer.counting", 620);
  struct Case {
    std::int64_t context, tokens, topk;
  };
  // Decode below the window, at and after the first blocks, t not a multiple of 4 or 128, k larger
  // than the visible entries, prefill chunks from 0 and from the middle of a block.
  const std::vector<Case> cases = {{0, 1, 5},   {2, 1, 5},    {3, 1, 5},    {126, 1, 5},
                                   {127, 1, 5}, {130, 1, 5},  {301, 1, 5},  {301, 1, 500},
                                   {0, 37, 5},  {0, 130, 64}, {129, 70, 5}, {201, 3, 40}};
  for (AttentionLayerKind kind :
       {AttentionLayerKind::swa, AttentionLayerKind::csa, AttentionLayerKind::hca}) {
    AttentionLayerShape base = small(kind);
    const AttentionLayerWeights w = random_layer_weights(base, 6200);
    for (const Case& c : cases) {
      SCOPED_TRACE(::testing::Message() << name_of(kind) << " context " << c.context << " T "
                                        << c.tokens << " k " << c.topk);
      base.topk = c.topk;
      AttentionLayerCache cache = random_layer_cache(base, c.context, 6201);
      const AttentionLayerShape s = chunk(base, c.context, c.tokens);
      Cost counted;
      const RowMatrixXf y =
          attention_layer_forward(s, w, {}, rng.normal(c.tokens, base.hidden), cache, &counted);
      EXPECT_EQ(counted, cost(s));
      EXPECT_TRUE(y.allFinite());
      EXPECT_EQ(cache.length(), c.context + c.tokens);
      if (kind != AttentionLayerKind::swa) {
        EXPECT_EQ(cache.compressed.rows, (c.context + c.tokens) / compress_ratio(base));
      }
      // With qat the same work is done (round trips are element-wise).
      AttentionLayerCache again = random_layer_cache(base, c.context, 6201);
      Cost counted_qat;
      attention_layer_forward(s, w, {true, 1e-6f}, rng.normal(c.tokens, base.hidden), again,
                              &counted_qat);
      EXPECT_EQ(counted_qat, counted);
    }
  }
}

// The layer shape a model's YAML implies for layer kind `kind`.
AttentionLayerShape from_spec(const ModelSpec& m, AttentionLayerKind kind, const Pass& pass) {
  const KvFormat& kv = m.kv_format("deploy");
  AttentionLayerShape s;
  s.kind = kind;
  s.hidden = m.hidden_size;
  s.num_heads = m.attention.num_heads;
  s.head_dim = m.attention.head_dim;
  s.rope_dim = m.attention.rope_dim;
  s.q_lora_rank = m.attention.q_lora_rank;
  s.o_groups = m.attention.o_groups;
  s.o_lora_rank = m.attention.o_lora_rank;
  s.window = m.attention.sliding_window;
  s.csa_ratio = m.attention.csa_ratio;
  s.hca_ratio = m.attention.hca_ratio;
  s.indexer_heads = m.indexer.num_heads;
  s.indexer_dim = m.indexer.head_dim;
  s.topk = m.indexer.topk;
  s.start_pos = pass.start_pos;
  s.num_tokens = pass.num_tokens;
  s.attention_weights = m.weights.attention;
  s.compressor_weights = m.weights.compressor;
  s.indexer_weights = m.weights.indexer;
  s.projections = m.compute.attention_projections;
  s.core = m.compute.core_attention;
  s.compressor = m.compute.compressor;
  s.indexer_projections = m.compute.indexer_projections;
  s.indexer_scoring = m.compute.indexer_scoring;
  s.main_entry = kv.main_entry;
  s.indexer_key = kv.indexer_key;
  return s;
}

TEST(AttentionLayerForward, LayerCostEqualsTheAnalyticModelsOps) {
  for (const char* model : {"deepseek-v4-flash", "deepseek-v4-pro"}) {
    const ModelSpec m = load_model(model);
    for (const Pass& pass : {Pass{0, 1}, Pass{4095, 1}, Pass{1048575, 1}, Pass{1000, 777}}) {
      const std::vector<Op> ops = build_ops(m, pass, {});
      for (std::int64_t layer = 0; layer < m.num_layers; ++layer) {
        const LayerSpec& l = m.layers[layer];
        const AttentionLayerKind kind = l.attention == AttentionKind::csa ? AttentionLayerKind::csa
                                        : l.attention == AttentionKind::hca
                                            ? AttentionLayerKind::hca
                                            : AttentionLayerKind::swa;
        Cost analytic;
        const std::string prefix = "layers." + std::to_string(layer) + ".";
        for (const Op& op : ops) {
          if (op.layer != layer) continue;
          const std::string name = op.name.substr(prefix.size());
          if (name.rfind("hc_", 0) == 0 || name.rfind("ffn", 0) == 0) continue;  // not attention
          analytic += op.cost;
        }
        ASSERT_GT(analytic.total_flops(), 0) << "no attention ops found for layer " << layer;
        EXPECT_EQ(cost(from_spec(m, kind, pass)), analytic)
            << model << " layer " << layer << " start " << pass.start_pos;
      }
    }
  }
}

TEST(AttentionLayerForward, FlashDecodeAgainstRandomLongContextCache) {
  // Production widths: one decode step per layer kind at t = 20001 against a random cache.
  const ModelSpec m = load_model("deepseek-v4-flash");
  SeededRng rng("layer.flash_decode", 630);
  for (AttentionLayerKind kind :
       {AttentionLayerKind::swa, AttentionLayerKind::csa, AttentionLayerKind::hca}) {
    const AttentionLayerShape s = from_spec(m, kind, {20001, 1});
    const AttentionLayerWeights w = random_layer_weights(s, 6300);
    AttentionLayerCache cache = random_layer_cache(s, 20001, 6301);
    Cost counted;
    EntrySelection sel;
    const RowMatrixXf y =
        attention_layer_forward(s, w, {}, rng.normal(1, s.hidden), cache, &counted, &sel);
    EXPECT_TRUE(y.allFinite()) << name_of(kind);
    EXPECT_EQ(counted, cost(s)) << name_of(kind);
    const std::int64_t expected_keys = kind == AttentionLayerKind::csa   ? 512
                                       : kind == AttentionLayerKind::hca ? 20002 / 128
                                                                         : 0;
    EXPECT_EQ(static_cast<std::int64_t>(sel.of(0).size()), expected_keys) << name_of(kind);
  }
}

}  // namespace
}  // namespace v4sim
