// The host's own measured kernel tables: `v4sim calibrate` times the reference kernels on a grid
// of shapes and writes each kernel class as a table in the hardware/perf format
// (hardware/perf/README.md: <class>-<precision>[-...].yaml + .csv), so that `v4sim validate`
// predicts the host through the same interpolation path (hardware/perf_model.h) as the GPUs.
//
// Tables, one per kernel the suite validates (one thread, thread CPU time, fastest repetition,
// as the suite), each of the class sim/op_list.cpp asks for that op:
//   gemm fp32             linear_forward (float32 weights), m x n x k
//   gemm fp32, fp8 w      linear_fp8_forward (the V4 attention projections' FP8 weights)
//   gemm int8             linear_int8_forward (W8A8: per-token INT8 activations, per-row INT8
//                         weights, int32 sums)
//   grouped_gemm fp32     moe_routed_forward, experts x tokens_per_expert (ffn: swiglu: gate/up
//                         and down of each expert; the router's logits are a gemm)
//   dsa_decode fp32       mla_core_forward over the top-k packed FP8 latents (V3.2 sparse MLA)
//   dsa_decode fp32/bf16  sparse_attention_forward / _core_bf16 (V4 CSA and HCA cores,
//                         core: v4_sparse), one query, kv_len tokens in the context
//   indexer_logits fp32   dsa_indexer_topk (V3.2, token level) and indexer_topk (V4, ratio 4):
//                         scores of one query and the top-k selection
//   gqa_decode fp32       gqa_attention_forward (dense GQA core)
//   compressor fp32       compressor_forward (V4 CSA, HCA and indexer-key compressors)
//   mhc fp32              mhc_pre + mhc_expand
// Ops left on the roofline: the SWA core (window only), a prefill chunk's core and scores (no
// class in sim/ either), the V3.2 absorptions (per-head products).
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
