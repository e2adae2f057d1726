// The host's theoretical peak, from its vector width, its FMA units, its cores and its measured
// clock: what the datasheet arithmetic gives, next to which the measured GEMM and stream ceilings
// (host_ceilings.h) and every kernel are read.
//
// Method (one thread, thread CPU time, best of several runs):
//   clock        a chain of dependent 64-bit integer adds (one cycle of latency on every x86 core
//                of the last twenty years; the loop counter runs beside it on another ALU), so
//                adds / second is the clock the core really runs at under load (turbo included,
//                no frequency file of a virtual machine trusted).
//   FMA units    the widest vector FMA the CPU has (512-bit with AVX-512F, else 256-bit with
//                AVX2 + FMA) on 12 independent accumulators, enough to cover a 4-cycle latency
//                on 3 pipes: FMAs retired per cycle, rounded to the nearest whole unit (the
//                unrounded figure is kept). A core that splits 512-bit operations into two
//                256-bit halves shows 1 here, where a full-width core with two pipes shows 2.
//                Never fewer units than a GEMM measured in the same process implies (at_least):
//                on a shared machine the short FMA runs can all land while another thread
//                holds the core's vector units, and a measured rate cannot exceed the peak.
//   cores        physical cores (distinct core ids in /proc/cpuinfo; hardware threads if none).
//   peak         fp32 lanes x 2 FLOPs (multiply + add) x FMA units x clock, per core and x cores.
// The BF16 and INT8 dot-product peaks are measured the same way: VDPBF16PS (16 lanes x 2 pairs
// = 64 FLOPs) and VPDPBUSD (16 lanes x 4 byte products = 128 ops) per cycle, on 12 accumulators.
#pragma once

#include <string>

namespace v4sim::bench {

struct HostPeak {
  double clock_hz = 0;           // measured
  std::string vector_isa;        // "AVX-512" | "AVX2+FMA" | "" (no FMA: no peak is stated)
  int fp32_lanes = 0;            // 16 | 8 | 0
  double fma_per_cycle = 0;      // measured, unrounded
  int fma_units = 0;             // rounded
  double bf16_dp_per_cycle = 0;  // VDPBF16PS per cycle, measured (0: no AVX512_BF16)
  double int8_dp_per_cycle = 0;  // VPDPBUSD per cycle, measured (0: no AVX512_VNNI)
  int bf16_units = 0;            // rounded (0: no AVX512_BF16)
  int int8_units = 0;            // rounded (0: no AVX512_VNNI)
  int cores = 1;

  double fp32_flop_per_s_per_core() const { return fp32_lanes * 2.0 * fma_units * clock_hz; }
  double fp32_flop_per_s() const { return fp32_flop_per_s_per_core() * cores; }
  /// 64 FLOPs per VDPBF16PS x bf16_units x clock.
  double bf16_flop_per_s_per_core() const;
  /// 128 ops per VPDPBUSD x int8_units x clock.
  double int8_op_per_s_per_core() const;
  /// Raises the unit counts to what measured one-core GEMM rates imply (0: not measured).
  void at_least(double fp32_rate, double bf16_rate, double int8_rate);
};

/// Measures the clock and the instruction throughputs (about 0.1 s; `quick_check` for tests:
/// a few ms, same code paths, rougher numbers).
HostPeak measure_host_peak(bool quick_check = false);

/// Physical cores of this machine (distinct (physical id, core id) pairs in /proc/cpuinfo, or
/// the hardware threads).
int physical_cores();

}  // namespace v4sim::bench
