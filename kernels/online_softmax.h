// The running state of an attention softmax taken block by block (flash-decoding's split-K): the
// V4 sparse core and the V3.2 MLA core attend a query's keys in pieces, fold each block of a
// piece into a partial, and merge the pieces in a fixed order, so any thread count gives the same
// bits (kernels/parallel.h). Internal to those kernels; Eigen types, so keep it out of headers.
#pragma once

#include <cstdint>
#include <span>

#include <Eigen/Dense>

namespace v4sim::detail {

/// One piece's softmax state per head h: its largest logit max(h), the sum of e^(a - max(h)) over
/// its keys, and the sum of e^(a - max(h)) times each key's value row (acc, [heads, value width]).
struct SoftmaxPartial {
  Eigen::ArrayXf max, sum;
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> acc;

  /// Empty: max = -inf, sum = 0, acc = 0 ([heads, width]).
  void reset(std::int64_t heads, std::int64_t width);
};

/// Folds one block's logits `scores` [heads, keys] (already scaled) into `p`: raises each head's
/// running max, rescales its sum and acc to it, and turns `scores` into the block's weights
/// e^(a - max), which it adds to the sum. The caller then adds scores * values to p.acc.
void absorb_block(
    SoftmaxPartial& p,
    Eigen::Ref<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> scores);

/// absorb_block for logits stored key by key: row j of `scores_t` [keys, >= heads] holds key j's
/// logit of every head (already scaled; columns past the partial's heads are left alone), as
/// kernels/key_block.h writes them. The same steps per head, vectorised over the heads; each
/// head's weights are summed in key order.
void absorb_block_keys_major(
    SoftmaxPartial& p,
    Eigen::Ref<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> scores_t);

/// out [heads, width] = the pieces merged in order: each head's acc over its sum, both rescaled
/// to the largest max. `sink` (one logit per head, or empty) is one more logit with a zero value:
/// it only enlarges the denominator. No pieces and no sink: zeros (with a sink too, as
/// e^(sink - (-inf)) is infinite).
void merge_partials(
    std::span<const SoftmaxPartial> parts, std::span<const float> sink,
    Eigen::Ref<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> out);

}  // namespace v4sim::detail
