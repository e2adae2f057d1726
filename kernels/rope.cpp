#include "kernels/rope.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numbers>

namespace v4sim {

RopeConfig v4_window_rope() {
  return RopeConfig{};
}

RopeConfig v4_compressed_rope() {
  RopeConfig c;
  c.theta = 160000.0;
  c.yarn = true;
  return c;
}

namespace {

// Dimension (in rope_dim units) at which a wavelength fits `rotations` times into L_orig.
double correction_dim(const RopeConfig& c, double rotations) {
  const double d = static_cast<double>(c.rope_dim);
  return d *
         std::log(static_cast<double>(c.original_seq_len) / (rotations * 2.0 * std::numbers::pi)) /
         (2.0 * std::log(c.theta));
}

}  // namespace

YarnRange yarn_range(const RopeConfig& c) {
  const auto lo = static_cast<std::int64_t>(std::floor(correction_dim(c, c.beta_fast)));
  const auto hi = static_cast<std::int64_t>(std::ceil(correction_dim(c, c.beta_slow)));
  return {std::max<std::int64_t>(lo, 0), std::min<std::int64_t>(hi, c.rope_dim - 1)};
}

RopeTable make_rope_table(const RopeConfig& c) {
  RopeTable t;
  t.rope_dim = c.rope_dim;
  const std::int64_t pairs = c.rope_dim / 2;
  t.frequencies.resize(static_cast<std::size_t>(pairs));
  const YarnRange r = yarn_range(c);
  // The official code nudges a degenerate ramp (lo == hi) by 0.001 to avoid dividing by zero.
  const double span = r.hi == r.lo ? 0.001 : static_cast<double>(r.hi - r.lo);
  for (std::int64_t j = 0; j < pairs; ++j) {
    const double base =
        std::pow(c.theta, -2.0 * static_cast<double>(j) / static_cast<double>(c.rope_dim));
    double w = base;
    if (c.yarn) {
      // s_j = 1 - clamp((j - lo) / (hi - lo), 0, 1): 1 keeps the base frequency, 0 divides it.
      const double ramp =
          std::clamp((static_cast<double>(j) - static_cast<double>(r.lo)) / span, 0.0, 1.0);
      const double s = 1.0 - ramp;
      w = base * (1.0 - s) / c.yarn_factor + base * s;
    }
    t.frequencies[static_cast<std::size_t>(j)] = w;
  }
  return t;
}

RopeAngles rope_angles(const RopeTable& table, std::int64_t position) {
  RopeAngles a;
  a.cos.resize(table.frequencies.size());
  a.sin.resize(table.frequencies.size());
  for (std::size_t j = 0; j < table.frequencies.size(); ++j) {
    const double angle = static_cast<double>(position) * table.frequencies[j];
    a.cos[j] = static_cast<float>(std::cos(angle));
    a.sin[j] = static_cast<float>(std::sin(angle));
  }
  return a;
}

void rope_rotate(std::span<float> x, const RopeAngles& angles, bool inverse) {
  const std::size_t pairs = angles.cos.size();
  assert(x.size() >= 2 * pairs);
  float* z = x.data() + (x.size() - 2 * pairs);
  const float sign = inverse ? -1.0f : 1.0f;
  for (std::size_t j = 0; j < pairs; ++j) {
    const float c = angles.cos[j], s = sign * angles.sin[j];
    const float re = z[2 * j], im = z[2 * j + 1];
    z[2 * j] = re * c - im * s;
    z[2 * j + 1] = re * s + im * c;
  }
}

void rope_rotate_rows(std::span<float> data, std::int64_t row_width, const RopeAngles& angles,
                      bool inverse) {
  const auto w = static_cast<std::size_t>(row_width);
  for (std::size_t off = 0; off + w <= data.size(); off += w)
    rope_rotate(data.subspan(off, w), angles, inverse);
}

void rope_rotate(std::span<float> x, const RopeTable& table, std::int64_t position) {
  rope_rotate(x, rope_angles(table, position), false);
}

void rope_derotate(std::span<float> x, const RopeTable& table, std::int64_t position) {
  rope_rotate(x, rope_angles(table, position), true);
}

}  // namespace v4sim
