#include "kernels/mhc_forward.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/precondition.h"

namespace v4sim {
namespace {

constexpr const char* kKernel = "mhc_forward";  // names the kernel in precondition errors

std::int64_t mixing_rows(const MhcShape& s) {
  return s.head ? s.streams : (2 + s.streams) * s.streams;
}

float sigmoid(float z) {
  // Both branches keep exp's argument <= 0, so +-1e4 gives exactly 0 or 1 and never Inf / Inf.
  if (z >= 0.0f) return 1.0f / (1.0f + std::exp(-z));
  const float e = std::exp(z);
  return e / (1.0f + e);
}

void check_streams(const MhcShape& s, const Eigen::Ref<const RowMatrixXf>& streams) {
  V4SIM_REQUIRE(kKernel, s.streams > 0 && s.hidden > 0, "streams and hidden must be positive");
  V4SIM_REQUIRE(kKernel, streams.rows() == s.tokens && streams.cols() == s.streams * s.hidden,
                "streams must be [tokens, n*D]");
}

}  // namespace

void mhc_sinkhorn(std::span<float> r, int n, std::int64_t iters, float eps) {
  V4SIM_REQUIRE(kKernel, n > 0 && static_cast<int>(r.size()) == n * n,
                "sinkhorn needs an n x n matrix");
  V4SIM_REQUIRE(kKernel, iters >= 1, "sinkhorn needs at least one iteration");
  auto normalise_columns = [&] {
    for (int c = 0; c < n; ++c) {
      float sum = 0.0f;
      for (int i = 0; i < n; ++i) sum += r[i * n + c];
      for (int i = 0; i < n; ++i) r[i * n + c] /= sum + eps;
    }
  };
  // Iteration 1: row softmax (positive entries) + eps, then columns.
  for (int i = 0; i < n; ++i) {
    float* row = &r[i * n];
    const float mx = *std::max_element(row, row + n);
    float sum = 0.0f;
    for (int k = 0; k < n; ++k) sum += (row[k] = std::exp(row[k] - mx));
    for (int k = 0; k < n; ++k) row[k] = row[k] / sum + eps;
  }
  normalise_columns();
  for (std::int64_t it = 1; it < iters; ++it) {
    for (int i = 0; i < n; ++i) {
      float sum = 0.0f;
      for (int k = 0; k < n; ++k) sum += r[i * n + k];
      for (int k = 0; k < n; ++k) r[i * n + k] /= sum + eps;
    }
    normalise_columns();
  }
}

MhcMappings mhc_mappings(const MhcShape& s, const MhcParams& p,
                         const Eigen::Ref<const RowMatrixXf>& streams, Cost* counted, float eps) {
  check_streams(s, streams);
  const std::int64_t n = s.streams, rows = mixing_rows(s), width = n * s.hidden;
  V4SIM_REQUIRE(kKernel, p.fn.rows() == rows && p.fn.cols() == width,
                "fn must be [(2+n)*n or n, n*D]");
  V4SIM_REQUIRE(kKernel, static_cast<std::int64_t>(p.base.size()) == rows,
                "base must match fn's rows");
  V4SIM_REQUIRE(kKernel, p.scale.size() == (s.head ? 1u : 3u),
                "scale must have 3 entries (head: 1)");

  RowMatrixXf mix(s.tokens, rows);
  mix.noalias() = streams * p.fn.transpose();  // Φ v per token, normalised below

  MhcMappings m;
  m.pre.resize(s.tokens, n);
  if (!s.head) {
    m.post.resize(s.tokens, n);
    m.comb.resize(s.tokens, n * n);
  }
  for (std::int64_t t = 0; t < s.tokens; ++t) {
    const double mean_sq = streams.row(t).cast<double>().squaredNorm() / static_cast<double>(width);
    const float rho = static_cast<float>(1.0 / std::sqrt(mean_sq + eps));
    const auto mu = [&](std::int64_t i) { return rho * mix(t, i); };
    for (std::int64_t i = 0; i < n; ++i)
      m.pre(t, i) = sigmoid(p.scale[0] * mu(i) + p.base[i]) + eps;
    if (s.head) continue;
    for (std::int64_t i = 0; i < n; ++i)
      m.post(t, i) = 2.0f * sigmoid(p.scale[1] * mu(n + i) + p.base[n + i]);
    for (std::int64_t i = 0; i < n * n; ++i)
      m.comb(t, i) = p.scale[2] * mu(2 * n + i) + p.base[2 * n + i];
    mhc_sinkhorn({m.comb.row(t).data(), static_cast<std::size_t>(n * n)}, static_cast<int>(n),
                 s.sinkhorn_iters, eps);
  }
  if (counted != nullptr) {
    counted->flops_at(Precision::fp32) += 2 * s.tokens * rows * width;
    counted->read(MemClass::weights) += 4 * parameter_count(s);
    counted->read(MemClass::activations) += 2 * s.tokens * width;  // BF16 streams
  }
  return m;
}

void mhc_collapse(const MhcShape& s, const Eigen::Ref<const RowMatrixXf>& streams,
                  const Eigen::Ref<const RowMatrixXf>& pre, Eigen::Ref<RowMatrixXf> x,
                  Cost* counted) {
  check_streams(s, streams);
  const std::int64_t n = s.streams, d = s.hidden;
  V4SIM_REQUIRE(kKernel, pre.rows() == s.tokens && pre.cols() == n, "pre must be [tokens, n]");
  V4SIM_REQUIRE(kKernel, x.rows() == s.tokens && x.cols() == d, "x must be [tokens, D]");
  for (std::int64_t t = 0; t < s.tokens; ++t) {
    x.row(t) = pre(t, 0) * streams.row(t).segment(0, d);
    for (std::int64_t i = 1; i < n; ++i) x.row(t) += pre(t, i) * streams.row(t).segment(i * d, d);
  }
  if (counted != nullptr) {
    counted->flops_at(Precision::fp32) += 2 * s.tokens * n * d;
    counted->written(MemClass::activations) += 2 * s.tokens * d;  // BF16 x
  }
}

void mhc_expand(const MhcShape& s, const Eigen::Ref<const RowMatrixXf>& streams,
                const Eigen::Ref<const RowMatrixXf>& f, const MhcMappings& m,
                Eigen::Ref<RowMatrixXf> out, Cost* counted) {
  check_streams(s, streams);
  V4SIM_REQUIRE(kKernel, !s.head, "the hc-head has no expand step");
  const std::int64_t n = s.streams, d = s.hidden;
  V4SIM_REQUIRE(kKernel, f.rows() == s.tokens && f.cols() == d, "f must be [tokens, D]");
  V4SIM_REQUIRE(kKernel,
                m.post.rows() == s.tokens && m.post.cols() == n && m.comb.rows() == s.tokens &&
                    m.comb.cols() == n * n,
                "mappings must be [tokens, n] and [tokens, n*n]");
  V4SIM_REQUIRE(kKernel, out.rows() == s.tokens && out.cols() == n * d,
                "out must be [tokens, n*D]");
  V4SIM_REQUIRE(kKernel, out.data() != streams.data(), "out must not alias streams");
  for (std::int64_t t = 0; t < s.tokens; ++t) {
    for (std::int64_t j = 0; j < n; ++j) {
      auto xj = out.row(t).segment(j * d, d);
      xj = m.post(t, j) * f.row(t);
      for (std::int64_t i = 0; i < n; ++i)
        xj += m.comb(t, i * n + j) * streams.row(t).segment(i * d, d);
    }
  }
  if (counted != nullptr) {
    counted->flops_at(Precision::fp32) += 2 * s.tokens * n * (n + 1) * d;
    counted->read(MemClass::activations) += 2 * s.tokens * d;         // BF16 f
    counted->written(MemClass::activations) += 2 * s.tokens * n * d;  // BF16 streams
  }
}

MhcMappings mhc_pre(const MhcShape& s, const MhcParams& p,
                    const Eigen::Ref<const RowMatrixXf>& streams, Eigen::Ref<RowMatrixXf> x,
                    Cost* counted, float eps) {
  MhcMappings m = mhc_mappings(s, p, streams, counted, eps);
  mhc_collapse(s, streams, m.pre, x, counted);
  return m;
}

}  // namespace v4sim
