#include "reports/cli/bench_report.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "kernels/parallel.h"
#include "models/config/input_error.h"
#include "reports/progress.h"
#include "reports/table.h"

namespace v4sim::cli {
namespace {

using Json = nlohmann::ordered_json;

std::string fmt(double v, const char* f = "%.3g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}
std::string pct(double fraction) {
  return fmt(100 * fraction, "%.0f%%");
}
std::string ms(double s) {
  return fmt(s * 1e3, s < 1e-3 ? "%.4f" : "%.3g");
}

double rate(double amount, double seconds) {
  return seconds > 0 ? amount / seconds : 0;
}

// The ceilings the cases are measured against: those of the thread count they ran on. Per
// precision: the measured GEMM (fp32 on one or two threads; bf16 and int8 on one thread only, so
// a two-thread case of those has no measured figure: 0) and the theoretical peak of the cores
// used.
struct Yardstick {
  double read_bytes_per_s = 0;
  std::array<double, kNumPrecisions> gemm{}, theoretical{};
};
Yardstick yardstick(const bench::HostCeilings& c, int threads) {
  Yardstick y;
  const int cores = std::min(std::max(threads, 1), std::max(c.peak.cores, 1));
  y.read_bytes_per_s = threads > 1 ? c.read_bytes_per_s_2threads : c.read_bytes_per_s;
  for (const bench::PrecisionCeiling& p : c.precisions) {
    Precision prec;
    if (!parse_precision(p.precision, prec)) continue;
    const int i = static_cast<int>(prec);
    y.gemm[i] = p.gemm_flop_per_s;
    y.theoretical[i] = p.theoretical_flop_per_s * cores;
  }
  const int fp32 = static_cast<int>(Precision::fp32);
  y.gemm[fp32] = threads > 1 ? c.gemm_flop_per_s_2threads : c.gemm_flop_per_s;
  if (threads > 1)
    for (int i = 0; i < kNumPrecisions; ++i)
      if (i != fp32) y.gemm[i] = 0;
  // FP8 and FP4 work (e.g. V3.2's FP8 indexer keys) is decoded and computed in float32 by the
  // reference kernels: it runs at the fp32 rates, as the host file's execution: says.
  for (Precision p : {Precision::fp8, Precision::fp4}) {
    y.gemm[static_cast<int>(p)] = y.gemm[fp32];
    y.theoretical[static_cast<int>(p)] = y.theoretical[fp32];
  }
  return y;
}

// The time the case's as-run FLOPs need at the given rates, precision by precision (0 when a
// precision it uses has no rate).
double compute_time_s(const std::array<double, kNumPrecisions>& rates, const Cost& c) {
  double t = 0;
  for (int i = 0; i < kNumPrecisions; ++i) {
    if (c.flops[i] == 0) continue;
    if (rates[i] <= 0) return 0;
    t += static_cast<double>(c.flops[i]) / rates[i];
  }
  return t;
}

// Fractions of the measured GEMM ceilings and of the theoretical peak: the time those rates need
// for the case's FLOPs over its measured time.
double fraction_of_gemm(const Yardstick& y, const bench::CaseResult& r) {
  return rate(compute_time_s(y.gemm, r.host_cost), r.timing.min_s);
}
double fraction_of_peak(const Yardstick& y, const bench::CaseResult& r) {
  return rate(compute_time_s(y.theoretical, r.host_cost), r.timing.min_s);
}

// Roofline time of a case from the ceilings (bench's own yardstick, no host file): op by op, each
// at the larger of its compute time (measured GEMM rate of its precision) and its memory time
// (streaming read), summed as sim/ sums a step's ops.
double roofline_s(const Yardstick& y, const bench::CaseResult& r) {
  return bench::op_sum_roofline_s(r, y.gemm, y.read_bytes_per_s);
}

Json ceilings_json(const bench::HostCeilings& c) {
  Json sweep = Json::array();
  for (const bench::GemmPoint& p : c.gemm)
    sweep.push_back({{"n", p.n}, {"seconds", p.seconds}, {"flop_per_s", p.flop_per_s()}});
  Json precisions = Json::array();
  for (const bench::PrecisionCeiling& p : c.precisions)
    precisions.push_back(
        {{"precision", p.precision},
         {"path", p.path},
         {"gemm_n", p.gemm_n},
         {"gemm_flop_per_s", p.gemm_flop_per_s},
         {"theoretical_flop_per_s", p.theoretical_flop_per_s},
         {"gemm_fraction_of_theoretical", rate(p.gemm_flop_per_s, p.theoretical_flop_per_s)}});
  const bench::HostPeak& k = c.peak;
  return Json{
      {"precisions", precisions},
      {"simd", c.simd},
      {"hardware_threads", c.hardware_threads},
      {"theoretical_fp32_flop_per_s", k.fp32_flop_per_s()},
      {"theoretical_fp32_flop_per_s_per_core", k.fp32_flop_per_s_per_core()},
      {"peak",
       {{"method",
         "fp32 lanes x 2 x FMA units x clock x cores; clock from a dependent integer-add "
         "chain, FMA units from independent widest-vector FMAs per cycle (never fewer than "
         "the measured GEMM implies; kernels/bench/host_peak.h)"},
        {"clock_hz", k.clock_hz},
        {"vector_isa", k.vector_isa},
        {"fp32_lanes", k.fp32_lanes},
        {"fma_per_cycle", k.fma_per_cycle},
        {"fma_units", k.fma_units},
        {"cores", k.cores},
        {"bf16_dp_per_cycle", k.bf16_dp_per_cycle},
        {"int8_dp_per_cycle", k.int8_dp_per_cycle},
        {"bf16_units", k.bf16_units},
        {"int8_units", k.int8_units}}},
      {"gemm_fp32_fraction_of_theoretical", rate(c.gemm_flop_per_s, k.fp32_flop_per_s_per_core())},
      {"gemm_fp32_flop_per_s", c.gemm_flop_per_s},
      {"gemm_sweep", sweep},
      {"gemm_2threads_n", c.gemm_2threads_n},
      {"gemm_fp32_flop_per_s_2threads", c.gemm_flop_per_s_2threads},
      {"gemm_2threads_bitwise_equal", c.gemm_2threads_bitwise_equal},
      {"stream_bytes", c.stream_bytes},
      {"stream_cache", c.stream_cache},
      {"read_bytes_per_s", c.read_bytes_per_s},
      {"copy_bytes_per_s", c.copy_bytes_per_s},
      {"read_bytes_per_s_2threads", c.read_bytes_per_s_2threads},
      {"copy_bytes_per_s_2threads", c.copy_bytes_per_s_2threads},
      {"best_stream_bytes_per_s", c.best_stream_bytes_per_s()},
      {"gemv_bytes_per_s", c.gemv_bytes_per_s},
      {"tiny_call_s", c.tiny_call_s}};
}

Json case_json(const Yardstick& y, const bench::CaseResult& r) {
  const double t = r.timing.min_s;
  const double flops = static_cast<double>(r.cost.total_flops());
  const double host_bytes = static_cast<double>(r.host_cost.total_bytes());
  return Json{{"name", r.name},
              {"family", r.family},
              {"model", r.model},
              {"context", r.context},
              {"tokens", r.tokens},
              {"time_s", t},
              {"median_s", r.timing.median_s},
              {"wall_median_s", r.timing.wall_median_s},
              {"repetitions", r.timing.reps},
              {"spread", r.timing.spread()},
              {"flops", r.cost.total_flops()},
              {"bytes", r.cost.total_bytes()},
              {"host_bytes", r.host_cost.total_bytes()},
              {"flop_per_s", rate(flops, t)},
              {"bytes_per_s", rate(static_cast<double>(r.cost.total_bytes()), t)},
              {"host_bytes_per_s", rate(host_bytes, t)},
              {"fraction_of_gemm", fraction_of_gemm(y, r)},
              {"fraction_of_theoretical", fraction_of_peak(y, r)},
              {"fraction_of_bandwidth", rate(rate(host_bytes, t), y.read_bytes_per_s)},
              {"counted_equals_cost", r.counted_equals_cost()}};
}

}  // namespace

std::string default_host_file() {
  // Measured per machine and regenerated at will: a user cache (XDG Base Directory rules: a
  // relative XDG_CACHE_HOME is ignored), never the source or install tree, which may be read-only.
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && xdg[0] == '/')
    return std::string(xdg) + "/v4sim/host.yaml";
  if (const char* home = std::getenv("HOME"); home && home[0] == '/')
    return std::string(home) + "/.cache/v4sim/host.yaml";
  return "v4sim-host/host.yaml";  // no home folder: under the working directory
}

bench::SuiteMode SuiteOptions::mode() const {
  return smoke ? bench::SuiteMode::smoke
               : (quick ? bench::SuiteMode::quick : bench::SuiteMode::full);
}

void add_suite_options(CLI::App* cmd, SuiteOptions& o) {
  cmd->add_flag("--quick", o.quick,
                "A subset at production shapes (decode at 4K and 1M, ...): under a minute");
  cmd->add_option("--filter", o.filter,
                  "Only cases whose name contains one of these comma-separated texts");
  cmd->add_flag("--smoke", o.smoke, "Toy shapes (tests)")->group("");  // hidden
}

void add_threads_option(CLI::App* cmd, SuiteOptions& o) {
  cmd->add_option("--threads", o.threads,
                  "Kernel threads, 1 or 2 (2: wall-clock times, fractions of the two-thread "
                  "ceilings; the kernels give the same bits on both)")
      ->capture_default_str();
}

std::vector<bench::SuiteCase> selected_cases(const SuiteOptions& o) {
  std::vector<bench::SuiteCase> cases = bench::filter_cases(bench::suite_cases(o.mode()), o.filter);
  if (cases.empty()) {
    std::string msg("--filter '");
    msg.append(o.filter).append("': no case of the ");
    msg.append(bench::to_string(o.mode())).append(" suite matches");
    throw InputError(msg);
  }
  return cases;
}

void require_valid_threads(int threads) {
  if (threads != 1 && threads != 2)
    throw InputError("--threads " + std::to_string(threads) +
                     ": expected 1 or 2 (the host ceilings are measured for one and two threads)");
  if (threads > 1 && !kernels_have_threads())
    throw InputError("--threads 2: this build of the kernels has no OpenMP");
}

namespace {

// The suite under `policy` (its evictor shared with the ceilings' when measure_host_and_suite
// runs both: one eviction buffer per process).
std::vector<bench::CaseResult> run_cases_with(const std::vector<bench::SuiteCase>& cases,
                                              bench::TimingPolicy policy, int threads) {
  require_valid_threads(threads);
  const KernelThreads guard(threads);
  policy.wall_clock = threads > 1;
  report::Progress progress =
      report::Progress::on_stderr("kernel suite", static_cast<std::int64_t>(cases.size()));
  auto results = bench::run_suite(cases, policy, [&](std::size_t i, const std::string&) {
    if (i > 0) progress.advance();
  });
  progress.advance();
  progress.finish();
  return results;
}

}  // namespace

std::vector<bench::CaseResult> run_cases(const std::vector<bench::SuiteCase>& cases,
                                         bench::SuiteMode mode, int threads) {
  return run_cases_with(cases, bench::suite_timing_policy(mode), threads);
}

// Rounds of the alternating ratio pass: an odd count, so the median is one round's ratio.
constexpr int kInterleavedRounds = 7;

HostAndSuite measure_host_and_suite(const std::vector<bench::SuiteCase>& cases,
                                    bench::SuiteMode mode, int threads) {
  const bench::CeilingOptions options = bench::ceiling_options(mode);
  HostAndSuite h;
  const bench::HostCeilings before = bench::measure_host_ceilings(options);
  if (threads > 1 && before.gemm_flop_per_s_2threads <= 0)
    throw InputError("--threads 2: the host has one hardware thread");
  bench::TimingPolicy policy = bench::suite_timing_policy(mode);
  policy.evictor = options.policy.evictor;
  h.results = run_cases_with(cases, policy, threads);
  const std::vector<bench::SpeedRatio> pairs = bench::v4_vs_v32_ratios(h.results);
  if (!pairs.empty()) {
    const KernelThreads guard(threads);
    policy.wall_clock = threads > 1;
    h.interleaved = bench::interleaved_ratios(cases, pairs, policy, kInterleavedRounds);
  }
  h.ceilings = bench::best_of(before, bench::measure_host_ceilings(options));
  return h;
}

namespace {

const bench::InterleavedRatio* interleaved_of(const BenchRun& run, const bench::SpeedRatio& s) {
  for (const bench::InterleavedRatio& i : run.interleaved)
    if (i.numerator == s.numerator && i.denominator == s.denominator) return &i;
  return nullptr;
}

}  // namespace

Json bench_json(const BenchRun& run) {
  const Yardstick y = yardstick(run.ceilings, run.threads);
  Json cases = Json::array();
  for (const bench::CaseResult& r : run.results) cases.push_back(case_json(y, r));
  Json ratios = Json::array();
  for (const bench::SpeedRatio& s : bench::v4_vs_v32_ratios(run.results)) {
    double num = 0, den = 0;
    for (const bench::CaseResult& r : run.results) {
      if (r.name == s.numerator) num = roofline_s(y, r);
      if (r.name == s.denominator) den = roofline_s(y, r);
    }
    Json ratio = {{"numerator", s.numerator},  {"denominator", s.denominator},
                  {"context", s.context},      {"measured", s.measured},
                  {"flops", s.flops},          {"host_bytes", s.host_bytes},
                  {"roofline", rate(num, den)}};
    if (const bench::InterleavedRatio* i = interleaved_of(run, s)) {
      ratio["measured_interleaved"] = i->median;
      ratio["interleaved_rounds"] = i->rounds;
    }
    ratios.push_back(std::move(ratio));
  }
  return Json{{"command", "bench"},
              {"mode", bench::to_string(run.mode)},
              {"host",
               {{"hostname", run.info.hostname},
                {"cpu", run.info.cpu_model},
                {"date_utc", run.info.date_utc},
                {"threads_used", run.threads},
                {"timer", run.threads > 1 ? "wall clock, fastest repetition"
                                          : "thread CPU time, fastest repetition"},
                {"cache", bench::cache_note(bench::suite_timing_policy(run.mode))}}},
              {"ceilings", ceilings_json(run.ceilings)},
              {"cases", cases},
              {"ratios", ratios},
              {"seconds", run.seconds}};
}

void print_ceilings(std::ostream& out, const bench::HostCeilings& c) {
  Table t{{"host ceiling", "one thread", "two threads", "note"}, {}, {false, true, true, false}};
  const bool two = c.gemm_flop_per_s_2threads > 0;
  const bench::HostPeak& k = c.peak;
  const int cores2 = std::min(2, std::max(k.cores, 1));
  t.rows.push_back({"theoretical fp32 peak (GFLOP/s)", fmt(k.fp32_flop_per_s_per_core() / 1e9),
                    two ? fmt(k.fp32_flop_per_s_per_core() * cores2 / 1e9) : "-",
                    std::to_string(k.fp32_lanes) + " lanes (" + k.vector_isa + ") x 2 x " +
                        std::to_string(k.fma_units) + " FMA (" + fmt(k.fma_per_cycle) +
                        "/cycle) x " + fmt(k.clock_hz / 1e9, "%.2f") + " GHz; " +
                        std::to_string(k.cores) + " cores: " + fmt(k.fp32_flop_per_s() / 1e9)});
  t.rows.push_back(
      {"fp32 GEMM (GFLOP/s)", fmt(c.gemm_flop_per_s / 1e9),
       two ? fmt(c.gemm_flop_per_s_2threads / 1e9) : "-",
       two ? std::string("2 threads: n=") + std::to_string(c.gemm_2threads_n) +
                 ", columns split, bitwise equal: " + (c.gemm_2threads_bitwise_equal ? "yes" : "NO")
           : "best of the size sweep"});
  for (const bench::PrecisionCeiling& p : c.precisions) {
    if (p.precision == "fp32") {
      t.rows.push_back(
          {"  fp32 GEMM / peak", pct(rate(p.gemm_flop_per_s, p.theoretical_flop_per_s)),
           two ? pct(rate(c.gemm_flop_per_s_2threads, k.fp32_flop_per_s_per_core() * cores2)) : "-",
           "measured GEMM over the theoretical peak"});
      continue;
    }
    t.rows.push_back({p.precision + " GEMM (G" + (p.precision == "int8" ? "OP" : "FLOP") + "/s)",
                      fmt(p.gemm_flop_per_s / 1e9), "-",
                      "n=" + std::to_string(p.gemm_n) + ", " + p.path + "; peak " +
                          fmt(p.theoretical_flop_per_s / 1e9) + " (" +
                          pct(rate(p.gemm_flop_per_s, p.theoretical_flop_per_s)) + ")"});
  }
  t.rows.push_back({"read stream (GB/s)", fmt(c.read_bytes_per_s / 1e9),
                    two ? fmt(c.read_bytes_per_s_2threads / 1e9) : "-",
                    fmt(static_cast<double>(c.stream_bytes) / 1e6, "%.0f") + " MB array"});
  t.rows.push_back({"copy stream (GB/s, 2N)", fmt(c.copy_bytes_per_s / 1e9),
                    two ? fmt(c.copy_bytes_per_s_2threads / 1e9) : "-", "read + write counted"});
  t.rows.push_back({"GEMV y = W x (GB/s of W)", fmt(c.gemv_bytes_per_s / 1e9), "-",
                    "weight streaming, same size"});
  t.rows.push_back({"tiny kernel call (us)", fmt(c.tiny_call_s * 1e6), "-", "median"});
  out << "Host ceilings (" << c.simd << "; timer: thread CPU time, 2-thread figures wall clock)\n";
  write_text(out, t);
}

void print_cases(std::ostream& out, const bench::HostCeilings& c,
                 const std::vector<bench::CaseResult>& results, int threads) {
  const Yardstick y = yardstick(c, threads);
  Table t{{"case", "time_ms", "spread", "gflop", "gflop_per_s", "of_gemm", "of_peak", "gb_deploy",
           "gb_as_run", "gb_per_s", "of_bw", "counted"},
          {},
          {false, true, true, true, true, true, true, true, true, true, true, false}};
  for (const bench::CaseResult& r : results) {
    const double s = r.timing.min_s;
    const double flops = static_cast<double>(r.cost.total_flops());
    const double host_bytes = static_cast<double>(r.host_cost.total_bytes());
    t.rows.push_back(
        {r.name, ms(s), pct(r.timing.spread()), fmt(flops / 1e9), fmt(rate(flops, s) / 1e9),
         pct(fraction_of_gemm(y, r)), pct(fraction_of_peak(y, r)),
         fmt(static_cast<double>(r.cost.total_bytes()) / 1e9), fmt(host_bytes / 1e9),
         fmt(rate(host_bytes, s) / 1e9), pct(rate(rate(host_bytes, s), y.read_bytes_per_s)),
         r.counted_equals_cost() ? "== cost" : "MISMATCH"});
  }
  out << "Kernel cases ("
      << (threads > 1 ? "two threads, wall clock, fractions of the two-thread ceilings"
                      : "one thread, thread CPU time")
      << "; time = fastest repetition;\nspread = median / fastest - 1; "
      << "of_gemm / of_peak = the time the measured GEMM ceilings / the theoretical peak need "
         "for the case's FLOPs\n(each at its as-run precision) over its time; "
      << "gb_deploy = cost() bytes in deployment formats, gb_as_run = float32 weights as the\n"
      << "reference kernels hold them; gb_per_s and of_bw use gb_as_run; counted: the kernel's "
         "own\n"
      << "count of its first run against cost())\n";
  write_text(out, t);
}

void print_bench(std::ostream& out, const BenchRun& run) {
  print_ceilings(out, run.ceilings);
  out << '\n';
  print_cases(out, run.ceilings, run.results, run.threads);
  const Yardstick y = yardstick(run.ceilings, run.threads);
  const auto ratios = bench::v4_vs_v32_ratios(run.results);
  if (!ratios.empty()) {
    Table t{{"v3.2 / v4 decode time", "context", "measured", "interleaved", "cost_flops",
             "cost_bytes_as_run", "roofline"},
            {},
            {false, true, true, true, true, true, true}};
    for (const bench::SpeedRatio& s : ratios) {
      double num = 0, den = 0;
      for (const bench::CaseResult& r : run.results) {
        if (r.name == s.numerator) num = roofline_s(y, r);
        if (r.name == s.denominator) den = roofline_s(y, r);
      }
      const bench::InterleavedRatio* i = interleaved_of(run, s);
      t.rows.push_back({s.numerator + " / " + s.denominator, bench::context_label(s.context),
                        fmt(s.measured), i ? fmt(i->median) : "-", fmt(s.flops), fmt(s.host_bytes),
                        fmt(rate(num, den))});
    }
    out << "\nV4 vs V3.2 (ratio > 1: V4 faster; measured: fastest repetitions of the two cases; "
           "interleaved: median over rounds alternating the two cases, one repetition each; "
           "roofline = the sum over each case's ops of max(FLOPs / GEMM rate, as-run bytes / read "
           "rate))\n";
    write_text(out, t);
  }
  out << "\nCaches: " << bench::cache_note(bench::suite_timing_policy(run.mode))
      << " (the cases and the stream ceilings; the GEMM ceilings run warm).\n";
  out << "\n"
      << run.results.size() << " cases, mode " << bench::to_string(run.mode) << ", "
      << fmt(run.seconds, "%.1f") << " s in total.\n";
}

void print_calibration(std::ostream& out, const bench::HostCalibration& c) {
  Table t{{"fitted", "value", "from"}, {}, {false, true, false}};
  t.rows.push_back(
      {"peak_tflops.fp32", fmt(c.gemm.flop_per_s / 1e12, "%.4g"),
       "GEMM sweep fit t = F / P + ramp (worst point " + pct(c.gemm.max_rel_error) + " off)"});
  t.rows.push_back({"compute_ramp_s", fmt(c.gemm.ramp_s, "%.3g"), "same fit"});
  for (const bench::PrecisionCeiling& p : c.ceilings.precisions)
    if (p.precision != "fp32" && p.gemm_flop_per_s > 0)
      t.rows.push_back({"peak_tflops." + p.precision, fmt(p.gemm_flop_per_s / 1e12, "%.4g"),
                        "one-thread GEMM n=" + std::to_string(p.gemm_n) + ", " + p.path + " (" +
                            pct(rate(p.gemm_flop_per_s, p.theoretical_flop_per_s)) +
                            " of its theoretical peak)"});
  const bench::HostPeak& k = c.ceilings.peak;
  t.rows.push_back(
      {"(theoretical fp32, one core)", fmt(k.fp32_flop_per_s_per_core() / 1e12, "%.4g"),
       std::to_string(k.fp32_lanes) + " lanes x 2 x " + std::to_string(k.fma_units) + " FMA x " +
           fmt(k.clock_hz / 1e9, "%.2f") + " GHz (measured); fitted P is " +
           pct(rate(c.gemm.flop_per_s, k.fp32_flop_per_s_per_core())) + " of it"});
  t.rows.push_back(
      {"hbm_bandwidth_tb_per_s", fmt(c.bandwidth_bytes_per_s / 1e12, "%.4g"), "best stream"});
  t.rows.push_back(
      {"memory_fraction", fmt(c.memory_fraction, "%.3g"), "one-thread GEMV / best stream"});
  t.rows.push_back({"launch_overhead_s", fmt(c.launch_overhead_s, "%.3g"), "tiny kernel call"});
  out << "Host calibration (" << c.info.cpu_model << ", " << c.info.hostname << ", "
      << c.info.date_utc << ")\n";
  write_text(out, t);
}

Json validation_json(const Validation& v, bench::SuiteMode mode, const std::string& host_file) {
  Json cases = Json::array();
  for (const CasePrediction& p : v.cases)
    cases.push_back({{"name", p.name},
                     {"family", p.family},
                     {"measured_s", p.measured_s},
                     {"predicted_s", p.predicted.total_s},
                     {"error", p.error()},
                     {"bound", to_string(p.predicted.bound)},
                     {"compute_s", p.predicted.compute_s},
                     {"memory_s", p.predicted.memory_s},
                     {"predicted_deploy_formats_s", p.predicted_deploy.total_s},
                     {"tables", v.tables ? Json{{"predicted_s", p.table_s},
                                                {"error", p.table_error()},
                                                {"ops", p.ops},
                                                {"ops_measured", p.ops_from_tables},
                                                {"measured_share", p.table_share()},
                                                {"source", p.ops_from_tables == 0       ? "roofline"
                                                           : p.ops_from_tables == p.ops ? "measured"
                                                                                        : "mixed"},
                                                {"extrapolated", p.table_extrapolated}}
                                         : Json()}});
  Json ratios = Json::array();
  for (const RatioPrediction& r : v.ratios)
    ratios.push_back({{"numerator", r.ratio.numerator},
                      {"denominator", r.ratio.denominator},
                      {"context", r.ratio.context},
                      {"measured", r.ratio.measured},
                      {"predicted", r.predicted},
                      {"flops", r.ratio.flops}});
  return Json{{"command", "validate"},
              {"mode", bench::to_string(mode)},
              {"host_file", host_file},
              {"cases", cases},
              {"median_abs_error", v.median_abs_error},
              {"worst_factor", v.worst_factor},
              {"worst_case", v.worst_case},
              {"within_2x", v.within_2x},
              {"tables", v.tables ? Json{{"median_abs_error", v.tables->median_abs_error},
                                         {"worst_factor", v.tables->worst_factor},
                                         {"worst_case", v.tables->worst_case},
                                         {"within_2x", v.tables->within_2x},
                                         {"measured_share", v.table_measured_share}}
                                  : Json()},
              {"ratios", ratios}};
}

void print_validation(std::ostream& out, const Validation& v, const std::string& host_file) {
  Table t{{"case", "measured_ms", "predicted_ms", "error", "bound", "pred_deploy_fmt_ms"},
          {},
          {false, true, true, true, false, true}};
  if (v.tables) {
    // The table path beside the roofline: its time, error, and the ops (and share of its
    // time) that rest on the host's measured tables.
    t.columns.insert(t.columns.end(), {"tables_ms", "tables_error", "table_ops", "table_share"});
    t.numeric.insert(t.numeric.end(), {true, true, true, true});
  }
  for (const CasePrediction& p : v.cases) {
    std::vector<std::string> row = {p.name,
                                    ms(p.measured_s),
                                    ms(p.predicted.total_s),
                                    fmt(100 * p.error(), "%+.0f%%"),
                                    std::string(to_string(p.predicted.bound)),
                                    ms(p.predicted_deploy.total_s)};
    if (v.tables)
      row.insert(row.end(), {ms(p.table_s), fmt(100 * p.table_error(), "%+.0f%%"),
                             std::to_string(p.ops_from_tables) + "/" + std::to_string(p.ops) +
                                 (p.table_extrapolated ? " (extrapolated)" : ""),
                             fmt(100 * p.table_share(), "%.0f%%")});
    t.rows.push_back(std::move(row));
  }
  out << "Predicted (op_time of the as-run cost on " << host_file
      << (v.tables ? "; tables: through PerfModel with the host's measured tables, roofline "
                     "for ops without one"
                   : "")
      << ") vs measured (one thread, fastest repetition)\n";
  write_text(out, t);
  if (!v.ratios.empty()) {
    Table r{{"v3.2 / v4 decode time", "context", "measured", "predicted", "cost_flops"},
            {},
            {false, true, true, true, true}};
    for (const RatioPrediction& p : v.ratios)
      r.rows.push_back({p.ratio.numerator + " / " + p.ratio.denominator,
                        bench::context_label(p.ratio.context), fmt(p.ratio.measured),
                        fmt(p.predicted), fmt(p.ratio.flops)});
    out << '\n';
    write_text(out, r);
  }
  out << "\nroofline (the host file's peaks and efficiencies, no tables): median |error| "
      << pct(v.median_abs_error) << " over " << v.cases.size()
      << " kernels; within 2x: " << v.within_2x << " of " << v.cases.size()
      << "; worst: " << (v.worst_case.empty() ? "-" : v.worst_case) << " off by "
      << fmt(v.worst_factor, "%.2f") << "x.\n";
  if (v.tables)
    out << "tables: median |error| " << pct(v.tables->median_abs_error)
        << "; within 2x: " << v.tables->within_2x << " of " << v.cases.size()
        << "; worst: " << (v.tables->worst_case.empty() ? "-" : v.tables->worst_case) << " off by "
        << fmt(v.tables->worst_factor, "%.2f") << "x; " << pct(v.table_measured_share)
        << " of the predicted time from measured host tables.  (The GPUs' path: tables, then "
           "transfer, then roofline. Aim: median <= 10%, none beyond 2x.)\n";
  else
    out << "tables: none (no host tables beside the host file; `v4sim calibrate` writes them)\n";
}

}  // namespace v4sim::cli
