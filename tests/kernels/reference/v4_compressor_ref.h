// Naive double reference for the V4 KV compressor (reference/kernels.md §3.1, §3.4, §4): every
// entry is recomputed from the raw token inputs of the whole sequence (no state, no streaming).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "kernels/compressor_forward.h"
#include "tests/kernels/reference/v4_rope_ref.h"

namespace v4sim::reference {

struct CompressorRefConfig {
  int head_dim = 512;
  int ratio = 4;
  bool overlap = true;
  bool hadamard = false;  // indexer keys
  double eps = 1e-6;
};

/// y = W x in double, W [out, in] float, x [in] float.
inline Eigen::VectorXd matvec_ref(const RowMatrixXf& w, const float* x) {
  Eigen::VectorXd y(w.rows());
  for (Eigen::Index r = 0; r < w.rows(); ++r) {
    double acc = 0.0;
    for (Eigen::Index c = 0; c < w.cols(); ++c) acc += double(w(r, c)) * double(x[c]);
    y(r) = acc;
  }
  return y;
}

/// Entries 0 .. N/ratio - 1 of the tokens x_all [N, D] (positions 0 .. N-1): [N/ratio, head_dim].
inline Eigen::MatrixXd compressor_ref(const CompressorRefConfig& cfg, const CompressorWeights& w,
                                      const RowMatrixXf& x_all, const std::vector<double>& freqs) {
  const int m = cfg.ratio, d = cfg.head_dim;
  const Eigen::Index N = x_all.rows();
  std::vector<Eigen::VectorXd> c(N), z(N);
  for (Eigen::Index t = 0; t < N; ++t) {
    c[t] = matvec_ref(w.wkv, x_all.row(t).data());
    z[t] = matvec_ref(w.wgate, x_all.row(t).data());
    for (Eigen::Index k = 0; k < z[t].size(); ++k) z[t](k) += double(w.ape(t % m, k));
  }
  const Eigen::MatrixXd had = cfg.hadamard ? hadamard_ref(d) : Eigen::MatrixXd();
  Eigen::MatrixXd out(N / m, d);
  for (Eigen::Index i = 0; i < N / m; ++i) {
    Eigen::VectorXd p(d);
    for (int ch = 0; ch < d; ++ch) {
      // (logit, value) slots; the absent block -1 simply contributes nothing.
      std::vector<std::pair<double, double>> slots;
      if (cfg.overlap) {
        for (Eigen::Index t = m * (i - 1); t < m * i; ++t)
          if (t >= 0) slots.push_back({z[t](ch), c[t](ch)});
        for (Eigen::Index t = m * i; t < m * (i + 1); ++t)
          slots.push_back({z[t](d + ch), c[t](d + ch)});
      } else {
        for (Eigen::Index t = m * i; t < m * (i + 1); ++t) slots.push_back({z[t](ch), c[t](ch)});
      }
      double mx = -INFINITY;
      for (auto& s : slots) mx = std::max(mx, s.first);
      double num = 0.0, den = 0.0;
      for (auto& s : slots) {
        den += std::exp(s.first - mx);
        num += std::exp(s.first - mx) * s.second;
      }
      p(ch) = num / den;
    }
    double ms = 0.0;
    for (int ch = 0; ch < d; ++ch) ms += p(ch) * p(ch);
    const double inv = 1.0 / std::sqrt(ms / d + cfg.eps);
    for (int ch = 0; ch < d; ++ch) p(ch) *= inv * double(w.norm(ch));
    rope_ref(p, m * i, freqs, 1);
    if (cfg.hadamard) p = had * p;
    out.row(i) = p.transpose();
  }
  return out;
}

}  // namespace v4sim::reference
