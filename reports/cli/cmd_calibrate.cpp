// `v4sim calibrate [--quick] [-o FILE]`: measures this host (GEMM rate, streams, a tiny kernel
// call; before and after the suite, keeping the best of each figure), runs the kernel suite,
// writes the host accelerator file (default: the user's cache, $XDG_CACHE_HOME/v4sim/host.yaml
// or ~/.cache/v4sim/host.yaml; generated, never in the source or install tree), loads it back and
// shows how well it predicts the suite just run.
// It also times the reference kernels on a calibration grid of shapes (not the suite's) and
// writes them as the host's measured kernel tables, in the hardware/perf format, into
// <host file folder>/perf/host/ (default ~/.cache/v4sim/perf/host/), each loaded back by the
// strict table loader; `validate` predicts through them as PerfModel does for a GPU.
// What is fitted from what: kernels/bench/host_calibration.h; the tables: host_tables.h.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "hardware/accelerator.h"
#include "hardware/perf_model.h"
#include "kernels/bench/host_tables.h"
#include "kernels/parallel.h"
#include "models/config/input_error.h"
#include "reports/cli/bench_report.h"
#include "reports/cli/commands.h"
#include "reports/cli/host_validation.h"
#include "reports/progress.h"

namespace v4sim::cli {
namespace {

namespace fs = std::filesystem;

// Writes next to the target and renames, so a failed run leaves no half-written host file.
void write_file(const fs::path& path, const bench::HostCalibration& c) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp);
    if (!out) throw InputError("-o '" + path.string() + "': cannot write there");
    bench::write_host_yaml(out, c);
    if (!out.flush()) throw InputError("-o '" + path.string() + "': write failed");
  }
  fs::rename(tmp, path, ec);
  if (ec) throw InputError("-o '" + path.string() + "': " + ec.message());
}

// The host tables' grid, timed on one kernel thread as the suite (the host model is one core).
std::vector<bench::MeasuredTable> measure_tables(bench::SuiteMode mode) {
  const std::vector<bench::TableSpec> specs = bench::host_table_specs(mode);
  std::int64_t points = 0;
  for (const bench::TableSpec& s : specs) points += static_cast<std::int64_t>(s.points.size());
  const KernelThreads one(1);
  report::Progress progress = report::Progress::on_stderr("host tables", points);
  auto tables =
      bench::measure_host_tables(specs, bench::suite_timing_policy(mode), [&](std::size_t i) {
        if (i > 0) progress.advance();
      });
  progress.advance();
  progress.finish();
  return tables;
}

bench::TableProvenance provenance(const bench::HostInfo& info, const bench::HostCeilings& c,
                                  bench::SuiteMode mode) {
  bench::TableProvenance p;
  p.hostname = info.hostname;
  p.cpu_model = info.cpu_model;
  p.date_utc = info.date_utc;
  p.isa = c.simd;
  p.threads = 1;
  p.policy = bench::suite_timing_policy(mode);
  return p;
}

}  // namespace

void setup_calibrate(CLI::App& app) {
  struct Options {
    SuiteOptions suite;
    std::string output = default_host_file();
  };
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "calibrate",
      "Measure this host and write a host accelerator file (peaks, bandwidth and efficiencies "
      "fitted to calibration micro-benchmarks) for `v4sim validate`");
  add_suite_options(cmd, opt->suite);
  cmd->add_option(
      "-o,--output", opt->output,
      std::string("Host file to write; its kernel tables go to perf/host/ beside it (") +
          kDefaultHostFileHelp + "; `validate` reads the same default)");
  cmd->callback([opt] {
    const std::vector<bench::SuiteCase> cases = selected_cases(opt->suite);
    const bench::SuiteMode mode = opt->suite.mode();
    const HostAndSuite measured = measure_host_and_suite(cases, mode);
    const bench::HostCeilings& ceilings = measured.ceilings;
    const std::vector<bench::CaseResult>& results = measured.results;
    const bench::HostInfo info = bench::current_host_info();
    const bench::HostCalibration calibration = bench::calibrate_host(ceilings, info);
    write_file(opt->output, calibration);
    const Accelerator host = load_accelerator(opt->output);  // the file must load and validate
    const fs::path perf_dir = host_perf_dir(opt->output);
    const std::vector<fs::path> table_files =
        write_host_tables(perf_dir, measure_tables(mode), provenance(info, ceilings, mode));
    const PerfModel tables(host, perf_dir, fs::path(opt->output).parent_path());
    print_ceilings(std::cout, ceilings);
    std::cout << '\n';
    print_calibration(std::cout, calibration);
    std::cout << '\n';
    print_cases(std::cout, ceilings, results);
    const Validation v = validate_on_host(host, results, &tables);
    std::cout << "\nWrote " << opt->output << " (loads as accelerator '" << host.name
              << "'). On this run's kernels it predicts with median |error| "
              << static_cast<int>(100 * v.median_abs_error + 0.5) << "%, " << v.within_2x << " of "
              << v.cases.size() << " within 2x; details: v4sim validate.\n";
    std::cout << "Wrote " << table_files.size() << " host kernel tables to "
              << (perf_dir / "host").string() << " (each loads); through them (roofline for ops "
              << "without a table): median |error| "
              << static_cast<int>(100 * v.tables->median_abs_error + 0.5) << "%, "
              << v.tables->within_2x << " of " << v.cases.size() << " within 2x, "
              << static_cast<int>(100 * v.table_measured_share + 0.5)
              << "% of the predicted time from the tables.\n";
  });
}

}  // namespace v4sim::cli
