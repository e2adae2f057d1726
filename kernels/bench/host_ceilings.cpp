#include "kernels/bench/host_ceilings.h"

#include <algorithm>
#include <span>
#include <thread>
#include <vector>

#include <Eigen/Core>

#include "kernels/bench/suite.h"
#include "kernels/bf16_gemm.h"
#include "kernels/gqa_attention_forward.h"
#include "kernels/host_isa.h"
#include "kernels/int8_gemm.h"
#include "kernels/parallel.h"
#include "kernels/random_fill.h"

namespace v4sim::bench {
namespace {

using VectorMap = Eigen::Map<Eigen::VectorXf>;
using ConstVectorMap = Eigen::Map<const Eigen::VectorXf>;

constexpr std::int64_t kSplitAlign = 48;  // columns per split block (see split_product)

// Runs body(t) on `threads` threads (t = 0 on the calling thread) and returns the wall time.
template <class Body>
double wall_time_on_threads(int threads, const Body& body) {
  const double w0 = wall_seconds();
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back([&body, t] { body(t); });
  body(0);
  for (std::thread& th : pool) th.join();
  return wall_seconds() - w0;
}

// Fastest of the policy's repetitions of a multi-threaded body, by the wall clock.
template <class Body>
double best_wall_time(int threads, const TimingPolicy& p, const Body& body) {
  double best = 0, total = 0;
  for (int r = 0; r < p.max_reps && (r < p.min_reps || total < p.min_time_s); ++r) {
    if (p.evictor) {  // as time_repeated: untimed, counted against the budget
      const double e0 = wall_seconds();
      p.evictor->evict();
      total += wall_seconds() - e0;
    }
    const double t = wall_time_on_threads(threads, body);
    best = r == 0 ? t : std::min(best, t);
    total += t;
  }
  return best;
}

// [begin, end) of part t of n elements split into `parts` pieces.
std::pair<std::int64_t, std::int64_t> part(std::int64_t n, int parts, int t) {
  const std::int64_t per = n / parts;
  const std::int64_t begin = per * t;
  return {begin, t + 1 == parts ? n : begin + per};
}

// The compute ceilings run warm: a peak figure, and the cases that approach it (GEMMs of n >=
// 512) do tens of FLOPs per byte, so where their operands start barely moves their time.
TimingPolicy warm(TimingPolicy p) {
  p.evictor = nullptr;
  return p;
}

void measure_gemm(const CeilingOptions& o, HostCeilings& h) {
  std::uint64_t seed = 1;
  for (std::int64_t n : o.gemm_sizes) {
    const RowMatrixXf a = random_matrix(n, n, 1.0f, seed++), b = random_matrix(n, n, 1.0f, seed++);
    RowMatrixXf c(n, n);
    c.noalias() = a * b.transpose();  // warm-up (allocations, page faults)
    const Timing t = time_repeated([&] { c.noalias() = a * b.transpose(); }, warm(o.policy));
    GemmPoint p;
    p.n = n;
    p.flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
    p.seconds = t.min_s;
    h.gemm.push_back(p);
    h.gemm_flop_per_s = std::max(h.gemm_flop_per_s, p.flop_per_s());
  }
  const int threads = std::min(o.threads, h.hardware_threads);
  const std::int64_t n = o.gemm_2threads_n;
  if (threads < 2 || n <= 0) return;
  const RowMatrixXf a = random_matrix(n, n, 1.0f, 100), b = random_matrix(n, n, 1.0f, 101);
  RowMatrixXf one(n, n), split(n, n);
  one.noalias() = a * b.transpose();
  split_product(a, b, split, threads);
  h.gemm_2threads_n = n;
  h.gemm_2threads_bitwise_equal = std::equal(one.data(), one.data() + one.size(), split.data());
  const double s =
      best_wall_time(1, warm(o.policy), [&](int) { split_product(a, b, split, threads); });
  h.gemm_flop_per_s_2threads =
      2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n) / s;
}

void measure_streams(const CeilingOptions& o, HostCeilings& h) {
  const std::int64_t n = o.stream_bytes / 4;
  h.stream_bytes = 4 * n;
  h.stream_cache = cache_note(o.policy);
  std::vector<float> src(static_cast<std::size_t>(n)), dst(static_cast<std::size_t>(n));
  fill_uniform(src, 1.0f, 7);
  fill_uniform(dst, 1.0f, 8);  // touch every page before timing
  volatile float sink = 0;
  const auto read = [&](std::int64_t b, std::int64_t e) {
    sink = sink + ConstVectorMap(src.data() + b, e - b).sum();
  };
  const auto copy = [&](std::int64_t b, std::int64_t e) {
    VectorMap(dst.data() + b, e - b) = ConstVectorMap(src.data() + b, e - b);
  };
  read(0, n);
  const double bytes = static_cast<double>(h.stream_bytes);
  h.read_bytes_per_s = bytes / time_repeated([&] { read(0, n); }, o.policy).min_s;
  h.copy_bytes_per_s = 2 * bytes / time_repeated([&] { copy(0, n); }, o.policy).min_s;
  const int threads = std::min(o.threads, h.hardware_threads);
  if (threads < 2) return;
  // Each thread sums into its own slot: no shared write inside the timed loop.
  std::vector<float> sums(static_cast<std::size_t>(threads));
  const double r = best_wall_time(threads, o.policy, [&](int t) {
    const auto [b, e] = part(n, threads, t);
    sums[static_cast<std::size_t>(t)] = ConstVectorMap(src.data() + b, e - b).sum();
  });
  const double c = best_wall_time(threads, o.policy, [&](int t) {
    const auto [b, e] = part(n, threads, t);
    copy(b, e);
  });
  sink = sink + sums[0];
  h.read_bytes_per_s_2threads = bytes / r;
  h.copy_bytes_per_s_2threads = 2 * bytes / c;
}

void measure_gemv(const CeilingOptions& o, HostCeilings& h) {
  constexpr std::int64_t kCols = 4096;
  const std::int64_t rows = std::max<std::int64_t>(1, o.stream_bytes / 4 / kCols);
  const RowMatrixXf w = random_matrix(rows, kCols, 1.0f, 9), x = random_matrix(1, kCols, 1.0f, 10);
  RowMatrixXf y(1, rows);
  y.noalias() = x * w.transpose();  // the form of a one-token projection (kernels: x W^T)
  const Timing t = time_repeated([&] { y.noalias() = x * w.transpose(); }, o.policy);
  h.gemv_bytes_per_s = 4.0 * static_cast<double>(rows * kCols) / t.min_s;
}

void measure_tiny_call(const CeilingOptions& o, HostCeilings& h) {
  GqaAttentionShape s;
  s.q_heads = 1;
  s.kv_heads = 1;
  s.head_dim = 8;
  s.start_pos = 0;
  s.num_tokens = 1;
  const RowMatrixXf q = random_matrix(1, 8, 1.0f, 1), k = random_matrix(1, 8, 1.0f, 2),
                    v = random_matrix(1, 8, 1.0f, 3);
  RowMatrixXf out(1, 8);
  TimingPolicy p;
  p.min_reps = o.tiny_call_reps;
  p.max_reps = o.tiny_call_reps;
  p.min_time_s = 0;
  gqa_attention_forward(s, q, k, v, out);
  const Timing t = time_repeated([&] { gqa_attention_forward(s, q, k, v, out); }, p);
  h.tiny_call_s = t.median_s;
  h.tiny_call_reps = t.reps;
}

double cube(std::int64_t n) {
  return 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
}

// bf16 and int8 GEMMs of size n on the path the CPU takes, one thread; fp32 from the sweep.
void measure_precisions(const CeilingOptions& o, HostCeilings& h) {
  const KernelThreads one(1);  // the int8 GEMM splits its columns over the kernel threads
  const HostPeak& peak = h.peak;
  std::int64_t best_n = 0;  // the sweep's fastest size
  for (const GemmPoint& p : h.gemm)
    if (p.flop_per_s() >= h.gemm_flop_per_s) best_n = p.n;
  h.precisions.push_back({"fp32", "Eigen " + std::string(Eigen::SimdInstructionSetsInUse()), best_n,
                          h.gemm_flop_per_s, peak.fp32_flop_per_s_per_core()});
  const std::int64_t n = o.precision_gemm_n;
  const RowMatrixXf a = random_matrix(n, n, 1.0f, 201), b = random_matrix(n, n, 1.0f, 202);
  {
    std::vector<std::uint16_t> ab(static_cast<std::size_t>(n * n)), bb(ab.size());
    to_bf16(std::span<const float>(a.data(), ab.size()), ab);
    to_bf16(std::span<const float>(b.data(), bb.size()), bb);
    std::vector<const std::uint16_t*> rows;
    for (std::int64_t r = 0; r < n; ++r) rows.push_back(bb.data() + r * n);
    Bf16Pairs packed;
    pack_bf16_pairs(rows.data(), n, n, packed);
    RowMatrixXf c = RowMatrixXf::Zero(n, n);
    const auto run = [&] {
      c.setZero();
      bf16_pair_gemm(ab.data(), n, n, packed, c.data(), n);
    };
    run();
    // The zeroing is timed too: n^2 stores against 2 n^3 FLOPs, under 0.1 % at n = 512.
    const double t = time_repeated(run, warm(o.policy)).min_s;
    h.precisions.push_back(
        {"bf16", bf16_path_name(), n, t > 0 ? cube(n) / t : 0, peak.bf16_flop_per_s_per_core()});
  }
  {
    const Int8Rows qa = quantize_int8_rows(a), qb = quantize_int8_rows(b);
    std::vector<std::int32_t> c(static_cast<std::size_t>(n * n));
    const auto run = [&] { int8_gemm_nt(qa, qb, c.data()); };
    run();
    const double t = time_repeated(run, warm(o.policy)).min_s;
    h.precisions.push_back(
        {"int8", int8_path_name(), n, t > 0 ? cube(n) / t : 0, peak.int8_op_per_s_per_core()});
  }
}

// The peak never below the measured GEMMs (host_peak.h), and each precision's theoretical entry
// from it.
void settle_peak(HostCeilings& h) {
  const auto rate = [&h](const char* p) {
    const PrecisionCeiling* c = h.precision(p);
    return c ? c->gemm_flop_per_s : 0.0;
  };
  // The bf16 / int8 entries are of the portable loop when the CPU lacks the instructions.
  h.peak.at_least(h.gemm_flop_per_s, use_avx512_bf16() ? rate("bf16") : 0,
                  use_avx512_vnni() ? rate("int8") : 0);
  for (PrecisionCeiling& p : h.precisions)
    p.theoretical_flop_per_s = p.precision == "fp32"   ? h.peak.fp32_flop_per_s_per_core()
                               : p.precision == "bf16" ? h.peak.bf16_flop_per_s_per_core()
                                                       : h.peak.int8_op_per_s_per_core();
}

}  // namespace

const PrecisionCeiling* HostCeilings::precision(const std::string& name) const {
  for (const PrecisionCeiling& p : precisions)
    if (p.precision == name) return &p;
  return nullptr;
}

double HostCeilings::best_stream_bytes_per_s() const {
  return std::max(
      {read_bytes_per_s, copy_bytes_per_s, read_bytes_per_s_2threads, copy_bytes_per_s_2threads});
}

CeilingOptions ceiling_options(SuiteMode mode) {
  CeilingOptions o;
  switch (mode) {
    case SuiteMode::smoke:
      o.gemm_sizes = {32, 64, 96, 128};
      o.gemm_2threads_n = 100;  // not a multiple of 48: the ragged last block is exercised
      o.stream_bytes = 4 << 20;
      o.policy = {2, 5, 0.0, false, nullptr};
      o.tiny_call_reps = 50;
      o.precision_gemm_n = 70;  // not a multiple of 4, 16 or 64: every remainder path
      o.rough_peak = true;
      break;
    case SuiteMode::quick:
      o.gemm_sizes = {64, 96, 128, 192, 256, 384, 512, 768, 1024};
      o.gemm_2threads_n = 1024;
      o.stream_bytes = 256 << 20;
      o.precision_gemm_n = 512;
      o.policy = suite_timing_policy(mode);  // its evictor: the streams read cold, as the cases
      o.policy.min_reps = 3;
      o.policy.max_reps = 50;
      o.policy.min_time_s = 0.15;
      break;
    case SuiteMode::full:
      o.gemm_sizes = {64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048};
      o.gemm_2threads_n = 2048;
      o.stream_bytes = 512 << 20;
      o.policy = suite_timing_policy(mode);
      o.policy.min_reps = 5;
      o.policy.max_reps = 200;
      o.policy.min_time_s = 0.5;
      o.tiny_call_reps = 20000;
      break;
  }
  return o;
}

HostCeilings measure_host_ceilings(const CeilingOptions& options) {
  HostCeilings h;
  h.simd = "Eigen float32: " + std::string(Eigen::SimdInstructionSetsInUse()) +
           "; BF16 kernels: " + bf16_path_name() + "; INT8 kernels: " + int8_path_name();
  h.hardware_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  h.peak = measure_host_peak(options.rough_peak);
  measure_gemm(options, h);
  measure_precisions(options, h);
  settle_peak(h);
  measure_streams(options, h);
  measure_gemv(options, h);
  measure_tiny_call(options, h);
  return h;
}

HostCeilings best_of(const HostCeilings& a, const HostCeilings& b) {
  HostCeilings h = a;
  for (std::size_t i = 0; i < h.gemm.size() && i < b.gemm.size(); ++i)
    if (b.gemm[i].n == h.gemm[i].n && b.gemm[i].seconds > 0)
      h.gemm[i].seconds = std::min(h.gemm[i].seconds, b.gemm[i].seconds);
  h.gemm_flop_per_s = 0;
  for (const GemmPoint& p : h.gemm) h.gemm_flop_per_s = std::max(h.gemm_flop_per_s, p.flop_per_s());
  h.gemm_flop_per_s_2threads = std::max(a.gemm_flop_per_s_2threads, b.gemm_flop_per_s_2threads);
  h.gemm_2threads_bitwise_equal = a.gemm_2threads_bitwise_equal && b.gemm_2threads_bitwise_equal;
  h.read_bytes_per_s = std::max(a.read_bytes_per_s, b.read_bytes_per_s);
  h.copy_bytes_per_s = std::max(a.copy_bytes_per_s, b.copy_bytes_per_s);
  h.read_bytes_per_s_2threads = std::max(a.read_bytes_per_s_2threads, b.read_bytes_per_s_2threads);
  h.copy_bytes_per_s_2threads = std::max(a.copy_bytes_per_s_2threads, b.copy_bytes_per_s_2threads);
  h.gemv_bytes_per_s = std::max(a.gemv_bytes_per_s, b.gemv_bytes_per_s);
  // The peak: each figure the larger of the two passes (a busy moment only slows a measurement).
  h.peak.clock_hz = std::max(a.peak.clock_hz, b.peak.clock_hz);
  h.peak.fma_per_cycle = std::max(a.peak.fma_per_cycle, b.peak.fma_per_cycle);
  h.peak.fma_units = std::max(a.peak.fma_units, b.peak.fma_units);
  h.peak.bf16_dp_per_cycle = std::max(a.peak.bf16_dp_per_cycle, b.peak.bf16_dp_per_cycle);
  h.peak.int8_dp_per_cycle = std::max(a.peak.int8_dp_per_cycle, b.peak.int8_dp_per_cycle);
  h.peak.bf16_units = std::max(a.peak.bf16_units, b.peak.bf16_units);
  h.peak.int8_units = std::max(a.peak.int8_units, b.peak.int8_units);
  for (PrecisionCeiling& p : h.precisions) {
    if (const PrecisionCeiling* q = b.precision(p.precision))
      p.gemm_flop_per_s = std::max(p.gemm_flop_per_s, q->gemm_flop_per_s);
    if (p.precision == "fp32") p.gemm_flop_per_s = h.gemm_flop_per_s;
  }
  settle_peak(h);
  if (b.tiny_call_s > 0 && (h.tiny_call_s <= 0 || b.tiny_call_s < h.tiny_call_s)) {
    h.tiny_call_s = b.tiny_call_s;
    h.tiny_call_reps = b.tiny_call_reps;
  }
  return h;
}

void split_product(const RowMatrixXf& a, const RowMatrixXf& b, RowMatrixXf& c, int threads) {
  const std::int64_t n = b.rows();
  c.resize(a.rows(), n);
  // Whole blocks of kSplitAlign columns; the last piece also takes the ragged rest, so every
  // piece is at least kSplitAlign wide: a narrower one could take Eigen's matrix-vector (one
  // column) or coefficient-wise (tiny) path, which sums in another order.
  const std::int64_t blocks = n / kSplitAlign;
  const int parts = static_cast<int>(std::min<std::int64_t>(std::max(threads, 1), blocks));
  if (parts <= 1) {
    c.noalias() = a * b.transpose();
    return;
  }
  wall_time_on_threads(parts, [&](int t) {
    const auto [first, last] = part(blocks, parts, t);
    const std::int64_t c0 = first * kSplitAlign;
    const std::int64_t c1 = t + 1 == parts ? n : last * kSplitAlign;
    c.middleCols(c0, c1 - c0).noalias() = a * b.middleRows(c0, c1 - c0).transpose();
  });
}

}  // namespace v4sim::bench
