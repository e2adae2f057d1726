#include "reports/studies/common.h"

#include <utility>

#include "models/config/data_paths.h"
#include "scenarios/format.h"

namespace v4sim::study_report {

namespace sf = scenario_format;

report::TableBlock table_block(std::string name, std::string caption,
                               std::initializer_list<Column> columns) {
  report::TableBlock t;
  t.name = std::move(name);
  t.caption = std::move(caption);
  for (const Column& c : columns) add_column(t, c);
  return t;
}

void add_column(report::TableBlock& t, const Column& c) {
  t.table.columns.push_back(c.name);
  t.table.numeric.push_back(c.numeric);
  t.units.push_back(c.unit);
}

report::SourcedInput model_input(const PreparedModel& m) {
  return {m.spec.name, m.spec.display_name, data::display_path(m.spec.file) + " (sources inside)"};
}

report::SourcedInput system_input(const SystemSpec& s) {
  return {s.name, s.display_name,
          data::display_path(s.file) + " and " + data::display_path(s.accelerator.file) +
              " (sources inside)"};
}

std::string targets_text(const Scenario& sc) {
  std::string targets;
  if (sc.slo_tpot_s) targets = "TPOT " + sf::num(*sc.slo_tpot_s * 1e3) + " ms";
  if (sc.slo_ttft_s) {
    if (!targets.empty()) targets += ", ";
    targets += "TTFT " + sf::num(*sc.slo_ttft_s) + " s";
  }
  return targets;
}

report::SourcedInput price_basis_input(const Scenario& sc) {
  return {"price basis", sf::price_basis(sc.prices),
          sc.prices_source.empty() ? "defaults stated in sim/economics.h" : sc.prices_source};
}

}  // namespace v4sim::study_report
