#include "kernels/random_fill.h"

#include <cmath>

namespace v4sim {

void fill_uniform(std::span<float> out, float half_width, std::uint64_t seed) {
  std::uint64_t state = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
  for (float& v : out) {
    // splitmix64 (Steele, Lea, Flood 2014), top 24 bits -> [0, 1).
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    const float u = static_cast<float>(z >> 40) * (1.0f / 16777216.0f);
    v = (2.0f * u - 1.0f) * half_width;
  }
}

RowMatrixXf random_matrix(std::int64_t rows, std::int64_t cols, float half_width,
                          std::uint64_t seed) {
  RowMatrixXf m(rows, cols);
  fill_uniform(std::span<float>(m.data(), static_cast<std::size_t>(m.size())), half_width, seed);
  return m;
}

float uniform_half_width(double sigma) {
  return static_cast<float>(std::sqrt(3.0) * sigma);
}

}  // namespace v4sim
