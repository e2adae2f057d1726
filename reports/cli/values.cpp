#include "reports/cli/values.h"

#include <cmath>
#include <cstdio>
#include <ostream>

#include "models/config/input_error.h"

namespace v4sim::cli {
namespace {

std::string quoted(std::string_view s) {
  std::string q(1, '\'');
  q.append(s);
  q.push_back('\'');
  return q;
}

std::vector<std::string_view> split(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    out.push_back(text.substr(start, comma == std::string_view::npos ? text.npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

}  // namespace

std::int64_t parse_context(std::string_view text, std::string_view option) {
  const std::string bad = std::string(option) + " " + quoted(text) +
                          ": expected a positive token count like 4096, 4k, 128K or 1m";
  if (text.empty()) throw InputError(bad);
  std::int64_t multiplier = 1;
  const char last = text.back();
  if (last == 'k' || last == 'K') multiplier = 1024;
  if (last == 'm' || last == 'M') multiplier = 1024 * 1024;
  std::string_view digits = multiplier == 1 ? text : text.substr(0, text.size() - 1);
  if (digits.empty() || digits.size() > 13) throw InputError(bad);
  std::int64_t v = 0;
  for (char ch : digits) {
    if (ch < '0' || ch > '9') throw InputError(bad);
    v = v * 10 + (ch - '0');
  }
  // 13 digits times 1024^2 would overflow: compare before multiplying.
  if (v <= 0 || v > (std::int64_t{1} << 40) / multiplier) throw InputError(bad);
  return v * multiplier;
}

std::vector<std::int64_t> parse_context_list(std::string_view text, std::string_view option) {
  std::vector<std::int64_t> out;
  for (std::string_view item : split(text)) out.push_back(parse_context(item, option));
  return out;
}

std::vector<std::string> parse_name_list(std::string_view text, std::string_view option) {
  std::vector<std::string> out;
  for (std::string_view item : split(text)) {
    if (item.empty())
      throw InputError(std::string(option) + " " + quoted(text) + ": empty name in the list");
    out.emplace_back(item);
  }
  return out;
}

OutputFormat parse_output_format(std::string_view text) {
  if (text == "table") return OutputFormat::table;
  if (text == "json") return OutputFormat::json;
  if (text == "csv") return OutputFormat::csv;
  throw InputError("--format " + quoted(text) + ": expected table, json or csv");
}

Phase parse_phase(std::string_view text) {
  if (text == "decode") return Phase::decode;
  if (text == "prefill") return Phase::prefill;
  throw InputError("--phase " + quoted(text) + ": expected decode or prefill");
}

std::string si(double value, int digits) {
  static const char* const kPrefix[] = {"", " k", " M", " G", " T", " P", " E"};
  int i = 0;
  double v = value;
  while (std::fabs(v) >= 1000.0 && i < 6) {
    v /= 1000.0;
    ++i;
  }
  return fixed(v, digits) + kPrefix[i];
}

std::string gib(double bytes, int digits) {
  if (bytes < 1024.0 * 1024.0) return fixed(bytes / 1024.0, digits) + " KiB";
  if (bytes < 1024.0 * 1024.0 * 1024.0) return fixed(bytes / (1024.0 * 1024.0), digits) + " MiB";
  return fixed(bytes / (1024.0 * 1024.0 * 1024.0), digits) + " GiB";
}

std::string times(double ratio, int digits) {
  return fixed(ratio, digits) + "x";
}

}  // namespace v4sim::cli
