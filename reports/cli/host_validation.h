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
//
// Beside it, the table path: the same ops predicted through PerfModel (hardware/perf_model.h)
// with the host file as the target and the host's own measured tables (written by `calibrate`
// into <host file folder>/perf/host/, kernels/bench/host_tables.h) as its tables, exactly as a
// GPU op is: an op whose class has a host table gets its time from the table (source measured),
// every other op the roofline (op_time). The tables are measured on a calibration grid of shapes
// that are not the suite's (tested), so this path is not circular either. Both figures are kept
// so that a reader sees what the tables change.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "hardware/accelerator.h"
#include "hardware/perf_model.h"
#include "hardware/roofline.h"
#include "kernels/bench/host_tables.h"
#include "kernels/bench/suite.h"

namespace v4sim::cli {

struct CasePrediction {
  std::string name, family;
  double measured_s = 0;
  OpTime predicted;         // host_cost on the host file
  OpTime predicted_deploy;  // cost (deployment formats) on the host file
  /// predicted / measured - 1.
  double error() const { return measured_s > 0 ? predicted.total_s / measured_s - 1 : 0; }

  /// The table path (when tables were given): the sum over the ops of the table estimate where
  /// the op's class has a table, else its roofline; and how much of it rests on measured tables.
  double table_s = 0;
  double table_measured_s = 0;  // the part of table_s from measured (or transferred) tables
  int ops = 0, ops_from_tables = 0;
  bool table_extrapolated = false;  // some op lay outside its table's measured range
  double table_error() const { return measured_s > 0 ? table_s / measured_s - 1 : 0; }
  double table_share() const { return table_s > 0 ? table_measured_s / table_s : 0; }
};

/// Median |error|, worst factor and count within 2x of one set of predictions.
struct ErrorSummary {
  double median_abs_error = 0;
  double worst_factor = 1;  // largest max(pred / meas, meas / pred)
  std::string worst_case;
  int within_2x = 0;
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
  /// The table path's summary; empty when validated without tables.
  std::optional<ErrorSummary> tables;
  double table_measured_share = 0;  // share of all cases' table-path time from measured tables
};

/// `tables`: the host's PerfModel (target: the host file; perf folder: calibrate's tables), or
/// null for the roofline figures only.
Validation validate_on_host(const Accelerator& host, const std::vector<bench::CaseResult>& results,
                            const PerfModel* tables = nullptr);

/// The KernelCall a suite op stands for, or nothing when no table class describes it.
std::optional<KernelCall> kernel_call(const bench::OpCall& call, const Cost& cost);

/// Where calibrate writes the host's tables and validate reads them: <host file folder>/perf
/// (the tables themselves in its subfolder host/, as hardware/perf/<accelerator>/).
std::filesystem::path host_perf_dir(const std::filesystem::path& host_file);

/// Writes each table into perf_dir/host/ and loads it back with the strict loader
/// (load_perf_table); returns the .yaml files. A folder or file that cannot be written, or a
/// table that does not load, is an InputError naming the file.
std::vector<std::filesystem::path> write_host_tables(
    const std::filesystem::path& perf_dir, const std::vector<bench::MeasuredTable>& tables,
    const bench::TableProvenance& provenance);

}  // namespace v4sim::cli
