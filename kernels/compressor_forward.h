// KV compressor forward (reference/kernels.md §3.1-3.2, §3.4, §4): turns the tokens of a layer
// into compressed entries, one per `ratio` tokens, in batch (a prefill chunk) or one token at a
// time (decode) - both through the same state, so any chunking of a sequence gives the same
// entries.
//
// Per token t: c_t = W_kv x_t, z_t = W_gate x_t + ape[t mod ratio] (width = 2*head_dim with
// overlap, head_dim without). Entry i pools, per channel, a softmax over the gate logits:
//   overlap (CSA, ratio 4): channels [0, d) of the 4 tokens of block i-1 and channels [d, 2d) of
//     the 4 tokens of block i (8 slots; block -1 is absent: value 0, logit -inf);
//   no overlap (HCA, ratio 128): the 128 tokens of block i.
// Then weighted RMSNorm (gain `norm`), RoPE at position ratio*i (compressed-layer table) and the
// entry kind's finish: attention entries optionally get the FP8 round trip of their NoPE dims;
// indexer keys get the normalised Hadamard-128 and optionally the FP4 round trip.
// Entry i is emitted at t = ratio*i + ratio - 1, before that token's attention (§3.3).
#pragma once

#include <cstdint>

#include "kernels/attention_cache_forward.h"
#include "kernels/compressor.h"
#include "kernels/cost.h"
#include "kernels/rope.h"

namespace v4sim {

struct CompressorWeights {
  RowMatrixXf wkv;       // [width, D]
  RowMatrixXf wgate;     // [width, D]
  RowMatrixXf ape;       // [ratio, width] positional bias of the gate logits
  Eigen::VectorXf norm;  // [head_dim] RMSNorm gain
};
/// Random weights of the shape's sizes (entries ~ N(0, 1/D) for the projections, N(0, 1) ape,
/// gains around 1), reproducible from `seed`.
CompressorWeights random_compressor_weights(const CompressorShape& s, std::uint64_t seed);

enum class EntryKind : std::uint8_t {
  attention,    // K=V entry: FP8 E4M3 round trip of the NoPE dims (blocks of 64, UE8M0) if qat
  indexer_key,  // Hadamard-128 / sqrt(128), then FP4 E2M1 round trip (blocks of 32, UE8M0) if qat
};

struct CompressorOptions {
  EntryKind kind = EntryKind::attention;
  bool qat = false;  // apply the quantisation round trips (false: exact float arithmetic)
  float norm_eps = 1e-6f;
};

/// Per-sequence tail: the (c, z) rows of the last `ring` tokens, slot = position mod ring, with
/// ring = 2*ratio (overlap) or ratio. Initial rows are (0, -inf): the absent block -1.
/// Its size is tail_state_bytes(shape, 4) (kernels/compressor.h).
struct CompressorState {
  RowMatrixXf c;              // [ring, width]
  RowMatrixXf z;              // [ring, width] gate logits with the positional bias added
  std::int64_t next_pos = 0;  // position of the next token to compress
};
CompressorState make_compressor_state(const CompressorShape& s);

/// Compresses the shape's tokens [start_pos, start_pos + num_tokens) with inputs `x` and appends
/// every completed entry to `entries` (whose rows must equal start_pos / ratio; state.next_pos must
/// equal start_pos). Counts, at shape.compute, the two projections and the pooling sums; bytes: the
/// weights once, x once, each emitted entry in shape.out_format, each token's (c, z) row written to
/// the state and each pooled row read back from the state if it was stored by an earlier call.
void compressor_forward(const CompressorShape& shape, const CompressorWeights& w,
                        const CompressorOptions& options, const RopeTable& rope,
                        const Eigen::Ref<const RowMatrixXf>& x,  // [T, D]
                        CompressorState& state, EntryTable& entries, Cost* cost = nullptr);
/// The same into the indexer's key table (which stores each entry in its own format).
void compressor_forward(const CompressorShape& shape, const CompressorWeights& w,
                        const CompressorOptions& options, const RopeTable& rope,
                        const Eigen::Ref<const RowMatrixXf>& x,  // [T, D]
                        CompressorState& state, IndexerKeyTable& entries, Cost* cost = nullptr);

/// Applies an entry kind's finish (Hadamard and/or round trips) to one emitted, rotated entry.
void finish_entry(EntryKind kind, bool qat, std::int64_t rope_dim, std::span<float> entry);

}  // namespace v4sim
