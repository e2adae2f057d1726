// Mean and nearest-rank percentiles of a sample (latencies of the serving simulation).
#pragma once

#include <vector>

namespace v4sim {

struct Summary {
  double mean = 0, p50 = 0, p90 = 0, p99 = 0;
};

/// Nearest rank: the q-quantile is the ceil(q n)-th smallest value (an observed value, never an
/// interpolation). An empty sample gives zeros.
Summary summarize(std::vector<double> values);

/// The nearest-rank q-quantile of sorted values (q in (0, 1]).
double quantile_sorted(const std::vector<double>& sorted, double q);

}  // namespace v4sim
