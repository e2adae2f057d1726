#include "kernels/bench/host_tables.h"

#include <cstdint>
#include <fstream>
#include <iomanip>
#include <memory>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>

#include "kernels/bench/suite_cases.h"
#include "kernels/int8_gemm.h"
#include "kernels/projection_forward.h"
#include "kernels/random_fill.h"
#include "kernels/storage.h"

namespace v4sim::bench {
namespace {

namespace fs = std::filesystem;

struct GemmGrid {
  std::vector<std::pair<std::int64_t, std::int64_t>> n_k;
  std::vector<std::int64_t> m;
};

// Weight shapes (n x k) between and beside the suite's projections, never equal to one of them:
// a thin one (the indexer's wk / weights_proj, 64-128 x 7168), a wide one (wq_b, 8192 x 1536) and
// a square one; rows 1 (decode) up to a few dozen. And a tiny 8 x 8 one: PerfModel takes a
// device's smallest GEMM time as its floor (on a GPU the launch), so the host's must be its fixed
// cost of a call, not the time of a 2 MB weight stream.
GemmGrid fp32_grid(SuiteMode mode) {
  switch (mode) {
    case SuiteMode::smoke:
      return {{{8, 8}, {96, 200}, {400, 48}}, {1, 3}};
    case SuiteMode::quick:
      return {{{8, 8}, {96, 6144}, {6144, 2048}, {3072, 3072}}, {1, 4, 32}};
    case SuiteMode::full:
      return {{{8, 8}, {96, 6144}, {6144, 2048}, {3072, 3072}}, {1, 4, 32, 256}};
  }
  return {};
}

// The W8A8 suite case runs 2048 x 4096 at 1, 64 (and 512) tokens: a nearby weight, other rows.
GemmGrid int8_grid(SuiteMode mode) {
  switch (mode) {
    case SuiteMode::smoke:
      return {{{24, 48}}, {1, 3}};
    case SuiteMode::quick:
      return {{{1536, 3072}}, {1, 6, 48, 96}};
    case SuiteMode::full:
      return {{{1536, 3072}}, {1, 6, 48, 384, 700}};
  }
  return {};
}

// A gemm table over a grid: one point per (n, k) and m, each run built by make_run(m, n, k).
TableSpec gemm_spec(Precision precision, std::string stem, std::string what, const GemmGrid& g,
                    const std::function<CaseRun(std::int64_t, std::int64_t, std::int64_t)>& make) {
  TableSpec t;
  t.kernel = "gemm";
  t.precision = precision;
  t.stem = std::move(stem);
  t.columns = {"m", "n", "k"};
  t.what = std::move(what);
  for (const auto& [n, k] : g.n_k)
    for (std::int64_t m : g.m) {
      TablePoint p;
      p.keys = {static_cast<double>(m), static_cast<double>(n), static_cast<double>(k)};
      p.prepare = [make, m, n = n, k = k] { return make(m, n, k); };
      t.points.push_back(std::move(p));
    }
  return t;
}

TableSpec fp32_gemm_spec(SuiteMode mode) {
  return gemm_spec(
      Precision::fp32, "gemm-fp32", "linear_forward (y = x W^T, Eigen, float32 x and W, groups 1)",
      fp32_grid(mode), [](std::int64_t m, std::int64_t n, std::int64_t k) -> CaseRun {
        struct Data {
          RowMatrixXf x, w, y;
        };
        auto d = std::make_shared<Data>();
        d->x = random_matrix(m, k, uniform_half_width(1.0), 41);
        d->w = random_matrix(n, k, uniform_half_width(0.02), 42);
        d->y.resize(m, n);
        return [d](Cost* counted) {
          linear_forward(d->x, d->w, 1, WeightFormat::fp32, Precision::fp32, d->y, counted);
        };
      });
}

TableSpec int8_gemm_spec(SuiteMode mode) {
  return gemm_spec(
      Precision::int8, "gemm-int8",
      "linear_int8_forward (W8A8: per-token INT8 activations quantised in the call, per-row INT8 "
      "weights, exact int32 sums, float32 output)",
      int8_grid(mode), [](std::int64_t m, std::int64_t n, std::int64_t k) -> CaseRun {
        struct Data {
          RowMatrixXf x, y;
          Int8Rows w;
        };
        auto d = std::make_shared<Data>();
        d->x = random_matrix(m, k, uniform_half_width(1.0), 43);
        d->w = quantize_int8_rows(random_matrix(n, k, uniform_half_width(0.02), 44));
        d->y.resize(m, n);
        return [d](Cost* counted) { linear_int8_forward(d->x, d->w, d->y, counted); };
      });
}

std::string precision_word(Precision p) {
  return std::string(to_string(p));
}

// Writes `text` to path via path.tmp and a rename.
void write_atomically(const fs::path& path, const std::string& text) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp);
    if (!out) throw std::runtime_error("'" + path.string() + "': cannot write there");
    out << text;
    if (!out.flush()) throw std::runtime_error("'" + path.string() + "': write failed");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw std::runtime_error("'" + path.string() + "': " + ec.message());
}

// YAML double-quoted scalar: backslashes and quotes escaped (host and CPU names are free text).
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::vector<TableSpec> host_table_specs(SuiteMode mode) {
  std::vector<TableSpec> specs;
  specs.push_back(fp32_gemm_spec(mode));
  specs.push_back(int8_gemm_spec(mode));
  detail::add_v32_tables(mode, specs);
  detail::add_v4_tables(mode, specs);
  detail::add_gqa_table(mode, specs);
  detail::add_ffn_tables(mode, specs);
  return specs;
}

OpCall point_call(const TableSpec& spec, const TablePoint& point) {
  OpCall c;
  c.kernel = spec.kernel;
  c.precision = spec.precision;
  for (std::size_t i = 0; i < spec.columns.size() && i < point.keys.size(); ++i) {
    const std::string& col = spec.columns[i];
    const double v = point.keys[i];
    if (col == "m" || col == "tokens") c.m = v;
    if (col == "n") c.n = v;
    if (col == "k") c.k = v;
    if (col == "batch") c.batch = v;
    if (col == "kv_len") c.kv_len = v;
    if (col == "experts") c.experts = v;
    if (col == "tokens_per_expert") c.tokens_per_expert = v;
    if (col == "hidden") c.hidden = v;
  }
  const auto fixed = [&](const std::string& key, double fallback) {
    for (const auto& [k, v] : spec.fixed)
      if (k == key) return std::stod(v);
    return fallback;
  };
  const bool token_level = spec.kernel == "dsa_decode" || spec.kernel == "indexer_logits";
  c.compress_ratio = fixed("compress_ratio", token_level ? 1 : 0);
  c.topk = fixed("topk", 0);
  c.heads = fixed("heads", 0);
  c.head_dim = spec.kernel == "compressor" ? fixed("head_dim", 0) : 0;
  if (spec.kernel == "gemm") {
    bool fp8 = false;
    for (const auto& [k, v] : spec.fixed) fp8 = fp8 || (k == "weight_dtype" && v == "fp8");
    c.weight_bytes = weight_bytes_per_element(fp8 ? WeightFormat::fp8_block128_ue8m0
                                                  : (spec.precision == Precision::int8
                                                         ? WeightFormat::int8_channel
                                                         : WeightFormat::fp32));
  }
  return c;
}

std::vector<MeasuredTable> measure_host_tables(const std::vector<TableSpec>& specs,
                                               const TimingPolicy& policy,
                                               const std::function<void(std::size_t)>& on_point) {
  std::vector<MeasuredTable> out;
  std::size_t index = 0;
  for (const TableSpec& spec : specs) {
    MeasuredTable m;
    m.spec = spec;
    m.spec.points.clear();
    for (const TablePoint& p : spec.points) {
      if (on_point) on_point(index);
      ++index;
      Timing t;
      {
        CaseRun run = p.prepare();
        run(nullptr);  // warm-up, untimed
        t = time_repeated([&] { run(nullptr); }, policy);
      }  // inputs freed before the next point is prepared
      std::vector<double> row = p.keys;
      row.push_back(t.min_s * 1e6);
      m.rows.push_back(std::move(row));
    }
    out.push_back(std::move(m));
  }
  return out;
}

fs::path write_host_table(const fs::path& folder, const MeasuredTable& table,
                          const TableProvenance& p) {
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) throw std::runtime_error("'" + folder.string() + "': " + ec.message());
  const TableSpec& s = table.spec;
  std::ostringstream yaml;
  yaml << "# Host " << s.kernel << " table, written by `v4sim calibrate` (generated, not "
       << "committed).\n";
  yaml << "kernel: " << s.kernel << '\n';
  yaml << "precision: " << precision_word(s.precision) << '\n';
  yaml << "source: "
       << quoted("measured by v4sim calibrate on " + p.date_utc + " on " + p.hostname +
                 (p.cpu_model.empty() ? "" : " (" + p.cpu_model + ")"))
       << '\n';
  std::ostringstream cond;
  cond << "host CPU, " << p.threads << " kernel thread" << (p.threads == 1 ? "" : "s") << "; "
       << s.what << "; ISA path: " << p.isa << "; latency_us = fastest repetition of thread "
       << "CPU time after one untimed run, at least " << p.policy.min_reps << " and at most "
       << p.policy.max_reps << " repetitions over at least " << p.policy.min_time_s << " s; caches "
       << cache_note(p.policy) << "; inputs random, built before timing";
  yaml << "conditions: " << quoted(cond.str()) << '\n';
  if (!s.fixed.empty()) {
    yaml << "fixed: {";
    for (std::size_t i = 0; i < s.fixed.size(); ++i)
      yaml << (i ? ", " : "") << s.fixed[i].first << ": " << s.fixed[i].second;
    yaml << "}\n";
  }
  yaml << "data: " << s.stem << ".csv\n";
  std::ostringstream csv;
  for (const std::string& c : s.columns) csv << c << ',';
  csv << "latency_us\n";
  csv << std::setprecision(10);
  for (const std::vector<double>& row : table.rows)
    for (std::size_t i = 0; i < row.size(); ++i) csv << row[i] << (i + 1 < row.size() ? ',' : '\n');
  const fs::path yaml_path = folder / (s.stem + ".yaml");
  write_atomically(folder / (s.stem + ".csv"), csv.str());
  write_atomically(yaml_path, yaml.str());
  return yaml_path;
}

}  // namespace v4sim::bench
