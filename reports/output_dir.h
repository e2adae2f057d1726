// Atomic file output. A reader (or a crash) sees an output file either as it was or as it is now,
// never half written, and a report folder is replaced as a whole or not at all.
#pragma once

#include <filesystem>
#include <functional>
#include <string_view>

namespace v4sim::report {

/// Writes `content` to `path` through a fresh temporary file in the same folder (".<name>.tmp-*"),
/// flushed to disk, then renamed over `path`. On failure the temporary file is removed, `path` is
/// untouched, and std::runtime_error names the path and the system's reason. New files get the
/// usual permissions (0666 minus the umask); a replaced file keeps its mode.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

/// Creates a unique empty file next to `path` (".<name>.tmp-*") and returns its name, for output
/// produced by another program (gnuplot) that is renamed into place once checked.
std::filesystem::path make_temp_sibling_file(const std::filesystem::path& path);

/// Renames `from` over `to` (same folder); std::runtime_error naming both on failure.
void rename_into_place(const std::filesystem::path& from, const std::filesystem::path& to);

/// Marker file that replace_dir_atomically puts in every folder it writes. An existing folder is
/// only ever replaced if it holds this marker (or is empty), so a mistyped -o never wipes an
/// unrelated folder.
inline constexpr std::string_view kOutputMarker = ".v4sim-output";

/// Builds the new content of folder `target` in a fresh temporary sibling folder by calling
/// `fill(staging)`, adds the marker, then swaps the staging folder into place (one atomic
/// renameat2(RENAME_EXCHANGE) where the file system has it, two renames otherwise) and removes the
/// old content. If `fill` or the swap throws, the staging folder is removed, `target` is left
/// exactly as it was, and the exception propagates. Missing parent folders are created.
/// Throws InputError when `target` exists but is not a folder, or is a non-empty folder without
/// the marker; std::runtime_error (naming the path) for file system failures.
void replace_dir_atomically(const std::filesystem::path& target,
                            const std::function<void(const std::filesystem::path& staging)>& fill);

}  // namespace v4sim::report
