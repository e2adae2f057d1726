#include "scenarios/demand.h"

#include "scenarios/yaml_sections.h"

namespace v4sim {

DemandFile load_demand(const std::filesystem::path& path) {
  const config::Document doc = config::load_file(path);
  config::MapReader root(doc.root, doc.file, "");
  DemandFile f;
  f.file = doc.file;
  f.source = sections::provenance(root);
  f.demand.name = root.string("name");
  f.model = root.string("model");
  config::MapReader d = root.map("demand");
  sections::read_demand(d, f.demand);
  config::MapReader slo = root.map("slo");
  sections::read_slo(slo, f.demand.slo_tpot_s, f.demand.slo_ttft_s);
  root.allow("prices");
  if (root.has("prices")) {
    config::MapReader p = root.map("prices");
    sections::read_prices(p, f.prices);
  }
  f.candidates = sections::read_names(root, "candidates");
  root.finish();
  return f;
}

}  // namespace v4sim
