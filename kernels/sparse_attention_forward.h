// V4 core attention forward (reference/kernels.md §1.4, §1.5, §2): shared-KV MQA (K = V, one
// head_dim-wide entry per key) of every query over an explicit key set, one softmax per head
// whose denominator also holds the head's sink logit, then the RoPE half of each head's output is
// rotated back by the query's own position.
//
//   o_h = sum_s e^{a_hs - M} k_s / (sum_s e^{a_hs - M} + e^{sink_h - M}),  a_hs = q_h.k_s / sqrt(d)
//
// Keys are processed in blocks with a running max (online softmax); contiguous key runs (the
// window ring, HCA's compressed entries) are read in place, scattered ones (CSA's top-k) gathered.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kernels/attention_cache_forward.h"
#include "kernels/attention_workspace.h"
#include "kernels/cost.h"
#include "kernels/rope.h"
#include "kernels/sparse_attention.h"

namespace v4sim {

/// The key set of each query as row pointers (each to head_dim floats), in CSR form: query q
/// attends rows[offsets[q] .. offsets[q+1]).
struct KeySets {
  std::vector<const float*> rows;
  std::vector<std::int64_t> offsets{0};
  std::int64_t queries() const { return static_cast<std::int64_t>(offsets.size()) - 1; }
  std::int64_t keys(std::int64_t q) const { return offsets[q + 1] - offsets[q]; }
  void add(const float* row) { rows.push_back(row); }
  void end_query() { offsets.push_back(static_cast<std::int64_t>(rows.size())); }
};

/// The key set of each query as rows of head_dim BF16 values (bits, kernels/bf16_gemm.h), in the
/// same CSR form: the cache of a BF16 deployment.
struct Bf16KeySets {
  std::vector<const std::uint16_t*> rows;
  std::vector<std::int64_t> offsets{0};
  std::int64_t queries() const { return static_cast<std::int64_t>(offsets.size()) - 1; }
  std::int64_t keys(std::int64_t q) const { return offsets[q + 1] - offsets[q]; }
  void add(const std::uint16_t* row) { rows.push_back(row); }
  void end_query() { offsets.push_back(static_cast<std::int64_t>(rows.size())); }
};

/// BF16 copies of float key tables (each `rows` contiguous rows of d floats: a window ring's
/// slots, a compressed table, a chunk's entries) and the map from a float key row to its copy, so
/// the model's key sets (model_key_sets) can be run in BF16.
class Bf16KeyCopies {
 public:
  explicit Bf16KeyCopies(std::int64_t d) : d_(d) {}
  /// Copies (rounding to BF16) rows [0, rows) of a table starting at `data`.
  void add(const float* data, std::int64_t rows);
  /// The same key sets over the copies; throws std::invalid_argument for a row of no table.
  Bf16KeySets key_sets(const KeySets& keys) const;

 private:
  struct Table {
    const float* data;
    std::int64_t rows;
    std::vector<std::uint16_t> copy;
  };
  std::int64_t d_;
  std::vector<Table> tables_;
};

/// Compressed entries each query attends, as indices into the compressed table (CSR form).
/// CSA: the indexer's top-k; HCA: every visible entry (use all_visible_selection).
struct EntrySelection {
  std::vector<std::int64_t> indices;
  std::vector<std::int64_t> offsets{0};
  std::int64_t queries() const { return static_cast<std::int64_t>(offsets.size()) - 1; }
  std::span<const std::int64_t> of(std::int64_t q) const {
    return {indices.data() + offsets[q], static_cast<std::size_t>(offsets[q + 1] - offsets[q])};
  }
};
/// Entries 0 .. floor((t+1)/ratio) - 1 for each query t of the shape (§3.3 visibility).
EntrySelection all_visible_selection(const SparseAttentionShape& shape);

/// Core attention over explicit key sets. Query i is at position shape.start_pos + i; its
/// output's last rope_dim dims of every head are de-rotated by that position. Counts, per key of
/// every query, 4*H*d FLOPs at shape.compute and one entry read in shape.kv_format; the queries
/// and outputs as BF16 activations (kernels/sparse_attention.h). `workspace`, if given, lends the
/// buffers and keeps them for the next call (kernels/attention_workspace.h); results do not depend
/// on it.
void sparse_attention_core(const SparseAttentionShape& shape,
                           const Eigen::Ref<const RowMatrixXf>& q,  // [T, H*d], RoPE applied
                           const KeySets& keys,
                           std::span<const float> sink,  // [H]
                           const RopeTable& rope,
                           Eigen::Ref<RowMatrixXf> out,  // [T, H*d]
                           Cost* cost = nullptr, AttentionWorkspace* workspace = nullptr);

/// The core attention in BF16 arithmetic, as the deployed kernels run it (shape.compute = bf16):
/// queries rounded to BF16; scores q.k from exact BF16 products summed in float32
/// (bf16_dot_rows); the online softmax in float32; the probabilities rounded to BF16 and the
/// weighted sum of keys again summed in float32 (bf16_pair_gemm, keys as pairs). The denominator
/// sums the rounded probabilities, so every output is a convex combination of its keys (with the
/// sink): next to the exact softmax over the same BF16 keys each weight is off by at most about
/// 2^-8 of itself. Same pieces, merge, sink, de-rotation and count as sparse_attention_core, so
/// any thread count gives the same bits. AVX512_BF16 when the CPU has it (kernels/host_isa.h).
void sparse_attention_core_bf16(const SparseAttentionShape& shape,
                                const Eigen::Ref<const RowMatrixXf>& q,  // [T, H*d], RoPE applied
                                const Bf16KeySets& keys,
                                std::span<const float> sink,  // [H]
                                const RopeTable& rope,
                                Eigen::Ref<RowMatrixXf> out,  // [T, H*d]
                                Cost* cost = nullptr, AttentionWorkspace* workspace = nullptr);

/// The key sets the model uses: query t attends its window W(t) = {max(0, t-window+1) .. t}
/// (positions before start_pos from `ring`, which must hold them, the rest from `chunk_kv`) and
/// then the selected compressed entries (none for window-only layers: compressed == nullptr).
KeySets model_key_sets(const SparseAttentionShape& shape, const WindowRing& ring,
                       const Eigen::Ref<const RowMatrixXf>& chunk_kv,  // [T, d]
                       const EntryTable* compressed, const EntrySelection* selection);

/// Prefill of a chunk (decode = a chunk of one): builds the model's key sets, runs the core and
/// then appends the chunk's entries to the ring (ring.length must equal start_pos). The entries of
/// compressed blocks completed inside the chunk must already be in `compressed` (the compressor
/// runs first); the selection must respect visibility (checked).
void sparse_attention_forward(const SparseAttentionShape& shape,
                              const Eigen::Ref<const RowMatrixXf>& q,         // [T, H*d]
                              const Eigen::Ref<const RowMatrixXf>& chunk_kv,  // [T, d]
                              WindowRing& ring, const EntryTable* compressed,
                              const EntrySelection* selection,
                              std::span<const float> sink,  // [H]
                              const RopeTable& rope,
                              Eigen::Ref<RowMatrixXf> out,  // [T, H*d]
                              Cost* cost = nullptr, AttentionWorkspace* workspace = nullptr);

/// Decode of the token at position ring.length (shape.start_pos, num_tokens 1): appends its entry
/// `kv` [1, d] to the ring and attends the window plus `selected` compressed entries (ignored for
/// window-only shapes). The same as sparse_attention_forward with a chunk of one.
void sparse_attention_decode(const SparseAttentionShape& shape,
                             const Eigen::Ref<const RowMatrixXf>& q,   // [1, H*d]
                             const Eigen::Ref<const RowMatrixXf>& kv,  // [1, d]
                             WindowRing& ring, const EntryTable* compressed,
                             std::span<const std::int64_t> selected,
                             std::span<const float> sink,  // [H]
                             const RopeTable& rope,
                             Eigen::Ref<RowMatrixXf> out,  // [1, H*d]
                             Cost* cost = nullptr, AttentionWorkspace* workspace = nullptr);

}  // namespace v4sim
