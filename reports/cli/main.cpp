// v4sim: cost and performance of long-context LLM inference, from first principles.
#include <malloc.h>
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "kernels/cost.h"
#include "models/config/input_error.h"
#include "reports/cli/commands.h"

namespace {

/// --data-dir DIR and --catalogue DIR (repeatable) are accepted anywhere on the command line. They
/// are taken out of argv and become this process's V4SIM_DATA_DIR and the front of its V4SIM_PATH
/// before any command runs, exactly as if the user had exported them: the catalogues are found in
/// one place, models/config/data_paths.h, which reads the environment and keeps no state.
/// Returns false (after printing the error) when an option lacks its folder.
bool take_data_options(int& argc, char** argv) {
  std::vector<std::string> catalogues;
  std::string data_dir;
  bool has_data_dir = false;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    std::string value;
    bool matched = false;
    for (const char* name : {"--data-dir", "--catalogue"}) {
      const std::string n(name);
      if (a == n || a.starts_with(n + "=")) {
        matched = true;
        if (a == n) {
          if (i + 1 >= argc || argv[i + 1][0] == '\0') {
            std::cerr << "v4sim: error: " << n << " needs a folder\n";
            return false;
          }
          value = argv[++i];
        } else {
          value = a.substr(n.size() + 1);
        }
        if (n == "--data-dir") {
          data_dir = value, has_data_dir = true;
        } else {
          catalogues.push_back(value);
        }
      }
    }
    if (!matched) argv[out++] = argv[i];
  }
  argv[out] = nullptr;
  argc = out;
  if (has_data_dir) setenv("V4SIM_DATA_DIR", data_dir.c_str(), 1);
  if (!catalogues.empty()) {
    std::string path;
    for (const std::string& c : catalogues) path.append(path.empty() ? "" : ":").append(c);
    if (const char* old = std::getenv("V4SIM_PATH"); old && *old) path.append(":").append(old);
    setenv("V4SIM_PATH", path.c_str(), 1);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  // Large blocks from the heap, and freed memory kept: a command allocates and frees topology-
  // sized buffers (a 768-die rack's arc loads, routing scratch, netlists) several times, and
  // glibc's defaults give each to the kernel and take it back, a page fault per 4 KiB touched
  // again. A short-lived process gains more from reuse than it loses by keeping the memory.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  if (!take_data_options(argc, argv)) return 2;
  CLI::App app{
      "v4sim: cost and performance simulator for long-context LLM inference "
      "(DeepSeek V4 and baselines)",
      "v4sim"};
  app.footer(
      "Data: --data-dir DIR (or V4SIM_DATA_DIR) replaces the shipped catalogues (default: "
      "share/v4sim beside the installed binary, or the source tree in a build tree); --catalogue "
      "DIR (repeatable, or V4SIM_PATH=DIR:DIR) puts a folder with models/, hardware/ and "
      "scenarios/ in front. Both go anywhere on the command line.");
  app.set_version_flag("--version", std::string("v4sim ") + V4SIM_VERSION);
  app.require_subcommand(1);
  const std::vector<std::string_view> commands = v4sim::cli::command_names();
  const bool named = argc > 1 && argv[1][0] != '-';
  if (named && std::find(commands.begin(), commands.end(), argv[1]) == commands.end()) {
    std::cerr << "v4sim: error: unknown command '" << argv[1] << "'; commands:";
    for (std::string_view name : commands) std::cerr << ' ' << name;
    std::cerr << "\nRun with --help for more information.\n";
    return 2;
  }
  // The command the run names is the only one it can run (one subcommand is required, and the
  // first word is it); --help and --version without a command list every one.
  v4sim::cli::setup_commands(app, named ? std::string_view(argv[1]) : std::string_view());
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;  // --help and --version exit 0; every usage error is bad input
  } catch (const v4sim::InputError& e) {
    std::cerr << "v4sim: error: " << e.what() << '\n';
    return 2;
  } catch (const v4sim::CountOverflow& e) {
    // Counts of absurd inputs (kernels/cost.h) that no caller turned into an InputError.
    std::cerr << "v4sim: error: " << e.what() << " for these inputs\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "v4sim: internal error: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
