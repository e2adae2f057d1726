#include "reports/data_files.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "models/config/input_error.h"
#include "reports/escape.h"
#include "reports/human_units.h"
#include "reports/table.h"

namespace v4sim::report {
namespace {

using Json = nlohmann::ordered_json;

/// The cell as a finite number if all of it parses as one (from_chars: locale-independent).
std::optional<double> parse_number(const std::string& s) {
  double v = 0;
  // from_chars takes no leading '+', which people (and printf's %+g) write.
  const char* begin = s.data() + (s.size() > 1 && s[0] == '+' && s[1] != '-' ? 1 : 0);
  const auto [end, ec] = std::from_chars(begin, s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return {};
  return v;
}

std::string formula_safe(const std::string& cell) {
  if (cell.empty() || std::string_view("=+-@\t\r").find(cell[0]) == std::string_view::npos ||
      parse_number(cell))
    return cell;
  return "'" + cell;
}

/// A numeric cell as a JSON number: integers exactly as int64, others as double.
Json cell_json(const std::string& s, bool numeric) {
  if (numeric && !s.empty()) {
    std::int64_t i = 0;
    const auto [iend, iec] = std::from_chars(s.data(), s.data() + s.size(), i);
    if (iec == std::errc() && iend == s.data() + s.size()) return i;
    if (const std::optional<double> v = parse_number(s)) return *v;
  }
  return s;
}

Json axis_json(const Axis& a) {
  static constexpr const char* kTicks[] = {"auto", "si", "binary"};
  Json j;
  j["label"] = a.label;
  j["unit"] = a.unit;
  j["log"] = a.log;
  j["ticks"] = kTicks[static_cast<int>(a.ticks)];
  return j;
}

Json number_or_null(double v) {
  return std::isfinite(v) ? Json(v) : Json(nullptr);
}

}  // namespace

void check_table(const TableBlock& t) {
  auto fail = [&](const std::string& what) {
    std::string msg = "report table '";
    msg.append(one_line(t.name.empty() ? t.caption : t.name)).append("': ").append(what);
    throw InputError(msg);
  };
  const std::size_t n = t.table.columns.size();
  if (!t.units.empty() && t.units.size() != n)
    fail(std::to_string(t.units.size()) + " units for " + std::to_string(n) + " columns");
  for (std::size_t r = 0; r < t.table.rows.size(); ++r)
    if (t.table.rows[r].size() > n)
      fail("row " + std::to_string(r + 1) + " has " + std::to_string(t.table.rows[r].size()) +
           " cells for " + std::to_string(n) + " columns");
}

std::string cell_for_people(const TableBlock& t, std::size_t c, const std::string& cell) {
  const bool numeric = c < t.table.numeric.size() && t.table.numeric[c];
  if (!numeric) return cell;
  return human_cell(cell, c < t.units.size() ? t.units[c] : std::string_view());
}

std::vector<std::string> headers_with_units(const TableBlock& t) {
  std::vector<std::string> h = t.table.columns;
  for (std::size_t c = 0; c < h.size() && c < t.units.size(); ++c)
    if (!t.units[c].empty()) h[c].append(" (").append(t.units[c]).append(")");
  return h;
}

std::string table_csv(const TableBlock& t) {
  Table safe;
  for (const std::string& h : headers_with_units(t)) safe.columns.push_back(formula_safe(h));
  for (const auto& row : t.table.rows) {
    auto& out = safe.rows.emplace_back();
    for (const std::string& cell : row) out.push_back(formula_safe(cell));
  }
  std::ostringstream s;
  write_csv(s, safe);
  return s.str();
}

std::string report_json(const Report& r, const FileStems& stems) {
  Json j;
  j["title"] = r.title;
  j["summary"] = r.summary;
  j["sections"] = Json::array();
  for (std::size_t si = 0; si < r.sections.size(); ++si) {
    const Section& sec = r.sections[si];
    Json s;
    s["heading"] = sec.heading;
    s["paragraphs"] = sec.paragraphs;
    s["tables"] = Json::array();
    for (std::size_t ti = 0; ti < sec.tables.size(); ++ti) {
      const TableBlock& t = sec.tables[ti];
      Json tj;
      tj["name"] = stems.tables[si][ti];
      tj["caption"] = t.caption;
      tj["columns"] = Json::array();
      for (std::size_t c = 0; c < t.table.columns.size(); ++c) {
        Json col;
        col["name"] = t.table.columns[c];
        col["unit"] = c < t.units.size() ? t.units[c] : "";
        tj["columns"].push_back(col);
      }
      tj["rows"] = Json::array();
      for (const auto& row : t.table.rows) {
        Json rj = Json::array();
        for (std::size_t c = 0; c < t.table.columns.size(); ++c) {
          const bool numeric = c < t.table.numeric.size() && t.table.numeric[c];
          rj.push_back(cell_json(c < row.size() ? row[c] : "", numeric));
        }
        tj["rows"].push_back(rj);
      }
      s["tables"].push_back(tj);
    }
    s["charts"] = Json::array();
    for (std::size_t ci = 0; ci < sec.charts.size(); ++ci) {
      const Chart& ch = sec.charts[ci];
      Json cj;
      cj["name"] = stems.charts[si][ci];
      cj["title"] = ch.title;
      cj["kind"] = ch.kind == Chart::Kind::Bars ? "bars" : "line_points";
      cj["x"] = axis_json(ch.x);
      cj["y"] = axis_json(ch.y);
      cj["categories"] = ch.categories;
      cj["series"] = Json::array();
      for (const Series& se : ch.series) {
        Json sj;
        sj["name"] = se.name;
        sj["points"] = Json::array();
        for (std::size_t i = 0; i < se.x.size() && i < se.y.size(); ++i)
          sj["points"].push_back(Json::array({number_or_null(se.x[i]), number_or_null(se.y[i])}));
        cj["series"].push_back(sj);
      }
      s["charts"].push_back(cj);
    }
    s["assumptions"] = sec.assumptions;
    s["inputs"] = Json::array();
    for (const SourcedInput& in : sec.inputs) {
      Json ij;
      ij["name"] = in.name;
      ij["value"] = in.value;
      ij["source"] = in.source;
      s["inputs"].push_back(ij);
    }
    j["sections"].push_back(s);
  }
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace v4sim::report
