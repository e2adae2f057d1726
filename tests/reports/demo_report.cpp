#include "tests/reports/demo_report.h"

#include <cmath>
#include <cstdio>

namespace v4sim::report::testing {
namespace {

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

}  // namespace

Report demo_report(const std::string& title) {
  Report r;
  r.title = title;
  r.summary = {"Synthetic numbers to exercise the report writers; they are not model results."};

  Section kv;
  kv.heading = "KV cache per sequence";
  kv.paragraphs = {"KV bytes grow linearly with context; the compressed model grows slower."};
  TableBlock t;
  t.name = "kv-bytes";
  t.caption = "KV cache bytes per sequence by context";
  t.table.columns = {"context", "model", "kv_bytes"};
  t.table.numeric = {true, false, true};
  t.units = {"tokens", "", "bytes"};
  Chart line;
  line.name = "kv-vs-context";
  line.title = "KV cache per sequence";
  line.x = {"Context", "tokens", true, Axis::Ticks::Binary};
  line.y = {"KV cache", "bytes", true, Axis::Ticks::Si};
  const char* models[] = {"dense-baseline", "compressed-4x", "compressed-128x"};
  const double ratio[] = {1.0, 0.25, 1.0 / 128};
  for (int m = 0; m < 3; ++m) {
    Series s{models[m], {}, {}};
    for (int k = 12; k <= 20; ++k) {
      const double n = std::ldexp(1.0, k);
      const double bytes = 70e3 * n * ratio[m];
      s.x.push_back(n);
      s.y.push_back(bytes);
      t.table.rows.push_back({fmt(n), models[m], fmt(bytes)});
    }
    line.series.push_back(s);
  }
  kv.tables.push_back(t);
  kv.charts.push_back(line);
  kv.assumptions = {"Bytes per token are constant per model (synthetic)."};
  kv.inputs = {{"bytes_per_token", "70 kB", "estimate: synthetic value for tests"}};
  r.sections.push_back(kv);

  Section cost;
  cost.heading = "Cost per system";
  TableBlock c;
  c.caption = "Price per million output tokens";
  c.table.columns = {"system", "usd_per_m_tokens"};
  c.table.numeric = {false, true};
  c.units = {"", "USD per 1M tokens"};
  Chart bars;
  bars.title = "Price per million output tokens";
  bars.kind = Chart::Kind::Bars;
  bars.x = {"System", "", false, Axis::Ticks::Auto};
  bars.y = {"Price", "USD per 1M tokens", false, Axis::Ticks::Auto};
  bars.categories = {"System A", "System B", "System C", "System D"};
  const double price[2][4] = {{0.42, 0.31, 0.55, 0.27}, {1.7, 1.2, 2.1, 0.95}};
  const char* variants[] = {"flash-like", "pro-like"};
  for (int v = 0; v < 2; ++v) {
    Series s{variants[v], {}, {}};
    for (int i = 0; i < 4; ++i) {
      s.x.push_back(i);
      s.y.push_back(price[v][i]);
      c.table.rows.push_back({bars.categories[static_cast<std::size_t>(i)], fmt(price[v][i])});
    }
    bars.series.push_back(s);
  }
  cost.tables.push_back(c);
  cost.charts.push_back(bars);
  cost.inputs = {{"system_price", "synthetic", "estimate: made-up prices for tests"}};
  r.sections.push_back(cost);
  return r;
}

}  // namespace v4sim::report::testing
