#include "kernels/mla_attention_forward.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/kv_entry.h"
#include "kernels/parallel_for.h"
#include "kernels/precondition.h"
#include "kernels/projection_forward.h"
#include "kernels/quant.h"

namespace v4sim {
namespace {

constexpr const char* kKernel = "mla_attention_forward";  // names the kernel in precondition errors

// Row i of a [T, H*w] matrix seen as [H, w] (row-major, contiguous).
Eigen::Map<const RowMatrixXf> heads_of(const Eigen::Ref<const RowMatrixXf>& m, Eigen::Index i,
                                       Eigen::Index heads) {
  return {m.row(i).data(), heads, m.cols() / heads};
}

// Grouped linear y_g = x_g W_g^T (or x_g W_g), counted as executed: the weight block of every
// group once, one product per (token, group).
struct LinearCounter {
  std::int64_t macs = 0, weight_bytes = 0, in_elems = 0, out_elems = 0;
  void add_to(Cost* c, Precision p) const {
    if (c == nullptr) return;
    Cost k;
    k.flops_at(p) = 2 * macs;
    k.read(MemClass::weights) = weight_bytes;
    k.read(MemClass::activations) = activation_bytes(p, in_elems);
    k.written(MemClass::activations) = activation_bytes(Precision::bf16, out_elems);
    *c += k;
  }
};

}  // namespace

double mla_mscale(double yarn_factor) {
  return yarn_factor <= 1.0 ? 1.0 : 0.1 * std::log(yarn_factor) + 1.0;
}

float mla_softmax_scale(std::int64_t qk_head_dim, double yarn_factor) {
  const double m = mla_mscale(yarn_factor);
  return static_cast<float>(m * m / std::sqrt(static_cast<double>(qk_head_dim)));
}

LinearShape mla_query_absorption_shape(const MlaAttentionShape& s, std::int64_t nope_dim,
                                       const MlaAbsorptionFormat& f) {
  return {s.num_tokens, s.num_heads * nope_dim, s.num_heads * s.latent_dim, s.num_heads, f.weight,
          f.compute};
}

LinearShape mla_output_absorption_shape(const MlaAttentionShape& s, std::int64_t v_dim,
                                        const MlaAbsorptionFormat& f) {
  return {s.num_tokens, s.num_heads * s.latent_dim, s.num_heads * v_dim, s.num_heads, f.weight,
          f.compute};
}

Cost mla_attention_cost(const MlaAttentionShape& s, std::int64_t nope_dim, std::int64_t v_dim,
                        const MlaAbsorptionFormat& f) {
  return cost(mla_query_absorption_shape(s, nope_dim, f)) + cost(s) +
         cost(mla_output_absorption_shape(s, v_dim, f));
}

void mla_absorb_query(const MlaAttentionShape& s, const Eigen::Ref<const RowMatrixXf>& q_nope,
                      const Eigen::Ref<const RowMatrixXf>& q_rope,
                      const Eigen::Ref<const RowMatrixXf>& w_uk, Eigen::Ref<RowMatrixXf> q_abs,
                      const MlaAbsorptionFormat& f, Cost* counted) {
  const Eigen::Index H = s.num_heads, T = s.num_tokens, L = s.latent_dim, R = s.rope_dim;
  V4SIM_REQUIRE(kKernel, H > 0 && q_nope.cols() % H == 0,
                "q_nope width is not a multiple of num_heads");
  const Eigen::Index nope = q_nope.cols() / H;
  V4SIM_REQUIRE(kKernel, q_nope.rows() == T && q_rope.rows() == T && q_abs.rows() == T,
                "token counts differ");
  V4SIM_REQUIRE(kKernel, q_rope.cols() == H * R, "q_rope must be [T, H*rope]");
  V4SIM_REQUIRE(kKernel, w_uk.rows() == H * nope && w_uk.cols() == L,
                "w_uk must be [H*nope, latent]");
  V4SIM_REQUIRE(kKernel, q_abs.cols() == H * (L + R), "q_abs must be [T, H*(latent+rope)]");
  LinearCounter n;
  for (Eigen::Index h = 0; h < H; ++h) {
    // [T, nope] x [nope, latent]: row t is (W_UK,h^T q^N_h)^T.
    q_abs.middleCols(h * (L + R), L).noalias() =
        q_nope.middleCols(h * nope, nope) * w_uk.middleRows(h * nope, nope);
    q_abs.middleCols(h * (L + R) + L, R) = q_rope.middleCols(h * R, R);
    n.macs += T * nope * L;
    n.weight_bytes += weight_bytes(f.weight, L, nope);
    n.in_elems += T * nope;
    n.out_elems += T * L;
  }
  n.add_to(counted, f.compute);
}

void mla_absorb_output(const MlaAttentionShape& s, const Eigen::Ref<const RowMatrixXf>& latent_out,
                       const Eigen::Ref<const RowMatrixXf>& w_uv, Eigen::Ref<RowMatrixXf> out,
                       const MlaAbsorptionFormat& f, Cost* counted) {
  const Eigen::Index H = s.num_heads, T = s.num_tokens, L = s.latent_dim;
  V4SIM_REQUIRE(kKernel, H > 0 && out.cols() % H == 0, "out width is not a multiple of num_heads");
  const Eigen::Index v = out.cols() / H;
  V4SIM_REQUIRE(kKernel, latent_out.rows() == T && out.rows() == T, "token counts differ");
  V4SIM_REQUIRE(kKernel, latent_out.cols() == H * L, "latent_out must be [T, H*latent]");
  V4SIM_REQUIRE(kKernel, w_uv.rows() == H * v && w_uv.cols() == L, "w_uv must be [H*v, latent]");
  LinearCounter n;
  for (Eigen::Index h = 0; h < H; ++h) {
    out.middleCols(h * v, v).noalias() =
        latent_out.middleCols(h * L, L) * w_uv.middleRows(h * v, v).transpose();
    n.macs += T * L * v;
    n.weight_bytes += weight_bytes(f.weight, v, L);
    n.in_elems += T * L;
    n.out_elems += T * v;
  }
  n.add_to(counted, f.compute);
}

namespace {

// Heads per group of the attention core: 16 of V3.2's 128 heads make an [16, 576] x [576, 2048]
// score product per group at a top-2048 decode, large enough to run near the GEMM rate.
constexpr Eigen::Index kHeadGroup = 16;

// The core over any cache: `rows` entries of E floats; copy_row(s, dst) writes entry s to dst;
// contiguous(n) is either null (entries must be gathered) or the first n entries as a matrix.
template <class CopyRow, class Contiguous>
void core_impl(const MlaAttentionShape& s, const Eigen::Ref<const RowMatrixXf>& q_abs,
               std::int64_t rows, std::int64_t width, CopyRow copy_row, Contiguous contiguous,
               const TokenSelection* selection, float softmax_scale,
               Eigen::Ref<RowMatrixXf> latent_out, Cost* counted) {
  const Eigen::Index H = s.num_heads, T = s.num_tokens, L = s.latent_dim, E = L + s.rope_dim;
  V4SIM_REQUIRE(kKernel, H > 0 && T >= 0 && s.start_pos >= 0, "bad shape");
  V4SIM_REQUIRE(kKernel, q_abs.rows() == T && q_abs.cols() == H * E,
                "q_abs must be [T, H*(latent+rope)]");
  V4SIM_REQUIRE(kKernel, width == E, "cache entries must be latent+rope wide");
  V4SIM_REQUIRE(kKernel, rows >= s.start_pos + T,
                "cache holds fewer entries than the last position");
  V4SIM_REQUIRE(kKernel, latent_out.rows() == T && latent_out.cols() == H * L,
                "latent_out must be [T, H*latent]");
  if (selection != nullptr)
    V4SIM_REQUIRE(kKernel, selection->rows() == T, "selection must have one row per query");

  // A query's heads are attended in fixed groups of kHeadGroup: the groups of one decode query run
  // on any thread with the same bits (kernels/parallel.h); prefill runs whole queries in parallel.
  struct Scratch {
    RowMatrixXf gathered, scores;
  };
  const auto attend_group = [&](Eigen::Index i, const auto& k, Eigen::Index group,
                                RowMatrixXf& scores) {
    const Eigen::Index h0 = group * kHeadGroup, hn = std::min(kHeadGroup, H - h0);
    Eigen::Map<RowMatrixXf> o(latent_out.row(i).data() + h0 * L, hn, L);
    if (k.rows() == 0) {
      o.setZero();
      return;
    }
    scores.noalias() = heads_of(q_abs, i, H).middleRows(h0, hn) * k.transpose();  // [hn, m]
    scores *= softmax_scale;
    for (Eigen::Index h = 0; h < hn; ++h) {
      auto row = scores.row(h);
      row = (row.array() - row.maxCoeff()).exp();
      row /= row.sum();
    }
    o.noalias() = scores * k.leftCols(L);  // [hn, latent]
  };
  const Eigen::Index groups = (H + kHeadGroup - 1) / kHeadGroup;
  // One query: its keys (gathered once), then its head groups, in parallel when `parallel`.
  const auto attend = [&](Eigen::Index i, const auto& k, Scratch& scratch, bool parallel) {
    if (parallel) {
      detail::parallel_pieces<RowMatrixXf>(
          groups, [&](std::int64_t g, RowMatrixXf& scores) { attend_group(i, k, g, scores); });
    } else {
      for (Eigen::Index g = 0; g < groups; ++g) attend_group(i, k, g, scratch.scores);
    }
  };
  std::vector<std::int64_t> keys_of(static_cast<std::size_t>(T));
  const auto query = [&](Eigen::Index i, Scratch& scratch, bool parallel) {
    const std::int64_t t = s.start_pos + i;
    RowMatrixXf& gathered = scratch.gathered;
    if (selection == nullptr) {
      keys_of[static_cast<std::size_t>(i)] = t + 1;
      if constexpr (!std::is_same_v<Contiguous, std::nullptr_t>) {
        attend(i, contiguous(t + 1), scratch, parallel);
      } else {
        gathered.resize(t + 1, E);
        for (std::int64_t j = 0; j <= t; ++j) copy_row(j, gathered.row(j).data());
        attend(i, gathered, scratch, parallel);
      }
      return;
    }
    const auto sel = selection->row(i);
    Eigen::Index m = 0;
    for (Eigen::Index j = 0; j < sel.size(); ++j) m += sel(j) >= 0 ? 1 : 0;
    gathered.resize(m, E);
    m = 0;
    for (Eigen::Index j = 0; j < sel.size(); ++j) {
      const std::int32_t idx = sel(j);
      if (idx < 0) continue;
      V4SIM_REQUIRE(kKernel, idx <= t, "selection holds a token after its query (causality)");
      copy_row(idx, gathered.row(m++).data());
    }
    keys_of[static_cast<std::size_t>(i)] = m;
    attend(i, gathered, scratch, parallel);
  };
  if (T == 1) {
    Scratch scratch;
    query(0, scratch, /*parallel=*/true);
  } else {
    detail::parallel_pieces<Scratch>(
        T, [&](std::int64_t i, Scratch& scratch) { query(i, scratch, /*parallel=*/false); });
  }
  std::int64_t keys = 0;
  for (std::int64_t m : keys_of) keys += m;

  if (counted != nullptr) {
    Cost c;
    c.flops_at(s.compute) = 2 * H * (E + L) * keys;
    c.read(MemClass::kv_cache) = keys * kv_entry_bytes(s.kv_format, E, s.rope_dim);
    c.read(MemClass::activations) = activation_bytes(Precision::bf16, T * H * E);
    c.written(MemClass::activations) = activation_bytes(Precision::bf16, T * H * L);
    *counted += c;
  }
}

}  // namespace

void mla_core_forward(const MlaAttentionShape& s, const Eigen::Ref<const RowMatrixXf>& q_abs,
                      const Eigen::Ref<const RowMatrixXf>& cache, const TokenSelection* selection,
                      float softmax_scale, Eigen::Ref<RowMatrixXf> latent_out, Cost* counted) {
  const auto copy_row = [&](std::int64_t r, float* dst) {
    Eigen::Map<Eigen::RowVectorXf>(dst, cache.cols()) = cache.row(r);
  };
  const auto contiguous = [&](std::int64_t n) { return cache.topRows(n); };
  core_impl(s, q_abs, cache.rows(), cache.cols(), copy_row, contiguous, selection, softmax_scale,
            latent_out, counted);
}

void mla_core_forward(const MlaAttentionShape& s, const Eigen::Ref<const RowMatrixXf>& q_abs,
                      const MlaPackedCache& cache, const TokenSelection* selection,
                      float softmax_scale, Eigen::Ref<RowMatrixXf> latent_out, Cost* counted) {
  V4SIM_REQUIRE(kKernel, cache.format == s.kv_format,
                "packed cache format differs from the shape's kv_format");
  V4SIM_REQUIRE(kKernel, cache.rope_dim == s.rope_dim,
                "packed cache rope width differs from the shape's");
  if (cache.format != KvEntryFormat::v32_fp8_sparse) {
    const auto copy_row = [&](std::int64_t r, float* dst) {
      cache.decode(r, std::span<float>(dst, static_cast<std::size_t>(cache.dim)));
    };
    core_impl(s, q_abs, cache.rows, cache.dim, copy_row, nullptr, selection, softmax_scale,
              latent_out, counted);
    return;
  }
  // Gathering dominates a top-2048 decode, so V32_FP8Sparse entries are decoded here with a code
  // table instead of per-element decode calls. Layout (kernels/kv_entry.h): E4M3 codes of the
  // NoPE dims, one little-endian fp32 scale per 128 of them, then the RoPE dims as BF16. The test
  // PackedCacheEqualsDecodedFloatCache holds this to decode_kv_entry.
  static_assert(std::endian::native == std::endian::little, "entries are little-endian");
  std::array<float, 256> lut{};
  for (int c = 0; c < 256; ++c) lut[c] = fp8_e4m3_decode(static_cast<std::uint8_t>(c));
  const std::int64_t nope = cache.dim - cache.rope_dim, blocks = nope / 128;
  const std::int64_t stride = cache.entry_bytes();
  const auto copy_row = [&](std::int64_t r, float* dst) {
    const std::uint8_t* p = cache.bytes.data() + r * stride;
    for (std::int64_t b = 0; b < blocks; ++b) {
      float scale = 0.0f;
      std::memcpy(&scale, p + nope + 4 * b, sizeof scale);
      for (std::int64_t j = b * 128; j < (b + 1) * 128; ++j) dst[j] = lut[p[j]] * scale;
    }
    const std::uint8_t* rope = p + nope + 4 * blocks;
    for (std::int64_t j = 0; j < cache.rope_dim; ++j) {
      std::uint16_t bits = 0;
      std::memcpy(&bits, rope + 2 * j, sizeof bits);
      dst[nope + j] = bf16_decode(bits);
    }
  };
  core_impl(s, q_abs, cache.rows, cache.dim, copy_row, nullptr, selection, softmax_scale,
            latent_out, counted);
}

MlaPackedCache::MlaPackedCache(KvEntryFormat f, std::int64_t entry_dim, std::int64_t rope)
    : format(f), dim(entry_dim), rope_dim(rope) {
  check_kv_entry_dims(f, entry_dim, rope);
}

void MlaPackedCache::append(std::span<const float> entry) {
  V4SIM_REQUIRE(kKernel, static_cast<std::int64_t>(entry.size()) == dim,
                "entry width differs from the cache");
  const std::size_t at = bytes.size();
  bytes.resize(at + static_cast<std::size_t>(entry_bytes()));
  encode_kv_entry(format, entry, rope_dim, std::span(bytes).subspan(at));
  ++rows;
}

void MlaPackedCache::append_encoded(std::span<const std::uint8_t> entry) {
  V4SIM_REQUIRE(kKernel, static_cast<std::int64_t>(entry.size()) == entry_bytes(),
                "entry byte count differs");
  bytes.insert(bytes.end(), entry.begin(), entry.end());
  ++rows;
}

void MlaPackedCache::truncate(std::int64_t n) {
  V4SIM_REQUIRE(kKernel, n >= 0 && n <= rows, "truncate beyond the cached entries");
  rows = n;
  bytes.resize(static_cast<std::size_t>(n * entry_bytes()));
}

void MlaPackedCache::decode(std::int64_t s, std::span<float> out) const {
  const auto n = static_cast<std::size_t>(entry_bytes());
  decode_kv_entry(format, std::span(bytes).subspan(static_cast<std::size_t>(s) * n, n), rope_dim,
                  out);
}

void mla_attention_forward(const MlaAttentionShape& s, const Eigen::Ref<const RowMatrixXf>& q_nope,
                           const Eigen::Ref<const RowMatrixXf>& q_rope,
                           const Eigen::Ref<const RowMatrixXf>& cache,
                           const Eigen::Ref<const RowMatrixXf>& w_uk,
                           const Eigen::Ref<const RowMatrixXf>& w_uv,
                           const TokenSelection* selection, float softmax_scale,
                           Eigen::Ref<RowMatrixXf> out, const MlaAbsorptionFormat& f,
                           Cost* counted) {
  const Eigen::Index T = s.num_tokens, H = s.num_heads;
  RowMatrixXf q_abs(T, H * (s.latent_dim + s.rope_dim));
  RowMatrixXf latent_out(T, H * s.latent_dim);
  mla_absorb_query(s, q_nope, q_rope, w_uk, q_abs, f, counted);
  mla_core_forward(s, q_abs, cache, selection, softmax_scale, latent_out, counted);
  mla_absorb_output(s, latent_out, w_uv, out, f, counted);
}

void mla_expanded_forward(const MlaExpandedShape& s, const Eigen::Ref<const RowMatrixXf>& q_nope,
                          const Eigen::Ref<const RowMatrixXf>& q_rope,
                          const Eigen::Ref<const RowMatrixXf>& cache,
                          const Eigen::Ref<const RowMatrixXf>& w_uk,
                          const Eigen::Ref<const RowMatrixXf>& w_uv, float softmax_scale,
                          Eigen::Ref<RowMatrixXf> out, Cost* counted) {
  const Eigen::Index H = s.num_heads, T = s.num_tokens, L = s.latent_dim, R = s.rope_dim;
  const Eigen::Index N = s.nope_dim, V = s.v_dim;
  V4SIM_REQUIRE(kKernel, H > 0 && T >= 0 && s.start_pos >= 0, "bad shape");
  const Eigen::Index entries = expanded_entries(s);
  V4SIM_REQUIRE(kKernel, cache.rows() >= entries && cache.cols() == L + R,
                "cache must hold start_pos + num_tokens entries of latent + rope");
  V4SIM_REQUIRE(kKernel, q_nope.rows() == T && q_nope.cols() == H * N,
                "q_nope must be [T, H*nope]");
  V4SIM_REQUIRE(kKernel, q_rope.rows() == T && q_rope.cols() == H * R,
                "q_rope must be [T, H*rope]");
  V4SIM_REQUIRE(kKernel, w_uk.rows() == H * N && w_uk.cols() == L, "w_uk must be [H*nope, latent]");
  V4SIM_REQUIRE(kKernel, w_uv.rows() == H * V && w_uv.cols() == L, "w_uv must be [H*v, latent]");
  V4SIM_REQUIRE(kKernel, out.rows() == T && out.cols() == H * V, "out must be [T, H*v]");

  // Expansion: one pass of wkv_b (both halves) over every entry's latent.
  const auto latents = cache.topRows(entries).leftCols(L);
  RowMatrixXf keys, values;
  project_rows(latents, w_uk, keys);    // [entries, H*nope]
  project_rows(latents, w_uv, values);  // [entries, H*v]
  const auto rope_keys = cache.topRows(entries).rightCols(R);

  // Heads are independent pieces (kernels/parallel.h): head h writes its own output columns.
  const float neg_inf = -std::numeric_limits<float>::infinity();
  detail::parallel_pieces<RowMatrixXf>(H, [&](std::int64_t h, RowMatrixXf& scores) {
    scores.noalias() = q_nope.middleCols(h * N, N) * keys.middleCols(h * N, N).transpose();
    scores.noalias() += q_rope.middleCols(h * R, R) * rope_keys.transpose();  // [T, entries]
    scores *= softmax_scale;
    for (Eigen::Index i = 0; i < T; ++i) {
      const Eigen::Index visible = s.start_pos + i + 1;  // causal: keys 0 .. t
      auto row = scores.row(i);
      row.tail(entries - visible).setConstant(neg_inf);
      row = (row.array() - row.head(visible).maxCoeff()).exp();
      row /= row.sum();
    }
    out.middleCols(h * V, V).noalias() = scores * values.middleCols(h * V, V);
  });

  if (counted != nullptr) *counted += expansion_cost(s) + cost(s);
}

}  // namespace v4sim
