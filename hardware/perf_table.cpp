#include "hardware/perf_table.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>

#include "hardware/catalogue.h"
#include "models/config/data_paths.h"
#include "models/config/strict_yaml.h"

namespace v4sim {
namespace {

struct ClassName {
  KernelClass kernel;
  std::string_view name;
};
// One table of names; the size check keeps it in step with the enum.
constexpr std::array<ClassName, kNumKernelClasses> kClassNames = {{
    {KernelClass::gemm, "gemm"},
    {KernelClass::grouped_gemm, "grouped_gemm"},
    {KernelClass::mla_decode, "mla_decode"},
    {KernelClass::dsa_decode, "dsa_decode"},
    {KernelClass::mla_prefill, "mla_prefill"},
    {KernelClass::indexer_logits, "indexer_logits"},
    {KernelClass::dispatch, "dispatch"},
    {KernelClass::combine, "combine"},
    {KernelClass::all_reduce, "all_reduce"},
    {KernelClass::gqa_decode, "gqa_decode"},
    {KernelClass::compressor, "compressor"},
    {KernelClass::mhc, "mhc"},
    {KernelClass::all_gather, "all_gather"},
    {KernelClass::reduce_scatter, "reduce_scatter"},
    {KernelClass::attention_module, "attention_module"},
}};

// Largest table we read (the biggest published sweep has a few thousand rows).
constexpr std::uintmax_t kMaxCsvBytes = 8u << 20;

/// The cells of one CSV line (no quoting: the tables hold numbers only), spaces trimmed, into
/// `cells` (reused across lines: a table has thousands of rows).
void split_csv_line(std::string_view line, std::vector<std::string_view>& cells) {
  cells.clear();
  while (true) {
    const std::size_t comma = line.find(',');
    std::string_view cell = line.substr(0, comma);
    while (!cell.empty() && (cell.back() == ' ' || cell.back() == '\r')) cell.remove_suffix(1);
    while (!cell.empty() && cell.front() == ' ') cell.remove_prefix(1);
    cells.push_back(cell);
    if (comma == std::string_view::npos) break;
    line.remove_prefix(comma + 1);
  }
}

[[noreturn]] void csv_fail(const std::string& file, std::size_t line, std::size_t col,
                           const std::string& message) {
  throw InputError(file + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + message);
}

void read_csv(const std::filesystem::path& path, PerfTable& t) {
  const std::string file = path.string();
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw InputError(file + ": cannot read the table's data (named by " + t.file + ")");
  if (size > kMaxCsvBytes) throw InputError(file + ": larger than 8 MiB");
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) throw InputError(file + ":1:1: empty file, expected a header");
  std::vector<std::string_view> cells;
  split_csv_line(line, cells);
  for (std::string_view c : cells) t.columns.emplace_back(c);
  const ClassColumns& cc = columns_of(t.kernel);
  // keys, then any optional keys in their order, then latency_us.
  std::vector<std::string> expected = cc.keys;
  std::size_t pos = cc.keys.size();
  for (const std::string& opt : cc.optional_keys)
    if (pos < t.columns.size() && t.columns[pos] == opt) {
      expected.push_back(opt);
      ++pos;
    }
  expected.push_back("latency_us");
  if (t.columns != expected) {
    std::string want;
    for (const std::string& c : expected) want += (want.empty() ? "" : ",") + c;
    csv_fail(file, 1, 1,
             "header '" + line + "' does not match kernel '" + std::string(to_string(t.kernel)) +
                 "': expected '" + want + "'");
  }
  std::size_t number = 1;
  std::vector<std::size_t> row_line;  // file line of each row, for the duplicate check below
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line == "\r") continue;
    split_csv_line(line, cells);
    if (cells.size() != t.columns.size())
      csv_fail(file, number, 1,
               "expected " + std::to_string(t.columns.size()) + " cells, found " +
                   std::to_string(cells.size()));
    std::vector<double> row;
    row.reserve(cells.size());
    std::size_t col = 1;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const std::string_view c = cells[i];
      double v = 0;
      const auto [end, ec] = std::from_chars(c.data(), c.data() + c.size(), v);
      if (c.empty() || end != c.data() + c.size() || ec != std::errc() || !std::isfinite(v))
        csv_fail(file, number, col,
                 "field '" + t.columns[i] + "': '" + std::string(c) + "' is not a number");
      if (!(v > 0))
        csv_fail(file, number, col,
                 "field '" + t.columns[i] + "': " + std::string(c) + " must be positive");
      row.push_back(v);
      col += c.size() + 1;
    }
    t.rows.push_back(std::move(row));
    row_line.push_back(number);
  }
  // Rows with the same keys: sorted by keys (ties in file order), a duplicate is the later row of
  // an adjacent equal pair; the error names the first such line in the file, as a scan would.
  std::vector<std::size_t> order(t.rows.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  const auto keys_less = [&t](std::size_t a, std::size_t b) {
    return std::lexicographical_compare(t.rows[a].begin(), t.rows[a].end() - 1, t.rows[b].begin(),
                                        t.rows[b].end() - 1);
  };
  std::stable_sort(order.begin(), order.end(), keys_less);
  std::size_t first_duplicate = 0;
  for (std::size_t i = 1; i < order.size(); ++i)
    if (!keys_less(order[i - 1], order[i]) &&
        (first_duplicate == 0 || row_line[order[i]] < first_duplicate))
      first_duplicate = row_line[order[i]];
  if (first_duplicate != 0)
    csv_fail(file, first_duplicate, 1, "a row with the same keys appears earlier in the table");
  if (t.rows.empty()) csv_fail(file, 2, 1, "the table has no rows");
}

// Fixed parameters that are words, not numbers.
constexpr std::array<std::string_view, 9> kWordParams = {"layout", "mode",           "kv_dtype",
                                                         "dtype",  "implementation", "launch",
                                                         "core",   "weight_dtype",   "ffn"};

}  // namespace

std::string_view to_string(KernelClass k) {
  for (const ClassName& c : kClassNames)
    if (c.kernel == k) return c.name;
  return "?";
}

bool parse_kernel_class(std::string_view text, KernelClass& out) {
  for (const ClassName& c : kClassNames)
    if (c.name == text) {
      out = c.kernel;
      return true;
    }
  return false;
}

bool is_communication(KernelClass k) {
  return k == KernelClass::dispatch || k == KernelClass::combine || k == KernelClass::all_reduce ||
         k == KernelClass::all_gather || k == KernelClass::reduce_scatter;
}

const ClassColumns& columns_of(KernelClass k) {
  static const std::array<ClassColumns, kNumKernelClasses> table = [] {
    std::array<ClassColumns, kNumKernelClasses> t;
    t[static_cast<int>(KernelClass::gemm)] = {{"m", "n", "k"}, "m", {}};
    t[static_cast<int>(KernelClass::grouped_gemm)] = {
        {"experts", "tokens_per_expert", "n", "k"}, "tokens_per_expert", {}};
    t[static_cast<int>(KernelClass::mla_decode)] = {{"batch", "kv_len"}, "kv_len", {"heads"}};
    t[static_cast<int>(KernelClass::dsa_decode)] = {{"batch", "kv_len"}, "kv_len", {"heads"}};
    t[static_cast<int>(KernelClass::mla_prefill)] = {{"batch", "seq_len"}, "seq_len", {"heads"}};
    t[static_cast<int>(KernelClass::indexer_logits)] = {{"batch", "kv_len"}, "kv_len", {}};
    t[static_cast<int>(KernelClass::dispatch)] = {{"ep", "tokens_per_rank"}, "tokens_per_rank", {}};
    t[static_cast<int>(KernelClass::combine)] = {{"ep", "tokens_per_rank"}, "tokens_per_rank", {}};
    t[static_cast<int>(KernelClass::all_reduce)] = {
        {"ranks", "message_bytes"}, "message_bytes", {}};
    t[static_cast<int>(KernelClass::gqa_decode)] = {{"batch", "kv_len"}, "kv_len", {}};
    t[static_cast<int>(KernelClass::compressor)] = {{"tokens", "hidden"}, "tokens", {}};
    t[static_cast<int>(KernelClass::mhc)] = {{"tokens", "hidden"}, "tokens", {}};
    t[static_cast<int>(KernelClass::all_gather)] = {
        {"ranks", "message_bytes"}, "message_bytes", {}};
    t[static_cast<int>(KernelClass::reduce_scatter)] = {
        {"ranks", "message_bytes"}, "message_bytes", {}};
    t[static_cast<int>(KernelClass::attention_module)] = {{"batch", "kv_len"}, "kv_len", {"heads"}};
    return t;
  }();
  return table[static_cast<int>(k)];
}

int PerfTable::column(std::string_view name) const {
  for (std::size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == name) return static_cast<int>(i);
  return -1;
}

double PerfTable::fixed_or(std::string_view key, double fallback) const {
  const auto it = fixed.find(std::string(key));
  return it == fixed.end() ? fallback : it->second;
}

std::string PerfTable::word_or(std::string_view key, std::string_view fallback) const {
  const auto it = fixed_words.find(std::string(key));
  return it == fixed_words.end() ? std::string(fallback) : it->second;
}

std::filesystem::path default_perf_dir() {
  return data::data_root() / "hardware" / "perf";
}

PerfTable load_perf_table(const std::filesystem::path& yaml_file) {
  config::Document doc = config::load_file(yaml_file);
  config::MapReader m(doc.root, doc.file, "");
  PerfTable t;
  t.file = doc.file;
  t.name = yaml_file.stem().string();
  const std::string kernel = m.string("kernel");
  if (!parse_kernel_class(kernel, t.kernel)) {
    std::vector<std::string> names;
    for (const ClassName& c : kClassNames) names.emplace_back(c.name);
    const auto near = config::closest(kernel, names);
    m.fail("kernel", "unknown kernel class '" + kernel + "'" +
                         (near ? " (did you mean '" + *near + "'?)" : ""));
  }
  if (is_communication(t.kernel)) {
    m.allow("precision");
    if (m.has("precision")) m.string("precision");
  } else {
    const std::string p = m.string("precision");
    if (!parse_precision(p, t.precision))
      m.fail("precision", "'" + p + "': expected fp32, bf16, fp8, fp4 or int8");
  }
  t.source = m.string("source");
  if (t.source.empty()) m.fail("source", "must not be empty");
  t.conditions = m.string("conditions");
  if (t.conditions.empty()) m.fail("conditions", "must not be empty");
  m.allow("timing");
  if (m.has("timing")) {
    const std::string timing = m.string("timing");
    if (timing != "graph_replay" && timing != "eager_loop" && timing != "kernel_only")
      m.fail("timing", "'" + timing +
                           "': expected graph_replay (CUDA-graph replay of back-to-back calls, "
                           "launch gap included), eager_loop (wall clock of back-to-back eager "
                           "calls, launch gap included) or kernel_only (kernel durations)");
    t.includes_launch_gap = timing == "graph_replay" || timing == "eager_loop";
  }
  // Whether a quantised GEMM's rows time the activation quantisation: sources differ, and a
  // guessed default would silently double-count or drop a kernel, so fp8/fp4 gemm tables say.
  const bool quantised_gemm = t.kernel == KernelClass::gemm &&
                              (t.precision == Precision::fp8 || t.precision == Precision::fp4);
  m.allow("activation_quantisation");
  if (m.has("activation_quantisation")) {
    if (!quantised_gemm) m.fail("activation_quantisation", "only fp8 and fp4 gemm tables state it");
    const std::string q = m.string("activation_quantisation");
    if (q != "included" && q != "excluded")
      m.fail("activation_quantisation",
             "'" + q +
                 "': expected included (rows time the BF16 input's quantisation kernel too) or "
                 "excluded (inputs already quantised)");
    t.includes_activation_quantisation = q == "included";
  } else if (quantised_gemm) {
    m.fail("activation_quantisation",
           "required on fp8 and fp4 gemm tables: included or excluded (does each row time the "
           "kernel quantising the BF16 input?)");
  }
  // Which links a collective's rows crossed: a transfer to a device whose group stays inside
  // (or leaves) its scale-up domain must know it, so collectives say and nothing else may.
  m.allow("scale_up_ranks");
  if (is_communication(t.kernel))
    t.scale_up_ranks = static_cast<double>(m.integer("scale_up_ranks", 1, 1000000));
  else if (m.has("scale_up_ranks"))
    m.fail("scale_up_ranks",
           "only collective tables (dispatch, combine, all_reduce, all_gather, "
           "reduce_scatter) state it");
  m.allow("fixed");
  if (m.has("fixed")) {
    const YAML::Node f = m.node("fixed");
    if (!f.IsMap()) m.fail("fixed", "expected a mapping of shape parameters");
    config::MapReader fr(f, doc.file, "fixed");
    for (const auto& kv : f) {
      const std::string key = kv.first.Scalar();
      if (std::find(kWordParams.begin(), kWordParams.end(), key) != kWordParams.end())
        t.fixed_words[key] = fr.string(key);
      else
        t.fixed[key] = fr.number(key, 0, 1e18);
    }
    fr.finish();
  }
  if (!stem_names_class(t.name, t.kernel)) {
    std::string prefix(to_string(t.kernel));
    std::replace(prefix.begin(), prefix.end(), '_', '-');
    m.fail("kernel", "the file of a " + kernel + " table must be named " + prefix +
                         "[-...].yaml, not " + t.name + ".yaml (lookups load files by class)");
  }
  const std::string data = m.string("data");
  if (data != t.name + ".csv")
    m.fail("data", "'" + data + "': expected " + t.name +
                       ".csv, the file beside this one with its name (lookups read a collective "
                       "table's group sizes from it before this file)");
  m.finish();
  read_csv(yaml_file.parent_path() / data, t);
  // Words that select behaviour must be ones the model knows.
  if (t.kernel == KernelClass::grouped_gemm) {
    const std::string layout = t.word_or("layout", "");
    if (layout != "masked" && layout != "contiguous" && layout != "any")
      throw InputError(doc.file + ": fixed.layout '" + layout +
                       "': grouped_gemm needs masked (decode), contiguous (prefill) or any (a "
                       "kernel that serves both)");
    const std::string ffn = t.word_or("ffn", "gemm");
    if (ffn != "gemm" && ffn != "swiglu" && ffn != "fused_moe")
      throw InputError(doc.file + ": fixed.ffn '" + ffn +
                       "': expected gemm (one n x k product per expert), swiglu (gate/up n x k "
                       "and down k x n/2) or fused_moe (the whole routed-expert layer)");
    // A fused MoE serves only the expert shape it ran: the lookup matches it exactly.
    if (ffn == "fused_moe")
      for (const char* key : {"hidden", "inter"})
        if (!(t.fixed_or(key, 0) > 0))
          throw InputError(doc.file + ": fixed." + key + " is required for ffn: fused_moe tables");
  }
  if (t.kernel == KernelClass::mla_decode || t.kernel == KernelClass::dsa_decode) {
    const std::string core = t.word_or("core", "mla");
    if (core != "mla" && core != "v4_sparse")
      throw InputError(doc.file + ": fixed.core '" + core +
                       "': expected mla (absorbed MLA) or v4_sparse (V4 window + compressed core)");
  }
  if ((t.kernel == KernelClass::gemm || t.kernel == KernelClass::grouped_gemm) &&
      t.fixed_words.count("weight_dtype")) {
    const std::string w = t.word_or("weight_dtype", "");
    Precision wp{};
    if (!parse_precision(w, wp))
      throw InputError(doc.file + ": fixed.weight_dtype '" + w +
                       "': expected fp32, bf16, fp8, fp4 or int8");
  }
  if (t.kernel == KernelClass::dispatch || t.kernel == KernelClass::combine) {
    const std::string mode = t.word_or("mode", "");
    if (mode != "low_latency" && mode != "normal")
      throw InputError(doc.file + ": fixed.mode '" + mode + "': expected low_latency or normal");
    for (const char* key : {"hidden", "topk", "bytes_per_element"})
      if (!t.fixed.count(key))
        throw InputError(doc.file + ": fixed." + key + " is required for " +
                         std::string(to_string(t.kernel)) + " tables");
  }
  if (t.kernel == KernelClass::mla_prefill && t.fixed.count("kv_heads")) {
    // The K/V heads the measured kernel read: one shared head up to every query head.
    const double kv_heads = t.fixed.at("kv_heads");
    const double heads = t.fixed_or("heads", 128);
    if (!(kv_heads >= 1 && kv_heads <= heads && std::floor(kv_heads) == kv_heads))
      throw InputError(doc.file + ": fixed.kv_heads " + std::to_string(kv_heads) +
                       " must be a whole number from 1 to fixed.heads");
  }
  if (t.kernel == KernelClass::attention_module) {
    // The row's ideal time is the sublayer's cost at this shape: every dimension is stated.
    for (const char* key :
         {"hidden", "heads", "head_dim", "rope_dim", "q_lora_rank", "o_groups", "o_lora_rank",
          "window", "indexer_heads", "indexer_dim", "compress_ratio"})
      if (!t.fixed.count(key))
        throw InputError(doc.file + ": fixed." + key + " is required for attention_module tables");
    const double ratio = t.fixed.at("compress_ratio");
    if (ratio != 4 && ratio != 128)
      throw InputError(doc.file + ": fixed.compress_ratio " + std::to_string(ratio) +
                       ": expected 4 (CSA) or 128 (HCA)");
    if (ratio == 4 && !t.fixed.count("topk"))
      throw InputError(doc.file + ": fixed.topk is required for a CSA (compress_ratio 4) module");
    if (const int heads = t.column("heads"); heads >= 0)
      for (const std::vector<double>& row : t.rows)
        if (std::fmod(t.fixed.at("heads"), row[static_cast<std::size_t>(heads)]) != 0)
          throw InputError(
              doc.file + ": a row's heads " + std::to_string(row[static_cast<std::size_t>(heads)]) +
              " does not divide fixed.heads (the row is a rank of tensor parallelism)");
  }
  if (t.kernel == KernelClass::all_reduce) {
    const std::string impl = t.word_or("implementation", "nccl");
    if (impl != "nccl" && impl != "custom")
      throw InputError(doc.file + ": fixed.implementation '" + impl +
                       "': expected nccl or custom (the engine's own NVLink all-reduce)");
    const std::string launch = t.word_or("launch", "graph");
    if (launch != "graph" && launch != "eager")
      throw InputError(doc.file + ": fixed.launch '" + launch +
                       "': expected graph (CUDA-graph replay) or eager");
  }
  return t;
}

PerfTables load_perf_tables(std::string_view accelerator, const std::filesystem::path& dir) {
  PerfTables out;
  out.accelerator = std::string(accelerator);
  const std::filesystem::path folder = dir / std::string(accelerator);
  std::error_code ec;
  if (!std::filesystem::is_directory(folder, ec)) return out;
  for (const std::string& stem : list_table_stems(folder))
    out.tables.push_back(load_perf_table(folder / (stem + ".yaml")));
  return out;
}

std::vector<double> read_first_column(const std::filesystem::path& folder, std::string_view stem,
                                      std::string_view column) {
  const std::filesystem::path path = folder / (std::string(stem) + ".csv");
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || size > kMaxCsvBytes) return {};
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return {};
  std::vector<std::string_view> cells;
  split_csv_line(line, cells);
  if (cells.empty() || cells.front() != column) return {};
  std::vector<double> values;
  while (std::getline(in, line)) {
    if (line.empty() || line == "\r") continue;
    split_csv_line(line, cells);
    const std::string_view c = cells.front();
    double v = 0;
    const auto [end, err] = std::from_chars(c.data(), c.data() + c.size(), v);
    if (c.empty() || end != c.data() + c.size() || err != std::errc() || !(v > 0)) return {};
    values.push_back(v);
  }
  return values;
}

std::optional<double> peek_smallest_latency_s(const std::filesystem::path& folder,
                                              std::string_view stem) {
  const std::filesystem::path path = folder / (std::string(stem) + ".csv");
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || size > kMaxCsvBytes) return std::nullopt;
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  std::vector<std::string_view> cells;
  split_csv_line(line, cells);
  if (cells.back() != "latency_us") return std::nullopt;
  const std::size_t columns = cells.size();
  double least = std::numeric_limits<double>::infinity();
  bool any = false;
  while (std::getline(in, line)) {
    if (line.empty() || line == "\r") continue;
    split_csv_line(line, cells);
    if (cells.size() != columns) return std::nullopt;
    for (std::string_view c : cells) {
      double v = 0;
      const auto [end, err] = std::from_chars(c.data(), c.data() + c.size(), v);
      if (c.empty() || end != c.data() + c.size() || err != std::errc() || !std::isfinite(v) ||
          !(v > 0))
        return std::nullopt;
    }
    double latency_us = 0;
    std::from_chars(cells.back().data(), cells.back().data() + cells.back().size(), latency_us);
    least = std::min(least, latency_us * 1e-6);  // as smallest_latency_s()
    any = true;
  }
  if (!any) return std::nullopt;
  return least;
}

namespace {

bool plain_word(std::string_view w) {
  return !w.empty() && std::all_of(w.begin(), w.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string_view trim_spaces(std::string_view v) {
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\r')) v.remove_suffix(1);
  return v;
}

/// A plain decimal (digits, at most one point, no sign, exponent or underscore): from_chars and
/// the loader's stream read round it alike.
std::optional<double> plain_decimal(std::string_view v) {
  if (v.empty() || std::count(v.begin(), v.end(), '.') > 1 ||
      !std::all_of(v.begin(), v.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; }))
    return std::nullopt;
  double x = 0;
  const auto [end, err] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (err != std::errc() || end != v.data() + v.size() || !(x <= 1e18)) return std::nullopt;
  return x;
}

}  // namespace

std::optional<PerfTable> peek_table_shape(const std::filesystem::path& folder,
                                          std::string_view stem, KernelClass k) {
  const std::filesystem::path path = folder / (std::string(stem) + ".yaml");
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || size > kMaxCsvBytes) return std::nullopt;
  std::ifstream in(path);
  std::string line, shape;
  int found = 0;
  while (std::getline(in, line))
    if (line.starts_with("fixed:")) {
      shape = line.substr(6);
      ++found;
    }
  if (found != 1) return std::nullopt;
  std::string_view body = trim_spaces(shape);
  if (body.size() < 2 || body.front() != '{' || body.back() != '}') return std::nullopt;
  body = body.substr(1, body.size() - 2);
  PerfTable t;
  t.name = std::string(stem);
  t.kernel = k;
  while (!trim_spaces(body).empty()) {
    const std::size_t comma = body.find(',');
    const std::string_view entry = body.substr(0, comma);
    body = comma == std::string_view::npos ? std::string_view() : body.substr(comma + 1);
    const std::size_t colon = entry.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    const std::string key(trim_spaces(entry.substr(0, colon)));
    const std::string_view value = trim_spaces(entry.substr(colon + 1));
    if (!plain_word(key) || t.fixed.count(key) || t.fixed_words.count(key)) return std::nullopt;
    if (std::find(kWordParams.begin(), kWordParams.end(), key) != kWordParams.end()) {
      if (!plain_word(value)) return std::nullopt;
      t.fixed_words[key] = std::string(value);
    } else {
      const std::optional<double> x = plain_decimal(value);
      if (!x) return std::nullopt;
      t.fixed[key] = *x;
    }
  }
  return t;
}

std::vector<std::string> list_table_stems(const std::filesystem::path& folder) {
  return hardware_yaml::list_yaml(folder);
}

bool stem_names_class(std::string_view stem, KernelClass k) {
  std::string prefix(to_string(k));
  std::replace(prefix.begin(), prefix.end(), '_', '-');
  return stem == prefix || (stem.starts_with(prefix) && stem[prefix.size()] == '-');
}

std::vector<std::string> list_measured_accelerators(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.is_directory()) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace v4sim
