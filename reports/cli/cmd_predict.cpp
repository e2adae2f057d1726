// `v4sim predict`: how fast and how cheaply one model serves on one system under one layout.
#include <iostream>

#include <nlohmann/json.hpp>

#include "models/config/input_error.h"
#include "models/model_loader.h"
#include "reports/cli/assumed.h"
#include "reports/cli/commands.h"
#include "reports/cli/serving_options.h"
#include "reports/cli/values.h"
#include "reports/human_units.h"
#include "reports/table.h"
#include "sim/communication.h"
#include "sim/economics.h"
#include "sim/serving.h"
#include "sim/token_costs.h"

namespace v4sim::cli {
namespace {

using Json = nlohmann::ordered_json;

Json breakdown_json(const StepBreakdown& b) {
  return {{"attention_s", b.attention_s},
          {"indexer_s", b.indexer_s},
          {"compressor_s", b.compressor_s},
          {"moe_s", b.moe_s},
          {"other_s", b.other_s},
          {"compute_s", b.compute_s},
          {"communication_s", b.communication_s},
          {"exposed_communication_s", b.exposed_communication_s},
          {"stage_total_s", b.total_s}};
}

}  // namespace

nlohmann::ordered_json time_sources_json(const TimeSources& t) {
  const double total = t.total_s();
  const auto share = [&](double v) { return total > 0 ? v / total : 0.0; };
  return {{"measured", share(t.measured_s)},
          {"transferred", share(t.transferred_s)},
          {"roofline", share(t.roofline_s)}};
}

nlohmann::ordered_json serving_json(const ModelSpec& spec, const SystemSpec& system,
                                    const Workload& w, const ServingConfig& c,
                                    const ServingResult& r, const DeviceHour& hour) {
  const double usd =
      r.feasible ? usd_per_million_tokens(hour.usd_per_hour, r.throughput_tokens_per_s_per_device)
                 : 0.0;
  return {{"model", spec.name},
          {"system", system.name},
          {"phase", to_string(w.phase)},
          {"context_tokens", w.context_tokens},
          {"feasible", r.feasible},
          {"reason", r.reason},
          {"devices", r.devices},
          {"layout", to_string(r.layout)},
          {"overlap", c.overlap},
          {"mtp_acceptance", c.mtp_acceptance},
          {"cache_hit_rate", c.cache_hit_rate},
          {"batch", r.batch},
          {"batch_per_device", r.batch_per_device},
          {"sequences", r.sequences},
          {"throughput_tokens_per_s_per_device", r.throughput_tokens_per_s_per_device},
          {"throughput_tokens_per_s", r.throughput_tokens_per_s},
          {"tokens_per_s_per_user", r.tokens_per_s_per_user},
          {"step_s", r.step_s},
          {"tpot_s", r.tpot_s},
          {"ttft_s", r.ttft_s},
          {"prefill_devices", r.prefill_devices},
          {"kv_transfer_s", r.kv_transfer_s},
          {"mfu", r.mfu},
          {"mbu", r.mbu},
          {"power_w", r.power_w},
          {"precision_fallback", r.precision_fallback},
          {"usd_per_device_hour", hour.usd_per_hour},
          {"price_basis", std::string(to_string(hour.basis))},
          {"usd_per_million_tokens", usd},
          {"memory",
           {{"capacity_bytes", r.memory.capacity_bytes},
            {"weights_bytes", r.memory.weights_bytes},
            {"kv_bytes", r.memory.kv_bytes},
            {"activation_bytes", r.memory.activation_bytes},
            {"kv_bytes_per_sequence", r.memory.kv_bytes_per_sequence}}},
          {"breakdown", breakdown_json(r.breakdown)},
          {"tokens_per_step", r.tokens_per_step},
          {"mtp_tokens", c.mtp_acceptance > 0 ? c.mtp_tokens : 0},
          {"time_sources", time_sources_json(r.time_sources)},
          {"warnings", r.warnings}};
}

nlohmann::ordered_json ops_json(const ServingResult& r) {
  Json ops = Json::array();
  for (const OpTiming& o : r.ops)
    ops.push_back({{"name", o.name},
                   {"component", o.component},
                   {"calls", o.calls},
                   {"time_s", o.time_s},
                   {"efficiency_source", o.efficiency_source},
                   {"table", o.table},
                   {"extrapolated", o.extrapolated}});
  return ops;
}

void setup_predict(CLI::App& app) {
  auto opt = std::make_shared<ServingOptions>();
  CLI::App* cmd = app.add_subcommand(
      "predict", "Throughput, latency, utilisation and $/M tokens of a model on a system");
  add_serving_options(cmd, *opt, true);
  cmd->callback([opt] {
    const OutputFormat format = parse_output_format(opt->format);
    const ServingRequest req = resolve(*opt);
    CommPlanner planner(req.system, req.nodes);  // one topology and one set of tables for both
    const ServingResult r =
        predict(req.model, req.system, req.nodes, req.config, req.workload, &planner);
    const DeviceHour hour = device_hour(req.system, req.nodes, req.prices);
    Json j = serving_json(req.model.spec, req.system, req.workload, req.config, r, hour);
    add_assumed(j, req.model.spec);  // a config.json import: the defaults it took
    j["ops"] = ops_json(r);
    if (r.feasible && req.workload.phase == Phase::decode) {
      const TokenCosts c =
          token_costs(req.model, req.system, req.nodes, req.config, req.workload.context_tokens, r,
                      hour, opt->session_output_tokens, &planner);
      j["usd_per_million"] = {{"input_cache_miss", c.input_usd_per_m},
                              {"cached_input", c.cached_input_usd_per_m},
                              {"output", c.output_usd_per_m}};
      j["session"] = {{"context_tokens", req.workload.context_tokens},
                      {"output_tokens", c.session_output_tokens},
                      {"usd", c.session_usd}};
    }
    if (format == OutputFormat::json) {
      std::cout << j.dump(2) << '\n';
      return;
    }
    // The text table is for people (4.94 GiB, 12,345); the CSV keeps the exact values.
    const bool human = format != OutputFormat::csv;
    auto cell = [&](const std::string& field, const Json& v) {
      if (v.is_string()) return v.get<std::string>();
      if (!human || !v.is_number()) return v.dump();
      return report::human_cell(v.dump(), field.find("_bytes") != std::string::npos ? "B" : "");
    };
    Table t{{"field", "value"}, {}, {false, true}};
    for (const auto& [key, value] : j.items()) {
      if (key == "ops" || key == "assumed") continue;  // ops: JSON only; assumed: below
      if (value.is_object()) {
        for (const auto& [k2, v2] : value.items())
          t.rows.push_back({key + "." + k2, cell(key + "." + k2, v2)});
      } else {
        t.rows.push_back({key, cell(key, value)});
      }
    }
    if (format == OutputFormat::csv) {
      write_csv(std::cout, t);
      print_assumed(std::cerr, req.model.spec);  // keeps the CSV a table
    } else {
      write_text(std::cout, t);
      print_assumed(std::cout, req.model.spec);
    }
  });
}

}  // namespace v4sim::cli
