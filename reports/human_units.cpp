#include "reports/human_units.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace v4sim::report {
namespace {

bool parse(std::string_view s, double& v) {
  if (s.empty()) return false;
  const char* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, v);
  return ec == std::errc() && ptr == end && std::isfinite(v);
}

/// Three significant digits: 4.94, 49.4, 494.
std::string three(double v) {
  const double a = std::fabs(v);
  char buf[64];
  std::snprintf(buf, sizeof buf, a < 9.995 ? "%.2f" : (a < 99.95 ? "%.1f" : "%.0f"), v);
  return buf;
}

/// Scales by `step` until below it (or out of prefixes); the number and its prefix.
std::string scaled(double v, double step, const char* const* prefixes, int n, const char* unit) {
  int i = 0;
  // Round first so 999.96 reads "1.00 k", not "1000".
  while (i + 1 < n && std::fabs(v) >= step * (1 - 5e-4)) {
    v /= step;
    ++i;
  }
  return three(v) + " " + prefixes[i] + unit;
}

std::string thousands(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f", std::fabs(v));
  std::string digits = buf, out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (v < 0 ? "-" : "") + out;
}

}  // namespace

std::string human_cell(std::string_view cell, std::string_view unit) {
  double v = 0;
  if (!parse(cell, v)) return std::string(cell);
  if (unit == "FLOP" || unit == "FLOP/s") {
    static const char* const kSi[] = {"", "k", "M", "G", "T", "P", "E"};
    return scaled(v, 1000, kSi, 7, std::string(unit).c_str());
  }
  if (unit == "B" || unit == "bytes") {
    if (std::fabs(v) < 1024) return std::string(cell) + " B";
    static const char* const kBin[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi"};
    return scaled(v, 1024, kBin, 6, "B");
  }
  if (unit == "token" || unit == "tokens") {
    // Context lengths (up to 1M and a little beyond) stay as engineers write them.
    if (std::fabs(v) < 1e7) return std::string(cell);
    static const char* const kWords[] = {"", "k", "M", "B", "T"};
    return scaled(v, 1000, kWords, 5, "") + " tokens";
  }
  if (v == std::floor(v) && std::fabs(v) >= 10000 && std::fabs(v) < 1e18) return thousands(v);
  return std::string(cell);
}

}  // namespace v4sim::report
