#include "kernels/attention_layer_forward.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/precondition.h"
#include "kernels/projection_forward.h"
#include "kernels/random_fill.h"

namespace v4sim {
namespace {

constexpr const char* kKernel = "attention_layer";  // names the kernel in precondition errors

Eigen::VectorXf gains(std::int64_t n, std::uint64_t seed) {
  Eigen::VectorXf g(n);
  fill_uniform(std::span<float>(g.data(), static_cast<std::size_t>(n)), 0.5f, seed);
  return g.array() + 1.0f;
}

double fan_in(std::int64_t n) {
  return 1.0 / std::sqrt(static_cast<double>(n));
}

// Weighted RMSNorm of every row (gain may be empty: unweighted).
void rms_norm_rows(Eigen::Ref<RowMatrixXf> m, const Eigen::VectorXf* gain, float eps) {
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    const float inv = 1.0f / std::sqrt(m.row(r).squaredNorm() / static_cast<float>(m.cols()) + eps);
    m.row(r) *= inv;
    if (gain) m.row(r).array() *= gain->transpose().array();
  }
}

// Random rows for a compressor tail after `context` tokens: slots of positions >= 0 get values.
void fill_state(CompressorState& st, std::int64_t context, std::uint64_t seed) {
  const std::int64_t ring = st.c.rows();
  for (std::int64_t p = std::max<std::int64_t>(0, context - ring); p < context; ++p) {
    const std::int64_t slot = p % ring;
    fill_uniform(std::span<float>(st.c.row(slot).data(), static_cast<std::size_t>(st.c.cols())),
                 uniform_half_width(1.0), seed + 2 * static_cast<std::uint64_t>(p));
    fill_uniform(std::span<float>(st.z.row(slot).data(), static_cast<std::size_t>(st.z.cols())),
                 uniform_half_width(1.0), seed + 2 * static_cast<std::uint64_t>(p) + 1);
  }
  st.next_pos = context;
}

void fill_entries(EntryTable& t, std::int64_t n, std::uint64_t seed) {
  t.data.assign(static_cast<std::size_t>(n * t.dim), 0.0f);
  fill_uniform(t.data, uniform_half_width(1.0), seed);
  t.rows = n;
}

// Random indexer keys, encoded as the table stores them (the same values as fill_entries draws).
void fill_keys(IndexerKeyTable& t, std::int64_t n, std::uint64_t seed) {
  std::vector<float> values(static_cast<std::size_t>(n * t.dim));
  fill_uniform(values, uniform_half_width(1.0), seed);
  t.rows = 0;
  t.reserve(n);
  for (std::int64_t i = 0; i < n; ++i)
    t.append(std::span<const float>(values).subspan(static_cast<std::size_t>(i * t.dim),
                                                    static_cast<std::size_t>(t.dim)));
}

}  // namespace

RopeTable layer_rope_table(const AttentionLayerShape& s) {
  RopeConfig c = s.kind == AttentionLayerKind::swa ? v4_window_rope() : v4_compressed_rope();
  c.rope_dim = s.rope_dim;
  return make_rope_table(c);
}

AttentionLayerWeights random_layer_weights(const AttentionLayerShape& s, std::uint64_t seed) {
  const std::int64_t D = s.hidden, Hd = s.num_heads * s.head_dim, G = s.o_groups * s.o_lora_rank;
  AttentionLayerWeights w;
  w.wq_a = random_matrix(s.q_lora_rank, D, uniform_half_width(fan_in(D)), seed + 1);
  w.q_norm = gains(s.q_lora_rank, seed + 2);
  w.wq_b = random_matrix(Hd, s.q_lora_rank, uniform_half_width(fan_in(s.q_lora_rank)), seed + 3);
  w.wkv = random_matrix(s.head_dim, D, uniform_half_width(fan_in(D)), seed + 4);
  w.kv_norm = gains(s.head_dim, seed + 5);
  w.wo_a = random_matrix(G, Hd / s.o_groups, uniform_half_width(fan_in(Hd / s.o_groups)), seed + 6);
  w.wo_b = random_matrix(D, G, uniform_half_width(fan_in(G)), seed + 7);
  w.sink.resize(static_cast<std::size_t>(s.num_heads));
  fill_uniform(w.sink, 1.0f, seed + 8);
  if (s.kind == AttentionLayerKind::swa) return w;
  w.compressor = random_compressor_weights(compressor_shape(s), seed + 10);
  if (s.kind != AttentionLayerKind::csa) return w;
  w.indexer.wq_b = random_matrix(s.indexer_heads * s.indexer_dim, s.q_lora_rank,
                                 uniform_half_width(fan_in(s.q_lora_rank)), seed + 20);
  w.indexer.weights_proj =
      random_matrix(s.indexer_heads, D, uniform_half_width(fan_in(D)), seed + 21);
  w.indexer.compressor = random_compressor_weights(indexer_compressor_shape(s), seed + 22);
  return w;
}

AttentionLayerCache make_layer_cache(const AttentionLayerShape& s) {
  AttentionLayerCache c;
  c.window = WindowRing(s.window, s.head_dim);
  c.compressed = EntryTable(s.head_dim);
  c.indexer_keys = IndexerKeyTable(s.indexer_dim);
  if (s.kind != AttentionLayerKind::swa) c.compressor = make_compressor_state(compressor_shape(s));
  if (s.kind == AttentionLayerKind::csa)
    c.indexer_compressor = make_compressor_state(indexer_compressor_shape(s));
  return c;
}

AttentionLayerCache random_layer_cache(const AttentionLayerShape& s, std::int64_t context,
                                       std::uint64_t seed) {
  AttentionLayerCache c = make_layer_cache(s);
  fill_uniform(
      std::span<float>(c.window.slots.data(), static_cast<std::size_t>(c.window.slots.size())),
      uniform_half_width(1.0), seed);
  c.window.length = context;
  if (s.kind == AttentionLayerKind::swa) return c;
  fill_entries(c.compressed, context / compress_ratio(s), seed + 1);
  fill_state(c.compressor, context, seed + 2);
  if (s.kind != AttentionLayerKind::csa) return c;
  fill_keys(c.indexer_keys, context / s.csa_ratio, seed + 3);
  fill_state(c.indexer_compressor, context, seed + 4);
  return c;
}

void with_fp8_projections(AttentionLayerWeights& w) {
  auto f = std::make_shared<AttentionFp8Weights>();
  f->wq_a = quantize_fp8_weight(w.wq_a);
  f->wq_b = quantize_fp8_weight(w.wq_b);
  f->wkv = quantize_fp8_weight(w.wkv);
  f->wo_a = quantize_fp8_weight(w.wo_a);
  f->wo_b = quantize_fp8_weight(w.wo_b);
  w.fp8 = std::move(f);
}

RowMatrixXf attention_layer_forward(const AttentionLayerShape& shape,
                                    const AttentionLayerWeights& w,
                                    const AttentionLayerOptions& options,
                                    const Eigen::Ref<const RowMatrixXf>& x,
                                    AttentionLayerCache& cache, Cost* cost,
                                    EntrySelection* selection_out) {
  const std::int64_t T = shape.num_tokens, s = shape.start_pos, d = shape.head_dim;
  const std::int64_t H = shape.num_heads;
  V4SIM_REQUIRE(kKernel, x.rows() == T && x.cols() == shape.hidden,
                "x must be [num_tokens, hidden]");
  V4SIM_REQUIRE(kKernel, cache.length() == s, "cache length must equal start_pos");
  const std::vector<LinearShape> proj = projection_shapes(shape);
  const RopeTable rope = layer_rope_table(shape);
  const bool fp8 = w.fp8 && shape.attention_weights == WeightFormat::fp8_block128_ue8m0;
  const auto lin = [&](const Eigen::Ref<const RowMatrixXf>& in, const RowMatrixXf& weight,
                       const Fp8Weight* weight_fp8, const LinearShape& ls, RowMatrixXf& out) {
    if (fp8) {
      linear_fp8_forward(in, *weight_fp8, ls.groups, ls.compute, out, cost);
    } else {
      linear_forward(in, weight, ls.groups, ls.weight, ls.compute, out, cost);
    }
  };
  const AttentionFp8Weights* f = fp8 ? w.fp8.get() : nullptr;

  // Query path: low-rank latent (shared with the indexer), per-head RMS, RoPE.
  RowMatrixXf c_q, q, kv;
  lin(x, w.wq_a, f ? &f->wq_a : nullptr, proj[0], c_q);
  rms_norm_rows(c_q, &w.q_norm, options.norm_eps);
  lin(c_q, w.wq_b, f ? &f->wq_b : nullptr, proj[1], q);
  for (std::int64_t i = 0; i < T; ++i) {
    Eigen::Map<RowMatrixXf> heads(q.row(i).data(), H, d);
    rms_norm_rows(heads, nullptr, options.norm_eps);
    rope_rotate_rows(std::span<float>(heads.data(), static_cast<std::size_t>(H * d)), d,
                     rope_angles(rope, s + i));
  }
  // The token's own K=V entry (goes to the window ring).
  lin(x, w.wkv, f ? &f->wkv : nullptr, proj[2], kv);
  rms_norm_rows(kv, &w.kv_norm, options.norm_eps);
  for (std::int64_t i = 0; i < T; ++i) {
    const std::span<float> row(kv.row(i).data(), static_cast<std::size_t>(d));
    rope_rotate(row, rope_angles(rope, s + i));
    finish_entry(EntryKind::attention, options.qat, shape.rope_dim, row);
  }

  const SparseAttentionShape core = core_shape(shape);
  EntrySelection selection;
  if (shape.kind != AttentionLayerKind::swa) {
    CompressorOptions co;
    co.kind = EntryKind::attention;
    co.qat = options.qat;
    co.norm_eps = options.norm_eps;
    compressor_forward(compressor_shape(shape), w.compressor, co, rope, x, cache.compressor,
                       cache.compressed, cost);
  }
  if (shape.kind == AttentionLayerKind::csa) {
    CompressorOptions io;
    io.kind = EntryKind::indexer_key;
    io.qat = options.qat;
    io.norm_eps = options.norm_eps;
    compressor_forward(indexer_compressor_shape(shape), w.indexer.compressor, io, rope, x,
                       cache.indexer_compressor, cache.indexer_keys, cost);
    const IndexerScoringShape scoring = indexer_scoring_shape(shape);
    const IndexerProjectionFormats formats{proj[5].weight, proj[6].weight, proj[5].compute};
    const IndexerQueries iq =
        indexer_queries(scoring, formats, w.indexer, options.qat, rope, c_q, x, cost);
    selection = indexer_topk(scoring, iq, cache.indexer_keys, shape.topk, cost);
  } else if (shape.kind == AttentionLayerKind::hca) {
    selection = all_visible_selection(core);
  }

  RowMatrixXf o(T, H * d), v, y;
  const bool compressed = shape.kind != AttentionLayerKind::swa;
  sparse_attention_forward(core, q, kv, cache.window, compressed ? &cache.compressed : nullptr,
                           compressed ? &selection : nullptr, w.sink, rope, o, cost,
                           &cache.core_buffers);
  lin(o, w.wo_a, f ? &f->wo_a : nullptr, proj[3], v);
  lin(v, w.wo_b, f ? &f->wo_b : nullptr, proj[4], y);
  if (selection_out) {
    if (!compressed) selection = EntrySelection{{}, std::vector<std::int64_t>(T + 1, 0)};
    *selection_out = std::move(selection);
  }
  return y;
}

}  // namespace v4sim
