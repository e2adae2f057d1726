// The engine's shortcuts (context sweeps, the compiled cost model, caches) must give the direct
// evaluation's numbers up to floating-point reassociation: 1e-12 relative.
#pragma once

#include <gtest/gtest.h>

#include <cmath>

namespace v4sim::test_support {

/// |a - b| <= 1e-12 of `scale` (b itself, or the total a difference of totals is part of).
inline void expect_close(double a, double b, const char* what, double scale = 0) {
  const double bound = 1e-12 * (scale > 0 ? scale : std::fabs(b));
  EXPECT_LE(std::fabs(a - b), bound) << what << ": " << a << " vs " << b;
}

}  // namespace v4sim::test_support
