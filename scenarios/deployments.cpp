#include "scenarios/deployments.h"

#include <algorithm>
#include <limits>

#include "hardware/system.h"
#include "models/config/strict_yaml.h"
#include "models/model_loader.h"
#include "scenarios/scenario.h"

namespace v4sim {
namespace {

using config::MapReader;

constexpr std::int64_t kMaxTokens = std::int64_t{1} << 32;
constexpr std::int64_t kMaxRanks = std::int64_t{1} << 20;

/// Loads a referenced model or system; its InputError is re-thrown at the field that names it.
template <typename Load>
void check_reference(MapReader& m, std::string_view key, const std::string& name, Load load) {
  try {
    load(name);
  } catch (const InputError& e) {
    m.fail(key, e.what());
  }
}

Layout read_layout(MapReader& row, std::int64_t devices) {
  MapReader l = row.map("layout");
  Layout out;
  out.tp = l.integer("tp", 1, kMaxRanks);
  out.dp = l.integer("dp", 1, kMaxRanks);
  out.ep = l.integer("ep", 1, kMaxRanks);
  out.pp = l.integer("pp", 1, kMaxRanks);
  l.finish();
  if (out.devices() != devices)
    row.fail("layout", "tp*dp*pp = " + std::to_string(out.devices()) + " ranks, but the row has " +
                           std::to_string(devices) + " devices");
  if (out.devices_per_stage() % out.ep != 0)
    row.fail("layout", "ep=" + std::to_string(out.ep) + " does not divide the " +
                           std::to_string(out.devices_per_stage()) + " ranks of a stage (tp*dp)");
  return out;
}

DeploymentPhase read_phase(MapReader& row) {
  const std::string p = row.string("phase");
  if (p == "decode") return DeploymentPhase::decode;
  if (p == "prefill") return DeploymentPhase::prefill;
  if (p == "aggregated") return DeploymentPhase::aggregated;
  row.fail("phase", "expected decode, prefill or aggregated");
}

void read_measured(MapReader& row, Deployment& d) {
  MapReader m = row.map("measured");
  const std::string metric = m.string("metric");
  if (metric == "output_tokens_per_s_per_device")
    d.metric = DeploymentMetric::output_tokens_per_s_per_device;
  else if (metric == "input_tokens_per_s_per_device")
    d.metric = DeploymentMetric::input_tokens_per_s_per_device;
  else if (metric == "tpot_s")
    d.metric = DeploymentMetric::tpot_s;
  else
    m.fail("metric",
           "expected output_tokens_per_s_per_device, input_tokens_per_s_per_device or "
           "tpot_s");
  const bool fits = d.phase == DeploymentPhase::prefill
                        ? d.metric == DeploymentMetric::input_tokens_per_s_per_device
                        : d.metric != DeploymentMetric::input_tokens_per_s_per_device &&
                              (d.phase == DeploymentPhase::decode ||
                               d.metric == DeploymentMetric::output_tokens_per_s_per_device);
  if (!fits)
    m.fail("metric", "does not fit phase " + to_string(d.phase) +
                         " (prefill: input_tokens_per_s_per_device; decode: "
                         "output_tokens_per_s_per_device or tpot_s; aggregated: "
                         "output_tokens_per_s_per_device)");
  d.measured = m.number("value", std::numeric_limits<double>::min(), 1e12);
  m.finish();
}

Deployment read_row(const YAML::Node& node, const std::string& file, std::size_t i) {
  const std::string field = "deployments[" + std::to_string(i) + "]";
  if (!node.IsMap())
    throw InputError(config::where(file, node) + ": field '" + field + "': expected a mapping");
  MapReader row(node, file, field);
  Deployment d;
  d.where = config::where(file, node);
  d.id = row.string("id");
  if (d.id.empty()) row.fail("id", "must not be empty");
  if (!row.has("source"))
    row.fail("source", "every row needs a 'source:' (URLs of the measurement)");
  (void)config::read_provenance(row);
  d.source = row.string("source");
  if (row.has("estimate")) d.estimate = row.string("estimate");
  d.conditions = row.string("conditions");
  if (d.conditions.empty()) row.fail("conditions", "must not be empty");
  d.model = row.string("model");
  check_reference(row, "model", d.model, [](const std::string& n) { (void)load_model(n); });
  d.system = row.string("system");
  check_reference(row, "system", d.system, [](const std::string& n) { (void)load_system(n); });
  d.devices = row.integer("devices", 1, kMaxRanks);
  d.phase = read_phase(row);
  d.layout = read_layout(row, d.devices);
  d.batch = row.integer("batch", 1, std::int64_t{1} << 24);
  row.allow("context_tokens");
  row.allow("input_tokens");
  row.allow("output_tokens");
  if (d.phase == DeploymentPhase::aggregated) {
    if (row.has("context_tokens"))
      row.fail("context_tokens", "an aggregated row gives input_tokens and output_tokens instead");
    d.input_tokens = row.integer("input_tokens", 1, kMaxTokens);
    d.output_tokens = row.integer("output_tokens", 1, kMaxTokens);
  } else {
    for (const char* key : {"input_tokens", "output_tokens"})
      if (row.has(key))
        row.fail(key,
                 "only aggregated rows give input_tokens and output_tokens; use "
                 "context_tokens");
    d.context_tokens = row.integer("context_tokens", 1, kMaxTokens);
  }
  row.allow("weights");
  if (row.has("weights")) {
    d.weights = parse_weights_override(row.string("weights"));
    if (!d.weights)
      row.fail("weights",
               "expected fp8, int8, fp4, fp4_ffn or bf16 (omit for the model's own formats)");
  }
  d.kv_format = row.string("kv_format");
  if (d.kv_format != "deploy" && d.kv_format != "bf16")
    row.fail("kv_format", "expected deploy or bf16");
  d.mtp_tokens = row.integer("mtp_tokens", 0, 16);
  row.allow("mtp_acceptance");
  if (d.mtp_tokens > 0) {
    d.mtp_acceptance = row.number("mtp_acceptance", 0, 1);
    if (d.mtp_acceptance <= 0) row.fail("mtp_acceptance", "must be above 0 when mtp_tokens > 0");
  } else if (row.has("mtp_acceptance")) {
    row.fail("mtp_acceptance", "given without draft tokens (mtp_tokens is 0)");
  }
  d.overlap = row.boolean("overlap");
  row.allow("expert_imbalance");
  if (row.has("expert_imbalance")) d.expert_imbalance = row.number("expert_imbalance", 1, 1000);
  row.allow("redundant_experts");
  if (row.has("redundant_experts")) d.redundant_experts = row.integer("redundant_experts", 0, 4096);
  row.allow("moe_exchange");
  if (row.has("moe_exchange")) {
    const std::optional<MoeExchange> e = parse_moe_exchange(row.string("moe_exchange"));
    if (!e) row.fail("moe_exchange", "expected all_to_all or all_gather");
    d.moe_exchange = *e;
  }
  read_measured(row, d);
  row.finish();
  return d;
}

}  // namespace

std::string to_string(DeploymentPhase phase) {
  switch (phase) {
    case DeploymentPhase::decode:
      return "decode";
    case DeploymentPhase::prefill:
      return "prefill";
    case DeploymentPhase::aggregated:
      return "aggregated";
  }
  return "?";
}

std::string to_string(DeploymentMetric metric) {
  switch (metric) {
    case DeploymentMetric::output_tokens_per_s_per_device:
      return "output_tokens_per_s_per_device";
    case DeploymentMetric::input_tokens_per_s_per_device:
      return "input_tokens_per_s_per_device";
    case DeploymentMetric::tpot_s:
      return "tpot_s";
  }
  return "?";
}

std::filesystem::path default_deployments_file() {
  return default_scenarios_dir() / "deployments" / "dev.yaml";
}

DeploymentSet load_deployments(const std::string& name_or_path) {
  std::filesystem::path path = name_or_path;
  const bool is_path = name_or_path.find('/') != std::string::npos || path.extension() == ".yaml" ||
                       path.extension() == ".yml";
  if (!is_path) path = find_scenario_file(name_or_path, "scenarios/deployments");
  const config::Document doc = config::load_file(path);
  MapReader root(doc.root, doc.file, "");
  DeploymentSet s;
  s.file = doc.file;
  s.source = config::read_provenance(root);
  const YAML::Node list = root.node("deployments");
  if (!list.IsSequence() || list.size() == 0)
    root.fail("deployments", "expected a non-empty list of rows");
  root.finish();
  for (std::size_t i = 0; i < list.size(); ++i) {
    Deployment d = read_row(list[i], s.file, i);
    for (const Deployment& seen : s.rows)
      if (seen.id == d.id)
        throw InputError(d.where + ": field 'deployments[" + std::to_string(i) + "].id' = '" +
                         d.id + "': listed twice (first at " + seen.where + ")");
    s.rows.push_back(std::move(d));
  }
  return s;
}

}  // namespace v4sim
