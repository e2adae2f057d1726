#include "kernels/sparse_attention_forward.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/attention_buffers.h"
#include "kernels/bf16_gemm.h"
#include "kernels/key_block.h"
#include "kernels/linear.h"
#include "kernels/online_softmax.h"
#include "kernels/parallel_for.h"
#include "kernels/precondition.h"

namespace v4sim {
namespace {

constexpr const char* kKernel = "sparse_attention";  // names the kernel in precondition errors

// Keys per block of the online softmax: 256 entries of 512 floats = 512 KiB, in L2 with the
// query's panel (256 KiB at 128 heads), the block's scores (128 KiB) and the piece's weighted
// sums (256 KiB). When Eigen's products ran the blocks it packed the query again for every block,
// and 256-entry blocks beat 128 (21.5 against 24.5 ms for the 1M-context V4-Pro HCA core);
// kernels/key_block.h now packs it once per query.
constexpr std::int64_t kKeyBlock = 256;
// Keys per piece. A query's keys are attended piece by piece, each piece on its own (running max,
// sum and weighted keys per head, as split-K flash-decoding does), and the pieces are merged in
// order; so one decode query's long key set can spread over threads, with the same bits for any
// thread count (kernels/parallel.h). Two blocks: a 1M-context HCA decode (8320 keys) makes 17
// pieces, a CSA decode (640 to 1152 keys) 2 to 3; merging costs H*d per piece, under 1 % of the
// piece's 4*H*d*512 FLOPs. (One block per piece was slower: 22.8 against 21.5 ms.)
constexpr std::int64_t kPieceKeys = 2 * kKeyBlock;

std::int64_t pieces_of(std::int64_t keys) {
  return (keys + kPieceKeys - 1) / kPieceKeys;
}

using Partial = detail::SoftmaxPartial;  // one piece's softmax state per head

using Scratch = detail::SparseCoreScratch;  // a thread's buffers
using Bf16Scratch = detail::Bf16CoreScratch;

// Online softmax over keys [b, end) of a KeySets (one piece) into `p`, for the query in s.kernel.
// Keys are read in place (kernels/key_block.h); the next block's first lines are fetched while
// the current one is scored.
void attend_piece(const KeySets& keys, std::int64_t b, std::int64_t end, float scale, Partial& p,
                  Scratch& s) {
  const std::int64_t H = s.kernel.heads(), d = s.kernel.dim();
  p.reset(H, d);
  s.scores.resize(kKeyBlock, s.kernel.stride());
  for (; b < end; b += kKeyBlock) {
    const std::int64_t nb = std::min(kKeyBlock, end - b);
    const std::int64_t next_n = std::min(kKeyBlock, end - b - nb);
    const float* const* rows = keys.rows.data() + b;
    s.kernel.scores(rows, nb, s.scores.data(), rows + nb, next_n);
    auto St = s.scores.topRows(nb);
    St.leftCols(H) *= scale;
    detail::absorb_block_keys_major(p, St);
    s.kernel.accumulate(s.scores.data(), rows, nb, p.acc.data());
  }
}

// What the core ran, the same in float32 and BF16: per key of every query 4*H*d FLOPs (QK and
// PV, d wide, every head) at shape.compute and one entry read in shape.kv_format; the queries and
// outputs as BF16 activations.
void count_core(const SparseAttentionShape& shape, std::int64_t total_keys, Cost& cost) {
  const std::int64_t H = shape.num_heads, d = shape.head_dim, T = shape.num_tokens;
  cost.flops_at(shape.compute) += 4 * H * d * total_keys;
  cost.read(MemClass::kv_cache) += total_keys * kv_entry_bytes(shape.kv_format, d, shape.rope_dim);
  cost.read(MemClass::activations) += activation_bytes(Precision::bf16, T * H * d);
  cost.written(MemClass::activations) += activation_bytes(Precision::bf16, T * H * d);
}

// The BF16 query rows of q's row i in s (H rows of d).
void round_query(const Eigen::Ref<const RowMatrixXf>& q, std::int64_t i, std::int64_t H,
                 std::int64_t d, Bf16Scratch& s) {
  s.query.resize(static_cast<std::size_t>(H * d));
  to_bf16(std::span<const float>(q.row(i).data(), static_cast<std::size_t>(H * d)), s.query);
  s.query_rows.resize(static_cast<std::size_t>(H));
  for (std::int64_t h = 0; h < H; ++h) s.query_rows[static_cast<std::size_t>(h)] = &s.query[h * d];
  s.query_index = i;
}

// attend_piece in BF16 arithmetic over keys [b, end); the query rows are in s.query_rows.
void attend_piece_bf16(std::int64_t H, std::int64_t d, const Bf16KeySets& keys, std::int64_t b,
                       std::int64_t end, float scale, Partial& p, Bf16Scratch& s) {
  p.reset(H, d);
  s.scores.resize(H, kKeyBlock);
  s.probs.resize(static_cast<std::size_t>(H * kKeyBlock));
  for (; b < end; b += kKeyBlock) {
    const std::int64_t nb = std::min(kKeyBlock, end - b);
    float* S = s.scores.data();  // [H, nb], row stride nb
    bf16_dot_rows(s.query_rows.data(), H, keys.rows.data() + b, nb, d, S, nb);
    for (std::int64_t h = 0; h < H; ++h) {
      float* row = S + h * nb;
      float block_max = -std::numeric_limits<float>::infinity();
      for (std::int64_t j = 0; j < nb; ++j) block_max = std::max(block_max, row[j] * scale);
      const float new_max = std::max(p.max(h), block_max);
      const float rescale = std::exp(p.max(h) - new_max);  // 0 on the first block
      float sum = 0;
      for (std::int64_t j = 0; j < nb; ++j) {
        const std::uint16_t pb = bf16_from_float(std::exp(row[j] * scale - new_max));
        s.probs[static_cast<std::size_t>(h * nb + j)] = pb;
        sum += bf16_to_float(pb);
      }
      p.sum(h) = p.sum(h) * rescale + sum;
      p.acc.row(h) *= rescale;
      p.max(h) = new_max;
    }
    pack_bf16_pairs(keys.rows.data() + b, nb, d, s.pairs);
    bf16_pair_gemm(s.probs.data(), nb, H, s.pairs, p.acc.data(), d);
  }
}

// The arguments both cores take, checked alike.
void check_core_args(const SparseAttentionShape& shape, const Eigen::Ref<const RowMatrixXf>& q,
                     const Eigen::Ref<RowMatrixXf>& out, std::int64_t key_queries,
                     std::span<const float> sink, const RopeTable& rope) {
  const std::int64_t H = shape.num_heads, d = shape.head_dim, T = shape.num_tokens;
  V4SIM_REQUIRE(kKernel, q.rows() == T && q.cols() == H * d,
                "q must be [num_tokens, num_heads * head_dim]");
  V4SIM_REQUIRE(kKernel, out.rows() == T && out.cols() == H * d,
                "out must be [num_tokens, num_heads * head_dim]");
  V4SIM_REQUIRE(kKernel, key_queries == T, "one key set per query");
  V4SIM_REQUIRE(kKernel, static_cast<std::int64_t>(sink.size()) == H, "sink must be [num_heads]");
  V4SIM_REQUIRE(kKernel, rope.rope_dim == shape.rope_dim,
                "RoPE table width differs from the shape's rope_dim");
}

// The checks and schedule both cores share. Decode (one query): the pieces of its keys in
// parallel. Prefill: whole queries in parallel, each attending its pieces in turn.
// attend(i, b, end, scale, part, scratch) fills query i's partial over keys [b, end) (`offsets`
// as in KeySets); the pieces then merge with the sink and the output turns back by the query's
// RoPE angles. The threads' scratch and the decode pieces come from `per_thread` and `pieces`
// (a workspace's, kept for the next call).
template <class ScratchT, class Attend>
void run_core(const SparseAttentionShape& shape, const Eigen::Ref<const RowMatrixXf>& q,
              const std::vector<std::int64_t>& offsets, std::span<const float> sink,
              const RopeTable& rope, Eigen::Ref<RowMatrixXf> out, Cost* cost,
              std::vector<ScratchT>& per_thread, std::vector<Partial>& pieces,
              const Attend& attend) {
  check_core_args(shape, q, out, static_cast<std::int64_t>(offsets.size()) - 1, sink, rope);
  const std::int64_t H = shape.num_heads, d = shape.head_dim, T = shape.num_tokens;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  const auto finish = [&](std::int64_t i, std::span<const Partial> parts) {
    Eigen::Map<RowMatrixXf> O(out.row(i).data(), H, d);
    detail::merge_partials(parts, sink, O);
    rope_rotate_rows(std::span<float>(O.data(), static_cast<std::size_t>(H * d)), d,
                     rope_angles(rope, shape.start_pos + i), /*inverse=*/true);
  };
  detail::forget_queries(per_thread);
  if (T == 1) {
    const std::int64_t begin = offsets[0], n = pieces_of(offsets[1] - offsets[0]);
    if (static_cast<std::int64_t>(pieces.size()) < n) pieces.resize(static_cast<std::size_t>(n));
    detail::parallel_pieces(n, per_thread, [&](std::int64_t j, ScratchT& s) {
      const std::int64_t b = begin + j * kPieceKeys;
      attend(0, b, std::min(b + kPieceKeys, offsets[1]), scale, pieces[static_cast<std::size_t>(j)],
             s);
    });
    finish(0, std::span<const Partial>(pieces.data(), static_cast<std::size_t>(n)));
  } else {
    detail::parallel_pieces(T, per_thread, [&](std::int64_t i, ScratchT& s) {
      const std::int64_t begin = offsets[i], end = offsets[i + 1];
      const std::int64_t n = pieces_of(end - begin);
      if (static_cast<std::int64_t>(s.parts.size()) < n)
        s.parts.resize(static_cast<std::size_t>(n));
      for (std::int64_t j = 0; j < n; ++j) {
        const std::int64_t b = begin + j * kPieceKeys;
        attend(i, b, std::min(b + kPieceKeys, end), scale, s.parts[static_cast<std::size_t>(j)], s);
      }
      finish(i, std::span<const Partial>(s.parts.data(), static_cast<std::size_t>(n)));
    });
  }
  if (cost) count_core(shape, offsets[T] - offsets[0], *cost);
}

}  // namespace

void sparse_attention_core_bf16(const SparseAttentionShape& shape,
                                const Eigen::Ref<const RowMatrixXf>& q, const Bf16KeySets& keys,
                                std::span<const float> sink, const RopeTable& rope,
                                Eigen::Ref<RowMatrixXf> out, Cost* cost,
                                AttentionWorkspace* workspace) {
  const std::int64_t H = shape.num_heads, d = shape.head_dim;
  AttentionWorkspace local;  // buffers for this call only, when the caller keeps none
  detail::AttentionBuffers& buf = (workspace ? *workspace : local).buffers();
  // Each thread rounds the query it attends itself: the same bits, and no shared buffer.
  run_core<Bf16Scratch>(shape, q, keys.offsets, sink, rope, out, cost, buf.bf16, buf.pieces,
                        [&](std::int64_t i, std::int64_t b, std::int64_t end, float scale,
                            Partial& p, Bf16Scratch& s) {
                          if (s.query_index != i) round_query(q, i, H, d, s);
                          attend_piece_bf16(H, d, keys, b, end, scale, p, s);
                        });
}

void Bf16KeyCopies::add(const float* data, std::int64_t rows) {
  Table t{data, rows, std::vector<std::uint16_t>(static_cast<std::size_t>(rows * d_))};
  to_bf16(std::span<const float>(data, t.copy.size()), t.copy);
  tables_.push_back(std::move(t));
}

Bf16KeySets Bf16KeyCopies::key_sets(const KeySets& keys) const {
  Bf16KeySets out;
  out.rows.reserve(keys.rows.size());
  out.offsets = keys.offsets;
  for (const float* row : keys.rows) {
    const std::uint16_t* copy = nullptr;
    for (const Table& t : tables_) {
      // std::less: a total order over pointers into different arrays.
      if (std::less<const float*>()(row, t.data) ||
          !std::less<const float*>()(row, t.data + t.rows * d_))
        continue;
      const std::int64_t offset = row - t.data;
      V4SIM_REQUIRE(kKernel, offset % d_ == 0, "a key row starts inside a row of its table");
      copy = t.copy.data() + offset;
      break;
    }
    V4SIM_REQUIRE(kKernel, copy != nullptr, "a key row lies in no copied table");
    out.rows.push_back(copy);
  }
  return out;
}

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
                           Eigen::Ref<RowMatrixXf> out, Cost* cost, AttentionWorkspace* workspace) {
  const std::int64_t H = shape.num_heads, d = shape.head_dim;
  AttentionWorkspace local;  // buffers for this call only, when the caller keeps none
  detail::AttentionBuffers& buf = (workspace ? *workspace : local).buffers();
  run_core<Scratch>(
      shape, q, keys.offsets, sink, rope, out, cost, buf.sparse, buf.pieces,
      [&](std::int64_t i, std::int64_t b, std::int64_t end, float scale, Partial& p, Scratch& s) {
        // Each thread packs the query it attends itself: the same bits, and no shared buffer.
        if (s.query_index != i) {
          s.kernel.set_query(q.row(i).data(), H, d);
          s.query_index = i;
        }
        attend_piece(keys, b, end, scale, p, s);
      });
}

KeySets model_key_sets(const SparseAttentionShape& shape, const WindowRing& ring,
                       const Eigen::Ref<const RowMatrixXf>& chunk_kv, const EntryTable* compressed,
                       const EntrySelection* selection) {
  const std::int64_t s = shape.start_pos, T = shape.num_tokens, d = shape.head_dim;
  V4SIM_REQUIRE(kKernel, chunk_kv.rows() == T && chunk_kv.cols() == d,
                "chunk_kv must be [num_tokens, head_dim]");
  V4SIM_REQUIRE(kKernel, ring.length == s, "the window ring must end right before start_pos");
  V4SIM_REQUIRE(kKernel, ring.window() == shape.window && ring.slots.cols() == d,
                "ring does not match the shape");
  V4SIM_REQUIRE(kKernel, shape.compress_ratio == 0 || (compressed && selection),
                "compressed layers need the compressed table and a selection");
  V4SIM_REQUIRE(kKernel, !selection || selection->queries() == T, "one selection per query");
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
        V4SIM_REQUIRE(kKernel, idx >= 0 && idx < visible,
                      "selected a compressed entry not yet visible");
        V4SIM_REQUIRE(kKernel, idx < compressed->rows,
                      "selected a compressed entry that is not cached");
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
                              Eigen::Ref<RowMatrixXf> out, Cost* cost,
                              AttentionWorkspace* workspace) {
  const KeySets keys = model_key_sets(shape, ring, chunk_kv, compressed, selection);
  sparse_attention_core(shape, q, keys, sink, rope, out, cost, workspace);
  for (std::int64_t j = 0; j < shape.num_tokens; ++j)
    ring.append(
        std::span<const float>(chunk_kv.row(j).data(), static_cast<std::size_t>(shape.head_dim)));
}

void sparse_attention_decode(const SparseAttentionShape& shape,
                             const Eigen::Ref<const RowMatrixXf>& q,
                             const Eigen::Ref<const RowMatrixXf>& kv, WindowRing& ring,
                             const EntryTable* compressed, std::span<const std::int64_t> selected,
                             std::span<const float> sink, const RopeTable& rope,
                             Eigen::Ref<RowMatrixXf> out, Cost* cost,
                             AttentionWorkspace* workspace) {
  V4SIM_REQUIRE(kKernel, shape.num_tokens == 1, "decode is one token");
  EntrySelection sel;
  sel.indices.assign(selected.begin(), selected.end());
  sel.offsets.push_back(static_cast<std::int64_t>(sel.indices.size()));
  const bool has_compressed = shape.compress_ratio > 0;
  sparse_attention_forward(shape, q, kv, ring, has_compressed ? compressed : nullptr,
                           has_compressed ? &sel : nullptr, sink, rope, out, cost, workspace);
}

}  // namespace v4sim
