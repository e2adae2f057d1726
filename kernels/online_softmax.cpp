#include "kernels/online_softmax.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace v4sim::detail {

void SoftmaxPartial::reset(std::int64_t heads, std::int64_t width) {
  max.setConstant(heads, -std::numeric_limits<float>::infinity());
  sum.setZero(heads);
  acc.setZero(heads, width);
}

void absorb_block(
    SoftmaxPartial& p,
    Eigen::Ref<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> scores) {
  for (Eigen::Index h = 0; h < scores.rows(); ++h) {
    const float new_max = std::max(p.max(h), scores.row(h).maxCoeff());
    const float rescale = std::exp(p.max(h) - new_max);  // 0 on the first block
    scores.row(h) = (scores.row(h).array() - new_max).exp().matrix();
    p.sum(h) = p.sum(h) * rescale + scores.row(h).sum();
    p.acc.row(h) *= rescale;
    p.max(h) = new_max;
  }
}

void absorb_block_keys_major(
    SoftmaxPartial& p,
    Eigen::Ref<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> scores_t) {
  // Row by row, each a contiguous run of heads: Eigen vectorises these (a broadcast over the
  // whole block took its scalar exp, 13 % of the 1M-context V4-Pro HCA core).
  const Eigen::Index H = p.max.size(), n = scores_t.rows();
  Eigen::Array<float, 1, Eigen::Dynamic> new_max = p.max.transpose(), sum(H);
  for (Eigen::Index j = 0; j < n; ++j) new_max = new_max.max(scores_t.row(j).leftCols(H).array());
  for (Eigen::Index h = 0; h < H; ++h) {
    const float rescale = std::exp(p.max(h) - new_max(h));  // 0 on the first block
    p.sum(h) *= rescale;
    p.acc.row(h) *= rescale;
  }
  p.max = new_max.transpose();
  sum.setZero();
  for (Eigen::Index j = 0; j < n; ++j) {
    auto row = scores_t.row(j).leftCols(H).array();
    row = (row - new_max).exp();
    sum += row;
  }
  p.sum += sum.transpose();
}

void merge_partials(
    std::span<const SoftmaxPartial> parts, std::span<const float> sink,
    Eigen::Ref<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> out) {
  out.setZero();
  if (parts.empty() && sink.empty()) return;
  for (Eigen::Index h = 0; h < out.rows(); ++h) {
    float m = -std::numeric_limits<float>::infinity();
    for (const SoftmaxPartial& p : parts) m = std::max(m, p.max(h));
    float denom = 0;
    for (const SoftmaxPartial& p : parts) {
      const float w = std::exp(p.max(h) - m);
      denom += p.sum(h) * w;
      out.row(h) += w * p.acc.row(h);
    }
    if (!sink.empty()) denom += std::exp(sink[static_cast<std::size_t>(h)] - m);
    out.row(h) /= denom;
  }
}

}  // namespace v4sim::detail
