// The host's own measured kernel tables: `v4sim calibrate` times the reference kernels on a grid
// of shapes and writes each kernel class as a table in the hardware/perf format
// (hardware/perf/README.md: <class>-<precision>[-...].yaml + .csv), so that `v4sim validate`
// predicts the host through the same interpolation path (hardware/perf_model.h) as the GPUs.
//
// Classes the host kernels implement and what each row times (one thread, thread CPU time,
// fastest repetition, as the suite):
//   gemm, fp32            linear_forward (Eigen x W^T, float32 weights), m x n x k
//   gemm, int8            linear_int8_forward (W8A8: per-token INT8 activations, per-row INT8
//                         weights, int32 sums)
//   dsa_decode, fp32      mla_core_forward over the top-k selected packed FP8 latents (V3.2
//                         sparse MLA core, absorbed form), one query, kv_len keys in the cache
//   indexer_logits, fp32  dsa_indexer_topk: lightning-indexer scores of one query over kv_len
//                         FP8 keys and the top-k selection
// The V4 CSA/HCA cores, compressors, GQA core, grouped experts, router and mHC have no table here
// (their ops keep the roofline); the V4 projections run from FP8 weight copies (a different
// kernel from the float32 GEMM timed here), so they are not tagged as gemm either.
//
// Not circular: the calibration grid is chosen off the suite's shapes (other n x k, other m,
// other kv_len), so no table row is a shape `validate` predicts; the tables' values are read at
// the suite's shapes only through interpolation of efficiencies (tested:
// tests/bench/host_tables_test.cpp checks that no grid point equals a suite op's call).
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "kernels/bench/suite.h"
#include "kernels/bench/suite_mode.h"
#include "kernels/bench/timing.h"

namespace v4sim::bench {

/// One row to measure: its key columns (in the table's column order) and the kernel run.
struct TablePoint {
  std::vector<double> keys;
  std::function<CaseRun()> prepare;  // builds inputs (not timed), returns the run
};

/// One table to measure: what hardware/perf's loader needs besides the rows.
struct TableSpec {
  std::string kernel;  // class name (hardware/perf/README.md), e.g. "dsa_decode"
  Precision precision = Precision::fp32;
  std::string stem;                  // file stem: class with hyphens, precision, [-...]
  std::vector<std::string> columns;  // key columns in CSV order (latency_us follows)
  std::vector<std::pair<std::string, std::string>> fixed;  // `fixed:` entries, values as text
  std::string what;  // the kernel entry point and inputs timed (into conditions:)
  std::vector<TablePoint> points;
};

/// The tables of a mode (smoke: toy shapes matching the smoke suite's toy models).
std::vector<TableSpec> host_table_specs(SuiteMode mode);

/// The call a table point stands for (class, precision and keys as an OpCall).
OpCall point_call(const TableSpec& spec, const TablePoint& point);

struct MeasuredTable {
  TableSpec spec;                         // points' prepare functions are not needed any more
  std::vector<std::vector<double>> rows;  // keys..., latency_us
};

/// Times every point (first run untimed), in order; on_point(i) before the i-th point overall.
std::vector<MeasuredTable> measure_host_tables(
    const std::vector<TableSpec>& specs, const TimingPolicy& policy,
    const std::function<void(std::size_t)>& on_point = {});

/// What goes into source: and conditions: of every table.
struct TableProvenance {
  std::string hostname, cpu_model, date_utc;
  std::string isa;  // the instruction sets the kernels ran on
  int threads = 1;
  TimingPolicy policy;
};

/// Writes folder/<stem>.yaml and folder/<stem>.csv (each via a temporary file renamed into
/// place, so a failed run leaves no half-written table); returns the .yaml path. Throws
/// std::runtime_error when the folder cannot be created or a file cannot be written.
std::filesystem::path write_host_table(const std::filesystem::path& folder,
                                       const MeasuredTable& table, const TableProvenance& p);

}  // namespace v4sim::bench
