// Naive double-precision references for absorbed MLA (kernels/mla_attention_forward.h): plain
// loops, no Eigen arithmetic, written straight from reference/kernels.md §8.2.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/token_selection.h"

namespace v4sim::reference {

using RowMatrixd = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct MlaRefDims {
  int heads = 0, nope = 0, rope = 0, latent = 0, v = 0;
  std::int64_t start_pos = 0;
};

/// Cache indices query i (at position start_pos + i) attends: 0..t, or its valid selected indices.
inline std::vector<std::int64_t> mla_ref_keys(std::int64_t t, const TokenSelection* sel,
                                              Eigen::Index i) {
  std::vector<std::int64_t> keys;
  if (sel == nullptr) {
    for (std::int64_t s = 0; s <= t; ++s) keys.push_back(s);
  } else {
    for (Eigen::Index j = 0; j < sel->cols(); ++j)
      if ((*sel)(i, j) >= 0) keys.push_back((*sel)(i, j));
  }
  return keys;
}

/// Softmax-weighted sum of per-key values: out[c] = sum_k p_k * value(k, c).
template <class Score, class Value>
void ref_softmax_sum(const std::vector<std::int64_t>& keys, Score score, Value value, int width,
                     double* out) {
  for (int c = 0; c < width; ++c) out[c] = 0.0;
  if (keys.empty()) return;
  std::vector<double> a(keys.size());
  double mx = -INFINITY;
  for (std::size_t k = 0; k < keys.size(); ++k) {
    a[k] = score(keys[k]);
    mx = std::max(mx, a[k]);
  }
  double z = 0.0;
  for (double& x : a) z += (x = std::exp(x - mx));
  for (std::size_t k = 0; k < keys.size(); ++k)
    for (int c = 0; c < width; ++c) out[c] += a[k] / z * value(keys[k], c);
}

/// Absorbed form in double: q^C = W_UK,h^T q^N, scores over [c | k^R], ō = sum p c, o = W_UV,h ō.
/// Returns [T, heads*v]; when latent_out is given it receives ō as [T, heads*latent].
inline RowMatrixd mla_ref_absorbed(const MlaRefDims& d, const RowMatrixXf& q_nope,
                                   const RowMatrixXf& q_rope, const RowMatrixXf& cache,
                                   const RowMatrixXf& w_uk, const RowMatrixXf& w_uv,
                                   const TokenSelection* sel, double scale,
                                   RowMatrixd* latent_out = nullptr) {
  const Eigen::Index T = q_nope.rows();
  RowMatrixd out(T, d.heads * d.v);
  if (latent_out != nullptr) latent_out->resize(T, d.heads * d.latent);
  std::vector<double> qc(d.latent), obar(d.latent);
  for (Eigen::Index i = 0; i < T; ++i) {
    const auto keys = mla_ref_keys(d.start_pos + i, sel, i);
    for (int h = 0; h < d.heads; ++h) {
      for (int c = 0; c < d.latent; ++c) {
        double acc = 0.0;
        for (int n = 0; n < d.nope; ++n)
          acc += double(w_uk(h * d.nope + n, c)) * double(q_nope(i, h * d.nope + n));
        qc[c] = acc;
      }
      auto score = [&](std::int64_t s) {
        double acc = 0.0;
        for (int c = 0; c < d.latent; ++c) acc += qc[c] * double(cache(s, c));
        for (int r = 0; r < d.rope; ++r)
          acc += double(q_rope(i, h * d.rope + r)) * double(cache(s, d.latent + r));
        return acc * scale;
      };
      auto value = [&](std::int64_t s, int c) { return double(cache(s, c)); };
      ref_softmax_sum(keys, score, value, d.latent, obar.data());
      if (latent_out != nullptr)
        for (int c = 0; c < d.latent; ++c) (*latent_out)(i, h * d.latent + c) = obar[c];
      for (int o = 0; o < d.v; ++o) {
        double acc = 0.0;
        for (int c = 0; c < d.latent; ++c) acc += double(w_uv(h * d.v + o, c)) * obar[c];
        out(i, h * d.v + o) = acc;
      }
    }
  }
  return out;
}

/// Non-absorbed MLA in double: every head's keys [W_UK,h c_s | k^R_s] and values W_UV,h c_s are
/// expanded explicitly, then ordinary attention. Must equal the absorbed form.
inline RowMatrixd mla_ref_expanded(const MlaRefDims& d, const RowMatrixXf& q_nope,
                                   const RowMatrixXf& q_rope, const RowMatrixXf& cache,
                                   const RowMatrixXf& w_uk, const RowMatrixXf& w_uv,
                                   const TokenSelection* sel, double scale) {
  const Eigen::Index T = q_nope.rows(), n = cache.rows();
  // k_nope[s][h*nope + j], value[s][h*v + j]
  std::vector<std::vector<double>> k_nope(n, std::vector<double>(d.heads * d.nope));
  std::vector<std::vector<double>> value(n, std::vector<double>(d.heads * d.v));
  for (Eigen::Index s = 0; s < n; ++s) {
    for (int r = 0; r < d.heads * d.nope; ++r) {
      double acc = 0.0;
      for (int c = 0; c < d.latent; ++c) acc += double(w_uk(r, c)) * double(cache(s, c));
      k_nope[s][r] = acc;
    }
    for (int r = 0; r < d.heads * d.v; ++r) {
      double acc = 0.0;
      for (int c = 0; c < d.latent; ++c) acc += double(w_uv(r, c)) * double(cache(s, c));
      value[s][r] = acc;
    }
  }
  RowMatrixd out(T, d.heads * d.v);
  std::vector<double> o(d.v);
  for (Eigen::Index i = 0; i < T; ++i) {
    const auto keys = mla_ref_keys(d.start_pos + i, sel, i);
    for (int h = 0; h < d.heads; ++h) {
      auto score = [&](std::int64_t s) {
        double acc = 0.0;
        for (int j = 0; j < d.nope; ++j)
          acc += double(q_nope(i, h * d.nope + j)) * k_nope[s][h * d.nope + j];
        for (int r = 0; r < d.rope; ++r)
          acc += double(q_rope(i, h * d.rope + r)) * double(cache(s, d.latent + r));
        return acc * scale;
      };
      auto val = [&](std::int64_t s, int j) { return value[s][h * d.v + j]; };
      ref_softmax_sum(keys, score, val, d.v, o.data());
      for (int j = 0; j < d.v; ++j) out(i, h * d.v + j) = o[j];
    }
  }
  return out;
}

}  // namespace v4sim::reference
