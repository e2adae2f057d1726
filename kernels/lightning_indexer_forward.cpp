#include "kernels/lightning_indexer_forward.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

#include "kernels/indexer_head_sum.h"
#include "kernels/linear.h"
#include "kernels/parallel_for.h"
#include "kernels/precondition.h"
#include "kernels/projection_forward.h"
#include "kernels/top_k.h"

namespace v4sim {
namespace {

constexpr const char* kKernel = "lightning_indexer";  // names the kernel in precondition errors

// Keys are scored in blocks as V3.2's indexer scores them (kernels/dsa_indexer_forward.cpp): each
// block of 2048 keys is decoded from its MXFP4 bytes into a float buffer of the thread (1 MiB, in
// L2) and then scored by indexer_head_sum. Blocks are fixed by the key count and independent, so
// they may run on any thread (kernels/parallel.h).
constexpr std::int64_t kKeyBlock = 2048;

// The MXFP4 bytes of keys [b, min(b + 2048, n)), which indexer_head_sum fetches into L2 while it
// scores the block before (none in exact mode or past n).
struct NextBlock {
  const std::uint8_t* bytes = nullptr;
  std::int64_t count = 0;
};
NextBlock next_block(const IndexerKeyTable& keys, std::int64_t b, std::int64_t n) {
  if (keys.exact || b >= n) return {};
  return {keys.bytes.data() + b * keys.entry_bytes(),
          std::min(kKeyBlock, n - b) * keys.entry_bytes()};
}

// Scores of query i over keys [b, b + 2048) into out + b, the block decoded into `buffer`.
void score_block(const IndexerScoringShape& shape, const IndexerQueries& queries,
                 const IndexerKeyTable& keys, std::int64_t i, std::int64_t b, std::int64_t n,
                 std::vector<float>& buffer, float* out) {
  const std::int64_t nb = std::min(kKeyBlock, n - b), d = shape.head_dim;
  buffer.resize(static_cast<std::size_t>(kKeyBlock * d));
  keys.decode(b, nb, buffer.data());
  const NextBlock next = next_block(keys, b + nb, n);
  indexer_head_sum(queries.q.row(i).data(), queries.w.row(i).data(), shape.num_heads, d,
                   buffer.data(), nb, out + b, next.bytes, next.count);
}

// Scores of query i over keys [0, n) into `out` (resized to n), its blocks in parallel: the path
// of a single query (decode).
void score_query(const IndexerScoringShape& shape, const IndexerQueries& queries,
                 const IndexerKeyTable& keys, std::int64_t i, std::int64_t n,
                 std::vector<float>& out) {
  out.resize(static_cast<std::size_t>(n));
  const std::int64_t blocks = (n + kKeyBlock - 1) / kKeyBlock;
  detail::parallel_pieces<std::vector<float>>(blocks, [&](std::int64_t j, std::vector<float>& b) {
    score_block(shape, queries, keys, i, j * kKeyBlock, n, b, out.data());
  });
}

// Several queries (prefill) run in groups of this many on one thread: each key block is decoded
// once per group, not once per query, as V3.2's indexer decodes a block once for all queries.
// A group holds its queries' scores (16 x 256K floats, 16 MiB, at 1M tokens and ratio 4).
// Groups are fixed by the query count, and a key's score does not depend on which queries share
// its block, so the bits do not depend on threads.
constexpr std::int64_t kQueryGroup = 16;

// A thread's buffers: the decoded key block and its group's scores.
struct Scratch {
  std::vector<float> keys;
  std::vector<std::vector<float>> scores;
};

// Scores of queries [i0, i1) over the keys each sees into scratch.scores[i - i0]: each block
// decoded once, as far as the group's last query sees.
void score_group(const IndexerScoringShape& shape, const IndexerQueries& queries,
                 const IndexerKeyTable& keys, std::int64_t i0, std::int64_t i1, Scratch& scratch) {
  const std::int64_t d = shape.head_dim;
  const auto visible = [&](std::int64_t i) { return (shape.start_pos + i + 1) / shape.ratio; };
  scratch.scores.resize(static_cast<std::size_t>(i1 - i0));
  for (std::int64_t i = i0; i < i1; ++i)
    scratch.scores[static_cast<std::size_t>(i - i0)].resize(static_cast<std::size_t>(visible(i)));
  scratch.keys.resize(static_cast<std::size_t>(kKeyBlock * d));
  const std::int64_t n = visible(i1 - 1);  // the group's widest view
  for (std::int64_t b = 0; b < n; b += kKeyBlock) {
    keys.decode(b, std::min(kKeyBlock, n - b), scratch.keys.data());
    const NextBlock next = next_block(keys, b + kKeyBlock, n);
    for (std::int64_t i = i0; i < i1; ++i) {
      const std::int64_t m = std::min(kKeyBlock, visible(i) - b);  // keys of this block i sees
      if (m <= 0) continue;
      indexer_head_sum(queries.q.row(i).data(), queries.w.row(i).data(), shape.num_heads, d,
                       scratch.keys.data(), m,
                       scratch.scores[static_cast<std::size_t>(i - i0)].data() + b,
                       i == i0 ? next.bytes : nullptr, next.count);
    }
  }
}

}  // namespace

IndexerQueries indexer_queries(const IndexerScoringShape& shape,
                               const IndexerProjectionFormats& formats, const IndexerWeights& w,
                               bool qat, const RopeTable& rope,
                               const Eigen::Ref<const RowMatrixXf>& c_q,
                               const Eigen::Ref<const RowMatrixXf>& x, Cost* cost) {
  const std::int64_t H = shape.num_heads, d = shape.head_dim, T = shape.num_tokens;
  V4SIM_REQUIRE(kKernel, c_q.rows() == T && x.rows() == T, "c_q and x need one row per query");
  V4SIM_REQUIRE(kKernel, w.wq_b.rows() == H * d && w.weights_proj.rows() == H,
                "weights do not match the shape");
  IndexerQueries out;
  linear_forward(c_q, w.wq_b, 1, formats.wq_b, formats.compute, out.q, cost);
  linear_forward(x, w.weights_proj, 1, formats.weights_proj, formats.compute, out.w, cost);
  out.w *= static_cast<float>(1.0 / std::sqrt(static_cast<double>(d * H)));
  for (std::int64_t i = 0; i < T; ++i) {
    const RopeAngles angles = rope_angles(rope, shape.start_pos + i);
    for (std::int64_t h = 0; h < H; ++h) {
      const std::span<float> head(out.q.row(i).data() + h * d, static_cast<std::size_t>(d));
      rope_rotate(head, angles);
      finish_entry(EntryKind::indexer_key, qat, rope.rope_dim, head);
    }
  }
  return out;
}

std::vector<float> indexer_scores(const IndexerScoringShape& shape, const IndexerQueries& queries,
                                  const IndexerKeyTable& keys, std::int64_t i) {
  const std::int64_t visible = (shape.start_pos + i + 1) / shape.ratio;
  V4SIM_REQUIRE(kKernel, visible <= keys.rows, "the key table lacks visible entries");
  V4SIM_REQUIRE(kKernel, keys.dim == shape.head_dim, "keys must be head_dim wide");
  std::vector<float> scores;
  score_query(shape, queries, keys, i, visible, scores);
  return scores;
}

std::vector<std::int64_t> top_k_indices(const std::vector<float>& scores, std::int64_t k) {
  const std::vector<std::int32_t> top = top_k_positions(scores, k);
  return {top.begin(), top.end()};
}

EntrySelection indexer_topk(const IndexerScoringShape& shape, const IndexerQueries& queries,
                            const IndexerKeyTable& keys, std::int64_t topk, Cost* cost) {
  const std::int64_t H = shape.num_heads, d = shape.head_dim, T = shape.num_tokens;
  V4SIM_REQUIRE(kKernel, queries.q.rows() == T && queries.q.cols() == H * d,
                "queries do not match the shape");
  V4SIM_REQUIRE(kKernel, keys.dim == d, "keys must be head_dim wide");
  std::int64_t scored = 0;
  for (std::int64_t i = 0; i < T; ++i) {
    const std::int64_t visible = (shape.start_pos + i + 1) / shape.ratio;
    V4SIM_REQUIRE(kKernel, visible <= keys.rows, "the key table lacks visible entries");
    scored += visible;
  }
  // One query: its key blocks in parallel; several: groups of queries in parallel. Either way
  // each query's scores and top-k are computed the same way, so the bits do not depend on threads.
  std::vector<std::vector<std::int64_t>> chosen(static_cast<std::size_t>(T));
  if (T == 1) {
    std::vector<float> scores;
    score_query(shape, queries, keys, 0, (shape.start_pos + 1) / shape.ratio, scores);
    chosen[0] = top_k_indices(scores, topk);
  } else {
    detail::parallel_pieces<Scratch>(
        (T + kQueryGroup - 1) / kQueryGroup, [&](std::int64_t g, Scratch& scratch) {
          const std::int64_t i0 = g * kQueryGroup, i1 = std::min(T, i0 + kQueryGroup);
          score_group(shape, queries, keys, i0, i1, scratch);
          for (std::int64_t i = i0; i < i1; ++i)
            chosen[static_cast<std::size_t>(i)] =
                top_k_indices(scratch.scores[static_cast<std::size_t>(i - i0)], topk);
        });
  }
  EntrySelection sel;
  for (const std::vector<std::int64_t>& c : chosen) {
    sel.indices.insert(sel.indices.end(), c.begin(), c.end());
    sel.offsets.push_back(static_cast<std::int64_t>(sel.indices.size()));
  }
  if (cost) {
    cost->flops_at(shape.compute) += 2 * H * d * scored;  // q.k products of every head
    cost->flops_at(Precision::fp32) += 2 * H * scored;    // weighted head sum
    cost->read(MemClass::kv_cache) += scored * kv_entry_bytes(shape.key_format, d, 0);
    cost->read(MemClass::activations) += activation_bytes(shape.compute, T * H * d);
    cost->written(MemClass::activations) += 4 * scored;  // fp32 scores for the selection
  }
  return sel;
}

}  // namespace v4sim
