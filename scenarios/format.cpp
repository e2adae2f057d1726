#include "scenarios/format.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>

namespace v4sim::scenario_format {

std::string num(double v, const char* format) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string usd(double v) {
  if (!std::isfinite(v)) return "n/a";
  std::string out = v < 0 ? "-$" : "$";
  const double a = std::fabs(v);
  if (a < 0.1) return out.append(num(a, "%#.3g"));
  if (a < 100) return out.append(num(a, "%.2f"));
  const std::string digits = std::to_string(std::llround(a));
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string count(double v) {
  if (std::fabs(v) >= 1e12) return num(v / 1e12, "%.3g").append(" trillion");
  if (std::fabs(v) >= 1e9) return num(v / 1e9, "%.3g").append(" billion");
  if (std::fabs(v) >= 1e6) return num(v / 1e6, "%.3g").append(" million");
  return num(v, "%.4g");
}

std::string context_label(std::int64_t n) {
  if (n > 0 && n % (1024 * 1024) == 0) return std::to_string(n / (1024 * 1024)).append("M");
  if (n > 0 && n % 1024 == 0) return std::to_string(n / 1024).append("K");
  return std::to_string(n);
}

std::string join_words(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " and " : ", ";
    out += items[i];
  }
  return out;
}

std::string slug(const std::string& text) {
  std::string out;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) && c < 128) {
      out += static_cast<char>(std::tolower(c));
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "x" : out;
}

double positive_span(const std::vector<double>& values) {
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  int n = 0;
  for (double v : values) {
    if (!(v > 0) || !std::isfinite(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    ++n;
  }
  return n < 2 ? 1.0 : hi / lo;
}

std::string price_basis(const PriceAssumptions& p) {
  if (p.basis != PriceBasis::tco) return "rental (each accelerator file's price per rank-hour)";
  return "TCO: purchase price amortised over " + num(p.amortization_years) + " years, " +
         num(p.usd_per_kwh) + " USD/kWh at PUE " + num(p.pue) + ", hosting " +
         num(p.hosting_usd_per_kw_month) + " USD per kW-month";
}

}  // namespace v4sim::scenario_format
