#include "scenarios/yaml_sections.h"

#include <cmath>

namespace v4sim::sections {

using config::MapReader;

std::string read_demand(MapReader& d, Demand& out) {
  std::string source = read_provenance(d);
  out.input_tokens_per_day = d.number("input_tokens_per_day", 0, 1e18);
  out.output_tokens_per_day = d.number("output_tokens_per_day", 0, 1e18);
  if (out.input_tokens_per_day + out.output_tokens_per_day <= 0)
    d.fail("output_tokens_per_day", "input and output tokens per day cannot both be zero");
  out.cache_hit_rate = d.number("cache_hit_rate", 0, 0.999);
  out.peak_to_average = d.number("peak_to_average", 1, 100);
  d.allow("mtp_acceptance");
  if (d.has("mtp_acceptance")) out.mtp_acceptance = d.number("mtp_acceptance", 0, 1);
  const YAML::Node contexts = d.node("contexts");
  if (!contexts.IsSequence() || contexts.size() == 0)
    d.fail("contexts", "expected a non-empty list of {context_tokens, share}");
  // Each bucket is a layout search per candidate system.
  if (contexts.size() > 100) d.fail("contexts", "has more than 100 context buckets");
  double total = 0;
  out.contexts.clear();
  for (std::size_t i = 0; i < contexts.size(); ++i) {
    MapReader c(contexts[i], d.file(), d.field("contexts") + "[" + std::to_string(i) + "]");
    ContextShare s;
    s.context_tokens = c.integer("context_tokens", 1, std::int64_t{1} << 32);
    s.share = c.number("share", 1e-9, 1);
    c.finish();
    total += s.share;
    out.contexts.push_back(s);
  }
  if (std::abs(total - 1.0) > 1e-6)
    d.fail("contexts", "shares add up to " + std::to_string(total) + ", not 1");
  d.finish();
  return source;
}

std::string read_slo(MapReader& s, std::optional<double>& tpot_s, std::optional<double>& ttft_s) {
  std::string source = read_provenance(s);
  s.allow("tpot_ms");
  s.allow("ttft_ms");
  if (s.has("tpot_ms")) tpot_s = s.number("tpot_ms", 1e-3, 1e7) / 1e3;
  if (s.has("ttft_ms")) ttft_s = s.number("ttft_ms", 1e-3, 1e9) / 1e3;
  s.finish();
  return source;
}

std::string read_prices(MapReader& p, PriceAssumptions& out) {
  std::string source = read_provenance(p);
  if (const auto basis = parse_price_basis(p.string("basis")))
    out.basis = *basis;
  else
    p.fail("basis", "expected rental or tco");
  for (const char* key : {"amortization_years", "usd_per_kwh", "pue", "hosting_usd_per_kw_month"})
    p.allow(key);
  if (p.has("amortization_years")) out.amortization_years = p.number("amortization_years", 0.1, 50);
  if (p.has("usd_per_kwh")) out.usd_per_kwh = p.number("usd_per_kwh", 0, 10);
  if (p.has("pue")) out.pue = p.number("pue", 1, 5);
  if (p.has("hosting_usd_per_kw_month"))
    out.hosting_usd_per_kw_month = p.number("hosting_usd_per_kw_month", 0, 1e5);
  p.finish();
  return source;
}

std::vector<std::string> read_names(MapReader& m, std::string_view key) {
  const YAML::Node list = m.node(key);
  if (!list.IsSequence() || list.size() == 0) m.fail(key, "expected a non-empty list of names");
  // Each name is a model or system file to load and a column of the results.
  if (list.size() > 64) m.fail(key, "lists more than 64 names");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!list[i].IsScalar() || list[i].Scalar().empty())
      throw InputError(config::where(m.file(), list[i]) + ": field '" + m.field(key) + "[" +
                       std::to_string(i) + "]' must be a name");
    out.push_back(list[i].Scalar());
  }
  return out;
}

void check_names(MapReader& m, std::string_view key,
                 const std::function<void(const std::string&)>& load) {
  const YAML::Node list = m.node(key);
  for (std::size_t i = 0; i < list.size(); ++i) {
    try {
      load(list[i].Scalar());
    } catch (const InputError& e) {
      std::string msg = config::where(m.file(), list[i]);
      msg.append(": field '").append(m.field(key)).append("[").append(std::to_string(i));
      msg.append("]' = '").append(list[i].Scalar()).append("': ").append(e.what());
      throw InputError(msg);
    }
  }
}

}  // namespace v4sim::sections
