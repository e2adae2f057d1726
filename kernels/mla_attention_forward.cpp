#include "kernels/mla_attention_forward.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/attention_buffers.h"
#include "kernels/kv_entry.h"
#include "kernels/online_softmax.h"
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

// The core attends a query's keys block by block with an online softmax over all its heads at
// once, as V4's sparse attention core does (kernels/sparse_attention_forward.cpp): a block of 128
// entries of 576 floats (288 KiB) stays in L2 while both products read it. Attending groups of
// 16 heads over the whole key set instead gathered V3.2's 2048 selected latents into 4.7 MB (past
// L2) and packed them twice per group, 16 times per decode: at 1M context the MLA core ran at
// about a third of the indexer's rate per counted FLOP (perf, Xeon VM, one thread).
constexpr std::int64_t kKeyBlock = 128;
// Keys per piece: a query's keys are attended piece by piece (running max, sum and weighted
// latents per head, as split-K flash-decoding does) and the pieces merged in order, so one decode
// query's keys spread over threads with the same bits for any thread count (kernels/parallel.h).
constexpr std::int64_t kPieceKeys = 2 * kKeyBlock;

using Partial = detail::SoftmaxPartial;  // one piece's softmax state per head

using Scratch = detail::MlaCoreScratch;  // a thread's buffers

// O [H, L] from the pieces, merged in order (no sink); no pieces (no keys): zeros.
void merge_pieces(std::span<const Partial> parts, Eigen::Ref<RowMatrixXf> O) {
  detail::merge_partials(parts, {}, O);
}

// The core over any cache: `rows` entries of E floats; copy_row(s, dst) writes entry s to dst;
// row_data(s) is either null (entries must be gathered) or entry s in place, rows `stride`
// floats apart.
template <class CopyRow, class RowData>
void core_impl(const MlaAttentionShape& s, const Eigen::Ref<const RowMatrixXf>& q_abs,
               std::int64_t rows, std::int64_t width, CopyRow copy_row, RowData row_data,
               std::int64_t stride, const TokenSelection* selection, float softmax_scale,
               Eigen::Ref<RowMatrixXf> latent_out, Cost* counted, AttentionWorkspace* workspace) {
  AttentionWorkspace local;  // buffers for this call only, when the caller keeps none
  detail::AttentionBuffers& buf = (workspace ? *workspace : local).buffers();
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

  // The entries each query attends, in order: its valid selected indices, or 0 .. t.
  std::vector<std::int64_t> offsets(static_cast<std::size_t>(T) + 1, 0), keys;
  for (Eigen::Index i = 0; i < T; ++i) {
    const std::int64_t t = s.start_pos + i;
    if (selection == nullptr) {
      for (std::int64_t j = 0; j <= t; ++j) keys.push_back(j);
    } else {
      for (Eigen::Index j = 0; j < selection->cols(); ++j) {
        const std::int32_t idx = (*selection)(i, j);
        if (idx < 0) continue;
        V4SIM_REQUIRE(kKernel, idx <= t, "selection holds a token after its query (causality)");
        keys.push_back(idx);
      }
    }
    offsets[static_cast<std::size_t>(i) + 1] = static_cast<std::int64_t>(keys.size());
  }

  // Online softmax of query i over keys[b, end) (one piece) into p.
  const auto attend = [&](Eigen::Index i, std::int64_t b, std::int64_t end, Partial& p,
                          Scratch& scratch) {
    const Eigen::Map<const RowMatrixXf> Q = heads_of(q_abs, i, H);  // [H, E]
    p.reset(H, L);
    scratch.gathered.resize(kKeyBlock, E);
    scratch.scores.resize(H, kKeyBlock);
    for (; b < end; b += kKeyBlock) {
      const std::int64_t nb = std::min(kKeyBlock, end - b);
      const std::int64_t* r = keys.data() + b;
      const float* base = scratch.gathered.data();
      std::int64_t ld = E;
      bool in_place = false;
      if constexpr (!std::is_same_v<RowData, std::nullptr_t>) {
        in_place = true;
        for (std::int64_t j = 1; j < nb && in_place; ++j) in_place = r[j] == r[0] + j;
        if (in_place) {
          base = row_data(r[0]);
          ld = stride;
        }
      }
      if (!in_place)
        for (std::int64_t j = 0; j < nb; ++j) copy_row(r[j], scratch.gathered.row(j).data());
      const Eigen::Map<const RowMatrixXf, 0, Eigen::OuterStride<>> K(base, nb, E,
                                                                     Eigen::OuterStride<>(ld));
      auto S = scratch.scores.leftCols(nb);
      S.noalias() = Q * K.transpose();  // [H, nb]
      S *= softmax_scale;
      detail::absorb_block(p, S);
      p.acc.noalias() += S * K.leftCols(L);  // [H, L]
    }
  };
  const auto pieces_of = [&](Eigen::Index i) {
    const std::int64_t n = offsets[static_cast<std::size_t>(i) + 1] - offsets[i];
    return (n + kPieceKeys - 1) / kPieceKeys;
  };
  const auto output = [&](Eigen::Index i) {
    return Eigen::Map<RowMatrixXf>(latent_out.row(i).data(), H, L);
  };
  if (T == 1) {
    const std::int64_t n = pieces_of(0);
    std::vector<Partial>& parts = buf.pieces;
    if (static_cast<std::int64_t>(parts.size()) < n) parts.resize(static_cast<std::size_t>(n));
    detail::parallel_pieces(n, buf.mla, [&](std::int64_t j, Scratch& scratch) {
      const std::int64_t b = j * kPieceKeys;
      attend(0, b, std::min(b + kPieceKeys, offsets[1]), parts[static_cast<std::size_t>(j)],
             scratch);
    });
    merge_pieces(std::span<const Partial>(parts.data(), static_cast<std::size_t>(n)), output(0));
  } else {
    detail::parallel_pieces(T, buf.mla, [&](std::int64_t i, Scratch& scratch) {
      const std::int64_t begin = offsets[i], end = offsets[i + 1], n = pieces_of(i);
      if (static_cast<std::int64_t>(scratch.parts.size()) < n)
        scratch.parts.resize(static_cast<std::size_t>(n));
      for (std::int64_t j = 0; j < n; ++j) {
        const std::int64_t b = begin + j * kPieceKeys;
        attend(i, b, std::min(b + kPieceKeys, end), scratch.parts[static_cast<std::size_t>(j)],
               scratch);
      }
      merge_pieces(std::span<const Partial>(scratch.parts.data(), static_cast<std::size_t>(n)),
                   output(i));
    });
  }

  if (counted != nullptr) {
    Cost c;
    c.flops_at(s.compute) = 2 * H * (E + L) * offsets.back();
    c.read(MemClass::kv_cache) = offsets.back() * kv_entry_bytes(s.kv_format, E, s.rope_dim);
    c.read(MemClass::activations) = activation_bytes(Precision::bf16, T * H * E);
    c.written(MemClass::activations) = activation_bytes(Precision::bf16, T * H * L);
    *counted += c;
  }
}

}  // namespace

void mla_core_forward(const MlaAttentionShape& s, const Eigen::Ref<const RowMatrixXf>& q_abs,
                      const Eigen::Ref<const RowMatrixXf>& cache, const TokenSelection* selection,
                      float softmax_scale, Eigen::Ref<RowMatrixXf> latent_out, Cost* counted,
                      AttentionWorkspace* workspace) {
  const auto copy_row = [&](std::int64_t r, float* dst) {
    Eigen::Map<Eigen::RowVectorXf>(dst, cache.cols()) = cache.row(r);
  };
  const auto row_data = [&](std::int64_t r) { return cache.row(r).data(); };
  core_impl(s, q_abs, cache.rows(), cache.cols(), copy_row, row_data, cache.outerStride(),
            selection, softmax_scale, latent_out, counted, workspace);
}

void mla_core_forward(const MlaAttentionShape& s, const Eigen::Ref<const RowMatrixXf>& q_abs,
                      const MlaPackedCache& cache, const TokenSelection* selection,
                      float softmax_scale, Eigen::Ref<RowMatrixXf> latent_out, Cost* counted,
                      AttentionWorkspace* workspace) {
  V4SIM_REQUIRE(kKernel, cache.format == s.kv_format,
                "packed cache format differs from the shape's kv_format");
  V4SIM_REQUIRE(kKernel, cache.rope_dim == s.rope_dim,
                "packed cache rope width differs from the shape's");
  if (cache.format != KvEntryFormat::v32_fp8_sparse) {
    const auto copy_row = [&](std::int64_t r, float* dst) {
      cache.decode(r, std::span<float>(dst, static_cast<std::size_t>(cache.dim)));
    };
    core_impl(s, q_abs, cache.rows, cache.dim, copy_row, nullptr, 0, selection, softmax_scale,
              latent_out, counted, workspace);
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
  core_impl(s, q_abs, cache.rows, cache.dim, copy_row, nullptr, 0, selection, softmax_scale,
            latent_out, counted, workspace);
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
