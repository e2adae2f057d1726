#include "kernels/dsa_indexer_forward.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

#include "kernels/host_isa.h"
#include "kernels/indexer_head_sum.h"
#include "kernels/precondition.h"
#include "kernels/quant.h"
#include "kernels/top_k.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define V4SIM_DSA_ISA 1
#endif

namespace v4sim {
namespace {

constexpr const char* kKernel = "dsa_indexer_forward";  // names the kernel in precondition errors

// Keys are scored in blocks: one block is decoded to float once and multiplied by every query
// that sees it, by indexer_head_sum (as the V4 indexer), which reads the block's keys in place.
// 2048 keys (1 MiB of floats, in L2): at 256 keys, with Eigen's [H, d] x [d, block] product and a
// table decode, the 1M-context decode ran at 45 % of the GEMM ceiling on the Xeon VM, skewing the
// V3.2 / V4 time ratio (205 -> 170-177 ms with this block, Eigen's [block, d] x [d, H] product and
// the AVX-512 decode).
constexpr std::int64_t kKeyBlock = 2048;

// Y = X W^T, counted as the LinearShape{T, in, out} it is.
RowMatrixXf project(const Eigen::Ref<const RowMatrixXf>& x, const RowMatrixXf& w, WeightFormat f,
                    Precision p, Cost* counted) {
  V4SIM_REQUIRE(kKernel, x.cols() == w.cols(), "projection input width does not match the weight");
  RowMatrixXf y(x.rows(), w.rows());
  y.noalias() = x * w.transpose();
  if (counted != nullptr) *counted += cost(LinearShape{x.rows(), w.cols(), w.rows(), 1, f, p});
  return y;
}

// LayerNorm over one vector with gain and bias (population variance, as torch).
void layer_norm(std::span<float> x, const Eigen::VectorXf& gain, const Eigen::VectorXf& bias,
                double eps) {
  double mean = 0.0, var = 0.0;
  for (float v : x) mean += v;
  mean /= static_cast<double>(x.size());
  for (float v : x) var += (v - mean) * (v - mean);
  var /= static_cast<double>(x.size());
  const double inv = 1.0 / std::sqrt(var + eps);
  for (std::size_t j = 0; j < x.size(); ++j)
    x[j] = static_cast<float>((x[j] - mean) * inv) * gain[static_cast<Eigen::Index>(j)] +
           bias[static_cast<Eigen::Index>(j)];
}

// Value of every E4M3 code, so decoding a key is a table lookup.
std::array<float, 256> fp8_table() {
  std::array<float, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = fp8_e4m3_decode(static_cast<std::uint8_t>(c));
  return t;
}

#ifdef V4SIM_DSA_ISA
// E4M3 codes to floats 16 at a time, as kernels/fp8_linear.cpp decodes weights: the code's low 7
// bits shifted into FP16 exponent / mantissa positions and its sign to bit 15 give the value
// times 2^-8 (subnormals included), converted exactly and scaled by 2^8; the NaN codes 0x7F /
// 0xFF (which would come out as +-480) are set to NaN. The same values as the table. Returns how
// many codes it decoded (a multiple of 16).
__attribute__((target("avx512f,avx512bw,avx512vl"))) std::int64_t decode_avx512(
    const std::uint8_t* codes, std::int64_t n, float* out) {
  const __m512 s = _mm512_set1_ps(256.0f), nan = _mm512_set1_ps(std::nanf(""));
  const __m256i keep = _mm256_set1_epi16(static_cast<short>(0xBF80));
  const __m256i magnitude = _mm256_set1_epi16(0x7FFF), nan_code = _mm256_set1_epi16(0x3F80);
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + i));
    const __m256i h = _mm256_and_si256(_mm256_slli_epi16(_mm256_cvtepi8_epi16(b), 7), keep);
    const __mmask16 is_nan = _mm256_cmpeq_epi16_mask(_mm256_and_si256(h, magnitude), nan_code);
    _mm512_storeu_ps(out + i,
                     _mm512_mask_mov_ps(_mm512_mul_ps(_mm512_cvtph_ps(h), s), is_nan, nan));
  }
  return i;
}
#endif

// Rows [b0, b0 + n) of the cache as floats (codes unscaled) and their scales (1 when exact).
void decode_block(const DsaKeyCache& cache, const std::array<float, 256>& lut, std::int64_t b0,
                  std::int64_t n, RowMatrixXf& keys, Eigen::VectorXf& scales) {
  const std::int64_t d = cache.head_dim;
  keys.resize(n, d);
  scales.resize(n);
  if (cache.exact) {
    keys = Eigen::Map<const RowMatrixXf>(cache.values.data() + b0 * d, n, d);
    scales.setOnes();
    return;
  }
  const std::uint8_t* src = cache.codes.data() + b0 * d;
  float* dst = keys.data();
  std::int64_t i = 0;
#ifdef V4SIM_DSA_ISA
  if (use_avx512()) i = decode_avx512(src, n * d, dst);
#endif
  for (; i < n * d; ++i) dst[i] = lut[src[i]];
  scales = Eigen::Map<const Eigen::VectorXf>(cache.scales.data() + b0, n);
}

// I(t, s) of query rows [0, T) for s <= t into scores[i] (size t+1). Returns the (query, key)
// pairs scored. Blocks are independent, so running them on several threads gives the same bits.
std::int64_t score_all(const DsaQueries& q, const DsaKeyCache& cache,
                       std::vector<std::vector<float>>& scores) {
  const std::int64_t T = q.q.rows(), H = q.w.cols(), d = cache.head_dim;
  V4SIM_REQUIRE(kKernel, H > 0 && q.q.cols() == H * d, "queries must be [T, heads * head_dim]");
  const std::int64_t last = q.start_pos + T;  // keys 0 .. last-1 are needed
  V4SIM_REQUIRE(kKernel, cache.rows >= last,
                "key cache holds fewer tokens than the last query's position");
  scores.assign(static_cast<std::size_t>(T), {});
  for (std::int64_t i = 0; i < T; ++i)
    scores[i].resize(static_cast<std::size_t>(q.start_pos + i + 1));
  const std::array<float, 256> lut = fp8_table();
  const std::int64_t blocks = (last + kKeyBlock - 1) / kKeyBlock;
  std::int64_t pairs = 0;
#ifdef _OPENMP
#pragma omp parallel reduction(+ : pairs)
#endif
  {
    RowMatrixXf keys;
    Eigen::VectorXf scales;
    Eigen::VectorXf head_sum;
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
    for (std::int64_t b = 0; b < blocks; ++b) {
      const std::int64_t b0 = b * kKeyBlock, n = std::min(kKeyBlock, last - b0);
      decode_block(cache, lut, b0, n, keys, scales);
      // The next block's FP8 codes, fetched while the first query scores this one.
      const std::int64_t next_keys = cache.exact ? 0 : std::min(kKeyBlock, last - b0 - n);
      const std::uint8_t* next = next_keys > 0 ? cache.codes.data() + (b0 + n) * d : nullptr;
      for (std::int64_t i = 0; i < T; ++i) {
        const std::int64_t m = std::min(n, q.start_pos + i + 1 - b0);  // keys of this block <= t
        if (m <= 0) continue;
        head_sum.resize(m);
        indexer_head_sum(q.q.row(i).data(), q.w.row(i).data(), H, d, keys.data(), m,
                         head_sum.data(), i == 0 ? next : nullptr, next_keys * d);
        Eigen::Map<Eigen::VectorXf>(scores[i].data() + b0, m) =
            head_sum.cwiseProduct(scales.head(m));
        pairs += m;
      }
    }
  }
  return pairs;
}

}  // namespace

RopeConfig v32_rope_config() {
  RopeConfig c;
  c.rope_dim = 64;
  c.theta = 10000.0;
  c.yarn = true;
  c.yarn_factor = 40.0;
  c.original_seq_len = 4096;
  c.beta_fast = 32.0;
  c.beta_slow = 1.0;
  return c;
}

void DsaKeyCache::reserve(std::int64_t n) {
  if (exact) {
    values.reserve(static_cast<std::size_t>(n * head_dim));
  } else {
    codes.reserve(static_cast<std::size_t>(n * head_dim));
    scales.reserve(static_cast<std::size_t>(n));
  }
}

void DsaKeyCache::append(std::span<const float> key) {
  V4SIM_REQUIRE(kKernel, static_cast<std::int64_t>(key.size()) == head_dim,
                "key width differs from the cache");
  if (exact) {
    values.insert(values.end(), key.begin(), key.end());
  } else {
    const std::size_t at = codes.size();
    codes.resize(at + key.size());
    float scale = 0.0f;
    fp8_quantize(key, static_cast<int>(head_dim), std::span(codes).subspan(at, key.size()),
                 std::span(&scale, 1), Fp8ScaleRule::pow2);
    scales.push_back(scale);
  }
  ++rows;
}

void DsaKeyCache::append_fp8(std::span<const std::uint8_t> key_codes, float scale) {
  V4SIM_REQUIRE(kKernel, !exact, "an exact-mode cache holds floats, not FP8 codes");
  V4SIM_REQUIRE(kKernel, static_cast<std::int64_t>(key_codes.size()) == head_dim,
                "key width differs");
  codes.insert(codes.end(), key_codes.begin(), key_codes.end());
  scales.push_back(scale);
  ++rows;
}

void DsaKeyCache::truncate(std::int64_t n) {
  V4SIM_REQUIRE(kKernel, n >= 0 && n <= rows, "truncate beyond the cached tokens");
  rows = n;
  if (exact) {
    values.resize(static_cast<std::size_t>(n * head_dim));
  } else {
    codes.resize(static_cast<std::size_t>(n * head_dim));
    scales.resize(static_cast<std::size_t>(n));
  }
}

std::vector<float> DsaKeyCache::key(std::int64_t s) const {
  std::vector<float> k(static_cast<std::size_t>(head_dim));
  for (std::int64_t j = 0; j < head_dim; ++j)
    k[j] = exact ? values[s * head_dim + j] : fp8_e4m3_decode(codes[s * head_dim + j]) * scales[s];
  return k;
}

void dsa_rope_rotate(std::span<float> x, const RopeAngles& angles) {
  const std::size_t half = angles.cos.size();
  V4SIM_REQUIRE(kKernel, x.size() >= 2 * half, "vector narrower than the rotated dims");
  for (std::size_t j = 0; j < half; ++j) {
    const float re = x[j], im = x[j + half];
    x[j] = re * angles.cos[j] - im * angles.sin[j];
    x[j + half] = re * angles.sin[j] + im * angles.cos[j];
  }
}

void dsa_indexer_append_keys(const DsaIndexerConfig& cfg, const DsaIndexerFormats& fmt,
                             const DsaIndexerWeights& w, const RopeTable& rope,
                             const Eigen::Ref<const RowMatrixXf>& x, DsaKeyCache& cache,
                             Cost* counted) {
  const std::int64_t d = cfg.head_dim;
  V4SIM_REQUIRE(kKernel, cache.head_dim == d && cache.exact == cfg.exact,
                "cache does not match the config");
  V4SIM_REQUIRE(kKernel,
                w.wk.rows() == d && w.k_norm_weight.size() == d && w.k_norm_bias.size() == d,
                "wk and k_norm must be head_dim wide");
  V4SIM_REQUIRE(kKernel, rope.rope_dim == cfg.rope_dim && cfg.rope_dim <= d,
                "rope table width differs");
  RowMatrixXf k = project(x, w.wk, fmt.wk, fmt.projections, counted);  // [T, d]
  for (Eigen::Index i = 0; i < k.rows(); ++i) {
    std::span<float> row(k.row(i).data(), static_cast<std::size_t>(d));
    layer_norm(row, w.k_norm_weight, w.k_norm_bias, cfg.layer_norm_eps);
    dsa_rope_rotate(row, rope_angles(rope, cache.rows));
    hadamard_transform(row);
    cache.append(row);
  }
}

DsaQueries dsa_indexer_queries(const DsaIndexerConfig& cfg, const DsaIndexerFormats& fmt,
                               const DsaIndexerWeights& w, const RopeTable& rope,
                               std::int64_t start_pos, const Eigen::Ref<const RowMatrixXf>& c_q,
                               const Eigen::Ref<const RowMatrixXf>& x, Cost* counted) {
  const std::int64_t H = cfg.num_heads, d = cfg.head_dim;
  V4SIM_REQUIRE(kKernel, w.wq_b.rows() == H * d && w.weights_proj.rows() == H,
                "wq_b / weights_proj heights");
  V4SIM_REQUIRE(kKernel, c_q.rows() == x.rows(), "c_q and x hold different token counts");
  V4SIM_REQUIRE(kKernel, rope.rope_dim == cfg.rope_dim && cfg.rope_dim <= d,
                "rope table width differs");
  DsaQueries out;
  out.start_pos = start_pos;
  out.q = project(c_q, w.wq_b, fmt.wq_b, fmt.projections, counted);                // [T, H*d]
  out.w = project(x, w.weights_proj, fmt.weights_proj, fmt.projections, counted);  // [T, H]
  out.w *= static_cast<float>(1.0 / std::sqrt(static_cast<double>(H * d)));
  std::vector<std::uint8_t> codes(static_cast<std::size_t>(d));
  for (Eigen::Index i = 0; i < out.q.rows(); ++i) {
    const RopeAngles angles = rope_angles(rope, start_pos + i);
    for (std::int64_t h = 0; h < H; ++h) {
      std::span<float> head(out.q.row(i).data() + h * d, static_cast<std::size_t>(d));
      dsa_rope_rotate(head, angles);
      hadamard_transform(head);
      if (cfg.exact) continue;
      // q_h = codes * scale: keep the code values, fold the positive scale into the weight.
      float scale = 0.0f;
      fp8_quantize(head, static_cast<int>(d), codes, std::span(&scale, 1), Fp8ScaleRule::pow2);
      for (std::int64_t j = 0; j < d; ++j) head[j] = fp8_e4m3_decode(codes[j]);
      out.w(i, h) *= scale;
    }
  }
  return out;
}

IndexerScoringShape dsa_scoring_shape(const DsaIndexerConfig& cfg, std::int64_t start_pos,
                                      std::int64_t num_tokens) {
  return {cfg.num_heads, cfg.head_dim, 1, start_pos, num_tokens, KvEntryFormat::fp8_fp32_scale,
          Precision::fp8};
}

std::vector<float> dsa_indexer_scores(const DsaQueries& queries, const DsaKeyCache& cache,
                                      std::int64_t i) {
  DsaQueries one;
  one.start_pos = queries.start_pos + i;
  one.q = queries.q.row(i);
  one.w = queries.w.row(i);
  std::vector<std::vector<float>> scores;
  score_all(one, cache, scores);
  return std::move(scores[0]);
}

std::vector<std::int32_t> dsa_top_k(std::span<const float> scores, std::int64_t k) {
  return top_k_positions(scores, k);
}

TokenSelection dsa_indexer_topk(const IndexerScoringShape& shape, const DsaQueries& queries,
                                const DsaKeyCache& cache, std::int64_t topk, Cost* counted) {
  V4SIM_REQUIRE(kKernel, shape.ratio == 1, "the DSA indexer scores every token (ratio 1)");
  V4SIM_REQUIRE(kKernel,
                shape.start_pos == queries.start_pos && shape.num_tokens == queries.q.rows(),
                "shape and queries disagree");
  V4SIM_REQUIRE(kKernel, shape.num_heads == queries.w.cols() && shape.head_dim == cache.head_dim,
                "shape widths differ from the queries or the cache");
  V4SIM_REQUIRE(kKernel, topk > 0, "topk must be positive");
  std::vector<std::vector<float>> scores;
  const std::int64_t pairs = score_all(queries, cache, scores);
  const std::int64_t T = shape.num_tokens;
  const std::int64_t width = std::min(topk, shape.start_pos + T);
  TokenSelection sel = TokenSelection::Constant(T, width, -1);
  for (std::int64_t i = 0; i < T; ++i) {
    const std::vector<std::int32_t> top = dsa_top_k(scores[i], topk);
    for (std::size_t j = 0; j < top.size(); ++j) sel(i, static_cast<Eigen::Index>(j)) = top[j];
  }
  if (counted != nullptr) {
    const std::int64_t H = shape.num_heads, d = shape.head_dim;
    Cost c;
    c.flops_at(shape.compute) = 2 * H * d * pairs;
    c.flops_at(Precision::fp32) += 2 * H * pairs;  // the weighted head sum
    c.read(MemClass::kv_cache) = pairs * kv_entry_bytes(shape.key_format, d, 0);
    c.read(MemClass::activations) = activation_bytes(shape.compute, T * H * d);
    c.written(MemClass::activations) = 4 * pairs;  // one fp32 score per pair
    *counted += c;
  }
  return sel;
}

TokenSelection dsa_indexer_forward(const DsaIndexerConfig& cfg, const DsaIndexerFormats& fmt,
                                   const DsaIndexerWeights& w, const RopeTable& rope,
                                   const Eigen::Ref<const RowMatrixXf>& c_q,
                                   const Eigen::Ref<const RowMatrixXf>& x, DsaKeyCache& cache,
                                   Cost* counted) {
  const std::int64_t start = cache.rows;
  dsa_indexer_append_keys(cfg, fmt, w, rope, x, cache, counted);
  const DsaQueries q = dsa_indexer_queries(cfg, fmt, w, rope, start, c_q, x, counted);
  return dsa_indexer_topk(dsa_scoring_shape(cfg, start, x.rows()), q, cache, cfg.topk, counted);
}

Cost dsa_indexer_cost(const DsaIndexerConfig& cfg, const DsaIndexerFormats& fmt,
                      std::int64_t hidden, std::int64_t q_lora_rank, std::int64_t start_pos,
                      std::int64_t num_tokens) {
  const std::int64_t H = cfg.num_heads, d = cfg.head_dim;
  return cost(LinearShape{num_tokens, hidden, d, 1, fmt.wk, fmt.projections}) +
         cost(LinearShape{num_tokens, q_lora_rank, H * d, 1, fmt.wq_b, fmt.projections}) +
         cost(LinearShape{num_tokens, hidden, H, 1, fmt.weights_proj, fmt.projections}) +
         cost(dsa_scoring_shape(cfg, start_pos, num_tokens));
}

}  // namespace v4sim
