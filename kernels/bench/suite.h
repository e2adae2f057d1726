// The kernel suite behind `v4sim bench`, `calibrate` and `validate`: a list of kernel cases at
// production shapes, each timed with a plain std::chrono / thread-CPU-clock loop (timing.h), the
// caches displaced before every repetition outside the smoke mode (cache_eviction.h). The
// same list is v4sim_kernel_bench's (bench_main.cpp registers every case with Google Benchmark),
// so a case is written once. The CLI keeps its own loop rather than Google Benchmark's runner: it
// needs, per case, the whole Cost (FLOPs by precision, bytes by class) to predict a time with the
// hardware model, a second Cost in the formats the host really stores and a counting run to check
// counted == cost(), which Google Benchmark's counters (totals) do not carry; and v4sim builds
// without Google Benchmark.
//
// Every case reports two costs of the shape it runs:
//   cost       cost(shape) as the analytic model prices it: deployment formats (FP8 / MXFP4
//              weights, 584 B KV entries, ...). This is what the kernel counts (checked: the first,
//              untimed run of every case counts and must equal it exactly).
//   host_cost  cost() of the same shape in the formats and precisions the reference kernel holds
//              and computes in on this host: float32, except where a case runs the deployed
//              format (the V4 layers' FP8 attention projections, the BF16 cores, the W8A8
//              linear). KV formats are left as named: the V3.2 caches are really packed (656 B
//              latents, FP8 keys), while the V4 and GQA caches are float32 tables that no
//              KvEntryFormat describes: their float bytes are 2x (GQA's BF16), 3.5x (584 B
//              entries) and 7.5x (68 B indexer keys) the counted ones. These decode kernels stay
//              compute-bound on a CPU even in float (GQA-8 4, the V4 cores 32-64 FLOP per float
//              byte; a CPU's ridge is about 1.5), so the gap does not move their roofline.
// Threads: run_suite uses the calling thread's kernel thread count (kernels/parallel.h); the CLI
// sets it from `bench --threads` and to one for calibrate and validate.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kernels/bench/suite_mode.h"
#include "kernels/bench/timing.h"
#include "kernels/cost.h"

namespace v4sim::bench {

/// One prepared case: runs the kernel once; counts into *counted when it is not null.
using CaseRun = std::function<void(Cost* counted)>;

/// The measured-table class and shape of one host op, in the terms of hardware/perf/README.md
/// (class names and CSV columns), so that `validate` can ask the host's own tables for it. Plain
/// words and numbers: kernels/ is the lowest floor and does not include hardware/ (reports/cli
/// maps this to a KernelCall). kernel == "": no table class describes the op (it is priced by
/// the roofline).
struct OpCall {
  std::string kernel;                     // a class name of hardware/perf/README.md, or ""
  Precision precision = Precision::fp32;  // the op's compute precision
  double m = 0, n = 0, k = 0;    // gemm: y [m, n] = x [m, k] W^T; compressor, mhc: m = tokens
  double batch = 0, kv_len = 0;  // dsa_decode, indexer_logits, gqa_decode
  double experts = 0, tokens_per_expert = 0;  // grouped_gemm (with n = 2 x inter, k = hidden)
  double weight_bytes = 0;                    // gemm: bytes per weight element
  double heads = 0, topk = 0;                 // attention: query heads, selected entries
  double compress_ratio = 0;                  // attention, indexer, compressor (V3.2: 1)
  double head_dim = 0;                        // compressor: entry width
  double hidden = 0;                          // compressor, mhc: input width
};

/// One op of a case: its host-format cost and, when a table class describes it, its call.
struct HostOp {
  Cost cost;
  OpCall call;
  // Implicit from a Cost: the case builders list ops no table describes as bare costs.
  HostOp(Cost c = {}, OpCall k = {}) : cost(c), call(std::move(k)) {}  // NOLINT
};

struct SuiteCase {
  std::string name;          // e.g. "v4-pro-csa-core/1m"
  std::string family;        // attention-layer | attention-core | prefill | moe | mhc
  std::string model;         // v4-flash | v4-pro | v3.2 | gqa8
  std::int64_t context = 0;  // tokens in the cache (decode and prefill), 0 otherwise
  std::int64_t tokens = 1;   // tokens processed by one run
  Cost cost;                 // cost() of the shape, deployment formats (== what the kernel counts)
  Cost host_cost;  // cost() of the shape in the formats the reference kernel holds (float32)
  /// host_cost split into the ops a serving engine runs one after another (projections, core,
  /// compressor, ...; they sum to host_cost), as sim/ prices a layer: op by op, each at its own
  /// roofline. Empty: the case is one op.
  std::vector<HostOp> host_ops;
  /// Builds weights, caches and inputs (not timed) and returns the run. Large inputs are shared
  /// with the next case when it asks for the same ones, and freed when it does not.
  std::function<CaseRun()> prepare;
};

/// The cases of a mode, in run order (cases sharing weights or caches are adjacent).
std::vector<SuiteCase> suite_cases(SuiteMode mode);
/// Cases whose name contains one of the comma-separated `filters` (all if empty).
std::vector<SuiteCase> filter_cases(std::vector<SuiteCase> cases, const std::string& filters);

TimingPolicy suite_timing_policy(SuiteMode mode);

struct CaseResult {
  std::string name, family, model;
  std::int64_t context = 0, tokens = 1;
  Cost cost, host_cost;
  std::vector<HostOp> host_ops;  // as SuiteCase::host_ops (run_suite fills it; empty: one op)
  Cost counted;                  // what the first (untimed) run counted
  Timing timing;
  bool counted_equals_cost() const { return counted == cost; }
};

/// Prepares, counts once, and times every case in order; on_case(i, name) is called before case i.
std::vector<CaseResult> run_suite(
    const std::vector<SuiteCase>& cases, const TimingPolicy& policy,
    const std::function<void(std::size_t, const std::string&)>& on_case = {});

/// A speed ratio of two measured cases (V3.2 MLA+DSA over a V4 kernel at the same context) next
/// to the ratios their costs imply.
struct SpeedRatio {
  std::string numerator, denominator;  // case names
  std::int64_t context = 0;
  double measured = 0;    // time(numerator) / time(denominator)
  double flops = 0;       // FLOPs ratio, cost()
  double host_bytes = 0;  // bytes ratio, host_cost
};
/// Roofline time of a case at the given rates: the sum over its ops of max(FLOPs / the rate of
/// their precision, bytes / bandwidth), as sim/ adds up the ops of a step. flop_per_s is by
/// Precision; a precision without a rate (0) makes the result 0.
double op_sum_roofline_s(const CaseResult& r, const std::array<double, kNumPrecisions>& flop_per_s,
                         double bytes_per_s);
/// V3.2 MLA+DSA core decode over the V4-Pro CSA and HCA core decode (the context-dependent part
/// of a decode step: indexer scoring + top-k + attention; same hidden size and 128 heads), at the
/// largest context where both ran; also the whole-layer pairs when present.
std::vector<SpeedRatio> v4_vs_v32_ratios(const std::vector<CaseResult>& results);

/// A ratio of v4_vs_v32_ratios timed in alternation. A shared machine's speed drifts over
/// seconds (on this project's VM one 1M-token core measured 135 and 230 ms, thread CPU time, two
/// minutes apart), so two cases timed one after the other can differ for reasons that are not
/// theirs; repetitions next to each other see the same machine.
struct InterleavedRatio {
  std::string numerator, denominator;  // case names
  double median = 0;  // over the rounds: time(numerator) / time(denominator) of the same round
  int rounds = 0;
};
/// Prepares every case the `pairs` name at once; each of `rounds` rounds times one repetition of
/// each case in turn (`policy`'s evictor before each, as time_repeated does); a pair's ratio is
/// the median over the rounds. A pair whose case is not in `cases` is left out.
std::vector<InterleavedRatio> interleaved_ratios(const std::vector<SuiteCase>& cases,
                                                 const std::vector<SpeedRatio>& pairs,
                                                 const TimingPolicy& policy, int rounds);

/// "4k", "64k", "1m" for powers of two from 1024; the number otherwise.
std::string context_label(std::int64_t tokens);

}  // namespace v4sim::bench
