// Test helpers: scenario YAML in a fresh temporary folder (removed afterwards), and lookups in
// a runner's report.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include "models/config/input_error.h"
#include "reports/report.h"
#include "scenarios/scenario.h"

#include <unistd.h>

namespace v4sim::testing_files {

/// A small valid hardware_purchase scenario (one model, two systems, two context lengths, all
/// three sensitivities).
inline const std::string kSmallPurchase = R"(name: purchase-test
title: "A small purchase"
kind: hardware_purchase
estimate: "test"
models: [deepseek-v4-flash]
systems: [hgx-h200, dgx-b200]
mtp_acceptance: 0.7
slo: {estimate: "test", tpot_ms: 50, ttft_ms: 60000}
prices: {estimate: "test", basis: tco}
demand:
  estimate: "test demand"
  input_tokens_per_day: 4e9
  output_tokens_per_day: 1e9
  cache_hit_rate: 0.5
  peak_to_average: 2
  contexts:
    - {context_tokens: 8192, share: 0.75}
    - {context_tokens: 65536, share: 0.25}
sensitivities:
  - system_prices
  - accelerator_peaks
  - {name: efficiencies, relative: 0.15, estimate: "test range"}
)";

/// A small valid api_pricing scenario (a USD and a CNY price list, two workloads).
inline const std::string kSmallApi = R"(name: api-test
title: "API prices"
kind: api_pricing
estimate: "test"
models: [deepseek-v4-flash]
systems: [hgx-h200]
mtp_acceptance: 0.7
slo: {estimate: "test", tpot_ms: 50, ttft_ms: 60000}
prices: {estimate: "test", basis: tco}
exchange_rate: {estimate: "test rate", cny_per_usd: 7.2, date: "2026-04"}
api_prices:
  - {model: Flash, input_cache_hit_usd_per_m: 0.028, input_cache_miss_usd_per_m: 0.14, output_usd_per_m: 0.28, date: "2026-04-24", source: "test list", self_hosted_model: deepseek-v4-flash}
  - {model: Other, input_cache_miss_cny_per_m: 7.2, output_cny_per_m: 14.4, date: "2026-04", source: "test press"}
workloads:
  - {estimate: "test", name: chat, requests_per_month: 1000, input_tokens_per_request: 200, output_tokens_per_request: 500, cache_hit_rate: 0}
  - {estimate: "test", name: docs, requests_per_month: 10, input_tokens_per_request: 20000, output_tokens_per_request: 1000, cache_hit_rate: 0.5}
)";

/// A small valid serving_simulation scenario (one model, one system, 200 synthetic requests).
inline const std::string kSmallServing = R"(name: serving-test
title: "A small serving simulation"
kind: serving_simulation
estimate: "test"
models: [deepseek-v4-flash]
systems: [hgx-h200]
mtp_acceptance: 0.7
slo: {estimate: "test", tpot_ms: 50, ttft_ms: 300}
simulation:
  estimate: "test traffic"
  max_batch: 64
  attainment_target: 0.99
  arrivals:
    rate_per_s: 2
    requests: 200
    input_tokens: {min: 256, max: 2048}
    output_tokens: 128
    seed: 7
  sweep_rates_per_s: [1, 4, 500]
)";

class TempScenarios {
 public:
  TempScenarios() {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("v4sim-scenarios-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(dir_);
  }
  ~TempScenarios() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TempScenarios(const TempScenarios&) = delete;
  TempScenarios& operator=(const TempScenarios&) = delete;

  /// Writes `text` to <dir>/<name>.yaml and returns the path.
  std::string write(const std::string& name, const std::string& text) const {
    const std::filesystem::path p = dir_ / (name + ".yaml");
    std::ofstream(p) << text;
    return p.string();
  }

 private:
  std::filesystem::path dir_;
};

inline const report::TableBlock* table(const report::Report& r, const std::string& name) {
  for (const report::Section& s : r.sections)
    for (const report::TableBlock& t : s.tables)
      if (t.name == name) return &t;
  return nullptr;
}

inline const report::Chart* chart(const report::Report& r, const std::string& name) {
  for (const report::Section& s : r.sections)
    for (const report::Chart& c : s.charts)
      if (c.name == name) return &c;
  return nullptr;
}

/// Every string and number of a report, in order: two runs are equal iff this is.
inline std::string flatten(const report::Report& r) {
  std::string out = r.title;
  for (const std::string& s : r.summary) out += "|" + s;
  for (const report::Section& s : r.sections) {
    out += "#" + s.heading;
    for (const std::string& p : s.paragraphs) out += "|" + p;
    for (const report::TableBlock& t : s.tables) {
      out += "|" + t.name + t.caption;
      for (const auto& row : t.table.rows)
        for (const std::string& cell : row) out += "," + cell;
    }
    for (const report::Chart& c : s.charts) {
      out += "|" + c.name + c.title;
      for (const report::Series& x : c.series) {
        out += x.name;
        for (std::size_t i = 0; i < x.x.size(); ++i)
          out += std::to_string(x.x[i]) + ":" + std::to_string(x.y[i]);
      }
    }
    for (const std::string& a : s.assumptions) out += "|" + a;
    for (const report::SourcedInput& i : s.inputs) out += "|" + i.name + i.value + i.source;
  }
  return out;
}

/// `text` with the first occurrence of `from` replaced by `to` (which must exist).
inline std::string edit(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "test bug: '" << from << "' not in the base file";
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

/// `load(path)` of `text`, written to a temporary file, fails with an InputError naming the file
/// at `line` and containing `field` and `what`.
template <class Load>
void expect_load_error(Load load, const std::string& text, int line, const std::string& field,
                       const std::string& what) {
  TempScenarios dir;
  const std::string path = dir.write("bad", text);
  try {
    load(path);
    ADD_FAILURE() << "no error for field " << field;
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path + ":" + std::to_string(line) + ":"), std::string::npos)
        << "expected line " << line << " in: " << msg;
    EXPECT_NE(msg.find(field), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
  }
}

/// load_scenario of `text` fails with an InputError naming the file at `line`, the quoted field
/// and `what`.
inline void expect_scenario_error(const std::string& text, int line, const std::string& field,
                                  const std::string& what) {
  expect_load_error([](const std::string& path) { (void)load_scenario(path); }, text, line,
                    "'" + field + "'", what);
}

}  // namespace v4sim::testing_files
