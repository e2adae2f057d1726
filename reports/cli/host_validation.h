// `v4sim validate`: the time the hardware model predicts for each benchmarked kernel on the host
// (op_time of its cost on the calibrated host file) against the measured time.
//
// Each case is predicted op by op (SuiteCase::host_ops: a layer's projections, core, compressor,
// ... each timed by op_time and added, as sim/ builds a step), not as one op of the summed cost:
// a memory-bound projection and a compute-bound core do not overlap on one core.
// The prediction uses the case's host_cost (cost() of the shape in the formats the reference
// kernel holds: float32 weights and arithmetic, kernels/bench/suite.h); the deployment-format
// cost() is predicted too, to show how far the format gap alone would move the answer. The host
// file's efficiencies come from calibration micro-benchmarks (GEMM sweep, streams, a tiny call;
// kernels/bench/host_calibration.h), never from these kernels, so the comparison is not circular.
#pragma once

#include <string>
#include <vector>

#include "hardware/accelerator.h"
#include "hardware/roofline.h"
#include "kernels/bench/suite.h"

namespace v4sim::cli {

struct CasePrediction {
  std::string name, family;
  double measured_s = 0;
  OpTime predicted;         // host_cost on the host file
  OpTime predicted_deploy;  // cost (deployment formats) on the host file
  /// predicted / measured - 1.
  double error() const { return measured_s > 0 ? predicted.total_s / measured_s - 1 : 0; }
};

struct RatioPrediction {
  bench::SpeedRatio ratio;  // measured and cost ratios
  double predicted = 0;     // predicted(numerator) / predicted(denominator)
};

struct Validation {
  std::vector<CasePrediction> cases;
  double median_abs_error = 0;
  double worst_factor = 1;  // largest max(pred / meas, meas / pred)
  std::string worst_case;
  int within_2x = 0;
  std::vector<RatioPrediction> ratios;
};

Validation validate_on_host(const Accelerator& host, const std::vector<bench::CaseResult>& results);

}  // namespace v4sim::cli
