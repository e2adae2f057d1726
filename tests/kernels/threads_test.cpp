// Every parallel kernel gives the same bits on two threads as on one (kernels/parallel.h), at
// shapes that make it split: a decode query over many key pieces / blocks / head groups, and a
// prefill chunk of several queries. Also the split-K decode of the V4 core against the double
// reference, since the one-query path is the only one that merges many pieces.
#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <vector>

#include "kernels/bf16_gemm.h"
#include "kernels/dsa_indexer_forward.h"
#include "kernels/fp8_linear.h"
#include "kernels/host_isa.h"
#include "kernels/int8_gemm.h"
#include "kernels/lightning_indexer_forward.h"
#include "kernels/mla_attention_forward.h"
#include "kernels/moe_forward.h"
#include "kernels/parallel.h"
#include "kernels/projection_forward.h"
#include "kernels/sparse_attention_forward.h"
#include "tests/kernels/reference/v4_core_attention_ref.h"
#include "tests/support/random.h"

namespace v4sim {
namespace {

using test_support::SeededRng;

bool same_bits(const RowMatrixXf& a, const RowMatrixXf& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<std::size_t>(a.size())) == 0;
}

// Runs f() on one thread and on two; returns both results.
template <class F>
auto one_and_two(F f) {
  KernelThreads one(1);
  auto a = f();
  KernelThreads two(2);
  auto b = f();
  return std::pair{a, b};
}

class KernelThreadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!kernels_have_threads()) GTEST_SKIP() << "kernels built without OpenMP";
  }
};

TEST_F(KernelThreadsTest, GuardSetsAndRestoresTheThreadCount) {
  const int before = kernel_threads();
  {
    KernelThreads two(2);
    EXPECT_EQ(kernel_threads(), 2);
    {
      KernelThreads one(0);  // taken as 1
      EXPECT_EQ(kernel_threads(), 1);
    }
    EXPECT_EQ(kernel_threads(), 2);
  }
  EXPECT_EQ(kernel_threads(), before);
}

TEST_F(KernelThreadsTest, ProjectionsOfOneTokenAndOfAChunk) {
  SeededRng rng("threads.projection", 10);
  const RowMatrixXf w = rng.normal(1000, 384);  // pieces of 256, 256, 256 and 232 rows
  for (Eigen::Index T : {1, 7}) {
    const RowMatrixXf x = rng.normal(T, 384);
    const auto [a, b] = one_and_two([&] {
      RowMatrixXf y;
      project_rows(x, w, y);
      return y;
    });
    EXPECT_TRUE(same_bits(a, b)) << "T=" << T;
    EXPECT_LE((a - x * w.transpose()).cwiseAbs().maxCoeff(), 1e-4f) << "T=" << T;
  }
}

TEST_F(KernelThreadsTest, V4CoreAttentionDecodeAndPrefill) {
  SeededRng rng("threads.v4core", 11);
  const std::int64_t H = 64, d = 512;
  const RowMatrixXf table = rng.normal(3000, d);
  const RopeTable rope = make_rope_table(v4_compressed_rope());
  const RowMatrixXf sink_m = rng.normal(1, H);
  const std::vector<float> sink(sink_m.data(), sink_m.data() + H);
  // A prefill also on the block products' portable path (kernels/key_block.h).
  struct Run {
    std::int64_t tokens;
    bool portable;
  };
  for (const Run& run : {Run{1, false}, Run{5, false}, Run{5, true}}) {
    const std::int64_t T = run.tokens;
    std::optional<PortableKernels> guard;
    if (run.portable) guard.emplace();
    SparseAttentionShape s;
    s.num_heads = H;
    s.start_pos = 4000;
    s.num_tokens = T;
    const RowMatrixXf q = rng.normal(T, H * d, 3.0);
    KeySets keys;  // 2100 contiguous keys then 300 scattered ones per query: 5 pieces
    for (std::int64_t i = 0; i < T; ++i) {
      for (int j = 0; j < 2100; ++j) keys.add(table.row(10 * i + j).data());
      for (int j = 0; j < 300; ++j) keys.add(table.row(rng.uniform_int(0, 2999)).data());
      keys.end_query();
    }
    const auto [a, b] = one_and_two([&] {
      RowMatrixXf out(T, H * d);
      sparse_attention_core(s, q, keys, sink, rope, out);
      return out;
    });
    EXPECT_TRUE(same_bits(a, b)) << "T=" << T;
    if (T != 1) continue;
    // The split-K merge is right: within the core tests' tolerance of the double reference.
    std::vector<Eigen::VectorXd> k;
    for (std::int64_t j = keys.offsets[0]; j < keys.offsets[1]; ++j)
      k.push_back(Eigen::Map<const Eigen::VectorXf>(keys.rows[j], d).cast<double>());
    const std::vector<double> sink_d(sink.begin(), sink.end());
    const Eigen::VectorXd ref = reference::core_attention_ref(
        q.row(0).transpose().cast<double>(), k, sink_d, s.start_pos, rope.frequencies);
    const double err = (a.row(0).transpose().cast<double>() - ref).cwiseAbs().maxCoeff();
    EXPECT_LE(err, 2e-5 * ref.cwiseAbs().maxCoeff()) << "2400 keys, 10 pieces";
  }
}

TEST_F(KernelThreadsTest, LightningIndexerDecodeAndPrefill) {
  SeededRng rng("threads.lightning", 12);
  IndexerScoringShape s;                                // 64 heads x 128, ratio 4
  IndexerKeyTable keys(s.head_dim);                     // MXFP4, as deployed
  const RowMatrixXf k = rng.normal(20000, s.head_dim);  // 10 blocks of 2048
  for (std::int64_t i = 0; i < k.rows(); ++i)
    keys.append(std::span<const float>(k.row(i).data(), static_cast<std::size_t>(s.head_dim)));
  // 40 queries: groups of 16, 16 and 8 sharing each decoded block, the last group partial.
  for (std::int64_t T : {1, 4, 40}) {
    s.num_tokens = T;
    s.start_pos = 4 * 20000 - T;
    IndexerQueries q{rng.normal(T, s.num_heads * s.head_dim), rng.normal(T, s.num_heads)};
    const auto [a, b] = one_and_two([&] { return indexer_topk(s, q, keys, 512); });
    EXPECT_EQ(a.indices, b.indices) << "T=" << T;
    EXPECT_EQ(a.offsets, b.offsets) << "T=" << T;
    const auto [sa, sb] = one_and_two([&] { return indexer_scores(s, q, keys, T - 1); });
    EXPECT_EQ(0, std::memcmp(sa.data(), sb.data(), sa.size() * sizeof(float)));
    // Each query of a group selects what it selects alone (one query's path, its blocks in
    // parallel), so sharing a decoded block changes no score.
    for (std::int64_t i = 0; i < T; ++i) {
      const auto picks = a.of(i);
      EXPECT_EQ(std::vector<std::int64_t>(picks.begin(), picks.end()),
                top_k_indices(indexer_scores(s, q, keys, i), 512))
          << "T=" << T << " query " << i;
    }
  }
}

TEST_F(KernelThreadsTest, DsaIndexerDecodeAndPrefill) {
  SeededRng rng("threads.dsa", 13);
  IndexerScoringShape s;
  s.ratio = 1;
  DsaKeyCache cache(s.head_dim, /*exact_mode=*/false);
  const RowMatrixXf k = rng.normal(6000, s.head_dim);
  for (Eigen::Index r = 0; r < k.rows(); ++r)
    cache.append({k.row(r).data(), static_cast<std::size_t>(s.head_dim)});
  for (std::int64_t T : {1, 3}) {
    s.num_tokens = T;
    s.start_pos = 6000 - T;
    DsaQueries q{s.start_pos, rng.normal(T, s.num_heads * s.head_dim), rng.normal(T, s.num_heads)};
    const auto [a, b] = one_and_two([&] { return dsa_indexer_topk(s, q, cache, 2048); });
    EXPECT_TRUE((a.array() == b.array()).all()) << "T=" << T;
  }
}

TEST_F(KernelThreadsTest, MlaCoreDecodeAndPrefill) {
  SeededRng rng("threads.mla", 14);
  MlaAttentionShape s;
  s.num_heads = 40;  // decode: 2048 selected keys in 8 pieces of 256, spread over the threads
  const std::int64_t E = s.latent_dim + s.rope_dim, n = 3000;
  const RowMatrixXf cache = rng.normal(n, E);
  for (std::int64_t T : {1, 3}) {
    s.num_tokens = T;
    s.start_pos = n - T;
    s.topk = 2048;
    const RowMatrixXf q = rng.normal(T, s.num_heads * E, 0.2);
    TokenSelection sel(T, 2048);
    for (Eigen::Index i = 0; i < sel.size(); ++i)
      sel.data()[i] = static_cast<std::int32_t>(rng.uniform_int(-1, n - T));
    const auto [a, b] = one_and_two([&] {
      RowMatrixXf out(T, s.num_heads * s.latent_dim);
      mla_core_forward(s, q, cache, &sel, 0.05f, out);
      return out;
    });
    EXPECT_TRUE(same_bits(a, b)) << "T=" << T;
  }
}

// A workspace (kernels/attention_workspace.h) lent to call after call - other queries, head
// counts, key sets, token counts and thread counts - gives the bits of calls without one: no
// buffer carries anything from one call into the next (say, the query a thread packed last time).
TEST_F(KernelThreadsTest, AttentionWorkspaceReusedAcrossCalls) {
  SeededRng rng("threads.workspace", 18);
  const std::int64_t d = 512;
  const RowMatrixXf table = rng.normal(2600, d);
  std::vector<std::uint16_t> copy(static_cast<std::size_t>(table.size()));
  to_bf16(std::span<const float>(table.data(), copy.size()), copy);
  const RopeTable rope = make_rope_table(v4_compressed_rope());
  AttentionWorkspace ws;
  struct Call {
    std::int64_t heads, tokens, keys;
    int threads;
  };
  for (const Call& c : {Call{64, 1, 2400, 2}, Call{64, 1, 2400, 1}, Call{16, 3, 900, 2},
                        Call{64, 1, 700, 1}, Call{32, 1, 1300, 2}}) {
    SparseAttentionShape s;
    s.num_heads = c.heads;
    s.start_pos = 5000;
    s.num_tokens = c.tokens;
    const RowMatrixXf q = rng.normal(c.tokens, c.heads * d, 3.0);
    const RowMatrixXf sink_m = rng.normal(1, c.heads);
    const std::vector<float> sink(sink_m.data(), sink_m.data() + c.heads);
    KeySets keys;
    Bf16KeySets bkeys;
    for (std::int64_t i = 0; i < c.tokens; ++i) {
      for (std::int64_t j = 0; j < c.keys; ++j) {
        const std::int64_t r = j < c.keys / 2 ? j : rng.uniform_int(0, 2599);
        keys.add(table.row(r).data());
        bkeys.add(copy.data() + r * d);
      }
      keys.end_query();
      bkeys.end_query();
    }
    KernelThreads threads(c.threads);
    RowMatrixXf fresh(c.tokens, c.heads * d), reused(c.tokens, c.heads * d);
    sparse_attention_core(s, q, keys, sink, rope, fresh);
    sparse_attention_core(s, q, keys, sink, rope, reused, nullptr, &ws);
    EXPECT_TRUE(same_bits(fresh, reused)) << "float32, H " << c.heads << ", T " << c.tokens;
    sparse_attention_core_bf16(s, q, bkeys, sink, rope, fresh);
    sparse_attention_core_bf16(s, q, bkeys, sink, rope, reused, nullptr, &ws);
    EXPECT_TRUE(same_bits(fresh, reused)) << "bf16, H " << c.heads << ", T " << c.tokens;

    MlaAttentionShape m;
    m.num_heads = c.heads;
    m.num_tokens = c.tokens;
    m.start_pos = 2000 - c.tokens;
    const std::int64_t E = m.latent_dim + m.rope_dim;
    const RowMatrixXf cache = rng.normal(2000, E);
    const RowMatrixXf qm = rng.normal(c.tokens, c.heads * E, 0.2);
    TokenSelection sel(c.tokens, c.keys / 2);
    for (Eigen::Index i = 0; i < sel.size(); ++i)
      sel.data()[i] = static_cast<std::int32_t>(rng.uniform_int(-1, 2000 - c.tokens));
    RowMatrixXf mf(c.tokens, c.heads * m.latent_dim), mr(c.tokens, c.heads * m.latent_dim);
    mla_core_forward(m, qm, cache, &sel, 0.05f, mf);
    mla_core_forward(m, qm, cache, &sel, 0.05f, mr, nullptr, &ws);
    EXPECT_TRUE(same_bits(mf, mr)) << "MLA, H " << c.heads << ", T " << c.tokens;
  }
}

TEST_F(KernelThreadsTest, MlaExpandedPrefill) {
  SeededRng rng("threads.mla_expanded", 16);
  MlaExpandedShape s;
  s.num_heads = 8;
  s.start_pos = 40;
  s.num_tokens = 24;
  const std::int64_t n = s.start_pos + s.num_tokens;
  const RowMatrixXf cache = rng.normal(n, s.latent_dim + s.rope_dim);
  const RowMatrixXf q_nope = rng.normal(s.num_tokens, s.num_heads * s.nope_dim, 0.2);
  const RowMatrixXf q_rope = rng.normal(s.num_tokens, s.num_heads * s.rope_dim, 0.2);
  const RowMatrixXf w_uk = rng.normal(s.num_heads * s.nope_dim, s.latent_dim, 0.05);
  const RowMatrixXf w_uv = rng.normal(s.num_heads * s.v_dim, s.latent_dim, 0.05);
  const auto [a, b] = one_and_two([&] {
    RowMatrixXf out(s.num_tokens, s.num_heads * s.v_dim);
    mla_expanded_forward(s, q_nope, q_rope, cache, w_uk, w_uv, 0.07f, out);
    return out;
  });
  EXPECT_TRUE(same_bits(a, b));
}

TEST_F(KernelThreadsTest, MoeRoutedExpertsAndTheirCount) {
  SeededRng rng("threads.moe", 15);
  MoeShape s;
  s.tokens = 64;
  s.hidden = 256;
  s.inter = 128;
  s.num_experts = 16;
  s.topk = 4;
  std::vector<ExpertWeights> w(16);
  for (ExpertWeights& e : w)
    e = {rng.normal(s.inter, s.hidden, 0.1), rng.normal(s.inter, s.hidden, 0.1),
         rng.normal(s.hidden, s.inter, 0.1)};
  std::vector<const ExpertWeights*> ptrs;
  for (const ExpertWeights& e : w) ptrs.push_back(&e);
  const RowMatrixXf x = rng.normal(s.tokens, s.hidden);
  RowMatrixXf logits = rng.normal(s.tokens, s.num_experts);
  const Routing r = moe_route_by_score(v4_router(s.topk, 1.5f), logits, {});
  const auto [a, b] = one_and_two([&] {
    std::pair<RowMatrixXf, Cost> res{RowMatrixXf::Zero(s.tokens, s.hidden), Cost{}};
    moe_routed_forward(s, x, r, ptrs, 10.0f, res.first, &res.second);
    return res;
  });
  EXPECT_TRUE(same_bits(a.first, b.first));
  EXPECT_EQ(a.second, b.second);
}

// The BF16 core (decode over 9 pieces of a 2200-key set; prefill of 3 queries) and the INT8 GEMM
// (output columns in pieces of 64), on whichever path the CPU takes.
TEST_F(KernelThreadsTest, Bf16CoreAttentionAndInt8Gemm) {
  SeededRng rng("threads.bf16_int8", 16);
  const RowMatrixXf table = rng.normal(2300, 512);
  std::vector<std::uint16_t> copy(static_cast<std::size_t>(table.size()));
  to_bf16(std::span<const float>(table.data(), copy.size()), copy);
  const RopeTable rope = make_rope_table(v4_compressed_rope());
  for (std::int64_t T : {1, 3}) {
    SparseAttentionShape s;
    s.num_heads = 16;
    s.compress_ratio = 4;
    s.topk = 2200;
    s.start_pos = 9000;
    s.num_tokens = T;
    Bf16KeySets keys;
    for (std::int64_t i = 0; i < T; ++i) {
      for (std::int64_t j = 0; j < 2200 - 300 * i; ++j)
        keys.add(copy.data() + rng.uniform_int(0, 2299) * 512);
      keys.end_query();
    }
    const RowMatrixXf q = rng.normal(T, 16 * 512, 3.0);
    const std::vector<float> sink(16, 0.5f);
    const auto [a, b] = one_and_two([&] {
      RowMatrixXf out(T, 16 * 512);
      sparse_attention_core_bf16(s, q, keys, sink, rope, out);
      return out;
    });
    EXPECT_TRUE(same_bits(a, b)) << "T " << T;
  }
  const Int8Rows x = quantize_int8_rows(rng.normal(5, 700)),
                 w = quantize_int8_rows(rng.normal(300, 700));
  const auto [a, b] = one_and_two([&] {
    std::vector<std::int32_t> c(5 * 300);
    int8_gemm_nt(x, w, c.data());
    return c;
  });
  EXPECT_EQ(a, b);
}

// FP8-weight projections: output rows in fixed pieces of 256 (a decode and a chunk).
TEST_F(KernelThreadsTest, Fp8WeightProjections) {
  SeededRng rng("threads.fp8", 17);
  const Fp8Weight w = quantize_fp8_weight(rng.normal(700, 300, 0.05));
  for (std::int64_t T : {1, 4}) {
    const RowMatrixXf x = rng.normal(T, 300);
    const auto [a, b] = one_and_two([&] {
      RowMatrixXf y;
      fp8_project_rows(x, w, y);
      return y;
    });
    EXPECT_TRUE(same_bits(a, b)) << "T " << T;
  }
}

}  // namespace
}  // namespace v4sim
