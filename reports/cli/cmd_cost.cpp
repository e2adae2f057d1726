// `v4sim cost`: parameters, KV cache and FLOPs of one model at one or more context lengths.
#include <iostream>

#include <nlohmann/json.hpp>

#include "models/config/input_error.h"
#include "models/model_loader.h"
#include "reports/cli/assumed.h"
#include "reports/cli/commands.h"
#include "reports/cli/values.h"
#include "reports/table.h"
#include "sim/analytic.h"

namespace v4sim::cli {
namespace {

using Json = nlohmann::ordered_json;

Json to_json(const ModelSpec& spec, const AnalyticResult& r) {
  const ParamTotals& p = r.params;
  Json params = {{"total", p.total_params},
                 {"active_per_token", p.active_params},
                 {"weight_bytes", p.weight_bytes},
                 {"mtp_total", p.mtp_params},
                 {"mtp_weight_bytes", p.mtp_weight_bytes}};
  Json by_param = Json::object();
  for (int c = 0; c < kNumParamComponents; ++c) {
    if (p.total[c] == 0) continue;
    by_param[std::string(to_string(static_cast<ParamComponent>(c)))] = {
        {"total", p.total[c]}, {"active", p.active[c]}, {"bytes", p.bytes[c]}};
  }
  params["by_component"] = by_param;

  const KvCacheBytes& kv = r.kv_cache;
  Json by_kind = Json::object();
  for (int k = 0; k < 6; ++k)
    if (kv.by_layer_kind[k] > 0)
      by_kind[std::string(to_string(static_cast<AttentionKind>(k)))] = kv.by_layer_kind[k];
  Json kv_json = {{"bytes_per_sequence", kv.total()},
                  {"format", r.query.kv_format},
                  {"by_part",
                   {{"window", kv.window},
                    {"compressed", kv.compressed},
                    {"indexer_keys", kv.indexer_keys},
                    {"compressor_state", kv.state},
                    {"mla_latent", kv.latent},
                    {"gqa_kv", kv.kv_heads}}},
                  {"by_layer_kind", by_kind}};

  const double tokens = static_cast<double>(r.tokens());
  Json by_component = Json::object();
  for (int c = 0; c < kNumOpComponents; ++c) {
    const Cost& cost = r.by_component[c];
    if (cost.total_flops() == 0 && cost.total_bytes() == 0) continue;
    Json by_precision = Json::object();
    for (Precision pr : kAllPrecisions)
      if (cost.flops_at(pr) > 0) by_precision[std::string(to_string(pr))] = cost.flops_at(pr);
    by_component[std::string(to_string(static_cast<OpComponent>(c)))] = {
        {"flops", cost.total_flops()},
        {"flops_per_token", static_cast<double>(cost.total_flops()) / tokens},
        {"fp8_equivalent_flops", cost.fp8_equivalent_flops()},
        {"by_precision", by_precision},
        {"bytes_read",
         cost.bytes_read[0] + cost.bytes_read[1] + cost.bytes_read[2] + cost.bytes_read[3]}};
  }
  Json by_precision = Json::object();
  for (Precision pr : kAllPrecisions)
    if (r.total.flops_at(pr) > 0) by_precision[std::string(to_string(pr))] = r.total.flops_at(pr);

  Json out = {{"model", spec.name},
              {"context_tokens", r.query.context_tokens},
              {"phase", to_string(r.query.phase)},
              {"tokens", r.tokens()},
              {"beyond_max_context", r.beyond_max_context},
              {"mtp", r.query.include_mtp},
              {"params", params},
              {"kv_cache", kv_json},
              {"flops",
               {{"per_token", r.flops_per_token()},
                {"fp8_equivalent_per_token", r.fp8_equivalent_flops_per_token()},
                {"total", r.total.total_flops()},
                {"fp8_equivalent_total", r.total.fp8_equivalent_flops()},
                {"by_precision", by_precision},
                {"by_component", by_component}}},
              {"bytes",
               {{"weights_read", r.total.read(MemClass::weights)},
                {"kv_cache_read", r.total.read(MemClass::kv_cache)},
                {"kv_cache_written", r.total.written(MemClass::kv_cache)}}}};
  // A Hugging Face config.json import: the defaults it needed (models/hf_config.h).
  add_assumed(out, spec);
  return out;
}

void print_table(const ModelSpec& spec, const AnalyticResult& r) {
  const ParamTotals& p = r.params;
  std::cout << spec.display_name << " - " << to_string(r.query.phase) << " at context "
            << r.query.context_tokens << " tokens (KV format " << r.query.kv_format << ")"
            << (r.beyond_max_context ? " [beyond the model's max context: extrapolated]" : "")
            << "\n"
            << "  parameters: " << si(p.total_params) << " total, " << si(p.active_params)
            << " active per token, weights " << si(static_cast<double>(p.weight_bytes)) << "B"
            << " (MTP +" << si(p.mtp_params) << ")\n";
  const KvCacheBytes& kv = r.kv_cache;
  std::cout << "  KV cache per sequence: " << gib(kv.total()) << " (window " << gib(kv.window)
            << ", compressed " << gib(kv.compressed) << ", indexer keys " << gib(kv.indexer_keys)
            << ", compressor state " << gib(kv.state) << ", MLA latent " << gib(kv.latent)
            << ", GQA K/V " << gib(kv.kv_heads) << ")\n";
  std::cout << "  FLOPs per token: " << si(r.flops_per_token()) << " (FP8-equivalent "
            << si(r.fp8_equivalent_flops_per_token()) << "); whole pass "
            << si(r.total.total_flops()) << "\n\n";
  Table t{{"component", "flops_per_token", "share", "fp8_equiv_per_token", "precisions"},
          {},
          {false, true, true, true, false}};
  const double total = static_cast<double>(r.total.total_flops());
  const double tokens = static_cast<double>(r.tokens());
  for (int c = 0; c < kNumOpComponents; ++c) {
    const Cost& cost = r.by_component[c];
    if (cost.total_flops() == 0) continue;
    std::string precisions;
    for (Precision pr : kAllPrecisions)
      if (cost.flops_at(pr) > 0)
        precisions += (precisions.empty() ? "" : ",") + std::string(to_string(pr));
    char share[32];
    std::snprintf(share, sizeof share, "%.1f%%",
                  100.0 * static_cast<double>(cost.total_flops()) / total);
    t.rows.push_back({std::string(to_string(static_cast<OpComponent>(c))),
                      si(static_cast<double>(cost.total_flops()) / tokens), share,
                      si(cost.fp8_equivalent_flops() / tokens), precisions});
  }
  write_text(std::cout, t);
  std::cout << '\n';
}

Table csv_table(const ModelSpec& spec, const std::vector<AnalyticResult>& results) {
  Table t;
  t.columns = {"model",           "context_tokens",
               "phase",           "kv_format",
               "params_total",    "params_active_per_token",
               "weight_bytes",    "kv_bytes_per_sequence",
               "flops_per_token", "fp8_equivalent_flops_per_token",
               "flops_total"};
  for (int c = 0; c < kNumOpComponents; ++c)
    t.columns.push_back("flops_" + std::string(to_string(static_cast<OpComponent>(c))));
  for (const AnalyticResult& r : results) {
    std::vector<std::string> row = {spec.name,
                                    std::to_string(r.query.context_tokens),
                                    std::string(to_string(r.query.phase)),
                                    r.query.kv_format,
                                    std::to_string(r.params.total_params),
                                    std::to_string(r.params.active_params),
                                    std::to_string(r.params.weight_bytes),
                                    std::to_string(r.kv_cache.total()),
                                    Json(r.flops_per_token()).dump(),
                                    Json(r.fp8_equivalent_flops_per_token()).dump(),
                                    std::to_string(r.total.total_flops())};
    for (int c = 0; c < kNumOpComponents; ++c)
      row.push_back(std::to_string(r.by_component[c].total_flops()));
    t.rows.push_back(row);
  }
  return t;
}

}  // namespace

void setup_cost(CLI::App& app) {
  struct Options {
    std::string model, context, phase = "decode", kv_format = "deploy", format = "table";
    std::string dir;  // empty: the search path (models/config/data_paths.h)
    bool mtp = false;
    bool extrapolate = false;
  };
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "cost", "Parameters, KV cache and FLOPs of one model at one or more context lengths");
  cmd->add_option("--model", opt->model,
                  "Catalogue name, path to a model YAML, or a Hugging Face config.json (the "
                  "defaults it lacks are printed as Assumed)")
      ->required();
  cmd->add_option("--context", opt->context, "Context tokens: 4096, 4k, 128K, 1m or a list 4k,1m")
      ->required();
  cmd->add_option("--phase", opt->phase,
                  "decode (one token ending the context) | prefill (the whole prompt)")
      ->capture_default_str();
  cmd->add_option("--kv-format", opt->kv_format, "deploy | bf16")->capture_default_str();
  cmd->add_option("--format", opt->format,
                  "table | json (one object per context, one per line) | csv")
      ->capture_default_str();
  cmd->add_flag("--mtp", opt->mtp, "Add one MTP draft step per token");
  cmd->add_flag("--extrapolate", opt->extrapolate,
                "Allow contexts beyond the model's max_context_tokens (marked in the output)");
  cmd->add_option("--models-dir", opt->dir, "Only this models folder (default: the search path)");
  cmd->callback([opt] {
    const OutputFormat format = parse_output_format(opt->format);
    const Phase phase = parse_phase(opt->phase);
    const std::vector<std::int64_t> contexts = parse_context_list(opt->context, "--context");
    const ModelSpec spec = load_model(opt->model, opt->dir);
    const PreparedModel model = prepare(spec);
    const ContextSweep sweep =
        compile_contexts(model, {0, phase, opt->kv_format, opt->mtp, opt->extrapolate});
    std::vector<AnalyticResult> results;
    for (std::int64_t n : contexts) results.push_back(analyze(sweep, n));
    if (format == OutputFormat::json) {
      for (const AnalyticResult& r : results) std::cout << to_json(spec, r).dump() << '\n';
    } else if (format == OutputFormat::csv) {
      write_csv(std::cout, csv_table(spec, results));
    } else {
      for (const AnalyticResult& r : results) print_table(spec, r);
      print_assumed(std::cout, spec);
    }
    if (format == OutputFormat::csv) print_assumed(std::cerr, spec);
  });
}

}  // namespace v4sim::cli
