// Naive double references for V4 RoPE (reference/kernels.md §1.3) and the normalised
// Walsh-Hadamard transform (§3.4), written from the formulas, not from the kernels.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <complex>
#include <cstdint>
#include <numbers>
#include <vector>

#include <Eigen/Core>

namespace v4sim::reference {

/// w_j = theta^{-2j/dim}; with YaRN: w_j/factor * ramp_j + w_j * (1 - ramp_j),
/// ramp_j = clamp((j - lo)/(hi - lo), 0, 1), lo/hi from the beta correction dims.
inline std::vector<double> rope_freqs_ref(int rope_dim, double theta, bool yarn,
                                          double factor = 16.0, double original = 65536.0,
                                          double beta_fast = 32.0, double beta_slow = 1.0) {
  const auto corr = [&](double beta) {
    return rope_dim * std::log(original / (beta * 2.0 * std::numbers::pi)) /
           (2.0 * std::log(theta));
  };
  const double lo = std::max(std::floor(corr(beta_fast)), 0.0);
  const double hi = std::min(std::ceil(corr(beta_slow)), double(rope_dim - 1));
  std::vector<double> f(rope_dim / 2);
  for (int j = 0; j < rope_dim / 2; ++j) {
    const double base = 1.0 / std::pow(theta, 2.0 * j / rope_dim);
    if (!yarn) {
      f[j] = base;
      continue;
    }
    const double ramp = std::clamp((j - lo) / (hi - lo), 0.0, 1.0);
    f[j] = base / factor * ramp + base * (1.0 - ramp);
  }
  return f;
}

/// Multiplies interleaved pairs of the last 2*freqs.size() entries of v by e^{i sign t w_j}.
inline void rope_ref(Eigen::Ref<Eigen::VectorXd> v, std::int64_t t,
                     const std::vector<double>& freqs, int sign = 1) {
  const Eigen::Index off = v.size() - 2 * Eigen::Index(freqs.size());
  for (std::size_t j = 0; j < freqs.size(); ++j) {
    const std::complex<double> z(v(off + 2 * j), v(off + 2 * j + 1));
    const std::complex<double> r = z * std::polar(1.0, sign * double(t) * freqs[j]);
    v(off + 2 * j) = r.real();
    v(off + 2 * j + 1) = r.imag();
  }
}

/// Sylvester-order Hadamard matrix H[i][j] = (-1)^{popcount(i & j)}, divided by sqrt(n).
inline Eigen::MatrixXd hadamard_ref(int n) {
  Eigen::MatrixXd h(n, n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      h(i, j) = (std::popcount(unsigned(i & j)) % 2 ? -1.0 : 1.0) / std::sqrt(double(n));
  return h;
}

}  // namespace v4sim::reference
