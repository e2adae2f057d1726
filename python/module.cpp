// The Python module `v4sim`: cost, compare, predict, optimize, plan and report, with keyword
// arguments named like the CLI's flags (slo_tpot_ms= for --slo-tpot-ms, mtp=True for --mtp, a list
// for a comma-separated value). Each call runs the same command code as the CLI, in this process,
// with --format json, and returns what that prints parsed by Python's json module: a dict, or a
// list of dicts where the command prints one object per line (cost). Bad input raises ValueError
// with the CLI's message; report() returns {"output": folder, "files": [...]}.
// Data (catalogues) is found as the CLI finds it (models/config/data_paths.h): V4SIM_DATA_DIR,
// V4SIM_PATH, else share/v4sim beside the installed module, or the source tree in a build tree.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "kernels/cost.h"
#include "models/config/input_error.h"
#include "reports/cli/commands.h"

namespace py = pybind11;

namespace {

/// Restores std::cout's buffer on every exit path.
class CaptureStdout {
 public:
  CaptureStdout() : old_(std::cout.rdbuf(text_.rdbuf())) {}
  ~CaptureStdout() { std::cout.rdbuf(old_); }
  CaptureStdout(const CaptureStdout&) = delete;
  CaptureStdout& operator=(const CaptureStdout&) = delete;
  std::string text() const { return text_.str(); }

 private:
  std::ostringstream text_;
  std::streambuf* old_;
};

/// One flag's text: "--slo-tpot-ms" for slo_tpot_ms.
std::string flag(const std::string& key) {
  std::string out = "--" + key;
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

/// A keyword value as the CLI reads it: True -> the bare flag, False/None -> nothing, a list or
/// tuple -> comma-separated, anything else -> str().
void add_argument(std::vector<std::string>& args, const std::string& key, const py::handle& v) {
  if (v.is_none()) return;
  if (py::isinstance<py::bool_>(v)) {
    if (v.cast<bool>()) args.push_back(flag(key));
    return;
  }
  std::string text;
  if (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v)) {
    for (const py::handle& item : v)
      text += (text.empty() ? "" : ",") + py::str(item).cast<std::string>();
  } else {
    text = py::str(v).cast<std::string>();
  }
  args.push_back(flag(key));
  args.push_back(text);
}

/// Runs `v4sim <command> <positional> <kwargs...>` in this process and returns its stdout.
std::string run(const std::string& command, const std::string& positional, const py::kwargs& kw,
                bool json) {
  std::vector<std::string> args = {"v4sim", command};
  if (!positional.empty()) args.push_back(positional);
  for (const auto& [key, value] : kw) add_argument(args, py::str(key).cast<std::string>(), value);
  if (json && !kw.contains("format")) {
    args.push_back("--format");
    args.push_back("json");
  }
  CLI::App app{"v4sim", "v4sim"};
  app.require_subcommand(1);
  v4sim::cli::setup_commands(app);  // the CLI's own list: a new command needs no edit here
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  CaptureStdout capture;
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    // The CLI's own words for a usage error ("--batch: Value x could not be converted", ...).
    std::ostringstream msg;
    msg << e.what();
    throw py::value_error("v4sim " + command + ": " + msg.str());
  } catch (const v4sim::InputError& e) {
    throw py::value_error(e.what());
  } catch (const v4sim::CountOverflow& e) {
    throw py::value_error(std::string(e.what()) + " for these inputs");
  }
  return capture.text();
}

/// JSON text as Python objects: one document, or (lines = true: commands that print one object
/// per line) a list with one element per line, even when there is one line.
py::object parse(const std::string& text, bool lines = false) {
  const py::module_ json = py::module_::import("json");
  if (!lines) return json.attr("loads")(text);
  py::list out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.append(json.attr("loads")(line));
  return out;
}

py::object command(const std::string& name, const py::kwargs& kw) {
  return parse(run(name, "", kw, true), name == "cost");
}

}  // namespace

PYBIND11_MODULE(v4sim, m) {
  m.doc() =
      "v4sim: cost and performance of long-context LLM inference. Keyword arguments are the CLI's "
      "flags (slo_tpot_ms=50 for --slo-tpot-ms 50); results are what --format json prints.";
  m.attr("__version__") = V4SIM_VERSION;
  m.def(
      "cost", [](py::kwargs kw) { return command("cost", kw); },
      "Parameters, KV cache and FLOPs: a list with one dict per context (v4sim cost).");
  m.def(
      "compare", [](py::kwargs kw) { return command("compare", kw); },
      "Models' FLOPs per token and KV bytes across contexts (v4sim compare).");
  m.def(
      "predict", [](py::kwargs kw) { return command("predict", kw); },
      "One deployment's throughput, latency, memory and cost (v4sim predict).");
  m.def(
      "optimize", [](py::kwargs kw) { return command("optimize", kw); },
      "Layout and batch search: the frontier and the cheapest point (v4sim optimize).");
  m.def(
      "simulate", [](py::kwargs kw) { return command("simulate", kw); },
      "Serving simulation over a trace or synthetic arrivals: latency percentiles, SLO "
      "attainment, goodput (v4sim simulate).");
  m.def(
      "plan",
      [](const std::string& file, py::kwargs kw) { return parse(run("plan", file, kw, true)); },
      py::arg("file"), "Ranked hardware purchases for a demand file (v4sim plan FILE).");
  m.def(
      "report",
      [](const std::string& scenario, py::kwargs kw) {
        run("report", scenario, kw, false);
        std::string out;
        if (kw.contains("output")) {
          out = py::str(kw["output"]).cast<std::string>();
        } else {
          // The CLI's default folder: out/<scenario name>, the name being the file's stem.
          out = "out/" + std::filesystem::path(scenario).stem().string();
        }
        std::vector<std::string> files;
        for (const auto& e : std::filesystem::directory_iterator(out))
          if (e.is_regular_file()) files.push_back(e.path().filename().string());
        std::sort(files.begin(), files.end());
        py::dict result;
        result["output"] = out;
        result["files"] = files;
        return result;
      },
      py::arg("scenario"),
      "Runs a scenario and writes its report folder (v4sim report SCENARIO -o OUTPUT); returns "
      "{'output': folder, 'files': [...]}.");
}
