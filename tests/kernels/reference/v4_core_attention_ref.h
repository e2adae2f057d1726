// Naive double reference for V4 core attention (reference/kernels.md §1.4-1.5): one softmax per
// head over the given keys with the sink logit in the denominator only, then de-rotation of the
// RoPE half of the output at the query position.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "tests/kernels/reference/v4_rope_ref.h"

namespace v4sim::reference {

/// q: [H*d] of one query at position t (rotated); keys: its key vectors (d each).
/// Returns [H*d]. Plain loops over heads and keys.
inline Eigen::VectorXd core_attention_ref(const Eigen::VectorXd& q,
                                          const std::vector<Eigen::VectorXd>& keys,
                                          const std::vector<double>& sink, std::int64_t t,
                                          const std::vector<double>& freqs) {
  const int H = int(sink.size());
  const Eigen::Index d = q.size() / H;
  Eigen::VectorXd out = Eigen::VectorXd::Zero(q.size());
  for (int h = 0; h < H; ++h) {
    std::vector<double> a(keys.size());
    double mx = -INFINITY;
    for (std::size_t s = 0; s < keys.size(); ++s) {
      double dot = 0.0;
      for (Eigen::Index c = 0; c < d; ++c) dot += q(h * d + c) * keys[s](c);
      a[s] = dot / std::sqrt(double(d));
      mx = std::max(mx, a[s]);
    }
    double den = std::exp(sink[h] - mx);
    Eigen::VectorXd num = Eigen::VectorXd::Zero(d);
    for (std::size_t s = 0; s < keys.size(); ++s) {
      const double e = std::exp(a[s] - mx);
      den += e;
      for (Eigen::Index c = 0; c < d; ++c) num(c) += e * keys[s](c);
    }
    Eigen::VectorXd o = num / den;
    rope_ref(o, t, freqs, -1);
    out.segment(h * d, d) = o;
  }
  return out;
}

}  // namespace v4sim::reference
