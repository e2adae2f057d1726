// A demand file for `v4sim plan`: the model, the daily token demand and its context mix, SLOs,
// price assumptions and the candidate systems. Loaded strictly (errors name file:line and field).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "sim/economics.h"
#include "sim/plan.h"

namespace v4sim {

struct DemandFile {
  std::string file;
  std::string model;
  Demand demand;
  PriceAssumptions prices;
  std::vector<std::string> candidates;  // system names or paths
  std::string source;                   // the file's provenance statement
};

DemandFile load_demand(const std::filesystem::path& path);

}  // namespace v4sim
