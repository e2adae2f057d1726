// Small helpers shared by the MLA, DSA-indexer and GQA kernel tests: seeded random matrices (the
// seed is printed so a failure can be replayed) and error measures against double references.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>

#include "kernels/token_selection.h"

namespace v4sim::reference {

/// A generator whose seed is printed once, e.g. "[seed] mla.dense = 1234".
class SeededRng {
 public:
  SeededRng(const char* what, std::uint64_t seed) : gen_(seed) {
    std::printf("[seed] %s = %llu\n", what, static_cast<unsigned long long>(seed));
  }
  std::mt19937_64& gen() { return gen_; }

  /// [rows, cols] with N(0, stddev^2) entries.
  RowMatrixXf normal(Eigen::Index rows, Eigen::Index cols, double stddev = 1.0) {
    std::normal_distribution<float> d(0.0f, static_cast<float>(stddev));
    RowMatrixXf m(rows, cols);
    for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = d(gen_);
    return m;
  }
  std::int64_t uniform_int(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(gen_);
  }

 private:
  std::mt19937_64 gen_;
};

/// max |a - b| / max(max |b|, floor): the error relative to the reference's scale.
template <class A, class B>
double relative_max_error(const A& a, const B& b, double floor = 1e-30) {
  const double err = (a.template cast<double>() - b.template cast<double>()).cwiseAbs().maxCoeff();
  const double scale = b.template cast<double>().cwiseAbs().maxCoeff();
  return err / std::max(scale, floor);
}

/// relative_max_error(a, b), printed so the margin to the stated tolerance is visible in the log.
template <class A, class B>
double reported_error(const char* what, const A& a, const B& b) {
  const double e = relative_max_error(a, b);
  std::printf("[error] %s: %.3g\n", what, e);
  return e;
}

}  // namespace v4sim::reference
