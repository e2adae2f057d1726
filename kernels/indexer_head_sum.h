// The lightning indexer's score of a block of keys for one query, shared by V4's indexer
// (kernels/lightning_indexer_forward.h) and V3.2's DSA indexer (kernels/dsa_indexer_forward.h):
//   out[s] = sum_h w[h] * max(q_h . k_s, 0)   for the n keys k_s stored [n, d] row-major.
//
// Why not Eigen's K Q^T: Eigen packed every block of keys (2 MiB) into its GEMM layout before
// multiplying, 28% of the 1M-context V4-Pro CSA core's profile, and then wrote the [n, H] dots
// out and read them back for the head sum. The AVX-512 path reads each key where it is stored
// (six keys at a time, their elements broadcast against q transposed into a [d, H] panel of 32
// KiB with the heads in the lanes) and reduces the heads in registers, so no dot leaves them.
// It needs H a multiple of 16 and at most 64 (V4 and V3.2 have 64); other widths and hosts
// without AVX-512 take Eigen's product. Each score is one float32 sum per head over d in index
// order, then the heads' terms summed lane by lane in a fixed order: the same bits whatever the
// thread count; the two paths agree to float32 rounding, not bit for bit.
#pragma once

#include <cstdint>

namespace v4sim {

/// out[s] (s < n) = sum_h w[h] max(q[h, :] . keys[s, :], 0); q [H, d] and keys [n, d] row-major.
/// `next` (null, or next_bytes long) is memory the caller reads after this call, fetched into L2
/// meanwhile: the packed codes of the next block of keys, which the indexers decode into `keys`
/// between calls. The scoring is compute-bound and the decode reads its codes from memory, so
/// without this the two do not overlap as they do on a GPU (a hint only: no effect on results).
void indexer_head_sum(const float* q, const float* w, std::int64_t H, std::int64_t d,
                      const float* keys, std::int64_t n, float* out,
                      const std::uint8_t* next = nullptr, std::int64_t next_bytes = 0);

}  // namespace v4sim
