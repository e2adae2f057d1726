// Fast reproducible random values for kernel inputs, weights and benchmark caches (not a
// statistical tool: splitmix64 bits mapped to a uniform float, about 1 ns per value, so filling
// a 1M-context cache or a Pro-sized layer takes seconds, not minutes).
#pragma once

#include <cstdint>
#include <span>

#include "kernels/token_selection.h"  // RowMatrixXf

namespace v4sim {

/// Fills `out` with values uniform in [-half_width, half_width), determined by `seed` alone.
void fill_uniform(std::span<float> out, float half_width, std::uint64_t seed);

/// [rows, cols] uniform in [-half_width, half_width): fill_uniform over its row-major storage.
RowMatrixXf random_matrix(std::int64_t rows, std::int64_t cols, float half_width,
                          std::uint64_t seed);

/// Half-width of a uniform distribution with the standard deviation `sigma` (sqrt(3) * sigma).
float uniform_half_width(double sigma);

}  // namespace v4sim
