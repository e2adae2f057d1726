#include "hardware/catalogue.h"

#include <algorithm>
#include <sstream>

namespace v4sim::hardware_yaml {

using config::MapReader;

std::filesystem::path resolve(std::string_view name_or_path,
                              const std::vector<std::filesystem::path>& dirs,
                              std::string_view what) {
  auto ends_with = [&](std::string_view suffix) {
    return name_or_path.size() >= suffix.size() &&
           name_or_path.substr(name_or_path.size() - suffix.size()) == suffix;
  };
  if (name_or_path.find('/') != std::string_view::npos || ends_with(".yaml") || ends_with(".yml"))
    return std::filesystem::path(name_or_path);
  for (const auto& dir : dirs) {
    std::filesystem::path path = dir / (std::string(name_or_path) + ".yaml");
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) return path;
  }
  std::string msg("unknown ");
  msg.append(what).append(" '").append(name_or_path).append("'");
  const auto names = list_yaml(dirs);
  if (auto guess = config::closest(name_or_path, names))
    msg.append(" (did you mean '" + *guess + "'?)");
  msg.append("; the catalogue in");
  for (const auto& dir : dirs) msg.append(" ").append(dir.string());
  msg.append(" has:");
  for (const auto& n : names) msg.append(" ").append(n);
  throw InputError(msg);
}

std::vector<std::string> list_yaml(const std::vector<std::filesystem::path>& dirs) {
  std::vector<std::string> names;
  for (const auto& dir : dirs) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
      if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

Range read_range(MapReader& m, std::string_view key, double min, double max) {
  m.allow(key);
  if (m.has(key) && m.node(key).IsMap()) {
    MapReader r = m.map(key);
    Range out;
    out.nominal = r.number("nominal", min, max);
    out.low = r.number("low", min, max);
    out.high = r.number("high", min, max);
    r.finish();
    if (out.low > out.nominal) r.fail("low", "must not exceed nominal");
    if (out.high < out.nominal) r.fail("high", "must not be below nominal");
    return out;
  }
  return Range::exactly(m.number(key, min, max));
}

double read_positive(MapReader& m, std::string_view key, double max) {
  const double v = m.number(key, -max, max);
  if (v <= 0) m.fail(key, "must be positive");
  return v;
}

}  // namespace v4sim::hardware_yaml
