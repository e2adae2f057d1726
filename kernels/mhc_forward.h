// Manifold-constrained hyper-connections: float32 reference kernels (reference/kernels.md §7). The
// cost side is kernels/mhc.h (MhcShape, cost).
//
// Streams X of one token are stored stream-major in one row: X [T, n*D], stream i in columns
// [i*D, (i+1)*D) (this is vec(X) of §7.2). Per token, around a sublayer F:
//   ρ   = 1 / sqrt(mean(v²) + eps)              v = vec(X), RMS over all n*D numbers, no gain
//   μ   = ρ Φ v                                  Φ = fn [(2+n)*n, n*D]  (head: [n, n*D])
//   pre_i  = sigmoid(α0 μ_i + β_i) + eps
//   post_i = 2 sigmoid(α1 μ_{n+i} + β_{n+i})
//   R[j][k] = α2 μ_{2n + j*n + k} + β_{2n + j*n + k}
//   comb = Sinkhorn(R): P = rowsoftmax(R) + eps; P /= colsum(P) + eps;
//          then (iters - 1) times: P /= rowsum(P) + eps; P /= colsum(P) + eps
//   collapse  x = Σ_i pre_i X_i                              (then the sublayer's own norm and F)
//   expand    X'_j = post_j f + Σ_i comb[i][j] X_i           (X' = post ⊗ f + combᵀ X)
// The final hc-head uses fn [n, n*D], base [n], scale [1]: pre only, then the collapse.
// eps = hc_eps = 1e-6 in both V4 models (also the RMS epsilon, as in the official code).
//
// Counting (kernels/cost.h): mhc_mappings counts the [rows, n*D] product, the parameters (fp32)
// and the streams read (BF16); mhc_collapse its weighted sum and the written x (BF16);
// mhc_expand its weighted sums, the read f and the written streams (BF16). The sum over the three
// is cost(shape) exactly (mHC around a sublayer is one op: its operands X, f, x, X' are each
// counted once, although the expand step reads X again).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Core>

#include "kernels/cost.h"
#include "kernels/mhc.h"
#include "kernels/token_selection.h"

namespace v4sim {

inline constexpr float kMhcEps = 1e-6f;

/// The FP32 parameters of one mHC site (hc_*_fn, hc_*_base, hc_*_scale).
struct MhcParams {
  RowMatrixXf fn;            // [(2+n)*n, n*D], head: [n, n*D]
  std::vector<float> base;   // [(2+n)*n], head: [n]
  std::vector<float> scale;  // [3], head: [1]
};

/// Per-token mappings.
struct MhcMappings {
  RowMatrixXf pre;   // [T, n]
  RowMatrixXf post;  // [T, n]   (empty for the head)
  RowMatrixXf comb;  // [T, n*n], comb[i][j] at column i*n + j (empty for the head)
};

/// Sinkhorn-Knopp of §7.2 on one n x n matrix, in place: r [n*n] row-major holds R on entry and
/// comb on exit. iters >= 1 counts the first (softmax, column) pass.
void mhc_sinkhorn(std::span<float> r, int n, std::int64_t iters, float eps = kMhcEps);

/// pre / post / comb of every token. Counts the mixing product, parameters and streams read.
MhcMappings mhc_mappings(const MhcShape& s, const MhcParams& p,
                         const Eigen::Ref<const RowMatrixXf>& streams,  // [T, n*D]
                         Cost* counted = nullptr, float eps = kMhcEps);

/// x = Σ_i pre_i X_i. Counts the weighted sum and x written.
void mhc_collapse(const MhcShape& s,
                  const Eigen::Ref<const RowMatrixXf>& streams,  // [T, n*D]
                  const Eigen::Ref<const RowMatrixXf>& pre,      // [T, n]
                  Eigen::Ref<RowMatrixXf> x,                     // [T, D]
                  Cost* counted = nullptr);

/// X'_j = post_j f + Σ_i comb[i][j] X_i. Counts the weighted sums, f read and X' written.
/// `out` must not alias `streams`.
void mhc_expand(const MhcShape& s,
                const Eigen::Ref<const RowMatrixXf>& streams,  // [T, n*D]
                const Eigen::Ref<const RowMatrixXf>& f,        // [T, D] sublayer output
                const MhcMappings& m,
                Eigen::Ref<RowMatrixXf> out,  // [T, n*D]
                Cost* counted = nullptr);

/// Mappings and collapse together (before a sublayer, or the head with s.head): returns the
/// mappings for the matching mhc_expand. Counts both steps.
MhcMappings mhc_pre(const MhcShape& s, const MhcParams& p,
                    const Eigen::Ref<const RowMatrixXf>& streams,  // [T, n*D]
                    Eigen::Ref<RowMatrixXf> x,                     // [T, D]
                    Cost* counted = nullptr, float eps = kMhcEps);

}  // namespace v4sim
