// Manifold-constrained hyper-connections (cost side), reference/kernels.md §7: n residual streams;
// around each sub-layer a [(2+n)*n, n*D] mixing product gives pre/post/comb (Sinkhorn on the n x n
// comb), then collapse (sum of pre-weighted streams) and expand (post * f + comb^T X).
// The final head uses an [n, n*D] product and a collapse only.
#pragma once

#include <cstdint>

#include "kernels/cost.h"

namespace v4sim {

struct MhcShape {
  std::int64_t tokens = 1;
  std::int64_t hidden = 0;   // D
  std::int64_t streams = 4;  // hc_mult n
  std::int64_t sinkhorn_iters = 20;
  bool head = false;  // the final hc-head: no post, no comb, no Sinkhorn
};

/// Parameters: fn [rows, n*D] + base [rows] + scale [3] (head: fn [n, n*D] + base [n] + scale [1]).
std::int64_t parameter_count(const MhcShape& s);
/// FLOPs in fp32 per token: mixing 2*rows*n*D, collapse 2*n*D, and (not head) expand 2*n*(n+1)*D.
/// Sinkhorn's divisions are element-wise and not counted. Bytes (BF16 activations): reads X and
/// (not head) f, writes x and (not head) X'; the FP32 parameters once.
Cost cost(const MhcShape& s);

}  // namespace v4sim
