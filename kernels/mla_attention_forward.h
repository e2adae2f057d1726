// V3/V3.2 multi-head latent attention in absorbed (MQA) form: float32 reference kernels
// (reference/kernels.md §8.2). The cost side is kernels/mla_attention.h (core) and kernels/linear.h
// (the two absorptions, grouped linears with groups = heads).
//
// For a query at position t, per head h (H heads; nope 128, rope 64, latent 512 in V3/V3.2):
//   q^C_h = W_UK,h^T q^N_h                               query absorption, 128 -> 512
//   a_s   = (q^C_h . c_s + q^R_h . k^R_s) * scale        over the 576-d cache entry [c_s | k^R_s]
//   ō_h   = sum_s softmax_s(a_s) c_s                     s in 0..t (V3) or the indexer's top-k
//   (V3.2) o_h   = W_UV,h ō_h                                   output absorption, 512 -> 128
// with scale = (nope + rope)^-1/2 * mscale^2 and no attention sink. This equals ordinary MHA whose
// per-head keys are [W_UK,h c_s | k^R_s] and values W_UV,h c_s; absorbing W_UK/W_UV lets all heads
// share one cached 576-d entry per token.
//
// RoPE is element-wise and lies outside these kernels: q^R and the cached k^R arrive rotated.
// Cache entries are read, never written here (the entry of token t is made by the caller before
// the attention of token t, as in the official code).
//
// Every forward optionally counts what it executes into a Cost (kernels/cost.h convention): FLOPs
// per product actually formed, bytes per operand in the formats the shape names. Counts are added
// to *counted, so several kernels can count into one total.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Core>

#include "kernels/attention_workspace.h"
#include "kernels/cost.h"
#include "kernels/linear.h"
#include "kernels/mla_attention.h"
#include "kernels/storage.h"
#include "kernels/token_selection.h"

namespace v4sim {

/// YaRN attention magnitude factor of V3/V3.2: 0.1 ln(factor) + 1 (factor 40: 1.3689).
double mla_mscale(double yarn_factor);
/// Softmax scale of V3/V3.2 MLA: qk_head_dim^-1/2 * mscale^2 (qk_head_dim = nope + rope = 192).
float mla_softmax_scale(std::int64_t qk_head_dim = 192, double yarn_factor = 40.0);

/// How the absorption matrices (the two halves of wkv_b) are stored and multiplied.
struct MlaAbsorptionFormat {
  WeightFormat weight = WeightFormat::fp8_block128_fp32;
  Precision compute = Precision::fp8;
};

/// The query absorption as the analytic model prices it: tokens x [H*nope -> H*latent], H groups.
LinearShape mla_query_absorption_shape(const MlaAttentionShape& s, std::int64_t nope_dim,
                                       const MlaAbsorptionFormat& f);
/// The output absorption: tokens x [H*latent -> H*v_dim], H groups.
LinearShape mla_output_absorption_shape(const MlaAttentionShape& s, std::int64_t v_dim,
                                        const MlaAbsorptionFormat& f);
/// cost() of the whole absorbed attention: both absorptions plus the core.
Cost mla_attention_cost(const MlaAttentionShape& s, std::int64_t nope_dim, std::int64_t v_dim,
                        const MlaAbsorptionFormat& f);

/// A latent cache holding the bytes a deployment holds: one entry of latent + rope dims per token
/// in a KV byte layout of kernels/kv_entry.h (v32_fp8_sparse: 512 E4M3 + 4 fp32 scales + 64 BF16
/// = 656 B). The core decodes the entries it attends as it gathers them.
struct MlaPackedCache {
  KvEntryFormat format = KvEntryFormat::v32_fp8_sparse;
  std::int64_t dim = 576;  // latent + rope
  std::int64_t rope_dim = 64;
  std::int64_t rows = 0;
  std::vector<std::uint8_t> bytes;  // [rows * entry_bytes()]

  MlaPackedCache() = default;
  MlaPackedCache(KvEntryFormat f, std::int64_t entry_dim, std::int64_t rope);
  std::int64_t entry_bytes() const { return kv_entry_bytes(format, dim, rope_dim); }
  void reserve(std::int64_t n) { bytes.reserve(static_cast<std::size_t>(n * entry_bytes())); }
  /// Encodes and appends one entry [c | k^R] (dim floats).
  void append(std::span<const float> entry);
  /// Appends an already-encoded entry (entry_bytes() bytes), e.g. to fill a benchmark cache.
  void append_encoded(std::span<const std::uint8_t> entry);
  /// Drops every entry from position n on.
  void truncate(std::int64_t n);
  /// Decodes entry s into out (dim floats).
  void decode(std::int64_t s, std::span<float> out) const;
};

/// q_abs[t] = per head [W_UK,h^T q^N_h | q^R_h].
///   q_nope [T, H*nope], q_rope [T, H*rope] (rotated), w_uk [H*nope, latent] (head h owns rows
///   h*nope .. h*nope+nope-1, i.e. W_UK,h in R^{nope x latent}); q_abs [T, H*(latent+rope)].
void mla_absorb_query(const MlaAttentionShape& s, const Eigen::Ref<const RowMatrixXf>& q_nope,
                      const Eigen::Ref<const RowMatrixXf>& q_rope,
                      const Eigen::Ref<const RowMatrixXf>& w_uk, Eigen::Ref<RowMatrixXf> q_abs,
                      const MlaAbsorptionFormat& f = {}, Cost* counted = nullptr);

/// Core attention of the shape's queries (positions start_pos .. start_pos+num_tokens-1).
///   q_abs [T, H*(latent+rope)]; cache [n, latent+rope] with n >= start_pos + num_tokens;
///   selection: nullptr -> dense causal (every s <= t); else [T, k] indices (-1 padding), each
///   index must be <= its query's position (throws std::invalid_argument otherwise);
///   latent_out [T, H*latent] receives ō_h. A query with no valid index gets zeros.
///   workspace: if given, lends the buffers and keeps them for the next call
///   (kernels/attention_workspace.h); results do not depend on it.
void mla_core_forward(const MlaAttentionShape& s, const Eigen::Ref<const RowMatrixXf>& q_abs,
                      const Eigen::Ref<const RowMatrixXf>& cache, const TokenSelection* selection,
                      float softmax_scale, Eigen::Ref<RowMatrixXf> latent_out,
                      Cost* counted = nullptr, AttentionWorkspace* workspace = nullptr);
/// The same over a packed cache (cache.format must equal s.kv_format): identical results to the
/// float cache holding the decoded entries.
void mla_core_forward(const MlaAttentionShape& s, const Eigen::Ref<const RowMatrixXf>& q_abs,
                      const MlaPackedCache& cache, const TokenSelection* selection,
                      float softmax_scale, Eigen::Ref<RowMatrixXf> latent_out,
                      Cost* counted = nullptr, AttentionWorkspace* workspace = nullptr);

/// out[t] = per head W_UV,h ō_h. latent_out [T, H*latent], w_uv [H*v, latent], out [T, H*v].
void mla_absorb_output(const MlaAttentionShape& s, const Eigen::Ref<const RowMatrixXf>& latent_out,
                       const Eigen::Ref<const RowMatrixXf>& w_uv, Eigen::Ref<RowMatrixXf> out,
                       const MlaAbsorptionFormat& f = {}, Cost* counted = nullptr);

/// The three steps above: absorbed MLA for decode (num_tokens 1, start_pos n-1) or prefill.
/// Counts mla_attention_cost(s, nope, v, f).
void mla_attention_forward(const MlaAttentionShape& s, const Eigen::Ref<const RowMatrixXf>& q_nope,
                           const Eigen::Ref<const RowMatrixXf>& q_rope,
                           const Eigen::Ref<const RowMatrixXf>& cache,
                           const Eigen::Ref<const RowMatrixXf>& w_uk,
                           const Eigen::Ref<const RowMatrixXf>& w_uv,
                           const TokenSelection* selection, float softmax_scale,
                           Eigen::Ref<RowMatrixXf> out, const MlaAbsorptionFormat& f = {},
                           Cost* counted = nullptr);

/// Dense MLA in expanded (MHA) form for a chunk (kernels/mla_attention.h, MlaExpandedShape): the
/// latents of cache rows 0 .. start_pos+T-1 expanded to keys K_h = W_UK,h c_s and values
/// V_h = W_UV,h c_s, then each head's query [q^N_h | q^R_h] attends s <= t causally:
///   o_h(t) = sum_s softmax_s(scale * (q^N_h . K_h(s) + q^R_h . k^R_s)) V_h(s)
/// The same function as mla_attention_forward with no selection (tested). Inputs as there:
/// q_nope [T, H*nope], q_rope [T, H*rope], cache [n, latent+rope], w_uk [H*nope, latent],
/// w_uv [H*v, latent], out [T, H*v]. Counts expansion_cost(s) + cost(s); s.expand_weight and
/// s.expand_compute name how wkv_b (w_uk and w_uv together) is stored and multiplied.
void mla_expanded_forward(const MlaExpandedShape& s, const Eigen::Ref<const RowMatrixXf>& q_nope,
                          const Eigen::Ref<const RowMatrixXf>& q_rope,
                          const Eigen::Ref<const RowMatrixXf>& cache,
                          const Eigen::Ref<const RowMatrixXf>& w_uk,
                          const Eigen::Ref<const RowMatrixXf>& w_uv, float softmax_scale,
                          Eigen::Ref<RowMatrixXf> out, Cost* counted = nullptr);

}  // namespace v4sim
