#include "kernels/projection_forward.h"

#include <algorithm>

#include "kernels/parallel_for.h"
#include "kernels/precondition.h"

namespace v4sim {
namespace {

// Output features per piece: W's rows are split into fixed pieces of 256 (a decode projection of
// 4096 inputs streams 4 MiB of float weights per piece), which run on any thread with the same
// bits (kernels/parallel.h).
constexpr Eigen::Index kOutPiece = 256;

}  // namespace

void project_rows(const Eigen::Ref<const RowMatrixXf>& x, const Eigen::Ref<const RowMatrixXf>& w,
                  RowMatrixXf& y) {
  V4SIM_REQUIRE("project_rows", x.cols() == w.cols(), "width mismatch");
  y.resize(x.rows(), w.rows());
  const Eigen::Index out = w.rows(), pieces = (out + kOutPiece - 1) / kOutPiece;
  struct None {};
  detail::parallel_pieces<None>(pieces, [&](std::int64_t p, None&) {
    const Eigen::Index r0 = p * kOutPiece, n = std::min(kOutPiece, out - r0);
    if (x.rows() == 1) {
      y.row(0).segment(r0, n).transpose().noalias() = w.middleRows(r0, n) * x.row(0).transpose();
    } else {
      y.middleCols(r0, n).noalias() = x * w.middleRows(r0, n).transpose();
    }
  });
}

void linear_forward(const Eigen::Ref<const RowMatrixXf>& x, const Eigen::Ref<const RowMatrixXf>& w,
                    std::int64_t groups, WeightFormat format, Precision compute, RowMatrixXf& y,
                    Cost* cost) {
  const std::int64_t in = x.cols(), out = w.rows(), tokens = x.rows();
  V4SIM_REQUIRE("linear_forward",
                groups >= 1 && in % groups == 0 && out % groups == 0 && w.cols() == in / groups,
                "weight does not match input and groups");
  if (groups == 1) {
    project_rows(x, w, y);
  } else {
    y.resize(tokens, out);
    const std::int64_t gi = in / groups, go = out / groups;
    RowMatrixXf part;
    for (std::int64_t g = 0; g < groups; ++g) {
      project_rows(x.middleCols(g * gi, gi), w.middleRows(g * go, go), part);
      y.middleCols(g * go, go) = part;
    }
  }
  if (cost) {
    // Per executed product: tokens x (out/groups outputs per group) x (in/groups inputs) x groups.
    cost->flops_at(compute) += 2 * tokens * (out / groups) * (in / groups) * groups;
    cost->read(MemClass::weights) += groups * weight_bytes(format, out / groups, in / groups);
    cost->read(MemClass::activations) += activation_bytes(compute, tokens * in);
    cost->written(MemClass::activations) += activation_bytes(Precision::bf16, tokens * out);
  }
}

}  // namespace v4sim
