// Naive double-precision reference for mHC (kernels/mhc_forward.h), written from
// reference/kernels.md §7.2-§7.3 with plain loops over one token.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/token_selection.h"

namespace v4sim::reference {

struct MhcRefMappings {
  std::vector<double> pre, post, comb;  // [n], [n], [n*n] row-major comb[i][j]
};

/// Mappings of one token: v [n*D] stream-major; fn [rows, n*D]; base [rows]; scale [3] or [1].
inline MhcRefMappings mhc_ref_mappings(const float* v, int n, int d, const RowMatrixXf& fn,
                                       const std::vector<float>& base,
                                       const std::vector<float>& scale, int iters, double eps,
                                       bool head) {
  const int width = n * d, rows = static_cast<int>(fn.rows());
  double sq = 0.0;
  for (int k = 0; k < width; ++k) sq += double(v[k]) * v[k];
  const double rho = 1.0 / std::sqrt(sq / width + eps);
  std::vector<double> mu(rows, 0.0);
  for (int r = 0; r < rows; ++r) {
    for (int k = 0; k < width; ++k) mu[r] += double(fn(r, k)) * v[k];
    mu[r] *= rho;
  }
  auto sigmoid = [](double z) { return 1.0 / (1.0 + std::exp(-z)); };
  MhcRefMappings m;
  for (int i = 0; i < n; ++i) m.pre.push_back(sigmoid(scale[0] * mu[i] + base[i]) + eps);
  if (head) return m;
  for (int i = 0; i < n; ++i) m.post.push_back(2.0 * sigmoid(scale[1] * mu[n + i] + base[n + i]));
  std::vector<double> p(n * n);
  for (int i = 0; i < n * n; ++i) p[i] = scale[2] * mu[2 * n + i] + base[2 * n + i];
  // Sinkhorn-Knopp: row softmax + eps, columns, then (iters - 1) x (rows, columns).
  for (int j = 0; j < n; ++j) {
    double mx = p[j * n];
    for (int k = 1; k < n; ++k) mx = std::max(mx, p[j * n + k]);
    double sum = 0.0;
    for (int k = 0; k < n; ++k) sum += std::exp(p[j * n + k] - mx);
    for (int k = 0; k < n; ++k) p[j * n + k] = std::exp(p[j * n + k] - mx) / sum + eps;
  }
  auto columns = [&] {
    for (int k = 0; k < n; ++k) {
      double sum = 0.0;
      for (int j = 0; j < n; ++j) sum += p[j * n + k];
      for (int j = 0; j < n; ++j) p[j * n + k] /= sum + eps;
    }
  };
  columns();
  for (int it = 1; it < iters; ++it) {
    for (int j = 0; j < n; ++j) {
      double sum = 0.0;
      for (int k = 0; k < n; ++k) sum += p[j * n + k];
      for (int k = 0; k < n; ++k) p[j * n + k] /= sum + eps;
    }
    columns();
  }
  m.comb = p;
  return m;
}

/// x[c] = sum_i pre_i X_i[c].
inline std::vector<double> mhc_ref_collapse(const float* v, int n, int d,
                                            const std::vector<double>& pre) {
  std::vector<double> x(d, 0.0);
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < d; ++c) x[c] += pre[i] * v[i * d + c];
  return x;
}

/// X'_j[c] = post_j f[c] + sum_i comb[i][j] X_i[c].
inline std::vector<double> mhc_ref_expand(const float* v, const float* f, int n, int d,
                                          const MhcRefMappings& m) {
  std::vector<double> out(n * d, 0.0);
  for (int j = 0; j < n; ++j) {
    for (int c = 0; c < d; ++c) {
      double acc = m.post[j] * f[c];
      for (int i = 0; i < n; ++i) acc += m.comb[i * n + j] * v[i * d + c];
      out[j * d + c] = acc;
    }
  }
  return out;
}

}  // namespace v4sim::reference
