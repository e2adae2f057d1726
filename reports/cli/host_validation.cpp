#include "reports/cli/host_validation.h"

#include <algorithm>
#include <cmath>

namespace v4sim::cli {

Validation validate_on_host(const Accelerator& host,
                            const std::vector<bench::CaseResult>& results) {
  Validation v;
  std::vector<double> abs_errors;
  for (const bench::CaseResult& r : results) {
    CasePrediction p;
    p.name = r.name;
    p.family = r.family;
    p.measured_s = r.timing.min_s;
    // Op by op, as sim/ times a step: a layer's weight-streaming projections and its
    // compute-bound core each at their own roofline, then added.
    const std::vector<Cost> ops = r.host_ops.empty() ? std::vector<Cost>{r.host_cost} : r.host_ops;
    for (const Cost& op : ops) {
      const OpTime t = op_time(host, op);
      p.predicted.compute_s += t.compute_s;
      p.predicted.memory_s += t.memory_s;
      p.predicted.overhead_s += t.overhead_s;
      p.predicted.total_s += t.total_s;
      p.predicted.fallback_used = p.predicted.fallback_used || t.fallback_used;
    }
    p.predicted.bound =
        p.predicted.compute_s >= p.predicted.memory_s ? Bound::compute : Bound::memory;
    p.predicted_deploy = op_time(host, r.cost);
    if (p.measured_s > 0 && p.predicted.total_s > 0) {
      abs_errors.push_back(std::fabs(p.error()));
      const double factor =
          std::max(p.predicted.total_s / p.measured_s, p.measured_s / p.predicted.total_s);
      if (factor <= 2.0) ++v.within_2x;
      if (factor > v.worst_factor) {
        v.worst_factor = factor;
        v.worst_case = p.name;
      }
    }
    v.cases.push_back(p);
  }
  if (!abs_errors.empty()) {
    std::sort(abs_errors.begin(), abs_errors.end());
    const std::size_t n = abs_errors.size();
    v.median_abs_error =
        n % 2 ? abs_errors[n / 2] : 0.5 * (abs_errors[n / 2 - 1] + abs_errors[n / 2]);
  }
  for (const bench::SpeedRatio& s : bench::v4_vs_v32_ratios(results)) {
    RatioPrediction rp;
    rp.ratio = s;
    double num = 0, den = 0;
    for (const CasePrediction& p : v.cases) {
      if (p.name == s.numerator) num = p.predicted.total_s;
      if (p.name == s.denominator) den = p.predicted.total_s;
    }
    rp.predicted = den > 0 ? num / den : 0;
    v.ratios.push_back(rp);
  }
  return v;
}

}  // namespace v4sim::cli
