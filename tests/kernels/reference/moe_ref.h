// Naive double-precision reference for the MoE layer (kernels/moe_forward.h), straight from
// reference/kernels.md §6: plain loops, one token and one expert at a time, no grouping, scores
// and weights by their textbook formulas (adequate for the moderate logits the comparisons use).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "kernels/token_selection.h"

namespace v4sim::reference {

struct MoeRefRouter {
  bool sigmoid = false;  // false: sqrt(softplus)
  int topk = 6;
  double route_scale = 1.5;
  int n_group = 1, topk_group = 1;
};

inline double moe_ref_score(bool sigmoid, double l) {
  return sigmoid ? 1.0 / (1.0 + std::exp(-l)) : std::sqrt(std::log(1.0 + std::exp(l)));
}

/// logits[t][e] = sum_d x[t][d] * wg[e][d].
inline std::vector<std::vector<double>> moe_ref_logits(const RowMatrixXf& x,
                                                       const RowMatrixXf& wg) {
  std::vector<std::vector<double>> l(x.rows(), std::vector<double>(wg.rows(), 0.0));
  for (int t = 0; t < x.rows(); ++t)
    for (int e = 0; e < wg.rows(); ++e)
      for (int d = 0; d < x.cols(); ++d) l[t][e] += double(x(t, d)) * wg(e, d);
  return l;
}

/// Selected experts of one token, best biased score first; also the gap between the k-th and the
/// (k+1)-th candidate (small gaps mean float and double may legitimately choose differently).
struct MoeRefSelection {
  std::vector<int> experts;
  double margin = 0.0;
};

inline MoeRefSelection moe_ref_select(const MoeRefRouter& r, const std::vector<double>& logits,
                                      const std::vector<double>& bias) {
  const int E = static_cast<int>(logits.size());
  std::vector<double> biased(E);
  for (int e = 0; e < E; ++e)
    biased[e] = moe_ref_score(r.sigmoid, logits[e]) + (bias.empty() ? 0.0 : bias[e]);
  std::vector<int> candidates;
  if (r.n_group <= 1) {
    candidates.resize(E);
    std::iota(candidates.begin(), candidates.end(), 0);
  } else {
    const int gs = E / r.n_group;
    std::vector<std::pair<double, int>> groups;
    for (int g = 0; g < r.n_group; ++g) {
      std::vector<double> m(biased.begin() + g * gs, biased.begin() + (g + 1) * gs);
      std::sort(m.rbegin(), m.rend());
      groups.push_back({m[0] + m[1], g});
    }
    std::sort(groups.begin(), groups.end(), [](auto a, auto b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    });
    for (int i = 0; i < r.topk_group; ++i)
      for (int e = groups[i].second * gs; e < (groups[i].second + 1) * gs; ++e)
        candidates.push_back(e);
  }
  std::sort(candidates.begin(), candidates.end(), [&](int a, int b) {
    return biased[a] > biased[b] || (biased[a] == biased[b] && a < b);
  });
  MoeRefSelection s;
  s.experts.assign(candidates.begin(), candidates.begin() + r.topk);
  s.margin = static_cast<int>(candidates.size()) > r.topk
                 ? biased[candidates[r.topk - 1]] - biased[candidates[r.topk]]
                 : INFINITY;
  return s;
}

/// gamma_e = route_scale * s_e / sum of s over the selection (unbiased scores).
inline std::vector<double> moe_ref_weights(const MoeRefRouter& r, const std::vector<double>& logits,
                                           const std::vector<int>& experts) {
  std::vector<double> w(experts.size());
  double sum = 0.0;
  for (std::size_t j = 0; j < experts.size(); ++j)
    sum += (w[j] = moe_ref_score(r.sigmoid, logits[experts[j]]));
  for (double& v : w) v = r.route_scale * v / sum;
  return w;
}

/// One clamped SwiGLU expert on one token: y += W2 (gamma * SiLU(min(W1 x, L)) * clamp(W3 x, ±L)).
/// Also counts how many gate / up values the clamp changed.
inline void moe_ref_expert(const RowMatrixXf& w1, const RowMatrixXf& w3, const RowMatrixXf& w2,
                           const float* x, double gamma, double limit, double* y,
                           std::int64_t* clamped = nullptr) {
  const int I = static_cast<int>(w1.rows()), D = static_cast<int>(w1.cols());
  std::vector<double> h(I);
  for (int i = 0; i < I; ++i) {
    double g = 0.0, u = 0.0;
    for (int d = 0; d < D; ++d) {
      g += double(w1(i, d)) * x[d];
      u += double(w3(i, d)) * x[d];
    }
    if (clamped && (g > limit || std::fabs(u) > limit)) ++*clamped;
    g = std::min(g, limit);
    u = std::max(-limit, std::min(u, limit));
    h[i] = gamma * g / (1.0 + std::exp(-g)) * u;
  }
  for (int d = 0; d < D; ++d) {
    double acc = 0.0;
    for (int i = 0; i < I; ++i) acc += double(w2(d, i)) * h[i];
    y[d] += acc;
  }
}

}  // namespace v4sim::reference
