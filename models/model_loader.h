// Loads models/<name>.yaml (or a path) into a validated ModelSpec. Any defect in the file (unknown,
// missing or mistyped field, impossible value, inconsistent layer pattern) throws InputError naming
// file:line:column and the field.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "models/model_spec.h"

namespace v4sim {

/// The shipped catalogue folder (this source tree's models/).
std::filesystem::path default_models_dir();

/// `name_or_path` is a catalogue name ("deepseek-v4-pro", resolved to dir/<name>.yaml) or a path
/// (anything containing '/' or ending in .yaml/.yml).
ModelSpec load_model(std::string_view name_or_path,
                     const std::filesystem::path& dir = default_models_dir());

/// Catalogue names of every *.yaml in dir, sorted.
std::vector<std::string> list_models(const std::filesystem::path& dir = default_models_dir());

}  // namespace v4sim
