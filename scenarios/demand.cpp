#include "scenarios/demand.h"

#include "models/config/strict_yaml.h"

namespace v4sim {
namespace {

using config::MapReader;

std::string provenance(MapReader& m) {
  m.allow("source");
  m.allow("estimate");
  if (!m.has("source") && !m.has("estimate"))
    m.fail("source", "needs a 'source:' or an 'estimate:' stating where the numbers come from");
  std::string out;
  if (m.has("source")) out = m.string("source");
  if (m.has("estimate"))
    out += (out.empty() ? "" : "; ") + std::string("estimate: ") + m.string("estimate");
  return out;
}

}  // namespace

DemandFile load_demand(const std::filesystem::path& path) {
  const config::Document doc = config::load_file(path);
  MapReader root(doc.root, doc.file, "");
  DemandFile f;
  f.file = doc.file;
  f.source = provenance(root);
  f.demand.name = root.string("name");
  f.model = root.string("model");

  MapReader d = root.map("demand");
  provenance(d);
  f.demand.input_tokens_per_day = d.number("input_tokens_per_day", 0, 1e18);
  f.demand.output_tokens_per_day = d.number("output_tokens_per_day", 0, 1e18);
  if (f.demand.input_tokens_per_day + f.demand.output_tokens_per_day <= 0)
    d.fail("output_tokens_per_day", "input and output tokens per day cannot both be zero");
  f.demand.cache_hit_rate = d.number("cache_hit_rate", 0, 0.999);
  f.demand.peak_to_average = d.number("peak_to_average", 1, 100);
  d.allow("mtp_acceptance");
  if (d.has("mtp_acceptance")) f.demand.mtp_acceptance = d.number("mtp_acceptance", 0, 1);
  const YAML::Node contexts = d.node("contexts");
  if (!contexts.IsSequence() || contexts.size() == 0)
    d.fail("contexts", "expected a non-empty list of {context_tokens, share}");
  double total = 0;
  for (std::size_t i = 0; i < contexts.size(); ++i) {
    MapReader c(contexts[i], doc.file, "demand.contexts[" + std::to_string(i) + "]");
    ContextShare s;
    s.context_tokens = c.integer("context_tokens", 1, std::int64_t{1} << 32);
    s.share = c.number("share", 1e-9, 1);
    c.finish();
    total += s.share;
    f.demand.contexts.push_back(s);
  }
  if (std::abs(total - 1.0) > 1e-6)
    d.fail("contexts", "shares add up to " + std::to_string(total) + ", not 1");
  d.finish();

  MapReader slo = root.map("slo");
  provenance(slo);
  slo.allow("tpot_ms");
  slo.allow("ttft_ms");
  if (slo.has("tpot_ms")) f.demand.slo_tpot_s = slo.number("tpot_ms", 1e-3, 1e7) / 1e3;
  if (slo.has("ttft_ms")) f.demand.slo_ttft_s = slo.number("ttft_ms", 1e-3, 1e9) / 1e3;
  slo.finish();

  root.allow("prices");
  if (root.has("prices")) {
    MapReader p = root.map("prices");
    provenance(p);
    f.prices.basis = p.string("basis");
    if (f.prices.basis != "rental" && f.prices.basis != "tco")
      p.fail("basis", "expected rental or tco");
    for (const char* key : {"amortization_years", "usd_per_kwh", "pue", "hosting_usd_per_kw_month"})
      p.allow(key);
    if (p.has("amortization_years"))
      f.prices.amortization_years = p.number("amortization_years", 0.1, 50);
    if (p.has("usd_per_kwh")) f.prices.usd_per_kwh = p.number("usd_per_kwh", 0, 10);
    if (p.has("pue")) f.prices.pue = p.number("pue", 1, 5);
    if (p.has("hosting_usd_per_kw_month"))
      f.prices.hosting_usd_per_kw_month = p.number("hosting_usd_per_kw_month", 0, 1e5);
    p.finish();
  }
  const YAML::Node cands = root.node("candidates");
  if (!cands.IsSequence() || cands.size() == 0)
    root.fail("candidates", "expected a non-empty list of system names");
  for (std::size_t i = 0; i < cands.size(); ++i) {
    if (!cands[i].IsScalar() || cands[i].Scalar().empty())
      throw InputError(config::where(doc.file, cands[i]) + ": field 'candidates[" +
                       std::to_string(i) + "]' must be a system name");
    f.candidates.push_back(cands[i].Scalar());
  }
  root.finish();
  return f;
}

}  // namespace v4sim
