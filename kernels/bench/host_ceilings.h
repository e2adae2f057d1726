// The host's ceilings, measured with Eigen in the process that runs the kernels: what a float32
// GEMM and a memory stream reach on this machine, in this build (same compiler flags and Eigen
// SIMD level as the kernels, so a kernel's fraction of them is a fair figure).
//
//   GEMM     C = A B^T (row-major float, the x W^T form every projection uses) for square sizes,
//            one thread; the 2-thread figure splits C's columns over two threads (split_product).
//   streams  a read (sum) and a copy of an array larger than the caches (bytes counted once
//            per direction, as STREAM does: read N, copy 2N), one and two threads.
//   GEMV     y = W x over a float matrix of the stream size, one thread: the weight-streaming
//            product every decode projection runs (Eigen takes its matrix-vector path when a
//            product has one row), in bytes of W per second.
//   tiny     one call of the smallest real kernel (a 1-head, 8-dim GQA decode over one key): the
//            fixed cost of a kernel call (allocation, dispatch) that no FLOP or byte explains.
//
//   precisions  one square GEMM per arithmetic the kernels have on this host: fp32 (the Eigen
//            sweep above), bf16 (bf16_pair_gemm: BF16 inputs, float32 sums; B packed in pairs
//            once, as weights are) and int8 (int8_gemm_nt: exact int32 sums of INT8 codes), each
//            on the path the CPU takes (AVX512_BF16 / AVX512_VNNI, else the portable loop), next
//            to the theoretical peak of that arithmetic (host_peak.h).
//   peak     the theoretical peak from vector width, FMA units, cores and the measured clock
//            (host_peak.h states the method).
// Most reference kernels compute in float32 whatever precision cost() names; the BF16 core
// attention (sparse_attention_core_bf16) and the W8A8 linear (linear_int8_forward) are the ones
// that run the deployed arithmetic.
//
// Threads: the reference kernels split their work into pieces fixed by the shape and run them on
// OpenMP threads (kernels/parallel.h; `v4sim bench --threads 2` measures them against the
// two-thread figures here). Eigen's own OpenMP GEMM is faster with two threads but not bitwise
// equal to one thread: its parallel session re-derives the k-blocking for
// two threads (kc capped at 320), which changes the summation order (checked by the separate
// v4sim_eigen_threads_check tool). split_product instead gives each thread whole columns of C and
// runs Eigen's single-threaded product on them, so every element is summed exactly as in the
// one-thread product (bitwise equal; tested).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/attention_cache_forward.h"
#include "kernels/bench/host_peak.h"
#include "kernels/bench/suite_mode.h"
#include "kernels/bench/timing.h"

namespace v4sim::bench {

struct GemmPoint {
  std::int64_t n = 0;  // C [n, n] = A [n, n] B^T
  double flops = 0;    // 2 n^3
  double seconds = 0;  // thread CPU time, fastest repetition
  double flop_per_s() const { return seconds > 0 ? flops / seconds : 0; }
};

/// The measured GEMM of one arithmetic and its theoretical peak (one thread, one core).
struct PrecisionCeiling {
  std::string precision;              // fp32 | bf16 | int8
  std::string path;                   // the instructions it ran on
  std::int64_t gemm_n = 0;            // C [n, n] = A [n, n] B, 2 n^3 FLOPs (int8: ops)
  double gemm_flop_per_s = 0;         // thread CPU time, fastest repetition
  double theoretical_flop_per_s = 0;  // one core (0: the CPU has no instruction for it)
};

struct HostCeilings {
  /// The instruction sets used: Eigen's float32 code (this build's flags) and the BF16 and
  /// INT8 kernels (chosen at run time).
  std::string simd;
  int hardware_threads = 1;

  std::vector<GemmPoint> gemm;               // one thread, the size sweep
  double gemm_flop_per_s = 0;                // best point of the sweep, one thread
  std::int64_t gemm_2threads_n = 0;          // size of the 2-thread measurement
  double gemm_flop_per_s_2threads = 0;       // split_product, wall clock (0: one thread only)
  bool gemm_2threads_bitwise_equal = false;  // split_product == one-thread product, bit for bit

  std::int64_t stream_bytes = 0;         // array size of the streams
  std::string stream_cache;              // the streams' cache state (timing.h cache_note)
  double read_bytes_per_s = 0;           // one thread
  double copy_bytes_per_s = 0;           // one thread, 2N counted
  double read_bytes_per_s_2threads = 0;  // wall clock (0: one thread only)
  double copy_bytes_per_s_2threads = 0;
  double gemv_bytes_per_s = 0;  // one thread, bytes of W

  double tiny_call_s = 0;  // median of many calls
  std::int64_t tiny_call_reps = 0;

  HostPeak peak;
  std::vector<PrecisionCeiling> precisions;  // fp32, then bf16 and int8

  /// The precision's entry, or nullptr.
  const PrecisionCeiling* precision(const std::string& name) const;

  /// The best stream figure (the memory system's bandwidth as far as this host can show it).
  double best_stream_bytes_per_s() const;
};

struct CeilingOptions {
  std::vector<std::int64_t> gemm_sizes;
  std::int64_t gemm_2threads_n = 0;
  std::int64_t stream_bytes = 0;
  int threads = 2;  // for the multi-thread figures (capped at the hardware threads)
  TimingPolicy policy;
  int tiny_call_reps = 2000;
  std::int64_t precision_gemm_n = 1024;  // the bf16 / int8 GEMMs
  bool rough_peak = false;               // smoke: the peak's short measurement
};

/// Sizes and repetitions for each mode (smoke: tiny arrays, for tests).
CeilingOptions ceiling_options(SuiteMode mode);

HostCeilings measure_host_ceilings(const CeilingOptions& options);

/// The better of two measurements of the same host, figure by figure (faster GEMM point per size,
/// higher stream rates, shorter tiny call). A ceiling is the best the host can do; on a shared
/// machine one pass can land in a busy moment, so the commands measure before and after the
/// suite and keep the best.
HostCeilings best_of(const HostCeilings& a, const HostCeilings& b);

/// c = a b^T with c's columns split over `threads` threads (whole blocks of 48 columns, a multiple
/// of every Eigen float register-block width; the last piece takes the rest), each an ordinary
/// single-threaded Eigen product. Fewer than two blocks: one plain product.
/// a [m, k], b [n, k], c [m, n] (resized). threads <= 1: one plain product.
void split_product(const RowMatrixXf& a, const RowMatrixXf& b, RowMatrixXf& c, int threads);

}  // namespace v4sim::bench
