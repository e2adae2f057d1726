#include "kernels/bench/host_peak.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <thread>
#include <utility>

#include "kernels/bench/timing.h"
#include "kernels/host_isa.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define V4SIM_PEAK_X86 1
#endif

namespace v4sim::bench {
namespace {

// Fastest of `reps` runs of body(), thread CPU time.
template <class Body>
double fastest(int reps, const Body& body) {
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    const double t0 = thread_cpu_seconds();
    body();
    const double t = thread_cpu_seconds() - t0;
    best = r == 0 ? t : std::min(best, t);
  }
  return best;
}

#ifdef V4SIM_PEAK_X86

// 16 dependent adds per iteration: the chain, not the loop, sets the pace. The addend is a
// register, not an immediate: recent Intel cores fold chains of add-immediate at rename and ran
// this loop at 11 GHz on a 2.7 GHz Xeon (family 6, model 207), which put the peak 4x too high;
// with a register operand it matches an imul chain (3 cycles each) on that core.
double clock_hz(long iters, int reps) {
  const double t = fastest(reps, [iters] {
    long x = 0;
    const long one = 1;
    for (long i = 0; i < iters; ++i)
      __asm__ volatile(
          "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\t"
          "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\t"
          "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\t"
          "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0"
          : "+r"(x)
          : "r"(one));
  });
  return t > 0 ? 16.0 * static_cast<double>(iters) / t : 0;
}

// Twelve independent accumulators, all summed at the end so none is dead. No empty asm per
// iteration to pin them: with one, GCC kept the array in memory and stored all twelve every
// iteration, so the loops measured the store port (0.72-0.77 FMAs per cycle on the Xeon VM,
// 1.9 without).
#define V4SIM_TWELVE(OP) OP(0) OP(1) OP(2) OP(3) OP(4) OP(5) OP(6) OP(7) OP(8) OP(9) OP(10) OP(11)

// Each timed loop is its own function: a lambda would not inherit the target attribute.
__attribute__((target("avx512f"), noinline)) void fma512_loop(long iters) {
  __m512 a[12];
  const __m512 m = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(1e-3f);
  for (int j = 0; j < 12; ++j) a[j] = _mm512_set1_ps(static_cast<float>(j));
  for (long i = 0; i < iters; ++i) {
#define V4SIM_STEP(j) a[j] = _mm512_fmadd_ps(a[j], m, c);
    V4SIM_TWELVE(V4SIM_STEP)
#undef V4SIM_STEP
  }
  for (int j = 1; j < 12; ++j) a[0] = _mm512_add_ps(a[0], a[j]);
  alignas(64) float out[16];
  _mm512_store_ps(out, a[0]);
  volatile float sink = out[0];
  (void)sink;
}

double fma512_seconds(long iters, int reps) {
  return fastest(reps, [iters] { fma512_loop(iters); });
}

__attribute__((target("avx2,fma"), noinline)) void fma256_loop(long iters) {
  __m256 a[12];
  const __m256 m = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(1e-3f);
  for (int j = 0; j < 12; ++j) a[j] = _mm256_set1_ps(static_cast<float>(j));
  for (long i = 0; i < iters; ++i) {
#define V4SIM_STEP(j) a[j] = _mm256_fmadd_ps(a[j], m, c);
    V4SIM_TWELVE(V4SIM_STEP)
#undef V4SIM_STEP
  }
  for (int j = 1; j < 12; ++j) a[0] = _mm256_add_ps(a[0], a[j]);
  float out[8];
  _mm256_storeu_ps(out, a[0]);
  volatile float sink = out[0];
  (void)sink;
}

double fma256_seconds(long iters, int reps) {
  return fastest(reps, [iters] { fma256_loop(iters); });
}

__attribute__((target("avx512f,avx512bf16"), noinline)) void dpbf16_loop(long iters) {
  __m512 a[12];
  const __m512bh x = (__m512bh)_mm512_set1_epi32(0x3F803F80);  // (1, 1) in BF16
  const __m512bh y = (__m512bh)_mm512_set1_epi32(0x3A833A83);  // (~1e-3, ~1e-3)
  for (int j = 0; j < 12; ++j) a[j] = _mm512_setzero_ps();
  for (long i = 0; i < iters; ++i) {
#define V4SIM_STEP(j) a[j] = _mm512_dpbf16_ps(a[j], x, y);
    V4SIM_TWELVE(V4SIM_STEP)
#undef V4SIM_STEP
  }
  for (int j = 1; j < 12; ++j) a[0] = _mm512_add_ps(a[0], a[j]);
  alignas(64) float out[16];
  _mm512_store_ps(out, a[0]);
  volatile float sink = out[0];
  (void)sink;
}

double dpbf16_seconds(long iters, int reps) {
  return fastest(reps, [iters] { dpbf16_loop(iters); });
}

__attribute__((target("avx512f,avx512vnni"), noinline)) void dpbusd_loop(long iters) {
  __m512i a[12];
  const __m512i x = _mm512_set1_epi8(1), y = _mm512_set1_epi8(1);
  for (int j = 0; j < 12; ++j) a[j] = _mm512_setzero_si512();
  for (long i = 0; i < iters; ++i) {
#define V4SIM_STEP(j) a[j] = _mm512_dpbusd_epi32(a[j], x, y);
    V4SIM_TWELVE(V4SIM_STEP)
#undef V4SIM_STEP
  }
  for (int j = 1; j < 12; ++j) a[0] = _mm512_add_epi32(a[0], a[j]);
  alignas(64) int out[16];
  _mm512_store_si512(out, a[0]);
  volatile int sink = out[0];
  (void)sink;
}

double dpbusd_seconds(long iters, int reps) {
  return fastest(reps, [iters] { dpbusd_loop(iters); });
}

#undef V4SIM_TWELVE

#endif  // V4SIM_PEAK_X86

}  // namespace

double HostPeak::bf16_flop_per_s_per_core() const {
  return 64.0 * bf16_units * clock_hz;
}
double HostPeak::int8_op_per_s_per_core() const {
  return 128.0 * int8_units * clock_hz;
}

namespace {
// Units that retire `rate` operations per second of `per_unit_cycle` each at the clock, rounded
// up: a measured kernel cannot beat the peak.
int units_for(double rate, double per_unit_cycle, double clock_hz) {
  if (rate <= 0 || per_unit_cycle <= 0 || clock_hz <= 0) return 0;
  return static_cast<int>(std::ceil(rate / (per_unit_cycle * clock_hz) - 1e-9));
}
}  // namespace

void HostPeak::at_least(double fp32_rate, double bf16_rate, double int8_rate) {
  if (fp32_lanes > 0)
    fma_units = std::max(fma_units, units_for(fp32_rate, 2.0 * fp32_lanes, clock_hz));
  if (bf16_units > 0) bf16_units = std::max(bf16_units, units_for(bf16_rate, 64.0, clock_hz));
  if (int8_units > 0) int8_units = std::max(int8_units, units_for(int8_rate, 128.0, clock_hz));
}

int physical_cores() {
  std::ifstream in("/proc/cpuinfo");
  std::set<std::pair<std::string, std::string>> cores;
  std::string physical = "0";
  for (std::string line; std::getline(in, line);) {
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    if (line.rfind("physical id", 0) == 0) physical = value;
    if (line.rfind("core id", 0) == 0) cores.insert({physical, value});
  }
  if (!cores.empty()) return static_cast<int>(cores.size());
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

HostPeak measure_host_peak(bool quick_check) {
  HostPeak p;
  p.cores = physical_cores();
#ifdef V4SIM_PEAK_X86
  // Many short runs, the fastest kept (about 2 ms each at 4 GHz; quick_check: 0.3 ms, 3 runs):
  // on a shared or virtual machine another thread on the same physical core (SMT) or the
  // hypervisor takes the vector units now and then, and a short run can fall between.
  const long add_iters = quick_check ? 100'000 : 500'000;
  const long fma_iters = quick_check ? 50'000 : 300'000;
  const int reps = quick_check ? 3 : 40;
  p.clock_hz = clock_hz(add_iters, reps);
  const double cycles_per_s = p.clock_hz;
  const auto per_cycle = [&](double seconds) {
    return seconds > 0 && cycles_per_s > 0
               ? 12.0 * static_cast<double>(fma_iters) / (seconds * cycles_per_s)
               : 0.0;
  };
  const HostIsa& isa = host_isa();
  if (isa.avx512f) {
    p.vector_isa = "AVX-512";
    p.fp32_lanes = 16;
    p.fma_per_cycle = per_cycle(fma512_seconds(fma_iters, reps));
  } else if (isa.avx2 && isa.fma) {
    p.vector_isa = "AVX2+FMA";
    p.fp32_lanes = 8;
    p.fma_per_cycle = per_cycle(fma256_seconds(fma_iters, reps));
  }
  p.fma_units = p.fp32_lanes > 0 ? std::max(1, static_cast<int>(std::lround(p.fma_per_cycle))) : 0;
  if (isa.avx512_bf16) p.bf16_dp_per_cycle = per_cycle(dpbf16_seconds(fma_iters, reps));
  if (isa.avx512_vnni) p.int8_dp_per_cycle = per_cycle(dpbusd_seconds(fma_iters, reps));
  if (isa.avx512_bf16)
    p.bf16_units = std::max(1, static_cast<int>(std::lround(p.bf16_dp_per_cycle)));
  if (isa.avx512_vnni)
    p.int8_units = std::max(1, static_cast<int>(std::lround(p.int8_dp_per_cycle)));
#else
  (void)quick_check;
#endif
  return p;
}

}  // namespace v4sim::bench
