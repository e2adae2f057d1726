// What a command says about the defaults a Hugging Face config.json import took
// (ModelSpec::assumed): every command that takes --model prints them under its text output and puts
// them in its JSON, so a user sees which numbers came from v4sim rather than from their file.
#pragma once

#include <iosfwd>

#include <nlohmann/json.hpp>

#include "models/model_spec.h"

namespace v4sim::cli {

/// "Assumed for <model> (not stated in <file name>):" and one "field: value (reason)" line per
/// default. Nothing for catalogue YAML.
void print_assumed(std::ostream& out, const ModelSpec& spec);

/// [{"field", "value", "reason"}, ...]; an empty array for catalogue YAML.
nlohmann::ordered_json assumed_json(const ModelSpec& spec);

/// Adds "assumed" to `j` when the model was imported from a config.json (catalogue YAML output is
/// unchanged).
void add_assumed(nlohmann::ordered_json& j, const ModelSpec& spec);

}  // namespace v4sim::cli
