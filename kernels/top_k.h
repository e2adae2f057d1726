// The top-k selection both indexers end with (kernels/lightning_indexer_forward.h for V4,
// kernels/dsa_indexer_forward.h for V3.2): the positions of the k highest scores of one query.
//
// Why not std::nth_element over all positions: cost() counts the scoring, not the selection, and
// at 1M context the selection was not small. nth_element over the 262144 scores of the V4-Pro CSA
// core took about 2.9 ms (7 % of the core's profile; 7-15 ns per score on random scores, Xeon
// VM), as long as V3.2's over four times as many, so it lowered the measured V3.2 / V4 ratio
// below the counted one. Here one pass histograms the scores' order-preserving 32-bit keys by
// their top 11 bits, a second pass keeps the positions above the bin holding the k-th highest
// (all selected) and those in it (candidates), narrowed by the next bits while there are many;
// nth_element then runs on the candidates only. Scores holding a NaN take the plain
// nth_element, whose result with NaNs this keeps as it was.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace v4sim {

/// The positions of the k highest scores, in increasing order: the first k under "higher score
/// first, lower position first on equal scores" (-0 equals +0); all positions if k >= size, none
/// if k <= 0. The same result as std::nth_element with that order followed by a sort. Throws
/// std::invalid_argument for more than 2^31 - 1 scores.
std::vector<std::int32_t> top_k_positions(std::span<const float> scores, std::int64_t k);

}  // namespace v4sim
