// Rotary position embedding as DeepSeek V4 applies it (reference/kernels.md §1.3, §1.5):
// interleaved ("GPT-J") pairs on the LAST rope_dim dims of a vector; pair j = (z[2j], z[2j+1]) is
// read as the complex number z[2j] + i z[2j+1] and multiplied by e^{i t w_j}.
//
// Two frequency tables exist per model:
//   * window-only layers: w_j = theta^{-2j/rope_dim} with theta = 10000;
//   * compressed (CSA/HCA) layers: theta = 160000 with YaRN interpolation (factor 16, original
//     length 65536, beta_fast 32, beta_slow 1) and NO YaRN magnitude scaling - one table serves the
//     queries, window keys, compressed keys and both indexer tensors of such a layer.
// RoPE is element-wise work (not counted in Cost, see kernels/cost.h).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace v4sim {

struct RopeConfig {
  std::int64_t rope_dim = 64;  // rotated dims (even), the last ones of each vector
  double theta = 10000.0;
  bool yarn = false;  // YaRN frequency interpolation (no magnitude scaling either way)
  double yarn_factor = 16.0;
  std::int64_t original_seq_len = 65536;
  double beta_fast = 32.0;
  double beta_slow = 1.0;
};

/// Window-only layers (compress_ratio 0, MTP layer): theta 10000, no YaRN (config.json rope_theta).
RopeConfig v4_window_rope();
/// CSA and HCA layers: compress_rope_theta 160000, YaRN factor 16 over 65536 (config.json).
RopeConfig v4_compressed_rope();

/// Per-pair angular frequencies w_j, j in [0, rope_dim/2), in double precision.
struct RopeTable {
  std::int64_t rope_dim = 0;
  std::vector<double> frequencies;  // [rope_dim/2]
};
RopeTable make_rope_table(const RopeConfig& config);

/// YaRN ramp bounds: lo = floor(c(beta_fast)), hi = ceil(c(beta_slow)) clamped to [0, rope_dim-1],
/// c(beta) = rope_dim * ln(L_orig / (2 pi beta)) / (2 ln theta). (15 and 25 for V4's numbers.)
struct YarnRange {
  std::int64_t lo = 0;
  std::int64_t hi = 0;
};
YarnRange yarn_range(const RopeConfig& config);

/// cos/sin of t * w_j for one position, shared by every vector rotated at that position.
struct RopeAngles {
  std::vector<float> cos;  // [rope_dim/2]
  std::vector<float> sin;  // [rope_dim/2]
};
RopeAngles rope_angles(const RopeTable& table, std::int64_t position);

/// Rotates the last rope_dim values of `x` by the angles (inverse: by their negatives, i.e. the
/// de-rotation of §1.5). x.size() >= rope_dim.
void rope_rotate(std::span<float> x, const RopeAngles& angles, bool inverse = false);
/// Same for `rows` consecutive vectors of width `row_width` (e.g. every head of a query).
void rope_rotate_rows(std::span<float> data, std::int64_t row_width, const RopeAngles& angles,
                      bool inverse = false);
/// Convenience: rotate / de-rotate one vector at `position`.
void rope_rotate(std::span<float> x, const RopeTable& table, std::int64_t position);
void rope_derotate(std::span<float> x, const RopeTable& table, std::int64_t position);

}  // namespace v4sim
