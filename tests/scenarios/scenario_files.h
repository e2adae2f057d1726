// Test helpers: scenario YAML in a fresh temporary folder (removed afterwards), and lookups in
// a runner's report.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include "reports/report.h"

#include <unistd.h>

namespace v4sim::testing_files {

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

}  // namespace v4sim::testing_files
