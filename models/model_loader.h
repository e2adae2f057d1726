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

/// The shipped catalogue folder: models/ of the data root (models/config/data_paths.h).
std::filesystem::path default_models_dir();

/// `name_or_path` is a catalogue name ("deepseek-v4-pro", resolved to dir/<name>.yaml, or with no
/// `dir` to the first models/ of the search path that has it) or a path (anything containing '/'
/// or ending in .yaml/.yml/.json). A .json file is a Hugging Face config.json (models/hf_config.h):
/// the defaults it needed are in ModelSpec::assumed.
ModelSpec load_model(std::string_view name_or_path, const std::filesystem::path& dir = {});

/// Catalogue names of every *.yaml in dir (no `dir`: in every models/ of the search path), sorted.
std::vector<std::string> list_models(const std::filesystem::path& dir = {});

}  // namespace v4sim
