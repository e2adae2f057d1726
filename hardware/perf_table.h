// Measured kernel tables of one accelerator (hardware/perf/<accelerator>/*.yaml + .csv): the
// published component measurements (and the host's own, written by `v4sim calibrate`) that op
// times are interpolated from. Format and kernel classes: hardware/perf/README.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/cost.h"

namespace v4sim {

/// What a table measures. Compute classes interpolate an efficiency against the kernels' cost();
/// communication classes interpolate latency against the payload.
enum class KernelClass : std::uint8_t {
  gemm,
  grouped_gemm,
  mla_decode,
  dsa_decode,
  mla_prefill,
  indexer_logits,
  dispatch,
  combine,
  all_reduce,
  gqa_decode,      // dense GQA/MHA decode core
  compressor,      // a V4 KV compressor's step (projections, gated pooling, entry finish)
  mhc,             // manifold-constrained hyper-connections around one sublayer
  all_gather,      // every rank ends with all ranks' buffers (attention-DP MoE input, no dispatch)
  reduce_scatter,  // every rank ends with its share of the ranks' summed buffers
  /// A whole V4 attention sublayer on a rank (projections, compressors, indexer, sparse core),
  /// timed as the engine runs it: its ideal time is cost(AttentionLayerShape), the sum of the ops
  /// the step model composes the layer from.
  attention_module,
};
inline constexpr int kNumKernelClasses = 15;
std::string_view to_string(KernelClass k);
bool parse_kernel_class(std::string_view text, KernelClass& out);
bool is_communication(KernelClass k);

/// The CSV key columns of a class, in order (latency_us follows), and its main axis: the column
/// interpolated along (the others select the nearest group of rows).
struct ClassColumns {
  std::vector<std::string> keys;
  std::string axis;
  std::vector<std::string> optional_keys;  // may appear before latency_us (e.g. heads)
};
const ClassColumns& columns_of(KernelClass k);

struct PerfTable {
  std::string name;  // file stem
  std::string file;  // the .yaml
  KernelClass kernel = KernelClass::gemm;
  Precision precision = Precision::bf16;
  std::string source;
  std::string conditions;
  /// `timing: graph_replay`: each row is a CUDA-graph replay of back-to-back calls timed with
  /// events around the loop (aiconfigurator's collectors), so the gap between one kernel and the
  /// next is inside the row. Default `kernel_only` (profiler kernel durations, e.g. DeepGEMM's
  /// bench_kineto): the caller adds the device's launch gap.
  bool includes_launch_gap = false;
  /// `activation_quantisation: included` (required on fp8 and fp4 gemm tables, nowhere else): each
  /// row also times the kernel that quantises the GEMM's BF16 input per token group (SGLang's
  /// DeepGEMM path as aiconfigurator times it). `excluded`: the rows take inputs already
  /// quantised (DeepGEMM's and AITER's own benchmarks), so the caller prices that pass itself.
  bool includes_activation_quantisation = false;
  /// Collectives (required there, nowhere else): ranks of the scale-up domain (NVLink, XGMI, UB)
  /// the measurement ran in: one HGX node 8, an NVL72 rack 72, a CloudMatrix384 768 dies. A row
  /// whose group (ep, ranks) is larger crossed the scale-out network, and its time says so.
  double scale_up_ranks = 0;
  std::map<std::string, double> fixed;             // numeric shape parameters
  std::map<std::string, std::string> fixed_words;  // layout, mode, kv_dtype, ...
  std::vector<std::string> columns;                // the CSV header: keys..., latency_us
  std::vector<std::vector<double>> rows;

  /// Index of a column, or -1.
  int column(std::string_view name) const;
  /// A numeric fixed parameter, or `fallback` when absent.
  double fixed_or(std::string_view key, double fallback) const;
  std::string word_or(std::string_view key, std::string_view fallback) const;
};

/// Every table of one accelerator; empty when it has no folder.
struct PerfTables {
  std::string accelerator;
  std::vector<PerfTable> tables;
};

/// hardware/perf of this source tree.
std::filesystem::path default_perf_dir();

/// Loads dir/<accelerator>/*.yaml and the CSV each names (<stem>.csv). Any defect (unknown class or key,
/// missing source/conditions, a CSV whose header does not match the class, a non-numeric or
/// non-positive cell, fewer than one row) throws InputError naming file:line:col and the field.
PerfTables load_perf_tables(std::string_view accelerator,
                            const std::filesystem::path& dir = default_perf_dir());

/// One table file on its own (tests, calibrate's output check).
PerfTable load_perf_table(const std::filesystem::path& yaml_file);

/// The values of the first column of `folder/<stem>.csv` when its header starts with `column`
/// (a collective table's group sizes: `ep` or `ranks`), read without the table's YAML so that a
/// lookup can tell which tables could serve a collective before loading any. Empty when the file
/// is missing, larger than a table may be, or not numbers in that column: the strict loader then
/// says why.
std::vector<double> read_first_column(const std::filesystem::path& folder, std::string_view stem,
                                      std::string_view column);

/// smallest_latency_s() of the table `folder/<stem>` read from its CSV alone, without its YAML:
/// a device's launch floor (its smallest GEMM time) is wanted of a sibling whose GEMM tables
/// serve nothing else. Nothing when the file is missing, larger than a table may be, has no rows,
/// or is not a header ending in latency_us over rows of as many positive numbers: the strict
/// loader then says why.
std::optional<double> peek_smallest_latency_s(const std::filesystem::path& folder,
                                              std::string_view stem);

/// The class and `fixed:` shape of `folder/<stem>.yaml` (a table without rows: name, kernel,
/// fixed, fixed_words), read without YAML so that a lookup can pass over the tables of a class
/// measured at another shape (another model's dispatch) without loading them. Only a file with
/// exactly one line `fixed: {key: value, ...}` at the start of a line, every key a plain word,
/// every value a plain word (the word parameters) or a plain decimal number in the loader's
/// range, gives an answer; anything else gives nothing and the strict loader decides.
std::optional<PerfTable> peek_table_shape(const std::filesystem::path& folder,
                                          std::string_view stem, KernelClass k);

/// Table files (stems of *.yaml) of one accelerator's folder, sorted.
std::vector<std::string> list_table_stems(const std::filesystem::path& folder);

/// A table's file name starts with its class ("grouped-gemm-fp8-masked" holds grouped_gemm): the
/// loader checks it, so a lookup loads only the files of the class it needs.
bool stem_names_class(std::string_view stem, KernelClass k);

/// Accelerators with a folder under dir, sorted.
std::vector<std::string> list_measured_accelerators(
    const std::filesystem::path& dir = default_perf_dir());

}  // namespace v4sim
