#include "sim/trace.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <string_view>

#include "models/config/input_error.h"

namespace v4sim {
namespace {

/// "file:line: field 'name' = 'value': problem" (line 0: the file as a whole).
[[noreturn]] void fail(const std::string& path, std::int64_t line, const std::string& field,
                       std::string_view value, const std::string& problem) {
  std::string m = path;
  if (line > 0) m += ":" + std::to_string(line);
  m += ": ";
  if (!field.empty()) {
    m += "field '" + field + "'";
    if (!value.empty()) m += " = '" + std::string(value.substr(0, 60)) + "'";
    m += ": ";
  }
  throw InputError(m + problem);
}

std::ifstream open(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, 0, "", "", "cannot open the trace file");
  return in;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

/// A whole decimal integer (optional leading '-'), or nullopt.
bool parse_int(std::string_view s, std::int64_t& out) {
  s = trim(s);
  if (s.empty()) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
}

struct Where {
  const std::string& path;
  std::int64_t line;
};

/// Checks lengths against each other and the model; shared by both readers.
void check_lengths(const Where& w, const std::string& input_field, std::int64_t input,
                   const std::string& output_field, std::int64_t output,
                   std::int64_t max_context_tokens) {
  if (input < 1)
    fail(w.path, w.line, input_field, std::to_string(input), "must be at least 1 token");
  if (output < 1)
    fail(w.path, w.line, output_field, std::to_string(output), "must be at least 1 token");
  if (input > max_context_tokens - output)
    fail(w.path, w.line, input_field, std::to_string(input),
         "prompt plus " + std::to_string(output) +
             " output tokens exceeds the model's context of " + std::to_string(max_context_tokens) +
             " tokens");
}

void check_time_scale(const std::string& path, double time_scale) {
  if (!(time_scale > 0) || !std::isfinite(time_scale))
    fail(path, 0, "", "", "time scale must be a positive number");
}

/// A minimal reader of one Mooncake line: a flat JSON object whose values are integers or a list
/// of integers. Anything else names the line and the field.
class MooncakeLine {
 public:
  MooncakeLine(std::string_view text, const Where& w) : s_(text), w_(w) {}

  void parse(Request& r, std::int64_t& timestamp_ms) {
    bool has[4] = {false, false, false, false};
    static const char* const kKeys[4] = {"timestamp", "input_length", "output_length", "hash_ids"};
    skip();
    expect('{', "");
    skip();
    if (peek() == '}') fail(w_.path, w_.line, "timestamp", "", "missing");
    while (true) {
      skip();
      const std::string key = string_token();
      skip();
      expect(':', key);
      skip();
      int k = 0;
      while (k < 4 && key != kKeys[k]) ++k;
      if (k == 4)
        fail(w_.path, w_.line, key, "",
             "unknown field (expected timestamp, "
             "input_length, output_length, hash_ids)");
      if (has[k]) fail(w_.path, w_.line, key, "", "duplicate field");
      has[k] = true;
      if (k == 3) {
        hash_list(r.block_hashes);
      } else {
        const std::int64_t v = integer(key);
        (k == 0 ? timestamp_ms : k == 1 ? r.input_tokens : r.output_tokens) = v;
      }
      skip();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      expect('}', key);
      break;
    }
    skip();
    if (i_ != s_.size()) fail(w_.path, w_.line, "", "", "unexpected text after the object");
    for (int k = 0; k < 4; ++k)
      if (!has[k]) fail(w_.path, w_.line, kKeys[k], "", "missing");
  }

 private:
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  void expect(char c, const std::string& field) {
    if (peek() != c)
      fail(w_.path, w_.line, field, "", std::string("expected '") + c + "' in the JSON object");
    ++i_;
  }
  std::string string_token() {
    expect('"', "");
    const std::size_t end = s_.find('"', i_);
    if (end == std::string_view::npos) fail(w_.path, w_.line, "", "", "unterminated key");
    std::string key(s_.substr(i_, end - i_));
    i_ = end + 1;
    return key;
  }
  std::int64_t integer(const std::string& field) {
    const std::size_t start = i_;
    while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != '}' && s_[i_] != ']') ++i_;
    const std::string_view text = trim(s_.substr(start, i_ - start));
    std::int64_t v = 0;
    if (!parse_int(text, v)) fail(w_.path, w_.line, field, text, "expected an integer");
    return v;
  }
  void hash_list(std::vector<std::uint64_t>& out) {
    expect('[', "hash_ids");
    skip();
    if (peek() == ']') {
      ++i_;
      return;
    }
    while (true) {
      skip();
      const std::int64_t v = integer("hash_ids");
      if (v < 0) fail(w_.path, w_.line, "hash_ids", std::to_string(v), "ids must not be negative");
      out.push_back(static_cast<std::uint64_t>(v));
      skip();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      expect(']', "hash_ids");
      return;
    }
  }
  std::string_view s_;
  std::size_t i_ = 0;
  const Where& w_;
};

/// Days from 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, std::int64_t m, std::int64_t d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/// `YYYY-MM-DD HH:MM:SS[.f{1,7}]` in 100 ns ticks since 1970; false if malformed.
bool parse_timestamp(std::string_view s, std::int64_t& ticks) {
  s = trim(s);
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':')
    return false;
  std::int64_t f[6];
  const std::size_t at[6] = {0, 5, 8, 11, 14, 17}, len[6] = {4, 2, 2, 2, 2, 2};
  for (int i = 0; i < 6; ++i) {
    const std::string_view part = s.substr(at[i], len[i]);
    if (!std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    parse_int(part, f[i]);
  }
  if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 60)
    return false;
  std::int64_t fraction = 0;
  if (s.size() > 19) {
    const std::string_view frac = s.substr(20);
    if (s[19] != '.' || frac.empty() || frac.size() > 7 ||
        !std::all_of(frac.begin(), frac.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    parse_int(frac, fraction);
    for (std::size_t i = frac.size(); i < 7; ++i) fraction *= 10;
  }
  const std::int64_t seconds =
      ((days_from_civil(f[0], f[1], f[2]) * 24 + f[3]) * 60 + f[4]) * 60 + f[5];
  ticks = seconds * 10000000 + fraction;
  return true;
}

std::vector<std::string_view> split_commas(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    out.push_back(
        trim(line.substr(start, comma == std::string_view::npos ? comma : comma - start)));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

}  // namespace

std::vector<Request> read_mooncake_trace(const std::string& path, std::int64_t max_context_tokens,
                                         double time_scale) {
  check_time_scale(path, time_scale);
  std::ifstream in = open(path);
  std::vector<Request> out;
  std::string text;
  std::int64_t line = 0, previous_ms = 0;
  while (std::getline(in, text)) {
    ++line;
    const Where w{path, line};
    if (trim(text).empty()) fail(path, line, "", "", "empty line (one JSON object per line)");
    Request r;
    std::int64_t ms = 0;
    MooncakeLine(text, w).parse(r, ms);
    if (ms < 0) fail(path, line, "timestamp", std::to_string(ms), "must not be negative");
    if (ms < previous_ms)
      fail(path, line, "timestamp", std::to_string(ms),
           "goes back in time (previous line: " + std::to_string(previous_ms) + " ms)");
    previous_ms = ms;
    check_lengths(w, "input_length", r.input_tokens, "output_length", r.output_tokens,
                  max_context_tokens);
    const std::int64_t blocks = (r.input_tokens + kPrefixBlockTokens - 1) / kPrefixBlockTokens;
    if (static_cast<std::int64_t>(r.block_hashes.size()) != blocks)
      fail(path, line, "hash_ids", std::to_string(r.block_hashes.size()) + " ids",
           "expected ceil(input_length / 512) = " + std::to_string(blocks));
    r.arrival_s = static_cast<double>(ms) / 1e3 / time_scale;
    out.push_back(std::move(r));
  }
  if (out.empty()) fail(path, 0, "", "", "the trace has no requests");
  return out;
}

std::vector<Request> read_azure_trace(const std::string& path, std::int64_t max_context_tokens,
                                      double time_scale) {
  check_time_scale(path, time_scale);
  std::ifstream in = open(path);
  std::string text;
  if (!std::getline(in, text)) fail(path, 1, "", "", "empty file (expected a header line)");
  static const char* const kColumns[3] = {"TIMESTAMP", "ContextTokens", "GeneratedTokens"};
  int column[3] = {-1, -1, -1};
  const std::vector<std::string_view> header = split_commas(text);
  for (std::size_t i = 0; i < header.size(); ++i) {
    int k = 0;
    while (k < 3 && header[i] != kColumns[k]) ++k;
    if (k == 3)
      fail(path, 1, std::string(header[i]), "",
           "unknown column (expected TIMESTAMP, ContextTokens, GeneratedTokens)");
    if (column[k] >= 0) fail(path, 1, kColumns[k], "", "duplicate column");
    column[k] = static_cast<int>(i);
  }
  for (int k = 0; k < 3; ++k)
    if (column[k] < 0) fail(path, 1, kColumns[k], "", "missing column in the header");
  std::vector<Request> out;
  std::int64_t line = 1, first_ticks = 0, previous_ticks = 0;
  while (std::getline(in, text)) {
    ++line;
    const Where w{path, line};
    const std::vector<std::string_view> cells = split_commas(text);
    if (cells.size() != header.size())
      fail(path, line, "", "",
           std::to_string(cells.size()) + " columns, the header has " +
               std::to_string(header.size()));
    std::int64_t ticks = 0;
    const std::string_view stamp = cells[static_cast<std::size_t>(column[0])];
    if (!parse_timestamp(stamp, ticks))
      fail(path, line, "TIMESTAMP", stamp, "expected YYYY-MM-DD HH:MM:SS[.fffffff]");
    if (out.empty()) first_ticks = previous_ticks = ticks;
    if (ticks < previous_ticks)
      fail(path, line, "TIMESTAMP", stamp, "goes back in time (the file must be sorted)");
    previous_ticks = ticks;
    Request r;
    for (int k = 1; k < 3; ++k) {
      const std::string_view cell = cells[static_cast<std::size_t>(column[k])];
      std::int64_t v = 0;
      if (!parse_int(cell, v)) fail(path, line, kColumns[k], cell, "expected an integer");
      (k == 1 ? r.input_tokens : r.output_tokens) = v;
    }
    check_lengths(w, "ContextTokens", r.input_tokens, "GeneratedTokens", r.output_tokens,
                  max_context_tokens);
    r.arrival_s = static_cast<double>(ticks - first_ticks) / 1e7 / time_scale;
    out.push_back(std::move(r));
  }
  if (out.empty()) fail(path, 0, "", "", "the trace has no requests");
  return out;
}

std::vector<Request> read_trace(const std::string& path, std::int64_t max_context_tokens,
                                double time_scale) {
  if (path.ends_with(".jsonl")) return read_mooncake_trace(path, max_context_tokens, time_scale);
  if (path.ends_with(".csv")) return read_azure_trace(path, max_context_tokens, time_scale);
  throw InputError("--trace " + path +
                   ": unknown format (expected .jsonl, Mooncake, or .csv, Azure LLM inference)");
}

LengthDistribution parse_length_distribution(const std::string& text, const std::string& option) {
  LengthDistribution d;
  const std::size_t dash = text.find('-', 1);
  const bool ok = dash == std::string::npos
                      ? parse_int(text, d.min_tokens) && (d.max_tokens = d.min_tokens, true)
                      : parse_int(std::string_view(text).substr(0, dash), d.min_tokens) &&
                            parse_int(std::string_view(text).substr(dash + 1), d.max_tokens);
  if (!ok || d.min_tokens < 1 || d.max_tokens < d.min_tokens)
    throw InputError(option + " '" + text +
                     "': expected a token count (2048) or a range of positive counts (512-4096)");
  return d;
}

SyntheticSource::SyntheticSource(const SyntheticArrivals& spec, std::int64_t max_context_tokens)
    : spec_(spec), rng_(spec.seed) {
  if (!(spec.rate_per_s > 0) || !std::isfinite(spec.rate_per_s))
    throw InputError("--rate must be a positive number of requests per second");
  if (spec.requests < 1) throw InputError("--requests must be at least 1");
  if (!(spec.burstiness_cv >= 1) || !(spec.burstiness_cv <= 100))
    throw InputError("--burstiness must be in [1, 100] (1: Poisson)");
  if (spec.input.max_tokens > max_context_tokens - spec.output.max_tokens)
    throw InputError("--input-tokens up to " + std::to_string(spec.input.max_tokens) + " plus " +
                     "--output-tokens up to " + std::to_string(spec.output.max_tokens) +
                     " exceed the model's context of " + std::to_string(max_context_tokens));
  // Balanced-means H2: p / rate_fast = (1 - p) / rate_slow, squared cv c2 = 2 / (p-mix) - 1.
  const double c2 = spec.burstiness_cv * spec.burstiness_cv;
  p_fast_ = 0.5 * (1.0 + std::sqrt((c2 - 1.0) / (c2 + 1.0)));
  rate_fast_ = 2.0 * p_fast_ * spec.rate_per_s;
  rate_slow_ = 2.0 * (1.0 - p_fast_) * spec.rate_per_s;
}

double SyntheticSource::uniform01() {
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

std::int64_t SyntheticSource::length(const LengthDistribution& d) {
  if (d.min_tokens == d.max_tokens) return d.min_tokens;
  const auto span = static_cast<std::uint64_t>(d.max_tokens - d.min_tokens) + 1;
  return d.min_tokens + static_cast<std::int64_t>(rng_() % span);  // bias < span / 2^64
}

bool SyntheticSource::next(Request& out) {
  if (drawn_ >= spec_.requests) return false;
  ++drawn_;
  double rate = spec_.rate_per_s;
  if (spec_.burstiness_cv > 1) rate = uniform01() < p_fast_ ? rate_fast_ : rate_slow_;
  if (drawn_ > 1) now_s_ += -std::log1p(-uniform01()) / rate;  // the first arrives at 0
  out.arrival_s = now_s_;
  out.input_tokens = length(spec_.input);
  out.output_tokens = length(spec_.output);
  out.block_hashes.clear();
  return true;
}

}  // namespace v4sim
