#include "scenarios/demand.h"

#include "hardware/system.h"
#include "models/model_loader.h"
#include "scenarios/yaml_sections.h"

namespace v4sim {

DemandFile load_demand(const std::filesystem::path& path) {
  const config::Document doc = config::load_file(path);
  config::MapReader root(doc.root, doc.file, "");
  DemandFile f;
  f.file = doc.file;
  f.source = sections::read_provenance(root);
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

  // References are checked here, so their errors name this file: the model exists and serves
  // every context of the mix, and every candidate system loads.
  ModelSpec spec;
  try {
    spec = load_model(f.model);
  } catch (const InputError& e) {
    root.fail("model", e.what());
  }
  const YAML::Node contexts = d.node("contexts");
  for (std::size_t i = 0; i < f.demand.contexts.size(); ++i) {
    if (f.demand.contexts[i].context_tokens <= spec.max_context_tokens) continue;
    config::MapReader c(contexts[i], doc.file, d.field("contexts") + "[" + std::to_string(i) + "]");
    c.fail("context_tokens", "beyond the " + std::to_string(spec.max_context_tokens) +
                                 "-token maximum context of model " + spec.name);
  }
  sections::check_names(root, "candidates",
                        [](const std::string& name) { (void)load_system(name); });
  return f;
}

}  // namespace v4sim
