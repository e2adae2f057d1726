// Decode of one DeepSeek V3.2 attention layer at long contexts, and a dense GQA-8 baseline.
//
//   V32_IndexerScoring  DSA indexer scoring + top-2048 over all t tokens (FP8 keys, 132 B each)
//   V32_MlaCoreTop2048  absorbed MLA core over the 2048 selected latents (656 B packed entries)
//   V32_AttentionDecode both, plus the indexer's projections (key, query, head weights), the
//                       new token's key and latent appended to the caches, and the two MLA
//                       absorptions (W_UK into the query, W_UV out of the output)
//   Gqa8_Decode         dense causal GQA core: 64 query heads, 8 KV heads of 128 (a Llama-3-70B
//                       style baseline), BF16 KV counted
//
// The caches hold what the model caches, in the deployment byte layouts, filled with random
// entries (a block of distinct random entries tiled over the context) instead of running a
// million tokens through the model. Counters come from cost() of the shapes each benchmark runs,
// never from the measured code: flop_per_s (all precisions), fp8eq_flop_per_s and bytes_per_s.
// Weights are held as float32 here while cost() counts them in their storage format.
// GQA stops at 128K: a 1M-token float K/V cache of 64x8x128 would take 8.6 GB.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <random>
#include <span>
#include <vector>

#include "kernels/dsa_indexer_forward.h"
#include "kernels/gqa_attention_forward.h"
#include "kernels/mla_attention_forward.h"
#include "kernels/quant.h"
#include "kernels/random_fill.h"

namespace v4sim {
namespace {

constexpr std::int64_t kHidden = 7168, kQLora = 1536, kHeads = 128, kLatent = 512, kRope = 64;
constexpr std::int64_t kNope = 128, kV = 128, kEntry = kLatent + kRope, kTopk = 2048;
constexpr std::int64_t kDistinct = 4096;  // distinct random entries tiled over a long cache

void set_counters(benchmark::State& state, const Cost& c) {
  using benchmark::Counter;
  state.counters["flop_per_s"] =
      Counter(static_cast<double>(c.total_flops()), Counter::kIsIterationInvariantRate);
  state.counters["fp8eq_flop_per_s"] =
      Counter(c.fp8_equivalent_flops(), Counter::kIsIterationInvariantRate);
  state.counters["bytes_per_s"] =
      Counter(static_cast<double>(c.total_bytes()), Counter::kIsIterationInvariantRate);
}

RowMatrixXf random_matrix(std::int64_t rows, std::int64_t cols, double sigma, std::uint64_t seed) {
  RowMatrixXf m(rows, cols);
  fill_uniform(std::span<float>(m.data(), static_cast<std::size_t>(m.size())),
               uniform_half_width(sigma), seed);
  return m;
}

// Appends a copy of the first n elements of v to v.
template <class T>
void tile(std::vector<T>& v, std::int64_t n) {
  const std::size_t old = v.size();
  v.resize(old + static_cast<std::size_t>(n));
  std::copy_n(v.begin(), n, v.begin() + static_cast<std::ptrdiff_t>(old));
}

// n FP8 indexer keys (codes + power-of-two scale), kDistinct random ones repeated.
DsaKeyCache random_key_cache(std::int64_t n, std::uint64_t seed) {
  const RowMatrixXf keys = random_matrix(kDistinct, 128, 1.0, seed);
  DsaKeyCache cache(128, false);
  cache.reserve(n + 1);
  for (std::int64_t s = 0; s < kDistinct; ++s)
    cache.append(std::span<const float>(keys.row(s).data(), 128));
  while (cache.rows < n) {
    const std::int64_t m = std::min(cache.rows, n - cache.rows);
    tile(cache.codes, m * 128);
    tile(cache.scales, m);
    cache.rows += m;
  }
  cache.truncate(n);
  return cache;
}

// n packed V32_FP8Sparse latents, kDistinct random ones repeated.
MlaPackedCache random_latent_cache(std::int64_t n, std::uint64_t seed) {
  const RowMatrixXf entries = random_matrix(kDistinct, kEntry, 1.0, seed);
  MlaPackedCache cache(KvEntryFormat::v32_fp8_sparse, kEntry, kRope);
  cache.reserve(n + 1);
  for (std::int64_t s = 0; s < kDistinct; ++s)
    cache.append(std::span<const float>(entries.row(s).data(), kEntry));
  const std::int64_t b = cache.entry_bytes();
  while (cache.rows < n) {
    const std::int64_t m = std::min(cache.rows, n - cache.rows);
    tile(cache.bytes, m * b);
    cache.rows += m;
  }
  cache.truncate(n);
  return cache;
}

MlaAttentionShape mla_decode_shape(std::int64_t context) {
  MlaAttentionShape s;
  s.num_heads = kHeads;
  s.latent_dim = kLatent;
  s.rope_dim = kRope;
  s.topk = kTopk;
  s.start_pos = context - 1;
  s.num_tokens = 1;
  return s;
}

// 2048 distinct random positions of the context (what the indexer would hand over).
TokenSelection random_selection(std::int64_t context, std::uint64_t seed) {
  std::vector<std::int32_t> all(static_cast<std::size_t>(context));
  std::iota(all.begin(), all.end(), 0);
  std::mt19937_64 gen(seed);
  std::shuffle(all.begin(), all.end(), gen);
  const std::int64_t k = std::min(kTopk, context);
  TokenSelection sel(1, k);
  for (std::int64_t j = 0; j < k; ++j) sel(0, j) = all[static_cast<std::size_t>(j)];
  return sel;
}

void BM_V32_IndexerScoring(benchmark::State& state) {
  const std::int64_t context = state.range(0);
  const DsaIndexerConfig cfg;
  const DsaKeyCache cache = random_key_cache(context, 1);
  DsaQueries q;
  q.start_pos = context - 1;
  q.q = random_matrix(1, cfg.num_heads * cfg.head_dim, 100.0, 2);  // E4M3-range values
  for (Eigen::Index j = 0; j < q.q.size(); ++j)
    q.q.data()[j] = fp8_e4m3_decode(fp8_e4m3_encode(q.q.data()[j]));
  q.w = random_matrix(1, cfg.num_heads, 1e-3, 3);
  const IndexerScoringShape shape = dsa_scoring_shape(cfg, context - 1, 1);
  for (auto _ : state) {
    TokenSelection sel = dsa_indexer_topk(shape, q, cache, kTopk);
    benchmark::DoNotOptimize(sel.data());
  }
  set_counters(state, cost(shape));
}

void BM_V32_MlaCoreTop2048(benchmark::State& state) {
  const std::int64_t context = state.range(0);
  const MlaPackedCache cache = random_latent_cache(context, 4);
  const MlaAttentionShape s = mla_decode_shape(context);
  const RowMatrixXf q_abs = random_matrix(1, kHeads * kEntry, 0.05, 5);
  const TokenSelection sel = random_selection(context, 6);
  RowMatrixXf out(1, kHeads * kLatent);
  for (auto _ : state) {
    mla_core_forward(s, q_abs, cache, &sel, mla_softmax_scale(), out);
    benchmark::DoNotOptimize(out.data());
  }
  set_counters(state, cost(s));
}

void BM_V32_AttentionDecode(benchmark::State& state) {
  const std::int64_t context = state.range(0), past = context - 1;
  DsaIndexerConfig cfg;
  const DsaIndexerFormats fmt;
  DsaIndexerWeights w;
  w.wq_b = random_matrix(cfg.num_heads * cfg.head_dim, kQLora, 0.025, 10);
  w.wk = random_matrix(cfg.head_dim, kHidden, 0.012, 11);
  w.k_norm_weight = Eigen::VectorXf::Ones(cfg.head_dim);
  w.k_norm_bias = Eigen::VectorXf::Zero(cfg.head_dim);
  w.weights_proj = random_matrix(cfg.num_heads, kHidden, 0.012, 12);
  const RopeTable rope = make_rope_table(v32_rope_config());
  const RowMatrixXf w_uk = random_matrix(kHeads * kNope, kLatent, 0.044, 13);
  const RowMatrixXf w_uv = random_matrix(kHeads * kV, kLatent, 0.044, 14);
  DsaKeyCache keys = random_key_cache(past, 15);
  MlaPackedCache latents = random_latent_cache(past, 16);
  const RowMatrixXf x = random_matrix(1, kHidden, 1.0, 17);
  const RowMatrixXf c_q = random_matrix(1, kQLora, 1.0, 18);
  const RowMatrixXf q_nope = random_matrix(1, kHeads * kNope, 1.0, 19);
  const RowMatrixXf q_rope = random_matrix(1, kHeads * kRope, 1.0, 20);
  const RowMatrixXf entry = random_matrix(1, kEntry, 1.0, 21);  // the new token's latent
  const MlaAttentionShape s = mla_decode_shape(context);
  const MlaAbsorptionFormat absorb;
  RowMatrixXf q_abs(1, kHeads * kEntry), latent(1, kHeads * kLatent), out(1, kHeads * kV);
  for (auto _ : state) {
    latents.append(std::span<const float>(entry.data(), kEntry));
    const TokenSelection sel = dsa_indexer_forward(cfg, fmt, w, rope, c_q, x, keys);
    mla_absorb_query(s, q_nope, q_rope, w_uk, q_abs, absorb);
    mla_core_forward(s, q_abs, latents, &sel, mla_softmax_scale(), latent);
    mla_absorb_output(s, latent, w_uv, out, absorb);
    benchmark::DoNotOptimize(out.data());
    keys.truncate(past);  // undo the step: every iteration decodes the same position
    latents.truncate(past);
  }
  set_counters(state, dsa_indexer_cost(cfg, fmt, kHidden, kQLora, past, 1) +
                          mla_attention_cost(s, kNope, kV, absorb));
}

void BM_Gqa8_Decode(benchmark::State& state) {
  const std::int64_t context = state.range(0);
  GqaAttentionShape s;
  s.q_heads = 64;
  s.kv_heads = 8;
  s.head_dim = 128;
  s.start_pos = context - 1;
  s.num_tokens = 1;
  const RowMatrixXf k = random_matrix(context, s.kv_heads * s.head_dim, 1.0, 30);
  const RowMatrixXf v = random_matrix(context, s.kv_heads * s.head_dim, 1.0, 31);
  const RowMatrixXf q = random_matrix(1, s.q_heads * s.head_dim, 0.1, 32);
  RowMatrixXf out(1, s.q_heads * s.head_dim);
  for (auto _ : state) {
    gqa_attention_forward(s, q, k, v, out);
    benchmark::DoNotOptimize(out.data());
  }
  set_counters(state, cost(s));
}

void contexts(benchmark::internal::Benchmark* b, bool with_1m) {
  for (std::int64_t c : {4096, 65536, 131072}) b->Arg(c);
  if (with_1m) b->Arg(1 << 20);
  // Real time: the kernels may run on several threads (kernels/parallel.h).
  b->Unit(benchmark::kMillisecond)->ArgName("context")->UseRealTime();
}

void up_to_1m(benchmark::internal::Benchmark* b) {
  contexts(b, true);
}
void up_to_128k(benchmark::internal::Benchmark* b) {
  contexts(b, false);
}

BENCHMARK(BM_V32_IndexerScoring)->Apply(up_to_1m);
BENCHMARK(BM_V32_MlaCoreTop2048)->Apply(up_to_1m);
BENCHMARK(BM_V32_AttentionDecode)->Apply(up_to_1m);
BENCHMARK(BM_Gqa8_Decode)->Apply(up_to_128k);

}  // namespace
}  // namespace v4sim
