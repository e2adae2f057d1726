#include "kernels/sparse_attention_forward.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "kernels/linear.h"

namespace v4sim {
namespace {

void check(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(std::string("sparse_attention: ").append(what));
}

// Keys per block of the online softmax: 128 entries of 512 floats = 256 KiB, cache resident.
constexpr std::int64_t kKeyBlock = 128;

}  // namespace

EntrySelection all_visible_selection(const SparseAttentionShape& shape) {
  EntrySelection sel;
  for (std::int64_t j = 0; j < shape.num_tokens; ++j) {
    const std::int64_t t = shape.start_pos + j;
    const std::int64_t visible = shape.compress_ratio > 0 ? (t + 1) / shape.compress_ratio : 0;
    for (std::int64_t i = 0; i < visible; ++i) sel.indices.push_back(i);
    sel.offsets.push_back(static_cast<std::int64_t>(sel.indices.size()));
  }
  return sel;
}

void sparse_attention_core(const SparseAttentionShape& shape,
                           const Eigen::Ref<const RowMatrixXf>& q, const KeySets& keys,
                           std::span<const float> sink, const RopeTable& rope,
                           Eigen::Ref<RowMatrixXf> out, Cost* cost) {
  const std::int64_t H = shape.num_heads, d = shape.head_dim, T = shape.num_tokens;
  check(q.rows() == T && q.cols() == H * d, "q must be [num_tokens, num_heads * head_dim]");
  check(out.rows() == T && out.cols() == H * d, "out must be [num_tokens, num_heads * head_dim]");
  check(keys.queries() == T, "one key set per query");
  check(static_cast<std::int64_t>(sink.size()) == H, "sink must be [num_heads]");
  check(rope.rope_dim == shape.rope_dim, "RoPE table width differs from the shape's rope_dim");
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  const float neg_inf = -std::numeric_limits<float>::infinity();

  RowMatrixXf gathered(kKeyBlock, d), scores(H, kKeyBlock), acc(H, d);
  Eigen::ArrayXf run_max(H), run_sum(H);
  std::int64_t total_keys = 0;
  for (std::int64_t i = 0; i < T; ++i) {
    const Eigen::Map<const RowMatrixXf> Q(q.row(i).data(), H, d);
    run_max.setConstant(neg_inf);
    run_sum.setZero();
    acc.setZero();
    const std::int64_t begin = keys.offsets[i], end = keys.offsets[i + 1];
    for (std::int64_t b = begin; b < end; b += kKeyBlock) {
      const std::int64_t nb = std::min(kKeyBlock, end - b);
      bool contiguous = true;
      for (std::int64_t j = 1; j < nb && contiguous; ++j)
        contiguous = keys.rows[b + j] == keys.rows[b] + j * d;
      const float* base = keys.rows[b];
      if (!contiguous) {
        for (std::int64_t j = 0; j < nb; ++j)
          std::copy_n(keys.rows[b + j], d, gathered.row(j).data());
        base = gathered.data();
      }
      const Eigen::Map<const RowMatrixXf> K(base, nb, d);
      auto S = scores.leftCols(nb);
      S.noalias() = Q * K.transpose();
      S *= scale;
      for (std::int64_t h = 0; h < H; ++h) {
        const float new_max = std::max(run_max(h), S.row(h).maxCoeff());
        const float rescale = std::exp(run_max(h) - new_max);  // 0 on the first block
        S.row(h) = (S.row(h).array() - new_max).exp().matrix();
        run_sum(h) = run_sum(h) * rescale + S.row(h).sum();
        acc.row(h) *= rescale;
        run_max(h) = new_max;
      }
      acc.noalias() += S * K;
    }
    total_keys += end - begin;
    // The sink is one more logit with a zero value: it only enlarges the denominator.
    Eigen::Map<RowMatrixXf> O(out.row(i).data(), H, d);
    for (std::int64_t h = 0; h < H; ++h) {
      const float denom = run_sum(h) + std::exp(sink[static_cast<std::size_t>(h)] - run_max(h));
      O.row(h) = acc.row(h) / denom;
    }
    rope_rotate_rows(std::span<float>(O.data(), static_cast<std::size_t>(H * d)), d,
                     rope_angles(rope, shape.start_pos + i), /*inverse=*/true);
  }
  if (cost) {
    cost->flops_at(shape.compute) += 4 * H * d * total_keys;  // QK and PV, d wide, every head
    cost->read(MemClass::kv_cache) +=
        total_keys * kv_entry_bytes(shape.kv_format, d, shape.rope_dim);
    cost->read(MemClass::activations) += activation_bytes(Precision::bf16, T * H * d);
    cost->written(MemClass::activations) += activation_bytes(Precision::bf16, T * H * d);
  }
}

KeySets model_key_sets(const SparseAttentionShape& shape, const WindowRing& ring,
                       const Eigen::Ref<const RowMatrixXf>& chunk_kv, const EntryTable* compressed,
                       const EntrySelection* selection) {
  const std::int64_t s = shape.start_pos, T = shape.num_tokens, d = shape.head_dim;
  check(chunk_kv.rows() == T && chunk_kv.cols() == d, "chunk_kv must be [num_tokens, head_dim]");
  check(ring.length == s, "the window ring must end right before start_pos");
  check(ring.window() == shape.window && ring.slots.cols() == d, "ring does not match the shape");
  check(shape.compress_ratio == 0 || (compressed && selection),
        "compressed layers need the compressed table and a selection");
  check(!selection || selection->queries() == T, "one selection per query");
  KeySets keys;
  keys.rows.reserve(static_cast<std::size_t>(T * shape.window));
  for (std::int64_t j = 0; j < T; ++j) {
    const std::int64_t t = s + j;
    for (std::int64_t p = std::max<std::int64_t>(0, t - shape.window + 1); p <= t; ++p)
      keys.add(p < s ? ring.at(p) : chunk_kv.row(p - s).data());
    if (shape.compress_ratio > 0) {
      const std::int64_t visible = (t + 1) / shape.compress_ratio;
      for (std::int64_t idx : selection->of(j)) {
        // A block is visible once its last token is <= t (§3.3).
        check(idx >= 0 && idx < visible, "selected a compressed entry not yet visible");
        check(idx < compressed->rows, "selected a compressed entry that is not cached");
        keys.add(compressed->row(idx));
      }
    }
    keys.end_query();
  }
  return keys;
}

void sparse_attention_forward(const SparseAttentionShape& shape,
                              const Eigen::Ref<const RowMatrixXf>& q,
                              const Eigen::Ref<const RowMatrixXf>& chunk_kv, WindowRing& ring,
                              const EntryTable* compressed, const EntrySelection* selection,
                              std::span<const float> sink, const RopeTable& rope,
                              Eigen::Ref<RowMatrixXf> out, Cost* cost) {
  const KeySets keys = model_key_sets(shape, ring, chunk_kv, compressed, selection);
  sparse_attention_core(shape, q, keys, sink, rope, out, cost);
  for (std::int64_t j = 0; j < shape.num_tokens; ++j)
    ring.append(
        std::span<const float>(chunk_kv.row(j).data(), static_cast<std::size_t>(shape.head_dim)));
}

void sparse_attention_decode(const SparseAttentionShape& shape,
                             const Eigen::Ref<const RowMatrixXf>& q,
                             const Eigen::Ref<const RowMatrixXf>& kv, WindowRing& ring,
                             const EntryTable* compressed, std::span<const std::int64_t> selected,
                             std::span<const float> sink, const RopeTable& rope,
                             Eigen::Ref<RowMatrixXf> out, Cost* cost) {
  check(shape.num_tokens == 1, "decode is one token");
  EntrySelection sel;
  sel.indices.assign(selected.begin(), selected.end());
  sel.offsets.push_back(static_cast<std::int64_t>(sel.indices.size()));
  const bool has_compressed = shape.compress_ratio > 0;
  sparse_attention_forward(shape, q, kv, ring, has_compressed ? compressed : nullptr,
                           has_compressed ? &sel : nullptr, sink, rope, out, cost);
}

}  // namespace v4sim
