// Strict reading of hand-written YAML catalogues: every key must be known, present when required,
// of the right type and in range; errors name file:line:column, the field path and the value, and
// suggest the closest valid key for a typo. Include only from loader .cpp files (pulls yaml-cpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "models/config/input_error.h"

namespace v4sim::config {

/// Largest catalogue file we read; anything bigger is refused before parsing.
inline constexpr std::uintmax_t kMaxFileBytes = 4u << 20;

struct Document {
  std::string file;
  YAML::Node root;
};

/// Loads and parses `path`. Missing or unreadable files, oversized files, syntax errors and a root
/// that is not a mapping throw InputError naming the file (and line:column for syntax errors).
Document load_file(const std::filesystem::path& path);

/// Levenshtein distance, for "did you mean" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);
/// The candidate closest to `word`, if it is close enough to be a plausible typo.
std::optional<std::string> closest(std::string_view word,
                                   const std::vector<std::string>& candidates);

class MapReader {
 public:
  /// `node` must be a mapping; `path` is the field path of the node ("" for the root).
  MapReader(const YAML::Node& node, std::string file, std::string path);

  bool has(std::string_view key) const;
  std::string string(std::string_view key);
  std::int64_t integer(std::string_view key, std::int64_t min, std::int64_t max);
  double number(std::string_view key, double min, double max);
  bool boolean(std::string_view key);
  std::vector<std::int64_t> integer_list(std::string_view key, std::int64_t min, std::int64_t max);
  /// A non-empty list of finite numbers, each in [min, max].
  std::vector<double> number_list(std::string_view key, double min, double max);
  MapReader map(std::string_view key);
  /// The raw node of a present key (marks it as read).
  YAML::Node node(std::string_view key);
  /// Declares a key as known even when absent, for "did you mean" and for finish().
  void allow(std::string_view key);

  /// Throws InputError at the key's value (or at this mapping when the key is absent).
  [[noreturn]] void fail(std::string_view key, const std::string& message) const;
  /// Throws on the first key that was never read, suggesting the closest read/allowed key.
  void finish() const;

  const std::string& file() const { return file_; }
  std::string field(std::string_view key) const;

 private:
  YAML::Node required(std::string_view key);
  [[noreturn]] void fail_at(const YAML::Node& node, const std::string& message) const;

  YAML::Node node_;
  std::string file_;
  std::string path_;
  std::vector<std::string> known_;
};

/// Every section of every catalogue states where its numbers come from: `source:` (URL or
/// document) and/or `estimate:` (with its reasoning), neither empty. Returns them as one text
/// for reports that cite the section: the source, then "estimate: ..." (joined by "; ").
std::string read_provenance(MapReader& m);

/// "file:line:col" of a node (1-based), or just the file when the node has no mark.
std::string where(const std::string& file, const YAML::Node& node);

}  // namespace v4sim::config
