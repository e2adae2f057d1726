// Hugging Face config.json import: the published configs of DeepSeek V3 (model_type deepseek_v3),
// V3.2 (deepseek_v32) and V4 (deepseek_v4) become the same catalogue document a models/*.yaml file
// is, and go through the same strict reader (models/model_loader.cpp). Each value the config states
// keeps its place in the file, so an error names config.json:line:column; each value v4sim needs
// that a config does not state (weight scale storage, KV formats, compute precisions, CSA/HCA
// ratios) comes from a default stated here with its source, listed in ModelSpec::assumed and in
// the commands' output. Internal: include only from models/*.cpp (it pulls in yaml-cpp).
#pragma once

#include <string>
#include <vector>

#include "models/config/strict_yaml.h"
#include "models/model_spec.h"

namespace v4sim::hf {

/// True for a path ending in ".json".
bool is_config_json(std::string_view path);

/// The catalogue document (models/*.yaml schema) for a Hugging Face config.json. The model's name
/// is its folder's name (models/hf/deepseek-v4-pro/config.json -> deepseek-v4-pro). Unknown keys,
/// wrong types, values out of range and unsupported settings (another model_type, a quantisation
/// other than FP8 E4M3 in 128x128 blocks, tied embeddings) throw InputError at file:line:col.
/// `assumed` receives one entry per default applied.
config::Document to_catalogue(const config::Document& json, std::vector<AssumedValue>& assumed);

}  // namespace v4sim::hf
