#include "scenarios/scenario.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

#include "hardware/system.h"
#include "models/config/data_paths.h"
#include "models/config/enum_names.h"
#include "models/model_loader.h"
#include "scenarios/yaml_sections.h"

namespace v4sim {
namespace {

using config::MapReader;

// One table per enum for both directions; each assertion fails when an enumerator is added after
// the last one without its name here.
constexpr std::array<std::string_view, 4> kScenarioKindNames{"long_context", "hardware_purchase",
                                                             "api_pricing", "serving_simulation"};
static_assert(kScenarioKindNames.size() ==
              static_cast<std::size_t>(ScenarioKind::serving_simulation) + 1);
constexpr std::array<std::string_view, 3> kSensitivityNames{"system_prices", "accelerator_peaks",
                                                            "efficiencies"};
static_assert(kSensitivityNames.size() ==
              static_cast<std::size_t>(SensitivityKind::efficiencies) + 1);

/// `contexts:` is a list of token counts or {from, to, points_per_doubling}: log steps from `from`
/// to `to` (both included), points_per_doubling per factor of two.
std::vector<std::int64_t> read_contexts(MapReader& root) {
  const YAML::Node n = root.node("contexts");
  constexpr std::int64_t kMax = std::int64_t{1} << 32;
  if (n.IsSequence()) {
    // As many as the range form allows: every context is a row of every table and chart.
    if (n.size() > 400) root.fail("contexts", "lists more than 400 contexts");
    return root.integer_list("contexts", 1, kMax);
  }
  MapReader c = root.map("contexts");
  const std::int64_t from = c.integer("from", 1, kMax);
  const std::int64_t to = c.integer("to", 1, kMax);
  const std::int64_t per = c.integer("points_per_doubling", 1, 16);
  c.finish();
  if (to < from) c.fail("to", "must not be below 'from'");
  std::vector<std::int64_t> out;
  const double steps = std::log2(static_cast<double>(to) / static_cast<double>(from)) * per;
  if (steps > 400) c.fail("points_per_doubling", "asks for more than 400 contexts");
  for (int i = 0; i <= static_cast<int>(std::floor(steps + 1e-9)); ++i) {
    const auto v = static_cast<std::int64_t>(
        std::llround(static_cast<double>(from) * std::exp2(i / static_cast<double>(per))));
    if (out.empty() || v != out.back()) out.push_back(v);
  }
  if (out.back() != to) out.push_back(to);
  return out;
}

/// One price of an api_prices entry in the currency the entry uses (keys `<what>_usd_per_m` or
/// `<what>_cny_per_m`); the entry must not mix currencies.
struct ListedPrices {
  std::string currency;
  std::optional<double> hit;
  double miss = 0, output = 0;
};

ListedPrices read_listed_prices(MapReader& p) {
  ListedPrices l;
  const bool usd = p.has("input_cache_miss_usd_per_m") || p.has("output_usd_per_m") ||
                   p.has("input_cache_hit_usd_per_m");
  const bool cny = p.has("input_cache_miss_cny_per_m") || p.has("output_cny_per_m") ||
                   p.has("input_cache_hit_cny_per_m");
  if (usd && cny) p.fail("output_cny_per_m", "an entry lists prices in one currency, USD or CNY");
  const std::string unit = cny ? "_cny_per_m" : "_usd_per_m";
  l.currency = cny ? "CNY" : "USD";
  for (const char* what : {"input_cache_hit", "input_cache_miss", "output"}) {
    p.allow(std::string(what) + "_usd_per_m");
    p.allow(std::string(what) + "_cny_per_m");
  }
  const std::string hit = "input_cache_hit" + unit;
  if (p.has(hit)) l.hit = p.number(hit, 0, 1e5);
  l.miss = p.number("input_cache_miss" + unit, 0, 1e5);
  l.output = p.number("output" + unit, 0, 1e5);
  return l;
}

/// `exchange_rate: {cny_per_usd, date, source | estimate}`: required when any price is in CNY.
void read_exchange_rate(MapReader& root, Scenario& s) {
  root.allow("exchange_rate");
  if (!root.has("exchange_rate")) return;
  MapReader x = root.map("exchange_rate");
  s.exchange_rate_source = sections::read_provenance(x);
  s.usd_per_cny = 1.0 / x.number("cny_per_usd", 0.1, 1000);
  s.exchange_rate_date = x.string("date");
  x.finish();
}

void read_api_pricing(MapReader& root, Scenario& s) {
  read_exchange_rate(root, s);
  const YAML::Node prices = root.node("api_prices");
  if (!prices.IsSequence() || prices.size() == 0)
    root.fail("api_prices", "expected a non-empty list");
  for (std::size_t i = 0; i < prices.size(); ++i) {
    MapReader p(prices[i], s.file, "api_prices[" + std::to_string(i) + "]");
    ApiPrice a;
    a.model = p.string("model");
    const ListedPrices l = read_listed_prices(p);
    if (l.currency == "CNY" && s.usd_per_cny <= 0)
      p.fail("output_cny_per_m",
             "a price in CNY needs the scenario's exchange_rate: {cny_per_usd, date, source}");
    const double to_usd = l.currency == "CNY" ? s.usd_per_cny : 1.0;
    a.currency = l.currency;
    a.cache_hit_listed = l.hit.has_value();
    a.listed_input_cache_hit = l.hit.value_or(l.miss);
    a.listed_input_cache_miss = l.miss;
    a.listed_output = l.output;
    a.input_cache_hit = a.listed_input_cache_hit * to_usd;
    a.input_cache_miss = a.listed_input_cache_miss * to_usd;
    a.output = a.listed_output * to_usd;
    if (a.listed_input_cache_hit > a.listed_input_cache_miss)
      p.fail("input_cache_hit" + std::string(l.currency == "CNY" ? "_cny_per_m" : "_usd_per_m"),
             "a cache hit cannot cost more than a cache miss");
    a.date = p.string("date");
    a.source = p.string("source");
    p.allow("self_hosted_model");
    if (p.has("self_hosted_model")) {
      a.self_hosted_model = p.string("self_hosted_model");
      if (std::find(s.models.begin(), s.models.end(), a.self_hosted_model) == s.models.end())
        p.fail("self_hosted_model", "'" + a.self_hosted_model +
                                        "' is not in the scenario's models (list it there to "
                                        "price it self-hosted)");
    }
    p.finish();
    s.api_prices.push_back(a);
  }
  const YAML::Node loads = root.node("workloads");
  if (!loads.IsSequence() || loads.size() == 0) root.fail("workloads", "expected a non-empty list");
  for (std::size_t i = 0; i < loads.size(); ++i) {
    MapReader w(loads[i], s.file, "workloads[" + std::to_string(i) + "]");
    ApiWorkload a;
    a.source = sections::read_provenance(w);
    a.name = w.string("name");
    a.requests_per_month = w.number("requests_per_month", 1e-6, 1e15);
    a.input_tokens_per_request = w.integer("input_tokens_per_request", 0, std::int64_t{1} << 32);
    a.output_tokens_per_request = w.integer("output_tokens_per_request", 1, std::int64_t{1} << 32);
    a.cache_hit_rate = w.number("cache_hit_rate", 0, 0.999);
    w.finish();
    s.workloads.push_back(a);
  }
}

/// `sensitivities:` names (system_prices, accelerator_peaks: their ranges come from the catalogue)
/// or {name: efficiencies, relative, source | estimate} (the relative range needs a source).
std::vector<Sensitivity> read_sensitivities(MapReader& root, const std::string& file) {
  const YAML::Node list = root.node("sensitivities");
  if (!list.IsSequence() || list.size() == 0)
    root.fail("sensitivities", "expected a non-empty list");
  std::vector<Sensitivity> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string field = "sensitivities[" + std::to_string(i) + "]";
    Sensitivity v;
    std::string name;
    if (list[i].IsScalar()) {
      name = list[i].Scalar();
    } else {
      MapReader m(list[i], file, field);
      name = m.string("name");
      if (name == to_string(SensitivityKind::efficiencies)) {
        v.source = sections::read_provenance(m);
        v.relative = m.number("relative", 1e-3, 0.9);
      }
      m.finish();
    }
    auto fail = [&](const std::string& message) {
      throw InputError(config::where(file, list[i]) + ": field '" + field + "' = '" + name +
                       "': " + message);
    };
    if (const auto kind = config::parse_enum<SensitivityKind>(kSensitivityNames, name))
      v.kind = *kind;
    else
      fail("expected system_prices, accelerator_peaks or efficiencies");
    if (v.kind == SensitivityKind::efficiencies && v.relative == 0)
      fail("needs {name: efficiencies, relative: <fraction>, source or estimate}");
    for (const Sensitivity& seen : out)
      if (seen.kind == v.kind) fail("listed twice");
    out.push_back(v);
  }
  return out;
}

/// `input_tokens: 2048` (fixed) or `{min, max}` (uniform integers).
void read_lengths(MapReader& a, std::string_view key, std::int64_t& lo, std::int64_t& hi) {
  constexpr std::int64_t kMax = std::int64_t{1} << 32;
  a.allow(key);
  if (a.has(key) && a.node(key).IsMap()) {
    MapReader m = a.map(key);
    lo = m.integer("min", 1, kMax);
    hi = m.integer("max", 1, kMax);
    m.finish();
    if (hi < lo) m.fail("max", "must not be below 'min'");
    return;
  }
  lo = hi = a.integer(key, 1, kMax);
}

/// `arrivals:` synthetic {requests, rate_per_s, input_tokens, output_tokens, burstiness_cv?,
/// seed?} or a trace {trace, rate_per_s, requests?}; both at the base rate `rate_per_s`.
void read_arrivals(MapReader& a, ServingSimulationSpec& out) {
  out.rate_per_s = a.number("rate_per_s", 1e-6, 1e6);
  a.allow("trace");
  a.allow("requests");
  if (a.has("trace")) {
    std::filesystem::path path = a.string("trace");
    if (path.is_relative()) path = std::filesystem::path(a.file()).parent_path() / path;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
      a.fail("trace", "no such file: " + path.string() +
                          " (relative paths start at the "
                          "scenario file's folder)");
    if (path.extension() != ".jsonl" && path.extension() != ".csv")
      a.fail("trace", "expected a Mooncake .jsonl or an Azure .csv trace");
    out.trace = path.string();
    if (a.has("requests")) out.requests = a.integer("requests", 1, 10'000'000);
    return;
  }
  out.requests = a.integer("requests", 1, 10'000'000);
  a.allow("burstiness_cv");
  if (a.has("burstiness_cv")) out.burstiness_cv = a.number("burstiness_cv", 1, 100);
  a.allow("seed");
  if (a.has("seed"))
    out.seed = static_cast<std::uint64_t>(a.integer("seed", 0, std::int64_t{1} << 62));
  read_lengths(a, "input_tokens", out.input_min_tokens, out.input_max_tokens);
  read_lengths(a, "output_tokens", out.output_min_tokens, out.output_max_tokens);
}

void read_simulation(MapReader& root, Scenario& s) {
  MapReader m = root.map("simulation");
  ServingSimulationSpec& out = s.simulation;
  out.source = sections::read_provenance(m);
  out.max_batch = m.integer("max_batch", 1, 1'000'000);
  m.allow("prefix_cache");
  if (m.has("prefix_cache")) out.prefix_cache = m.boolean("prefix_cache");
  out.attainment_target = m.number("attainment_target", 0.01, 1);
  MapReader a = m.map("arrivals");
  read_arrivals(a, out);
  a.finish();
  out.sweep_rates_per_s = m.number_list("sweep_rates_per_s", 1e-6, 1e6);
  if (out.sweep_rates_per_s.size() > 32) m.fail("sweep_rates_per_s", "lists more than 32 rates");
  for (std::size_t i = 1; i < out.sweep_rates_per_s.size(); ++i)
    if (!(out.sweep_rates_per_s[i] > out.sweep_rates_per_s[i - 1]))
      m.fail("sweep_rates_per_s", "rates must increase");
  m.finish();
  if (!s.slo_ttft_s && !s.slo_tpot_s)
    root.fail("slo", "a serving simulation needs an slo section with ttft_ms and/or tpot_ms");
}

}  // namespace

std::string_view to_string(ScenarioKind k) {
  return config::enum_name(kScenarioKindNames, k);
}

std::string_view to_string(SensitivityKind k) {
  return config::enum_name(kSensitivityNames, k);
}

std::filesystem::path default_scenarios_dir() {
  return data::data_root() / "scenarios";
}

std::filesystem::path find_scenario_file(std::string_view name, std::string_view sub) {
  const std::string file = std::string(name) + ".yaml";
  std::vector<std::string> names;
  std::string where;
  for (const std::filesystem::path& dir : data::search_dirs(sub)) {
    std::error_code ec;
    if (std::filesystem::exists(dir / file, ec)) return dir / file;
    where.append(" ").append(dir.string());
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
      if (e.path().extension() == ".yaml") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string msg = std::string(sub == "scenarios" ? "unknown scenario '" : "unknown file '") +
                    std::string(name) + "'";
  if (auto guess = config::closest(name, names))
    msg.append(" (did you mean '").append(*guess).append("'?)");
  msg += "; the catalogue in" + where + " has:";
  for (const auto& n : names) msg.append(" ").append(n);
  throw InputError(msg);
}

Scenario load_scenario(const std::string& name_or_path) {
  std::filesystem::path path = name_or_path;
  const bool is_path = name_or_path.find('/') != std::string::npos || path.extension() == ".yaml" ||
                       path.extension() == ".yml";
  if (!is_path) path = find_scenario_file(name_or_path, "scenarios");
  const config::Document doc = config::load_file(path);
  MapReader root(doc.root, doc.file, "");
  Scenario s;
  s.file = doc.file;
  s.source = sections::read_provenance(root);
  s.name = root.string("name");
  s.title = root.string("title");
  if (const auto kind = config::parse_enum<ScenarioKind>(kScenarioKindNames, root.string("kind")))
    s.kind = *kind;
  else
    root.fail("kind",
              "expected long_context, hardware_purchase, api_pricing or serving_simulation");
  s.models = sections::read_names(root, "models");
  s.systems = sections::read_names(root, "systems");
  // Load every reference once here, so an unknown or broken one is reported against this file.
  sections::check_names(root, "models", [](const std::string& n) { (void)load_model(n); });
  sections::check_names(root, "systems", [](const std::string& n) { (void)load_system(n); });
  root.allow("kv_format");
  if (root.has("kv_format")) s.kv_format = root.string("kv_format");
  root.allow("mtp_acceptance");
  if (root.has("mtp_acceptance")) s.mtp_acceptance = root.number("mtp_acceptance", 0, 1);
  root.allow("slo");
  if (root.has("slo")) {
    MapReader slo = root.map("slo");
    s.slo_source = sections::read_slo(slo, s.slo_tpot_s, s.slo_ttft_s);
  }
  root.allow("prices");
  if (root.has("prices")) {
    MapReader p = root.map("prices");
    s.prices_source = sections::read_prices(p, s.prices);
  }
  switch (s.kind) {
    case ScenarioKind::long_context:
      s.contexts = read_contexts(root);
      break;
    case ScenarioKind::hardware_purchase: {
      MapReader d = root.map("demand");
      s.demand_source = sections::read_demand(d, s.demand);
      s.demand.name = s.name;
      s.demand.slo_tpot_s = s.slo_tpot_s;
      s.demand.slo_ttft_s = s.slo_ttft_s;
      if (s.mtp_acceptance > 0) s.demand.mtp_acceptance = s.mtp_acceptance;
      root.allow("sensitivities");
      if (root.has("sensitivities")) s.sensitivities = read_sensitivities(root, s.file);
      break;
    }
    case ScenarioKind::serving_simulation:
      read_simulation(root, s);
      break;
    case ScenarioKind::api_pricing:
      read_api_pricing(root, s);
      break;
  }
  root.finish();
  return s;
}

}  // namespace v4sim
