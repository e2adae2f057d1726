// Where v4sim's data lives: ONE place resolves the data root (the shipped catalogues: models/,
// hardware/{accelerators,systems,perf}/, scenarios/) and the user's catalogue search path.
//
// Data root, first that applies:
//   1. V4SIM_DATA_DIR (the CLI's --data-dir sets it for its own process before anything loads);
//   2. a program or library running from this build tree: the source tree;
//   3. installed: <prefix>/share/v4sim, found relative to the running binary (bin/v4sim) or the
//      Python module (lib/python3/dist-packages/v4sim*.so), wherever the prefix was moved;
//   4. a program of one's own linked with the installed libraries: share/v4sim under the
//      CMAKE_INSTALL_PREFIX the libraries were configured with.
// Search path: the folders of V4SIM_PATH (':'-separated; the CLI's repeatable --catalogue DIR puts
// its folders in front), each with the layout of the data root (DIR/models/*.yaml,
// DIR/hardware/accelerators/*.yaml, DIR/hardware/systems/*.yaml, DIR/hardware/perf/<accelerator>/
// kernel tables, DIR/scenarios/*.yaml), then the data root. A name resolves to the first folder
// that has it (an accelerator's measured tables: the first folder with hardware/perf/<name>/).
//
// Nothing is cached: every call reads the environment, so there is no global state to set up.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace v4sim::data {

/// The data root (rules above). InputError when V4SIM_DATA_DIR is not a v4sim data folder or when
/// no rule applies (e.g. a copied binary without its share/v4sim).
std::filesystem::path data_root();

/// The user's catalogue folders in search order (V4SIM_PATH), without the data root. InputError
/// naming the variable for a folder that does not exist or has none of the catalogue sub-folders.
std::vector<std::filesystem::path> user_catalogues();

/// `sub` ("models", "hardware/accelerators", ...) of every user catalogue that has it, then the
/// data root's.
std::vector<std::filesystem::path> search_dirs(std::string_view sub);

/// {dir} when a caller names one folder, else search_dirs(sub): how loaders read their `dir`
/// argument, whose empty default means "the search path".
std::vector<std::filesystem::path> dirs_or(const std::filesystem::path& dir, std::string_view sub);

/// A file as reports show it: relative to the data root or to the user catalogue holding it
/// ("models/deepseek-v4-pro.yaml"), else relative to the working directory when inside it, else
/// as given. Never fails.
std::string display_path(const std::filesystem::path& file);

}  // namespace v4sim::data
