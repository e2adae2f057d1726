// One accelerator as the simulator sees it: what a single rank (the unit a parallel layout places
// work on) can compute, store and move, what it costs, and how close to its peaks real kernels get.
//
// Every figure is per RANK. For a GPU a rank is the GPU. For a multi-die package whose dies the
// runtime exposes as separate devices (Ascend 910C: CANN sees each of the two dies as one device,
// hardware.md §0) a rank is one die, and package figures are rank figures x dies_per_package.
// Catalogue files: hardware/accelerators/<name>.yaml (schema in hardware/README.md).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/cost.h"

namespace v4sim {

/// A sourced value and its uncertainty: low <= nominal <= high (all equal for a single value).
struct Range {
  double nominal = 0;
  double low = 0;
  double high = 0;

  static Range exactly(double v) { return {v, v, v}; }
  bool is_exact() const { return low == nominal && high == nominal; }
  bool operator==(const Range&) const = default;
};

/// A compute path with an advertised peak. TF32 is a path (FP32 operands on the tensor / cube
/// units), not an op precision, so there is one more path than there are Precisions.
enum class ComputePath : std::uint8_t { fp32, tf32, bf16, fp8, fp4, int8 };
inline constexpr int kNumComputePaths = 6;
inline constexpr std::array<ComputePath, kNumComputePaths> kAllComputePaths = {
    ComputePath::fp32, ComputePath::tf32, ComputePath::bf16,
    ComputePath::fp8,  ComputePath::fp4,  ComputePath::int8};

std::string_view to_string(ComputePath p);
/// Parses "fp32", "tf32", "bf16", "fp8", "fp4", "int8"; false for anything else.
bool parse_compute_path(std::string_view text, ComputePath& out);
/// The path of the same name as an op precision (fp8 -> fp8, ...).
ComputePath native_path(Precision p);

/// Compute efficiency as a function of op size: a saturating curve in the op's FLOPs F,
///   efficiency(F) = max_fraction * F / (F + peak * max_fraction * ramp_s),
/// i.e. large GEMMs reach max_fraction of peak and a small one additionally pays a fixed
/// pipeline-fill time ramp_s (equivalently: time = F / (peak * max_fraction) + ramp_s).
/// Half of max_fraction is reached at F = peak * max_fraction * ramp_s.
struct ComputeEfficiency {
  double max_fraction = 1;
  double ramp_s = 0;

  double at(double flops, double peak_flops_per_s) const;
  bool operator==(const ComputeEfficiency&) const = default;
};

struct Accelerator {
  std::string name;          // catalogue name, e.g. "h100", "ascend-910c"
  std::string display_name;  // e.g. "NVIDIA H100 SXM 80GB"
  std::string vendor;        // nvidia | huawei | amd | host
  std::string file;          // where it was loaded from

  // What one rank is.
  std::string rank_unit;     // "gpu" or "die" (or "cpu" for a generated host file)
  int dies_per_package = 1;  // ranks per purchasable package

  // Dense peaks per rank, TFLOPS (TOPS for int8); absent = the device has no such path.
  std::array<std::optional<Range>, kNumComputePaths> peak_tflops{};
  // The path an op of each Precision runs on (its own unless the file states a fallback).
  std::array<ComputePath, kNumPrecisions> path_for{};

  // Memory per rank.
  Range hbm_capacity_gb;
  Range hbm_bandwidth_tb_per_s;
  Range last_level_cache_mb;  // L2 (NVIDIA, Ascend) or Infinity Cache (AMD), SI MB

  // Links per rank, per direction. usable_fraction: measured (or estimated) share of the
  // nominal link rate a collective achieves; it derates the topology's links of that tier.
  Range scale_up_gb_per_s;
  double scale_up_usable_fraction = 1;
  Range scale_out_gb_per_s;
  double scale_out_usable_fraction = 1;
  double die_to_die_gb_per_s = 0;  // between the dies of one package; 0 for a single die

  // Power, age, money (per rank).
  Range tdp_w;
  int launch_year = 0;
  Range purchase_price_usd;
  Range rental_usd_per_hour;

  // Efficiencies (roofline derating) and the fixed per-op cost.
  ComputeEfficiency compute_efficiency;
  double memory_efficiency = 1;  // fraction of HBM bandwidth a streaming kernel reaches
  double launch_overhead_s = 0;  // per op (kernel launch / task dispatch)

  bool supports(ComputePath p) const { return peak_tflops[static_cast<int>(p)].has_value(); }
  /// Nominal dense peak in FLOP/s; 0 when unsupported.
  double peak_flops_per_s(ComputePath p) const;
  /// Nominal HBM bandwidth in B/s.
  double hbm_bytes_per_s() const { return hbm_bandwidth_tb_per_s.nominal * 1e12; }
  /// Every field equal (what may share one device's measured-table model, sim/communication.h).
  bool operator==(const Accelerator&) const = default;
};

/// hardware/accelerators of the data root (models/config/data_paths.h).
std::filesystem::path default_accelerators_dir();

/// `name_or_path` is a catalogue name ("h100", resolved to dir/<name>.yaml, or with no `dir` to
/// the first hardware/accelerators/ of the search path that has it) or a path (anything with '/'
/// or ending in .yaml/.yml). Any defect throws InputError naming file:line:col and field.
Accelerator load_accelerator(std::string_view name_or_path, const std::filesystem::path& dir = {});

/// The vendor of a catalogue accelerator read from its file's text without parsing it: the word of
/// its single top-level `vendor: word` line. PerfModel passes over the measured devices of other
/// vendors this way without loading them. Empty when the file has no such single line (or cannot
/// be read): the caller then loads the file, whose strict loader decides.
std::string peek_vendor(std::string_view name, const std::filesystem::path& dir = {});

/// What ranks the siblings a measured-table lookup may borrow from (hardware/perf_model.h): the
/// nominal BF16 peak and HBM bandwidth, as peak_flops_per_s(ComputePath::bf16) and
/// hbm_bytes_per_s() give them.
struct DeviceSpeeds {
  double bf16_flops_per_s = 0;
  double hbm_bytes_per_s = 0;
};
/// DeviceSpeeds of a catalogue accelerator read from its file's text without parsing it, so that
/// a sibling ranked behind a nearer one is never loaded: the plain decimal (or the nominal of a
/// one-line `{nominal: x, low: y, high: z}`) of the single `bf16:` line among the keys of its
/// single top-level `peak_tflops:` block and of the single `hbm_bandwidth_tb_per_s:` line among
/// those of its `memory:` block. Nothing when the file has no such lines (a block range, a
/// comment after the number, ...) or cannot be read: the caller then loads the file, whose
/// strict loader decides.
std::optional<DeviceSpeeds> peek_speeds(std::string_view name,
                                        const std::filesystem::path& dir = {});

/// Catalogue names of every *.yaml in dir (no `dir`: the whole search path), sorted.
std::vector<std::string> list_accelerators(const std::filesystem::path& dir = {});

}  // namespace v4sim
