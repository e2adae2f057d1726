// How close a kernel's output is to its reference: the largest element error over the reference's
// largest magnitude, so a tolerance reads as "relative to the output's scale" and a few tiny
// entries cannot dominate. Used as EXPECT_TRUE(relatively_close("what", got, want, 1e-5)): the
// error is printed either way (the margin to the tolerance shows in the log), and a failure names
// the worst element (row, column, got, expected) and the tolerance.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include <Eigen/Core>

namespace v4sim::test_support {

/// max |a - b| / max(max |b|, floor).
template <class A, class B>
double relative_max_error(const A& a, const B& b, double floor = 1e-30) {
  const double err = (a.template cast<double>() - b.template cast<double>()).cwiseAbs().maxCoeff();
  const double scale = b.template cast<double>().cwiseAbs().maxCoeff();
  return err / std::max(scale, floor);
}

/// Success when relative_max_error(got, want) <= tolerance (and the shapes agree).
template <class A, class B>
::testing::AssertionResult relatively_close(const char* what, const A& got, const B& want,
                                            double tolerance) {
  if (got.rows() != want.rows() || got.cols() != want.cols())
    return ::testing::AssertionFailure()
           << what << ": got [" << got.rows() << ", " << got.cols() << "], expected ["
           << want.rows() << ", " << want.cols() << "]";
  const double e = relative_max_error(got, want);
  std::printf("[error] %s: %.3g\n", what, e);
  if (e <= tolerance) return ::testing::AssertionSuccess();
  Eigen::Index row = 0, col = 0;
  (got.template cast<double>() - want.template cast<double>()).cwiseAbs().maxCoeff(&row, &col);
  return ::testing::AssertionFailure()
         << what << ": relative error " << e << " above the tolerance " << tolerance
         << "; worst element (" << row << ", " << col << "): got "
         << static_cast<double>(got(row, col)) << ", expected "
         << static_cast<double>(want(row, col));
}

}  // namespace v4sim::test_support
