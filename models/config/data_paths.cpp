#include "models/config/data_paths.h"

#include <dlfcn.h>

#include <cstdlib>
#include <system_error>

#include "models/config/input_error.h"

// Set for this file only (models/CMakeLists.txt): the build tree, and the install-relative paths
// from the binary's and the Python module's folders to the data root.
#ifndef V4SIM_BINARY_DIR
#error "V4SIM_BINARY_DIR must be defined"
#endif

namespace v4sim::data {
namespace fs = std::filesystem;

namespace {

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

constexpr const char* kParts[] = {"models", "hardware/accelerators", "hardware/systems",
                                  "hardware/perf", "scenarios"};

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

bool has_any_part(const fs::path& dir) {
  for (const char* part : kParts)
    if (is_dir(dir / part)) return true;
  return false;
}

fs::path canonical_or_empty(const fs::path& p) {
  std::error_code ec;
  fs::path c = fs::canonical(p, ec);
  return ec ? fs::path() : c;
}

/// The file of the object (program or shared library) this code is linked into, and the program.
std::vector<fs::path> running_objects() {
  std::vector<fs::path> out;
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&data_root), &info) && info.dli_fname && *info.dli_fname) {
    const fs::path p = canonical_or_empty(info.dli_fname);
    if (!p.empty()) out.push_back(p);
  }
  const fs::path exe = canonical_or_empty("/proc/self/exe");
  if (!exe.empty()) out.push_back(exe);
  return out;
}

bool inside(const fs::path& file, const fs::path& dir) {
  const fs::path rel = file.lexically_relative(dir);
  return !rel.empty() && *rel.begin() != "..";
}

}  // namespace

fs::path data_root() {
  if (const char* d = env("V4SIM_DATA_DIR")) {
    const fs::path p = canonical_or_empty(d);
    if (p.empty() || !is_dir(p / "models"))
      throw InputError(std::string("V4SIM_DATA_DIR (or --data-dir) '") + d +
                       "': not a v4sim data folder (it needs models/, hardware/ and scenarios/)");
    return p;
  }
  const fs::path build = canonical_or_empty(V4SIM_BINARY_DIR);
  std::string looked;
  for (const fs::path& object : running_objects()) {
    if (!build.empty() && inside(object, build)) return fs::path(V4SIM_SOURCE_DIR);
    for (const char* rel : {V4SIM_DATA_FROM_BIN, V4SIM_DATA_FROM_PYTHON}) {
      const fs::path candidate = (object.parent_path() / rel).lexically_normal();
      if (is_dir(candidate / "models")) return candidate;
      looked.append(looked.empty() ? "" : ", ").append(candidate.string());
    }
  }
  // A program of one's own linked with the installed libraries: the configured install prefix.
  const fs::path configured = fs::path(V4SIM_CONFIGURED_DATA_DIR);
  if (configured.is_absolute() && is_dir(configured / "models")) return configured;
  looked.append(looked.empty() ? "" : ", ").append(configured.string());
  throw InputError("cannot find v4sim's data (models/, hardware/, scenarios/): looked in " +
                   looked + "; set V4SIM_DATA_DIR or pass --data-dir");
}

std::vector<fs::path> user_catalogues() {
  std::vector<fs::path> out;
  const char* path = env("V4SIM_PATH");
  if (!path) return out;
  const std::string text(path);
  for (std::size_t start = 0; start <= text.size();) {
    const std::size_t end = std::min(text.find(':', start), text.size());
    const std::string dir = text.substr(start, end - start);
    start = end + 1;
    if (dir.empty()) continue;
    if (!is_dir(dir))
      throw InputError("V4SIM_PATH (or --catalogue) folder '" + dir + "': no such folder");
    if (!has_any_part(dir))
      throw InputError("V4SIM_PATH (or --catalogue) folder '" + dir +
                       "': has none of models/, hardware/accelerators/, hardware/systems/, "
                       "hardware/perf/, scenarios/ (a catalogue folder has the layout of "
                       "share/v4sim)");
    out.emplace_back(dir);
  }
  return out;
}

std::vector<fs::path> search_dirs(std::string_view sub) {
  std::vector<fs::path> out;
  for (const fs::path& dir : user_catalogues())
    if (is_dir(dir / sub)) out.push_back(dir / sub);
  out.push_back(data_root() / sub);
  return out;
}

std::vector<fs::path> dirs_or(const fs::path& dir, std::string_view sub) {
  if (!dir.empty()) return {dir};
  return search_dirs(sub);
}

std::string display_path(const fs::path& file) {
  try {
    const fs::path abs = fs::absolute(file).lexically_normal();
    std::vector<fs::path> roots;
    for (const fs::path& d : user_catalogues()) roots.push_back(fs::absolute(d).lexically_normal());
    roots.push_back(data_root());
    for (const fs::path& root : roots)
      if (inside(abs, root)) return abs.lexically_relative(root).string();
    const fs::path cwd = fs::current_path();
    if (inside(abs, cwd)) return abs.lexically_relative(cwd).string();
  } catch (const std::exception&) {
    // No data root or working directory: show the file as given.
  }
  return file.string();
}

}  // namespace v4sim::data
