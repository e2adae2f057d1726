// Lightning-indexer scoring (cost side): for each query, score every visible key
//   I(t, s) = sum_h w_{t,h} * ReLU(q_{t,h} . k_s)
// and keep the top k. V4's indexer scores compressed entries (ratio 4, MXFP4 keys, FP4 products);
// V3.2's DSA indexer scores every token (ratio 1, FP8 keys) (reference/kernels.md §3.4, §8.1).
#pragma once

#include <cstdint>

#include "kernels/cost.h"
#include "kernels/storage.h"

namespace v4sim {

struct IndexerScoringShape {
  std::int64_t num_heads = 64;
  std::int64_t head_dim = 128;
  std::int64_t ratio = 4;  // raw tokens per scored key (1: token level)
  std::int64_t start_pos = 0;
  std::int64_t num_tokens = 1;
  KvEntryFormat key_format = KvEntryFormat::mxfp4;
  Precision compute = Precision::fp4;  // precision of the q.k products
};

/// Keys scored by all the shape's queries: sum of floor((t+1)/ratio).
std::int64_t scored_keys(const IndexerScoringShape& s);

/// FLOPs: 2*H*d per (query, key) at s.compute for the products, plus 2*H per (query, key) in fp32
/// for the weighted head sum. Reads every visible key once per query in key_format.
Cost cost(const IndexerScoringShape& s);

}  // namespace v4sim
