// Naive double-precision reference for dense causal GQA (kernels/gqa_attention_forward.h).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/token_selection.h"

namespace v4sim::reference {

/// out[i, j*d + c] = sum_{s <= start+i} softmax_s(q_j . k_{s,g} / sqrt(d)) v_{s,g}[c], g = j / G.
inline Eigen::MatrixXd gqa_ref(int q_heads, int kv_heads, int d, std::int64_t start_pos,
                               const RowMatrixXf& q, const RowMatrixXf& k, const RowMatrixXf& v) {
  const Eigen::Index T = q.rows();
  const int G = q_heads / kv_heads;
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(T, q_heads * d);
  for (Eigen::Index i = 0; i < T; ++i) {
    const std::int64_t n = start_pos + i + 1;
    for (int j = 0; j < q_heads; ++j) {
      const int g = j / G;
      std::vector<double> a(n);
      double mx = -INFINITY;
      for (std::int64_t s = 0; s < n; ++s) {
        double acc = 0.0;
        for (int c = 0; c < d; ++c) acc += double(q(i, j * d + c)) * double(k(s, g * d + c));
        a[s] = acc / std::sqrt(double(d));
        mx = std::max(mx, a[s]);
      }
      double z = 0.0;
      for (double& x : a) z += (x = std::exp(x - mx));
      for (std::int64_t s = 0; s < n; ++s)
        for (int c = 0; c < d; ++c) out(i, j * d + c) += a[s] / z * double(v(s, g * d + c));
    }
  }
  return out;
}

}  // namespace v4sim::reference
