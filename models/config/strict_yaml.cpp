#include "models/config/strict_yaml.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <sstream>

namespace v4sim::config {
namespace {

std::string scalar_text(const YAML::Node& n) {
  if (n.IsScalar()) return "'" + n.Scalar() + "'";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  return "null";
}

bool parse_int(const std::string& text, std::int64_t& out) {
  if (text.empty()) return false;
  std::size_t i = 0;
  if (text[0] == '-' || text[0] == '+') i = 1;
  if (i == text.size()) return false;
  std::int64_t v = 0;
  bool digits = false;
  for (; i < text.size(); ++i) {
    const char ch = text[i];
    if (ch == '_') continue;  // YAML 1.1 digit separator: 1_048_576
    if (ch < '0' || ch > '9') return false;
    if (v > (INT64_MAX - (ch - '0')) / 10) return false;
    v = v * 10 + (ch - '0');
    digits = true;
  }
  out = text[0] == '-' ? -v : v;
  return digits;  // "_" alone is not a number
}

bool parse_double(const std::string& text, double& out) {
  std::string clean;
  for (char ch : text)
    if (ch != '_') clean += ch;
  if (clean.empty()) return false;
  std::istringstream in(clean);
  in.imbue(std::locale::classic());
  in >> out;
  return in && in.peek() == std::char_traits<char>::eof() && std::isfinite(out);
}

std::string where_of(const std::string& file, const YAML::Mark& m) {
  if (m.is_null()) return file;
  return file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

}  // namespace

std::string where(const std::string& file, const YAML::Node& node) {
  return where_of(file, node.Mark());
}

Document load_file(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw InputError(file + ": no such file (or not a regular file)");
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw InputError(file + ": cannot read: " + ec.message());
  if (size > kMaxFileBytes)
    throw InputError(file + ": file is " + std::to_string(size) + " bytes, more than the " +
                     std::to_string(kMaxFileBytes) + "-byte limit for a catalogue file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(file + ": cannot open for reading");
  // Read at most one byte past the limit: files that report no size (/proc, pipes behind a
  // regular-looking name) must not slip past the check above.
  // In blocks, so a small file costs its size (not a zeroed buffer of the limit).
  std::string text;
  text.reserve(static_cast<std::size_t>(size) + 1);
  std::array<char, 65536> block;
  while (in.read(block.data(), block.size()) || in.gcount() > 0) {
    text.append(block.data(), static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxFileBytes)
      throw InputError(file + ": file is more than the " + std::to_string(kMaxFileBytes) +
                       "-byte limit for a catalogue file");
  }
  if (text.find('\0') != std::string::npos)
    throw InputError(file + ": contains NUL bytes; not a YAML text file");
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    // yaml-cpp's parser recurses once per nesting level and stops itself (DepthGuard, a few
    // hundred levels of lists or mappings) with the bare message "bad file": no stack overflow
    // (tests/malformed has 10,000 levels), but the message needs saying what went wrong.
    if (e.msg == YAML::ErrorMsg::BAD_FILE)
      throw InputError(where_of(file, e.mark) +
                       ": YAML nesting too deep (hundreds of nested lists or mappings; catalogue "
                       "files nest a few levels)");
    throw InputError(where_of(file, e.mark) + ": YAML syntax error: " + e.msg);
  }
  if (!root.IsMap()) {
    // Name the line: where the document's top-level node starts, or line 1 for an empty document
    // (no node, no mark).
    const YAML::Mark m = root.Mark();
    const std::string at = m.is_null() || m.line < 0 ? file + ":1:1" : where_of(file, m);
    throw InputError(at + ": expected a mapping of fields at the top level, got " +
                     scalar_text(root));
  }
  return {file, root};
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::optional<std::string> closest(std::string_view word,
                                   const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  std::size_t best_d = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

MapReader::MapReader(const YAML::Node& node, std::string file, std::string path)
    : node_(node), file_(std::move(file)), path_(std::move(path)) {
  if (!node_.IsMap())
    fail_at(node_, "field '" + (path_.empty() ? std::string("<root>") : path_) +
                       "' must be a mapping, got " + scalar_text(node_));
  std::vector<std::string> seen;
  for (const auto& kv : node_) {
    if (!kv.first.IsScalar()) fail_at(kv.first, "keys must be plain names");
    const std::string key = kv.first.Scalar();
    if (std::find(seen.begin(), seen.end(), key) != seen.end())
      fail_at(kv.first, "duplicate key '" + field(key) + "'");
    seen.push_back(key);
  }
}

std::string MapReader::field(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

bool MapReader::has(std::string_view key) const {
  for (const auto& kv : node_)
    if (kv.first.Scalar() == key) return true;
  return false;
}

void MapReader::allow(std::string_view key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.emplace_back(key);
}

YAML::Node MapReader::node(std::string_view key) {
  return required(key);
}

YAML::Node MapReader::required(std::string_view key) {
  allow(key);
  for (const auto& kv : node_)
    if (kv.first.Scalar() == key) {
      if (kv.second.IsNull()) fail_at(kv.first, "field '" + field(key) + "' has no value");
      return kv.second;
    }
  // An absent required field is often a misspelt one: point at the closest key not read so far.
  std::vector<std::string> unread;
  for (const auto& kv : node_)
    if (std::find(known_.begin(), known_.end(), kv.first.Scalar()) == known_.end())
      unread.push_back(kv.first.Scalar());
  if (const auto guess = closest(key, unread)) {
    for (const auto& kv : node_)
      if (kv.first.Scalar() == *guess)
        fail_at(kv.first, "missing required field '" + field(key) + "' (is '" + *guess +
                              "' a typo of it? did you mean '" + std::string(key) + "'?)");
  }
  fail_at(node_, "missing required field '" + field(key) + "'");
}

void MapReader::fail(std::string_view key, const std::string& message) const {
  for (const auto& kv : node_)
    if (kv.first.Scalar() == key)
      fail_at(kv.second, "field '" + field(key) + "' = " + scalar_text(kv.second) + ": " + message);
  fail_at(node_, "field '" + field(key) + "': " + message);
}

void MapReader::fail_at(const YAML::Node& node, const std::string& message) const {
  throw InputError(where(file_, node) + ": " + message);
}

std::string MapReader::string(std::string_view key) {
  const YAML::Node n = required(key);
  if (!n.IsScalar()) fail(key, "expected text");
  return n.Scalar();
}

std::int64_t MapReader::integer(std::string_view key, std::int64_t min, std::int64_t max) {
  const YAML::Node n = required(key);
  std::int64_t v = 0;
  if (!n.IsScalar() || !parse_int(n.Scalar(), v)) fail(key, "expected an integer");
  if (v < min || v > max)
    fail(key, "must be in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  return v;
}

double MapReader::number(std::string_view key, double min, double max) {
  const YAML::Node n = required(key);
  double v = 0;
  if (!n.IsScalar() || !parse_double(n.Scalar(), v)) fail(key, "expected a finite number");
  if (v < min || v > max) {
    std::ostringstream range;
    range << "must be in [" << min << ", " << max << "]";
    fail(key, range.str());
  }
  return v;
}

bool MapReader::boolean(std::string_view key) {
  const YAML::Node n = required(key);
  if (n.IsScalar()) {
    if (n.Scalar() == "true") return true;
    if (n.Scalar() == "false") return false;
  }
  fail(key, "expected true or false");
}

std::vector<std::int64_t> MapReader::integer_list(std::string_view key, std::int64_t min,
                                                  std::int64_t max) {
  const YAML::Node n = required(key);
  if (!n.IsSequence()) fail(key, "expected a list of integers");
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const YAML::Node item = n[i];
    std::int64_t v = 0;
    const std::string item_field = field(key) + "[" + std::to_string(i) + "]";
    if (!item.IsScalar() || !parse_int(item.Scalar(), v))
      fail_at(item, "field '" + item_field + "' = " + scalar_text(item) + ": expected an integer");
    if (v < min || v > max)
      fail_at(item, "field '" + item_field + "' = " + scalar_text(item) + ": must be in [" +
                        std::to_string(min) + ", " + std::to_string(max) + "]");
    out.push_back(v);
  }
  return out;
}

std::vector<double> MapReader::number_list(std::string_view key, double min, double max) {
  const YAML::Node n = required(key);
  if (!n.IsSequence() || n.size() == 0) fail(key, "expected a non-empty list of numbers");
  std::vector<double> out;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const YAML::Node item = n[i];
    double v = 0;
    const std::string item_field = field(key) + "[" + std::to_string(i) + "]";
    if (!item.IsScalar() || !parse_double(item.Scalar(), v))
      fail_at(item,
              "field '" + item_field + "' = " + scalar_text(item) + ": expected a finite number");
    if (v < min || v > max) {
      std::ostringstream range;
      range << "field '" << item_field << "' = " << scalar_text(item) << ": must be in [" << min
            << ", " << max << "]";
      fail_at(item, range.str());
    }
    out.push_back(v);
  }
  return out;
}

MapReader MapReader::map(std::string_view key) {
  const YAML::Node n = required(key);
  if (!n.IsMap()) fail(key, "expected a mapping");
  return MapReader(n, file_, field(key));
}

void MapReader::finish() const {
  for (const auto& kv : node_) {
    const std::string key = kv.first.Scalar();
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    std::string msg = "unknown field '" + field(key) + "'";
    if (auto guess = closest(key, known_)) msg += " (did you mean '" + *guess + "'?)";
    fail_at(kv.first, msg);
  }
}

std::string read_provenance(MapReader& m) {
  m.allow("source");
  m.allow("estimate");
  if (!m.has("source") && !m.has("estimate"))
    m.fail("source", "every section needs a 'source:' (URL or document) or an 'estimate:'");
  std::string out;
  for (const char* key : {"source", "estimate"}) {
    if (!m.has(key)) continue;
    const std::string text = m.string(key);
    if (text.empty()) m.fail(key, "must not be empty");
    if (!out.empty()) out += "; ";
    out += key == std::string_view("estimate") ? "estimate: " + text : text;
  }
  return out;
}

}  // namespace v4sim::config
