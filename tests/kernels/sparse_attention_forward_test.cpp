// V4 core attention (kernels/sparse_attention_forward.h) against the naive double reference at
// Flash and Pro widths (H = 64 / 128, d = 512, RoPE on the last 64), plus the invariants of
// reference/kernels.md §9.3 and counted work == cost(shape).
//
// Tolerance (float32 kernel vs double reference): max |error| <= 2e-5 of the output's max |value|.
// Logits are 512-term float dot products (relative error ~ 512 * 2^-24 worst case, ~1e-6 typical)
// and the online softmax rescales partial sums once per 128-key block; observed errors ~1e-6.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <vector>

#include "kernels/host_isa.h"
#include "kernels/sparse_attention_forward.h"
#include "tests/kernels/reference/v4_core_attention_ref.h"
#include "tests/support/closeness.h"
#include "tests/support/random.h"

namespace v4sim {
namespace {

using test_support::relatively_close;
using test_support::SeededRng;

constexpr double kSparseTolerance = 2e-5;

SparseAttentionShape shape_of(std::int64_t heads, std::int64_t ratio, std::int64_t topk,
                              std::int64_t start, std::int64_t tokens) {
  SparseAttentionShape s;
  s.num_heads = heads;
  s.compress_ratio = ratio;
  s.topk = topk;
  s.start_pos = start;
  s.num_tokens = tokens;
  return s;
}

std::vector<double> sinks(SeededRng& rng, std::int64_t heads) {
  const RowMatrixXf v = rng.normal(1, heads);
  return {v.data(), v.data() + heads};
}

std::vector<float> as_float(const std::vector<double>& v) {
  return {v.begin(), v.end()};
}

// Reference outputs of every query of `keys` (rows of `q` at start_pos + i).
Eigen::MatrixXd reference_of(const SparseAttentionShape& s, const RowMatrixXf& q,
                             const KeySets& keys, const std::vector<double>& sink,
                             const RopeTable& rope) {
  Eigen::MatrixXd out(q.rows(), q.cols());
  for (Eigen::Index i = 0; i < q.rows(); ++i) {
    std::vector<Eigen::VectorXd> k;
    for (std::int64_t j = keys.offsets[i]; j < keys.offsets[i + 1]; ++j)
      k.push_back(Eigen::Map<const Eigen::VectorXf>(keys.rows[j], s.head_dim).cast<double>());
    out.row(i) = reference::core_attention_ref(q.row(i).transpose().cast<double>(), k, sink,
                                               s.start_pos + i, rope.frequencies)
                     .transpose();
  }
  return out;
}

TEST(SparseAttentionForward, CoreMatchesReferenceAtFlashAndProWidths) {
  const RopeTable rope = make_rope_table(v4_compressed_rope());
  // The block products' AVX-512 path (when the host has it) and their portable path
  // (kernels/key_block.h).
  for (bool portable : {false, true})
    for (std::int64_t heads : {64, 128}) {
      SCOPED_TRACE(portable ? "portable" : (use_avx512() ? "avx512" : "portable (host)"));
      std::optional<PortableKernels> guard;
      if (portable) guard.emplace();
      SeededRng rng(heads == 64 ? "core.flash" : "core.pro", 200 + heads);
      const RowMatrixXf table = rng.normal(700, 512);
      const SparseAttentionShape s = shape_of(heads, 4, 512, 2790, 3);
      // Queries scaled so logits spread over a few units: softmax neither flat nor one-hot.
      const RowMatrixXf q = rng.normal(3, heads * 512, 3.0);
      KeySets keys;
      // Query 0: a contiguous run crossing blocks; 1: scattered rows; 2: one key.
      for (int j = 0; j < 300; ++j) keys.add(table.row(100 + j).data());
      keys.end_query();
      for (int j = 0; j < 257; ++j) keys.add(table.row(rng.uniform_int(0, 699)).data());
      keys.end_query();
      keys.add(table.row(5).data());
      keys.end_query();
      const std::vector<double> sink = sinks(rng, heads);
      RowMatrixXf out(3, heads * 512);
      sparse_attention_core(s, q, keys, as_float(sink), rope, out);
      EXPECT_TRUE(relatively_close("core vs reference", out, reference_of(s, q, keys, sink, rope),
                                   kSparseTolerance));
    }
}

TEST(SparseAttentionForward, SinkLimits) {
  SeededRng rng("core.sink", 301);
  const RopeTable rope = make_rope_table(v4_window_rope());
  const SparseAttentionShape s = shape_of(64, 0, 0, 50, 1);
  const RowMatrixXf table = rng.normal(51, 512);
  const RowMatrixXf q = rng.normal(1, 64 * 512, 3.0);
  KeySets keys;
  for (int j = 0; j < 51; ++j) keys.add(table.row(j).data());
  keys.end_query();
  RowMatrixXf out(1, 64 * 512);
  // sink -> -inf: a plain softmax (the reference with no sink term).
  const std::vector<double> none(64, -std::numeric_limits<double>::infinity());
  sparse_attention_core(s, q, keys, as_float(none), rope, out);
  EXPECT_TRUE(relatively_close("sink -inf vs plain softmax", out,
                               reference_of(s, q, keys, none, rope), kSparseTolerance));
  // A huge sink takes all the probability mass: the output tends to 0.
  const std::vector<float> huge(64, 1e30f);
  sparse_attention_core(s, q, keys, huge, rope, out);
  EXPECT_EQ(out.cwiseAbs().maxCoeff(), 0.0f);
  const std::vector<float> large(64, 60.0f);  // e^-60 relative weight
  sparse_attention_core(s, q, keys, large, rope, out);
  EXPECT_LT(out.cwiseAbs().maxCoeff(), 1e-20f);
}

TEST(SparseAttentionForward, OwnKeyOnlyReturnsItsUnrotatedEntry) {
  // A query at t attending only its own key (rotated at t) gets p * k with the RoPE half rotated
  // back: exactly the un-rotated entry times the softmax weight p = e^a / (e^a + e^sink).
  SeededRng rng("core.own_key", 302);
  const RopeTable rope = make_rope_table(v4_compressed_rope());
  const std::int64_t t = 1234567;
  const SparseAttentionShape s = shape_of(64, 0, 0, t, 1);
  const RowMatrixXf raw = rng.normal(1, 512);
  RowMatrixXf key = raw;
  rope_rotate(std::span<float>(key.data(), 512), rope, t);
  const RowMatrixXf q = rng.normal(1, 64 * 512);
  KeySets keys;
  keys.add(key.data());
  keys.end_query();
  const std::vector<double> sink = sinks(rng, 64);
  RowMatrixXf out(1, 64 * 512);
  sparse_attention_core(s, q, keys, as_float(sink), rope, out);
  for (int h = 0; h < 64; ++h) {
    double a = 0;
    for (int c = 0; c < 512; ++c) a += double(q(0, h * 512 + c)) * key(0, c);
    a /= std::sqrt(512.0);
    const double p = 1.0 / (1.0 + std::exp(sink[h] - a));
    for (int c = 0; c < 512; ++c)
      ASSERT_NEAR(out(0, h * 512 + c), p * raw(0, c), 2e-6 * (1 + std::abs(raw(0, c))))
          << "head " << h << " dim " << c;
  }
}

// Random selections with the model's counts: min(k, visible) distinct visible entries (CSA) or
// every visible entry (HCA).
EntrySelection model_selection(SeededRng& rng, const SparseAttentionShape& s) {
  if (s.topk == 0) return all_visible_selection(s);
  EntrySelection sel;
  for (std::int64_t i = 0; i < s.num_tokens; ++i) {
    const std::int64_t visible = (s.start_pos + i + 1) / s.compress_ratio;
    std::vector<std::int64_t> all(visible);
    std::iota(all.begin(), all.end(), 0);
    std::shuffle(all.begin(), all.end(), rng.gen());
    all.resize(std::min(visible, s.topk));
    sel.indices.insert(sel.indices.end(), all.begin(), all.end());
    sel.offsets.push_back(static_cast<std::int64_t>(sel.indices.size()));
  }
  return sel;
}

// A ring holding positions < start (random entries) and a compressed table of every entry
// completed by the end of the chunk.
struct Context {
  WindowRing ring;
  EntryTable compressed;
  RowMatrixXf chunk_kv;
};
Context make_context(SeededRng& rng, const SparseAttentionShape& s) {
  Context c{WindowRing(s.window, s.head_dim), EntryTable(s.head_dim), {}};
  for (std::int64_t p = std::max<std::int64_t>(0, s.start_pos - s.window); p < s.start_pos; ++p) {
    c.ring.length = p;
    const RowMatrixXf e = rng.normal(1, s.head_dim);
    c.ring.append(std::span<const float>(e.data(), s.head_dim));
  }
  c.ring.length = s.start_pos;
  const std::int64_t n = s.compress_ratio > 0 ? (s.start_pos + s.num_tokens) / s.compress_ratio : 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const RowMatrixXf e = rng.normal(1, s.head_dim);
    c.compressed.append(std::span<const float>(e.data(), s.head_dim));
  }
  c.chunk_kv = rng.normal(s.num_tokens, s.head_dim);
  return c;
}

TEST(SparseAttentionForward, CountedWorkEqualsCost) {
  SeededRng rng("core.counting", 303);
  const RopeTable rope = make_rope_table(v4_compressed_rope());
  struct Case {
    std::int64_t heads, ratio, topk, start, tokens;
  };
  // Window-only, CSA and HCA; decode and prefill; t below the window; t not a multiple of 4 or
  // 128; k larger than the visible entries; empty compressed caches (t < 3, t < 127).
  const std::vector<Case> cases = {
      {64, 0, 0, 0, 1},       {64, 0, 0, 5, 9},      {128, 0, 0, 300, 1},  {64, 4, 512, 0, 3},
      {64, 4, 512, 2, 1},     {64, 4, 512, 3, 1},    {64, 4, 8, 41, 1},    {64, 4, 8, 37, 23},
      {128, 4, 1024, 522, 1}, {64, 128, 0, 0, 5},    {64, 128, 0, 126, 1}, {64, 128, 0, 127, 1},
      {128, 128, 0, 300, 7},  {64, 128, 0, 250, 20},
  };
  for (const Case& k : cases) {
    const SparseAttentionShape s = shape_of(k.heads, k.ratio, k.topk, k.start, k.tokens);
    SCOPED_TRACE(::testing::Message() << "H " << k.heads << " ratio " << k.ratio << " k " << k.topk
                                      << " start " << k.start << " T " << k.tokens);
    Context c = make_context(rng, s);
    const EntrySelection sel = model_selection(rng, s);
    const RowMatrixXf q = rng.normal(s.num_tokens, s.num_heads * s.head_dim);
    RowMatrixXf out(s.num_tokens, s.num_heads * s.head_dim);
    Cost counted;
    sparse_attention_forward(s, q, c.chunk_kv, c.ring, k.ratio ? &c.compressed : nullptr,
                             k.ratio ? &sel : nullptr, std::vector<float>(s.num_heads, 0.0f), rope,
                             out, &counted);
    EXPECT_EQ(counted, cost(s));
    EXPECT_EQ(c.ring.length, s.start_pos + s.num_tokens);
  }
}

TEST(SparseAttentionForward, PrefillChunksEqualDecodeAndReference) {
  // Positions, not widths, matter here: 16 heads keep the double reference fast.
  // A 300-token sequence (window 128, HCA ratio 128 -> entries 0 and 1 become visible at t = 127
  // and 255) run as one prefill, as random chunks and token by token.
  SeededRng rng("core.chunking", 304);
  const RopeTable rope = make_rope_table(v4_compressed_rope());
  const std::int64_t N = 300, H = 16, d = 512;
  const RowMatrixXf q = rng.normal(N, H * d, 3.0);
  const RowMatrixXf kv = rng.normal(N, d);
  EntryTable compressed(d);
  for (int i = 0; i < 2; ++i) {
    const RowMatrixXf e = rng.normal(1, d);
    compressed.append(std::span<const float>(e.data(), d));
  }
  const std::vector<double> sink = sinks(rng, H);

  // Reference: window W(t) plus every visible entry.
  Eigen::MatrixXd ref(N, H * d);
  for (std::int64_t t = 0; t < N; ++t) {
    std::vector<Eigen::VectorXd> keys;
    for (std::int64_t p = std::max<std::int64_t>(0, t - 127); p <= t; ++p)
      keys.push_back(kv.row(p).transpose().cast<double>());
    for (std::int64_t i = 0; i < (t + 1) / 128; ++i)
      keys.push_back(Eigen::Map<const Eigen::VectorXf>(compressed.row(i), d).cast<double>());
    ref.row(t) = reference::core_attention_ref(q.row(t).transpose().cast<double>(), keys, sink, t,
                                               rope.frequencies)
                     .transpose();
  }
  for (int trial = 0; trial < 3; ++trial) {
    // trial 0: token by token; 1: one chunk; 2: random chunks.
    WindowRing ring(128, d);
    RowMatrixXf out(N, H * d);
    Cost counted, expected;
    for (std::int64_t start = 0; start < N;) {
      const std::int64_t T = trial == 0 ? 1
                             : trial == 1
                                 ? N
                                 : std::min<std::int64_t>(N - start, rng.uniform_int(1, 70));
      const SparseAttentionShape s = shape_of(H, 128, 0, start, T);
      const EntrySelection sel = all_visible_selection(s);
      RowMatrixXf part(T, H * d);
      if (trial == 0) {  // the decode entry point
        sparse_attention_decode(s, q.middleRows(start, 1), kv.middleRows(start, 1), ring,
                                &compressed, sel.of(0), as_float(sink), rope, part, &counted);
      } else {
        sparse_attention_forward(s, q.middleRows(start, T), kv.middleRows(start, T), ring,
                                 &compressed, &sel, as_float(sink), rope, part, &counted);
      }
      out.middleRows(start, T) = part;
      expected += cost(s);
      start += T;
    }
    EXPECT_TRUE(relatively_close("chunked vs reference", out, ref, kSparseTolerance))
        << "trial " << trial;
    EXPECT_EQ(counted, expected);
  }
}

TEST(SparseAttentionForward, InvisibleEntriesAreRejected) {
  // Entry i covers tokens 4i..4i+3 and is visible from t = 4i+3 on (§3.3).
  SeededRng rng("core.visibility", 305);
  for (std::int64_t t : {2, 3, 6, 7}) {
    const SparseAttentionShape s = shape_of(64, 4, 512, t, 1);
    Context c = make_context(rng, s);
    while (c.compressed.rows < 2) {  // cached but possibly not yet visible
      const RowMatrixXf extra = rng.normal(1, 512);
      c.compressed.append(std::span<const float>(extra.data(), 512));
    }
    for (std::int64_t e = 0; e < 2; ++e) {
      EntrySelection sel;
      sel.indices = {e};
      sel.offsets = {0, 1};
      const bool visible = 4 * e + 3 <= t;
      if (visible) {
        EXPECT_NO_THROW(model_key_sets(s, c.ring, c.chunk_kv, &c.compressed, &sel));
      } else {
        EXPECT_THROW(model_key_sets(s, c.ring, c.chunk_kv, &c.compressed, &sel),
                     std::invalid_argument);
      }
    }
    // Below t = 3 nothing is visible: the key set is the window alone.
    const EntrySelection all = all_visible_selection(s);
    const KeySets keys = model_key_sets(s, c.ring, c.chunk_kv, &c.compressed, &all);
    EXPECT_EQ(keys.keys(0), keys_at(s, t));
    EXPECT_EQ(keys.keys(0), std::min<std::int64_t>(t + 1, 128) + (t + 1) / 4);
  }
}

}  // namespace
}  // namespace v4sim
