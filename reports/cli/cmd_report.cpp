// `v4sim report SCENARIO [-o DIR]`: runs a scenario and writes its report folder (report.md,
// self-contained report.html, CSV and JSON data, charts as PNG and SVG).
#include <iostream>
#include <memory>
#include <optional>

#include "reports/cli/commands.h"
#include "reports/progress.h"
#include "reports/studies/run.h"
#include "reports/write_report.h"

namespace v4sim::cli {

void setup_report(CLI::App& app) {
  struct Options {
    std::string scenario, out;
  };
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("report", "Run a scenario and write its report folder");
  cmd->add_option("scenario", opt->scenario, "Scenario name (scenarios/<name>.yaml) or path")
      ->required();
  cmd->add_option("-o,--output", opt->out, "Output folder (default: out/<scenario name>)");
  cmd->callback([opt] {
    const Scenario s = load_scenario(opt->scenario);
    const std::string out = opt->out.empty() ? "out/" + s.name : opt->out;
    std::optional<report::Progress> bar;
    auto progress = [&](std::size_t done, std::size_t total) {
      if (!bar) bar.emplace(report::Progress::on_stderr(s.name, static_cast<std::int64_t>(total)));
      bar->advance();
      (void)done;
    };
    const report::Report r = run_scenario(s, progress);
    if (bar) bar->finish();
    const report::WrittenReport w = report::write_report(r, out);
    for (const std::string& warning : w.warnings)
      std::cerr << "v4sim: warning: " << warning << '\n';
    std::cout << "wrote " << w.files.size() << " files to " << out
              << "/ (report.md, report.html)\n";
  });
}

}  // namespace v4sim::cli
