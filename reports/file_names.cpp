#include "reports/file_names.h"

#include <set>

#include "models/config/input_error.h"
#include "reports/escape.h"

namespace v4sim::report {
namespace {

constexpr std::size_t kMaxStemChars = 80;

std::string resolve(const std::string& given, std::string_view kind, int& counter,
                    const std::string& heading, std::set<std::string>& seen) {
  std::string stem = given;
  if (stem.empty()) stem.append(kind).append("-").append(std::to_string(counter));
  ++counter;
  std::string where = "report section '";
  where.append(one_line(heading)).append("': ").append(kind).append(" name '");
  where.append(one_line(given)).append("'");
  if (!is_valid_stem(stem))
    throw InputError(where +
                     " is not a valid file name (1 to 80 letters, digits, '-' or '_', "
                     "not starting with '-')");
  // Compared case-insensitively, so the files stay distinct on case-insensitive file systems.
  std::string key = stem;
  for (char& c : key)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (!seen.insert(key).second) {
    std::string msg = where;
    msg.append(" is used twice (as '").append(stem).append("')");
    throw InputError(msg);
  }
  return stem;
}

}  // namespace

bool is_valid_stem(const std::string& stem) {
  if (stem.empty() || stem.size() > kMaxStemChars || stem[0] == '-') return false;
  for (char c : stem) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

FileStems file_stems(const Report& report) {
  FileStems out;
  std::set<std::string> tables_seen, charts_seen;
  int table_no = 1, chart_no = 1;
  for (const Section& s : report.sections) {
    auto& t = out.tables.emplace_back();
    for (const TableBlock& b : s.tables)
      t.push_back(resolve(b.name, "table", table_no, s.heading, tables_seen));
    auto& c = out.charts.emplace_back();
    for (const Chart& ch : s.charts)
      c.push_back(resolve(ch.name, "chart", chart_no, s.heading, charts_seen));
  }
  return out;
}

}  // namespace v4sim::report
