#include "reports/cli/assumed.h"

#include <filesystem>
#include <ostream>

namespace v4sim::cli {

void print_assumed(std::ostream& out, const ModelSpec& spec) {
  if (spec.assumed.empty()) return;
  // The file's name only: reports never show this machine's folders.
  out << "Assumed for " << spec.name << " (not stated in its "
      << std::filesystem::path(spec.file).filename().string() << "):\n";
  for (const AssumedValue& a : spec.assumed)
    out << "  - " << a.field << ": " << a.value << " (" << a.reason << ")\n";
}

nlohmann::ordered_json assumed_json(const ModelSpec& spec) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const AssumedValue& a : spec.assumed)
    out.push_back({{"field", a.field}, {"value", a.value}, {"reason", a.reason}});
  return out;
}

void add_assumed(nlohmann::ordered_json& j, const ModelSpec& spec) {
  if (!spec.assumed.empty()) j["assumed"] = assumed_json(spec);
}

}  // namespace v4sim::cli
