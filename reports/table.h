// A plain table of strings, printed for people (aligned columns) or programs (CSV, RFC 4180).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace v4sim {

struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  /// Columns whose cells are numbers: right-aligned in text output.
  std::vector<bool> numeric;
};

void write_text(std::ostream& out, const Table& t);
void write_csv(std::ostream& out, const Table& t);
/// Quotes a CSV field when it holds a comma, quote or line break.
std::string csv_field(const std::string& s);

}  // namespace v4sim
