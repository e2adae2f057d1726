// Op time from measured kernel tables: measured on the device itself, else transferred from the
// nearest measured device of the same vendor (scaled by the ratio of peaks and bandwidths, latency
// floors kept), else nothing (the caller falls back to the roofline). Rules in
// hardware/perf/README.md.
//
// Compute kernels: each table row's efficiency is e = ideal(row) / measured(row), where
//   ideal(cost) = max(sum_p flops_p / peak(path_p), bytes / HBM bandwidth)
// at 100 % of the device's nominal figures and cost = the kernels' own cost() of the row's shape.
// The op's time is ideal_target(op) / e(op's shape), with e interpolated by PCHIP in
// (log axis, log e) within the row group nearest the op's other keys, and never below the
// measured device's smallest kernel time in any of its compute tables (its launch and
// pipeline-fill floor, which does not shrink with peaks; a transfer keeps it). A measured shape
// gets its row's time back exactly.
//
// Collectives: latency is interpolated by PCHIP in (log payload, log latency) in the nearest
// group (ep or ranks), at the op's payload expressed in the table's units (dispatch/combine:
// tokens of the table's hidden x top-k x bytes); beyond the largest payload the last point's
// bandwidth holds. A group measured at one payload x0 (time t0) is the alpha-beta line through it,
// t = alpha + (t0 - alpha) x / x0, with alpha the links' own latency. The part above the
// latency scales by the seconds per byte of the links the call crosses over those the row
// crossed (on another device, or on the same one when the group leaves or stays in its
// scale-up domain): inside a domain 1 / scale-up bandwidth; across domains an all-to-all sends
// the share 1 - domain / group of its bytes over the scale-out network, max(remote / scale-out,
// local / scale-up), and a ring collective all of them, 1 / scale-out. All-reduce tables say
// which kernel they timed (implementation: nccl | custom) and how it was launched (launch:
// graph | eager); a call prefers its own kind, then its own launch, then the nearest shape.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hardware/accelerator.h"
#include "hardware/perf_table.h"
#include "kernels/cost.h"

namespace v4sim {

enum class TimeSource : std::uint8_t { measured, transferred, roofline };
inline constexpr int kNumTimeSources = 3;
std::string_view to_string(TimeSource s);

/// One kernel call as the tables index it. Only the fields of its class matter.
struct KernelCall {
  KernelClass kernel = KernelClass::gemm;
  Precision precision = Precision::bf16;      // compute classes
  Cost cost;                                  // the call's work on the rank (compute classes)
  double m = 0, n = 0, k = 0;                 // gemm
  double experts = 0, tokens_per_expert = 0;  // grouped_gemm (with n, k)
  bool masked = true;                         // grouped_gemm layout: masked (decode) or contiguous
  /// grouped_gemm: the experts' down projection (n = hidden, k = inter) rather than their gate/up
  /// (n = 2 x inter, k = hidden). A table of whole experts (`ffn: swiglu`, `fused_moe`) reads it
  /// at the gate/up shape of the same experts.
  bool ffn_down = false;
  double batch = 0, kv_len = 0, seq_len = 0, heads = 0;  // attention and indexer classes
  /// The fixed shape of the call, where the device has several tables of its class (the host's
  /// V3.2 and V4 cores, main and indexer compressors, float32- and FP8-weight GEMMs): the table
  /// measured nearest it serves. 0: unknown (any table of the class may serve, as in sim/, whose
  /// devices hold one table per class and dtype).
  double compress_ratio = 0;  // attention, indexer, compressor: tokens per compressed entry
  double head_dim = 0;        // compressor: width of an entry
  double weight_bytes = 0;    // gemm: bytes per weight element (4 fp32, 1 fp8, ...)
  /// Attention: the KV cache is FP8 (its cost() counts FP8 entries). The device's decode
  /// attention tables of either cache dtype serve; the most efficient at the call's shape wins.
  bool kv_fp8 = false;
  double ep = 0, tokens_per_rank = 0;  // dispatch/combine
  double payload_bytes_per_token = 0;  // hidden x top-k x bytes per element of this call
  bool low_latency = true;             // dispatch/combine mode
  /// dispatch/combine: the model's shape (picks the table); hidden is also the compressor's and
  /// mHC's input width, topk a sparse core's selected entries.
  double hidden = 0, topk = 0;
  /// all_reduce (each rank's buffer), all_gather (the gathered output) and reduce_scatter (the
  /// summed input), as nccl-tests counts its size.
  double ranks = 0, message_bytes = 0;
  /// all_reduce: the engine's own one-shot/two-shot NVLink kernel (custom) rather than NCCL.
  /// Tables of the other implementation still serve, after every table of this one.
  bool custom_all_reduce = false;
  /// The call is replayed from a CUDA graph (decode steps) rather than launched eagerly
  /// (prefill); tables measured the other way serve when no table matches.
  bool cuda_graph = true;
  bool spans_nodes = false;  // collectives: the group crosses the scale-out network
  /// Collectives: ranks of the scale-up domain the group's ranks sit in (0: unknown; a group
  /// that spans nodes then sends everything over the scale-out network). An all-to-all over
  /// two 8-GPU nodes keeps half its traffic on NVLink.
  double scale_up_ranks = 0;
  /// Collectives: the fixed latency of the group's links (topology graph). A group measured at a
  /// single payload is read as the alpha-beta line through that point with this latency.
  double link_latency_s = 0;
};

struct PerfEstimate {
  bool found = false;  // false: no table for the class anywhere of this vendor (use the roofline)
  double time_s = 0;
  TimeSource source = TimeSource::roofline;
  std::string device;         // accelerator whose table was used
  std::string table;          // its file stem
  bool extrapolated = false;  // the op lies outside the table's measured range on its axis
  double efficiency = 0;      // compute classes: ideal time over time, before the floor
  /// The table's precision word: a call's own precision is searched first, then any other.
  Precision table_precision = Precision::bf16;
  /// The table's rows include the gap between consecutive kernels (`timing: graph_replay`), so
  /// the caller adds no launch overhead of its own.
  bool includes_launch_gap = false;
  /// The table's rows time the GEMM input's activation quantisation too (`activation_quantisation:
  /// included`); false for every other table and for the roofline.
  bool includes_activation_quantisation = false;
  /// The table's rows time the whole routed-expert layer as a fused MoE (`ffn: fused_moe`): the
  /// top-k routing, the permutation to the local experts, the activation and the finalize too,
  /// so the caller adds no kernels of its own for them.
  bool includes_moe_glue = false;
};

/// Every field of a call a table lookup depends on besides its cost, which only scales the result
/// through its ideal time (same shape and precision, same efficiency): PerfModel memoises lookups
/// by it. A field added to KernelCall belongs here too (tests/hardware/perf_model_key_test.cpp
/// counts them).
using LookupKey = std::array<double, 30>;
LookupKey lookup_key(const KernelCall& call);

/// How PerfModel finds the nearest measured sibling that serves a call its device's own tables
/// do not. `by_coverage` passes over, without loading them, siblings of another vendor (read with
/// peek_vendor()) and, for a collective, siblings none of whose tables' group sizes (read from
/// their CSVs) is within the factor of two a table serves; it reads accelerator files only of the
/// rest, and a device's launch floor (its smallest GEMM time) from its GEMM tables' CSVs until
/// its GEMM tables are loaded for a lookup. `exhaustive` loads every sibling's accelerator file and tables of the class, nearest
/// first, until one serves: the reference the first must equal (tests/hardware/perf_lookup_test.cpp).
enum class SiblingSearch { by_coverage, exhaustive };

/// The measured tables a run may draw on: the target device's own and those of the other measured
/// accelerators of its vendor, nearest first. Tables load one kernel class at a time when first
/// asked for, and lookups are memoised by shape (an op repeated in 61 layers is looked up once).
/// Reads hardware/perf/ and hardware/accelerators/ of the catalogue search path (V4SIM_PATH,
/// --catalogue, then the data root: models/config/data_paths.h), so a private accelerator's tables
/// kept outside the tree are found like the shipped ones; or only the folders given. An
/// accelerator's tables are those of the first folder with hardware/perf/<name>/. Not
/// thread-safe.
class PerfModel {
 public:
  /// Empty folders: the search path.
  PerfModel(const Accelerator& target, std::filesystem::path perf_dir = {},
            std::filesystem::path accelerators_dir = {},
            SiblingSearch search = SiblingSearch::by_coverage);
  ~PerfModel();
  PerfModel(PerfModel&&) noexcept;
  PerfModel& operator=(PerfModel&&) noexcept;

  /// The call's time from the nearest table, or found == false.
  PerfEstimate estimate(const KernelCall& call) const;

  /// estimate() without the copy, for callers pricing many calls (sim/compiled_step.h): the
  /// memoised lookup of the call's shape, whose time_s is not the call's (it is set only for
  /// collectives), and the call's own time in `time_s`. The reference lives as long as the model.
  const PerfEstimate& estimate(const KernelCall& call, double& time_s) const;

  /// A call's shape: every field a lookup depends on but those a search's point sets (cost,
  /// precision, m, batch, tokens_per_expert; sim/op_on_rank.h place_call), interned.
  struct Shape {
    std::uint32_t id = 0;
  };
  Shape shape(const KernelCall& call) const;

  /// estimate(call, time_s) for a call whose other fields are those of `shape` (made from a call
  /// differing at most in the fields a point sets): the same memoised lookup and time, found
  /// by a key of five fields instead of lookup_key()'s 28.
  const PerfEstimate& estimate(Shape shape, const KernelCall& call, double& time_s) const;

  const Accelerator& target() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/// The call's time from one table measured on `table_device`, for a call on `target` (the same
/// device: measured; another: transferred). found == false when a collective's nearest group is
/// more than twice or half the call's group. Used by PerfModel and by the tables' own tests.
PerfEstimate estimate_from_table(const PerfTable& table, const Accelerator& table_device,
                                 const Accelerator& target, const KernelCall& call);

/// The kernel call a table row stands for (its keys, for compute classes its cost(), for
/// collectives the links its group crossed): what a re-prediction of the row asks.
KernelCall call_for_row(const PerfTable& table, const std::vector<double>& row);

/// The smallest latency of a table's rows, in seconds.
double smallest_latency_s(const PerfTable& table);

/// ideal(cost) at 100 % of the device's nominal peaks (on the paths it runs each precision on)
/// and HBM bandwidth: max(compute, memory).
double ideal_time_s(const Accelerator& device, const Cost& cost);

/// The cost() of one table row of a compute class (kernels' cost functions), for efficiencies.
Cost row_cost(const PerfTable& table, const std::vector<double>& row);

}  // namespace v4sim
