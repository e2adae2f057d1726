// Seeded random inputs for the kernel tests: the seed is printed once ("[seed] mla.dense = 1234")
// and TRACE_SEED puts it into every failure message after it, so a failure can be replayed.
// Values are drawn in storage order from std::mt19937_64, so a test's inputs depend on its seed
// and the order of its draws alone.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "kernels/token_selection.h"

namespace v4sim::test_support {

/// [rows, cols] filled row by row with dist(gen).
template <class Dist>
RowMatrixXf random_matrix(std::mt19937_64& gen, Eigen::Index rows, Eigen::Index cols, Dist dist) {
  RowMatrixXf m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = dist(gen);
  return m;
}

/// A generator whose seed is printed once, with the draws the kernel tests share.
class SeededRng {
 public:
  SeededRng(const char* what, std::uint64_t seed) : gen_(seed), seed_(seed) {
    std::printf("[seed] %s = %llu\n", what, static_cast<unsigned long long>(seed));
  }
  std::mt19937_64& gen() { return gen_; }
  std::uint64_t seed() const { return seed_; }

  /// [rows, cols] with N(0, stddev^2) entries.
  RowMatrixXf normal(Eigen::Index rows, Eigen::Index cols, double stddev = 1.0) {
    return random_matrix(gen_, rows, cols,
                         std::normal_distribution<float>(0.0f, static_cast<float>(stddev)));
  }
  /// [rows, cols] uniform with standard deviation sigma (cheaper than normal() for large weights).
  RowMatrixXf uniform(Eigen::Index rows, Eigen::Index cols, double sigma) {
    const float half = static_cast<float>(std::sqrt(3.0) * sigma);
    return random_matrix(gen_, rows, cols, std::uniform_real_distribution<float>(-half, half));
  }
  /// n values N(0, sigma^2).
  std::vector<float> normal_vec(std::size_t n, double sigma) {
    std::normal_distribution<float> d(0.0f, static_cast<float>(sigma));
    std::vector<float> v(n);
    for (float& x : v) x = d(gen_);
    return v;
  }
  std::int64_t uniform_int(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(gen_);
  }

 private:
  std::mt19937_64 gen_;
  std::uint64_t seed_;
};

/// Random chunk lengths of 1..max_len tokens summing to n (chunked prefill in the layer tests).
inline std::vector<std::int64_t> random_chunks(SeededRng& rng, std::int64_t n,
                                               std::int64_t max_len) {
  std::vector<std::int64_t> out;
  for (std::int64_t left = n; left > 0;) {
    out.push_back(std::min(left, rng.uniform_int(1, max_len)));
    left -= out.back();
  }
  return out;
}

}  // namespace v4sim::test_support

/// Adds "seed <n>" of a SeededRng to the failure messages of the enclosing scope.
#define TRACE_SEED(rng) SCOPED_TRACE(std::string("seed ").append(std::to_string((rng).seed())))
