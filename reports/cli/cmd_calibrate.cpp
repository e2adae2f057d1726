// `v4sim calibrate [--quick] [-o FILE]`: measures this host (GEMM rate, streams, a tiny kernel
// call; before and after the suite, keeping the best of each figure), runs the kernel suite,
// writes the host accelerator file (default build/host.yaml, generated, not committed), loads it
// back and shows how well it predicts the suite just run.
// What is fitted from what: kernels/bench/host_calibration.h.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "hardware/accelerator.h"
#include "models/config/input_error.h"
#include "reports/cli/bench_report.h"
#include "reports/cli/commands.h"
#include "reports/cli/host_validation.h"

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
  cmd->add_option("-o,--output", opt->output, "Host file to write")->capture_default_str();
  cmd->callback([opt] {
    const std::vector<bench::SuiteCase> cases = selected_cases(opt->suite);
    const bench::SuiteMode mode = opt->suite.mode();
    const HostAndSuite measured = measure_host_and_suite(cases, mode);
    const bench::HostCeilings& ceilings = measured.ceilings;
    const std::vector<bench::CaseResult>& results = measured.results;
    const bench::HostCalibration calibration =
        bench::calibrate_host(ceilings, bench::current_host_info());
    write_file(opt->output, calibration);
    const Accelerator host = load_accelerator(opt->output);  // the file must load and validate
    print_ceilings(std::cout, ceilings);
    std::cout << '\n';
    print_calibration(std::cout, calibration);
    std::cout << '\n';
    print_cases(std::cout, ceilings, results);
    const Validation v = validate_on_host(host, results);
    std::cout << "\nWrote " << opt->output << " (loads as accelerator '" << host.name
              << "'). On this run's kernels it predicts with median |error| "
              << static_cast<int>(100 * v.median_abs_error + 0.5) << "%, " << v.within_2x << " of "
              << v.cases.size() << " within 2x; details: v4sim validate.\n";
  });
}

}  // namespace v4sim::cli
