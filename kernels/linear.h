// Linear layer y = W x over a batch of tokens; W is [out_features, in_features].
// A grouped (block-diagonal) linear splits in and out into `groups` equal blocks, as V4's grouped
// output projection wo_a and MLA's per-head absorptions do.
#pragma once

#include <cstdint>

#include "kernels/cost.h"
#include "kernels/storage.h"

namespace v4sim {

struct LinearShape {
  std::int64_t tokens = 1;
  std::int64_t in_features = 0;
  std::int64_t out_features = 0;
  std::int64_t groups = 1;  // block-diagonal blocks of [out/groups, in/groups]
  WeightFormat weight = WeightFormat::bf16;
  Precision compute = Precision::bf16;
};

/// Parameters of the weight (block-diagonal: only the blocks exist).
std::int64_t parameter_count(const LinearShape& s);
/// FLOPs 2*tokens*in*out/groups at s.compute; reads the weight once at its storage format and the
/// input at compute precision (fp4 packs 2 per byte); writes the output as BF16.
Cost cost(const LinearShape& s);

/// Bytes of one activation element of precision p, times n (fp4 packs two per byte, rounded up).
std::int64_t activation_bytes(Precision p, std::int64_t n);

}  // namespace v4sim
