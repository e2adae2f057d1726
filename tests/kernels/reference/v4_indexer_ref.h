// Naive double reference for the V4 lightning indexer (reference/kernels.md §3.4): queries and
// head weights of one token, scores over the visible compressed keys, top-k.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include <Eigen/Core>

#include "kernels/lightning_indexer_forward.h"
#include "tests/kernels/reference/v4_compressor_ref.h"
#include "tests/kernels/reference/v4_rope_ref.h"

namespace v4sim::reference {

struct IndexerRefQuery {
  Eigen::MatrixXd q;  // [n_I, d_I] rotated at t, Hadamard applied
  Eigen::VectorXd w;  // [n_I] scaled by (d_I n_I)^-1/2
};

/// c_q [r_q] and x [D] of the token at position t.
inline IndexerRefQuery indexer_query_ref(const IndexerWeights& w, const Eigen::VectorXd& c_q,
                                         const float* x, std::int64_t t, int heads, int dim,
                                         const std::vector<double>& freqs) {
  IndexerRefQuery r{Eigen::MatrixXd(heads, dim), Eigen::VectorXd(heads)};
  const Eigen::MatrixXd had = hadamard_ref(dim);
  for (int h = 0; h < heads; ++h) {
    Eigen::VectorXd qh(dim);
    for (int k = 0; k < dim; ++k) {
      double acc = 0.0;
      for (Eigen::Index c = 0; c < c_q.size(); ++c) acc += double(w.wq_b(h * dim + k, c)) * c_q(c);
      qh(k) = acc;
    }
    rope_ref(qh, t, freqs, 1);
    r.q.row(h) = (had * qh).transpose();
  }
  r.w = matvec_ref(w.weights_proj, x) / std::sqrt(double(heads) * dim);
  return r;
}

/// I(t, s) = sum_h w_h ReLU(q_h . K_s) for s in 0 .. visible-1.
inline std::vector<double> indexer_scores_ref(const IndexerRefQuery& q, const Eigen::MatrixXd& keys,
                                              std::int64_t visible) {
  std::vector<double> s(visible, 0.0);
  for (std::int64_t e = 0; e < visible; ++e)
    for (Eigen::Index h = 0; h < q.q.rows(); ++h) {
      double dot = 0.0;
      for (Eigen::Index k = 0; k < q.q.cols(); ++k) dot += q.q(h, k) * keys(e, k);
      s[e] += q.w(h) * std::max(dot, 0.0);
    }
  return s;
}

/// Indices of the k highest scores (ties: lower index), increasing; all if k >= size.
inline std::vector<std::int64_t> topk_ref(const std::vector<double>& s, std::int64_t k) {
  std::vector<std::int64_t> idx(s.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](auto a, auto b) { return s[a] > s[b]; });
  if (k < std::int64_t(idx.size())) idx.resize(k);
  std::sort(idx.begin(), idx.end());
  return idx;
}

}  // namespace v4sim::reference
