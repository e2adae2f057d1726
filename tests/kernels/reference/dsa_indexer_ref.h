// Naive double-precision reference for the V3.2 DSA indexer (kernels/dsa_indexer_forward.h) in
// exact arithmetic, written from reference/kernels.md §8.1 and the official V3.2 model.py: no
// Hadamard (it is orthonormal, so exact scores do not depend on it) and no FP8 rounding. The RoPE
// frequency table is recomputed here from the YaRN formula, independently of kernels/rope.h.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "kernels/token_selection.h"

namespace v4sim::reference {

struct DsaRefWeights {
  const RowMatrixXf& wq_b;          // [H*d, r_q]
  const RowMatrixXf& wk;            // [d, D]
  const Eigen::VectorXf& gain;      // [d]
  const Eigen::VectorXf& bias;      // [d]
  const RowMatrixXf& weights_proj;  // [H, D]
  int heads = 64, head_dim = 128, rope_dim = 64;
};

/// V3.2 RoPE frequencies: theta 1e4, YaRN factor 40 over 4096, beta_fast 32, beta_slow 1.
inline std::vector<double> dsa_ref_frequencies(int rope_dim) {
  const double theta = 10000.0, factor = 40.0, orig = 4096.0;
  auto corr = [&](double beta) {
    return rope_dim * std::log(orig / (2.0 * std::numbers::pi * beta)) / (2.0 * std::log(theta));
  };
  const double lo = std::max(std::floor(corr(32.0)), 0.0);
  const double hi = std::min(std::ceil(corr(1.0)), double(rope_dim - 1));
  std::vector<double> w(rope_dim / 2);
  for (int j = 0; j < rope_dim / 2; ++j) {
    const double base = std::pow(theta, -2.0 * j / rope_dim);
    const double smooth = 1.0 - std::clamp((j - lo) / (hi - lo), 0.0, 1.0);
    w[j] = base / factor * (1.0 - smooth) + base * smooth;
  }
  return w;
}

/// Non-interleaved rotation of the first rope_dim dims: pairs (j, j + rope_dim/2).
inline void dsa_ref_rope(std::vector<double>& x, int rope_dim, std::int64_t pos) {
  const std::vector<double> w = dsa_ref_frequencies(rope_dim);
  const int half = rope_dim / 2;
  for (int j = 0; j < half; ++j) {
    const double c = std::cos(pos * w[j]), s = std::sin(pos * w[j]);
    const double re = x[j], im = x[j + half];
    x[j] = re * c - im * s;
    x[j + half] = re * s + im * c;
  }
}

/// k_s = RoPE(LayerNorm(W_k x_s)) at position pos.
inline std::vector<double> dsa_ref_key(const DsaRefWeights& w, const RowMatrixXf& x,
                                       Eigen::Index row, std::int64_t pos) {
  const int d = w.head_dim;
  std::vector<double> k(d);
  for (int j = 0; j < d; ++j) {
    double acc = 0.0;
    for (Eigen::Index c = 0; c < x.cols(); ++c) acc += double(w.wk(j, c)) * double(x(row, c));
    k[j] = acc;
  }
  double mean = 0.0, var = 0.0;
  for (double v : k) mean += v;
  mean /= d;
  for (double v : k) var += (v - mean) * (v - mean);
  var /= d;
  for (int j = 0; j < d; ++j)
    k[j] = (k[j] - mean) / std::sqrt(var + 1e-6) * double(w.gain[j]) + double(w.bias[j]);
  dsa_ref_rope(k, w.rope_dim, pos);
  return k;
}

/// Head h of q_t = RoPE(W_qb c_q) at position pos.
inline std::vector<double> dsa_ref_query(const DsaRefWeights& w, const RowMatrixXf& c_q,
                                         Eigen::Index row, int h, std::int64_t pos) {
  const int d = w.head_dim;
  std::vector<double> q(d);
  for (int j = 0; j < d; ++j) {
    double acc = 0.0;
    for (Eigen::Index c = 0; c < c_q.cols(); ++c)
      acc += double(w.wq_b(h * d + j, c)) * double(c_q(row, c));
    q[j] = acc;
  }
  dsa_ref_rope(q, w.rope_dim, pos);
  return q;
}

/// I(t, s) for s = 0..t of the query in row `row` (position t), keys from rows 0..t of x_all.
inline std::vector<double> dsa_ref_scores(const DsaRefWeights& w, const RowMatrixXf& c_q,
                                          const RowMatrixXf& x_q, Eigen::Index row, std::int64_t t,
                                          const RowMatrixXf& x_all) {
  const int H = w.heads, d = w.head_dim;
  std::vector<std::vector<double>> keys;
  for (std::int64_t s = 0; s <= t; ++s) keys.push_back(dsa_ref_key(w, x_all, s, s));
  std::vector<double> scores(t + 1, 0.0);
  for (int h = 0; h < H; ++h) {
    double wh = 0.0;
    for (Eigen::Index c = 0; c < x_q.cols(); ++c)
      wh += double(w.weights_proj(h, c)) * double(x_q(row, c));
    wh /= std::sqrt(double(H)) * std::sqrt(double(d));
    const std::vector<double> q = dsa_ref_query(w, c_q, row, h, t);
    for (std::int64_t s = 0; s <= t; ++s) {
      double dot = 0.0;
      for (int j = 0; j < d; ++j) dot += q[j] * keys[s][j];
      scores[s] += wh * std::max(dot, 0.0);
    }
  }
  return scores;
}

/// Normalised Sylvester Hadamard of a vector in double (H[i][j] = (-1)^popcount(i & j) / sqrt(n)).
inline std::vector<double> ref_hadamard(const std::vector<double>& x) {
  const std::size_t n = x.size();
  std::vector<double> y(n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      y[i] += ((std::popcount(i & j) & 1) ? -x[j] : x[j]) / std::sqrt(double(n));
  return y;
}

}  // namespace v4sim::reference
