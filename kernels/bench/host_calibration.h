// From host measurements to a host accelerator file (hardware/README.md schema) that
// load_accelerator reads: `v4sim calibrate` writes it, `v4sim validate` predicts with it.
//
// What is fitted, and from what (the calibration set; no kernel of the suite is in it, so a
// validation against the suite is not circular):
//   peak_tflops.fp32 and compute_ramp_s   from the one-thread GEMM size sweep: a weighted least
//        squares fit of t = F / P + ramp (relative residuals), i.e. the roofline's compute curve
//        with compute_max_fraction = 1 (P is already the rate Eigen reaches, not a datasheet
//        peak: none is known for this build's SIMD level on this CPU).
//   hbm_bandwidth_tb_per_s                the best streaming figure measured (read or copy, one
//        or two threads): what the memory system delivers.
//   memory_fraction                       one-thread weight-streaming GEMV (y = W x, W larger
//        than the caches) / that best figure: the share a single-threaded decode projection
//        draws. (A first version took the one-thread streaming read instead; the GEMV is the op
//        the memory-bound kernels actually run, and reaches ~0.8x the read rate here.)
//   launch_overhead_s                     median time of one tiny kernel call.
//   peak_tflops.bf16 / .int8               the one-thread BF16 and W8A8 GEMMs (host_ceilings.h), when
//        measured: the rates of the BF16 core attention's and the INT8 linear's arithmetic.
// The rank is one core: calibrate and validate run the kernels on one thread (the kernels can
// use more, kernels/parallel.h, but the host model describes one core). fp8 and fp4 ops (and
// bf16 / int8 when their GEMM was not measured) execute as fp32 (execution:), because those
// kernels compute in float32.
// Links, power and prices do not apply to one host: zeros, and a 1 W placeholder for tdp_w (the
// loader needs a positive figure), each marked as such.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "kernels/bench/host_ceilings.h"

namespace v4sim::bench {

struct HostInfo {
  std::string hostname;
  std::string cpu_model;  // /proc/cpuinfo "model name", "" if unknown
  std::string date_utc;   // e.g. 2026-11-22T06:40Z
  int year = 0;
  double memory_bytes = 0;  // physical memory
  double llc_bytes = 0;     // last-level cache, 0 if unknown
};
HostInfo current_host_info();

/// t = flops / flop_per_s + ramp_s, fitted to the GEMM sweep.
struct GemmFit {
  double flop_per_s = 0;
  double ramp_s = 0;
  double max_rel_error = 0;  // largest |fit / measured - 1| over the sweep
};
/// Minimises sum ((F_i / P + r) / t_i - 1)^2 over P > 0, r >= 0. Needs two or more points.
GemmFit fit_gemm_time(const std::vector<GemmPoint>& points);

struct HostCalibration {
  HostInfo info;
  HostCeilings ceilings;  // the raw measurements (also written as comments)
  GemmFit gemm;
  double bandwidth_bytes_per_s = 0;
  double memory_fraction = 1;  // gemv / best stream
  double launch_overhead_s = 0;
};
HostCalibration calibrate_host(const HostCeilings& ceilings, const HostInfo& info);

/// The accelerator file (name: host, vendor: host, rank unit cpu), with `source:` lines saying
/// "measured by v4sim calibrate on <date> on <host>".
void write_host_yaml(std::ostream& out, const HostCalibration& c);

}  // namespace v4sim::bench
