// Helpers shared by the hardware loaders: catalogue-name resolution, provenance and ranged values.
// Internal: include only from hardware loader .cpp files (it pulls in yaml-cpp).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "hardware/accelerator.h"
#include "models/config/strict_yaml.h"

namespace v4sim::hardware_yaml {

/// A catalogue name resolves to <dir>/<name>.yaml in the first of `dirs` that has it; anything
/// with '/' or a .yaml/.yml suffix is a path. An unknown name throws InputError listing the
/// catalogue and the closest name.
std::filesystem::path resolve(std::string_view name_or_path,
                              const std::vector<std::filesystem::path>& dirs,
                              std::string_view what);

/// Stems of every *.yaml in any of `dirs`, sorted, each once.
std::vector<std::string> list_yaml(const std::vector<std::filesystem::path>& dirs);
inline std::vector<std::string> list_yaml(const std::filesystem::path& dir) {
  return list_yaml(std::vector<std::filesystem::path>{dir});
}

/// Every section states where its numbers come from (models/config/strict_yaml.h).
using config::read_provenance;

/// A number, or a mapping {nominal, low, high} with low <= nominal <= high, each in [min, max].
Range read_range(config::MapReader& m, std::string_view key, double min, double max);

/// A number that must be > 0 and <= max ("must be positive" for zero or negative values).
double read_positive(config::MapReader& m, std::string_view key, double max);

}  // namespace v4sim::hardware_yaml
