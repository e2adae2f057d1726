// Shared by `v4sim bench`, `calibrate` and `validate`: running the kernel suite with a progress
// line, and its tables and JSON.
//
// The suite runs the kernels on one thread by default (thread CPU time; fractions of the
// one-thread GEMM rate and streaming read) and on two with `--threads 2` (wall clock; fractions of
// the two-thread ceilings). Two threads give the same bits as one (kernels/parallel.h).
// `calibrate` and `validate` always use one thread: the host model describes one core.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "kernels/bench/host_calibration.h"
#include "kernels/bench/host_ceilings.h"
#include "kernels/bench/suite.h"
#include "reports/cli/host_validation.h"

namespace v4sim::cli {

struct SuiteOptions {
  bool quick = false;
  bool smoke = false;  // hidden: toy shapes, for tests
  std::string filter;  // comma-separated substrings of case names
  int threads = 1;     // kernel threads: 1 or 2 (bench only)
  bench::SuiteMode mode() const;
};

/// Where `calibrate` writes and `validate` reads by default, whatever the working directory and
/// wherever v4sim is installed: $XDG_CACHE_HOME/v4sim/host.yaml, else $HOME/.cache/v4sim/host.yaml,
/// else v4sim-host/host.yaml under the working directory. The host tables go to perf/host/ beside
/// it. Read from the environment on each call.
std::string default_host_file();

/// The rule above in words, for --help.
inline constexpr const char* kDefaultHostFileHelp =
    "default: $XDG_CACHE_HOME/v4sim/host.yaml, else ~/.cache/v4sim/host.yaml";

/// Adds --quick, --filter and the hidden --smoke to a command.
void add_suite_options(CLI::App* cmd, SuiteOptions& o);
/// Adds --threads (bench).
void add_threads_option(CLI::App* cmd, SuiteOptions& o);
/// InputError unless threads is 1, or 2 with kernels built with OpenMP.
void require_valid_threads(int threads);

/// The filtered cases of the mode; an empty selection is an InputError naming the filter.
std::vector<bench::SuiteCase> selected_cases(const SuiteOptions& o);
/// Runs them on `threads` kernel threads with a progress line on stderr (a terminal only).
std::vector<bench::CaseResult> run_cases(const std::vector<bench::SuiteCase>& cases,
                                         bench::SuiteMode mode, int threads = 1);

struct HostAndSuite {
  bench::HostCeilings ceilings;  // best of a pass before and a pass after the suite
  std::vector<bench::CaseResult> results;
  /// The V4-vs-V3.2 ratios of `results` timed again, their cases in alternation.
  std::vector<bench::InterleavedRatio> interleaved;
};
/// The host ceilings, the suite, the ratio cases in alternation (bench::interleaved_ratios), the
/// ceilings again (best_of the two passes).
HostAndSuite measure_host_and_suite(const std::vector<bench::SuiteCase>& cases,
                                    bench::SuiteMode mode, int threads = 1);

struct BenchRun {
  bench::SuiteMode mode = bench::SuiteMode::quick;
  bench::HostInfo info;
  bench::HostCeilings ceilings;
  std::vector<bench::CaseResult> results;
  std::vector<bench::InterleavedRatio> interleaved;  // HostAndSuite::interleaved
  int threads = 1;                                   // kernel threads the cases ran on
  double seconds = 0;                                // wall time of the whole command
};

nlohmann::ordered_json bench_json(const BenchRun& run);
void print_ceilings(std::ostream& out, const bench::HostCeilings& c);
void print_cases(std::ostream& out, const bench::HostCeilings& c,
                 const std::vector<bench::CaseResult>& results, int threads = 1);
void print_bench(std::ostream& out, const BenchRun& run);

void print_calibration(std::ostream& out, const bench::HostCalibration& c);

nlohmann::ordered_json validation_json(const Validation& v, bench::SuiteMode mode,
                                       const std::string& host_file);
void print_validation(std::ostream& out, const Validation& v, const std::string& host_file);

}  // namespace v4sim::cli
