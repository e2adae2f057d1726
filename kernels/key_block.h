// The two products of an attention block with K = V (V4's shared-KV core): one query's H heads
// against a block of n keys, each key a row of d floats read where it is stored (a table's
// contiguous rows or scattered rows, given as pointers), in the layout the online softmax
// reads them (kernels/online_softmax.h, absorb_block_keys_major):
//
//   scores      st [n, stride] = K Q^T   st[j * stride + h] = q_h . k_j
//   accumulate  acc [H, d]    += P K      acc[h * d + c] += sum_j pt[j * stride + h] k_j[c]
//
// Why not Eigen's products: Eigen packed each block of keys twice into its GEMM layout (once per
// product, 512 KiB a block for V4-Pro) and the query once per block, about 20 % of the 1M-context
// V4-Pro HCA core's profile (Xeon VM, one thread). The AVX-512 path packs the query once per
// query (transposed, heads in the lanes) and reads the keys in place: the scores broadcast key
// elements against the query panel, d in chunks so the panel's slice stays in L1; the weighted
// sum broadcasts weights against key rows, which are already laid out as that product wants. A
// host without AVX-512 F/BW/VL (or a live PortableKernels guard, kernels/host_isa.h) takes
// Eigen's products over the same layouts, gathering scattered keys first. Each output is one
// float32 sum in a fixed order on either path: the same bits whatever the thread count; the two
// paths agree to float32 rounding, not bit for bit.
#pragma once

#include <cstdint>
#include <vector>

namespace v4sim {

class KeyBlockKernel {
 public:
  /// Prepares for the query q [heads, dim] (row-major; read again by the portable path, so it
  /// must outlive the calls until the next set_query). Chooses the path for the calls that follow.
  void set_query(const float* q, std::int64_t heads, std::int64_t dim);

  std::int64_t heads() const { return heads_; }
  std::int64_t dim() const { return dim_; }
  /// The row stride of the scores and weights: heads rounded up to a multiple of 16.
  std::int64_t stride() const { return stride_; }
  /// The query set_query was given (null before the first call).
  const float* query() const { return q_; }
  /// True when the calls take the AVX-512 path.
  bool avx512() const { return avx512_; }

  /// st[j * stride() + h] = q_h . rows[j] for j < n, h < heads() (each row dim() floats; columns
  /// past heads() are scratch). `next` (null, or next_n rows) is the block the caller scores
  /// next: its first lines are fetched into the cache meanwhile (a hint only, no effect on
  /// results).
  void scores(const float* const* rows, std::int64_t n, float* st,
              const float* const* next = nullptr, std::int64_t next_n = 0);

  /// acc[h * dim() + c] += sum_{j < n} pt[j * stride() + h] rows[j][c] for h < heads(),
  /// c < dim(); acc is [heads(), dim()] row-major.
  void accumulate(const float* pt, const float* const* rows, std::int64_t n, float* acc);

 private:
  const float* q_ = nullptr;
  std::int64_t heads_ = 0, dim_ = 0, stride_ = 0;
  bool avx512_ = false;
  std::vector<float> panel_buf_;  // AVX-512: q^T [dim, stride], zero past heads, 64-byte aligned
  float* panel_ = nullptr;
  std::vector<float> weights_;   // AVX-512: one head group's weights, [n, group heads]
  std::vector<float> gathered_;  // portable: scattered keys copied [n, dim]
};

}  // namespace v4sim
