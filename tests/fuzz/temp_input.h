// The loaders read files, so a fuzz input is written to a file first: one per process, in a
// private folder under the system temp directory, removed when the process ends.
#pragma once

#include <filesystem>

#include "tests/fuzz/targets.h"

namespace v4sim::fuzz {

/// Writes `input` to <temp>/v4sim-fuzz-<pid>/input<extension> and returns that path.
std::filesystem::path write_temp_input(Bytes input, const char* extension = ".yaml");

}  // namespace v4sim::fuzz
