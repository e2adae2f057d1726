#include "hardware/accelerator.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>

#include "hardware/catalogue.h"
#include "models/config/data_paths.h"

namespace v4sim {
namespace {

using config::MapReader;
using hardware_yaml::read_positive;
using hardware_yaml::read_provenance;
using hardware_yaml::read_range;

constexpr double kMaxTflops = 1e6;   // 1 EFLOPS per rank: far above any real device
constexpr double kMaxGbPerS = 1e6;   // 1 PB/s per rank link
constexpr double kMaxSeconds = 1.0;  // fixed per-op costs are micro-seconds
constexpr double kMaxUsd = 1e9;

void read_rank(MapReader& m, Accelerator& a) {
  read_provenance(m);
  a.rank_unit = m.string("unit");
  if (a.rank_unit != "gpu" && a.rank_unit != "die" && a.rank_unit != "cpu")
    m.fail("unit", "expected gpu, die or cpu");
  a.dies_per_package = static_cast<int>(m.integer("dies_per_package", 1, 16));
  if (a.dies_per_package > 1 && a.rank_unit != "die")
    m.fail("unit", "a package of several dies exposed as separate ranks needs unit: die");
  m.finish();
}

void read_peaks(MapReader& m, Accelerator& a) {
  read_provenance(m);
  bool any = false;
  for (ComputePath p : kAllComputePaths) {
    const std::string_view key = to_string(p);
    m.allow(key);
    if (!m.has(key)) continue;
    a.peak_tflops[static_cast<int>(p)] = read_range(m, key, 1e-6, kMaxTflops);
    any = true;
  }
  if (!any) m.fail("bf16", "at least one compute path needs a peak");
  m.finish();
}

void read_execution(MapReader& m, Accelerator& a) {
  read_provenance(m);
  for (Precision p : kAllPrecisions) {
    const std::string_view key = to_string(p);
    m.allow(key);
    ComputePath path = native_path(p);
    if (m.has(key)) {
      if (!parse_compute_path(m.string(key), path))
        m.fail(key, "expected one of fp32, tf32, bf16, fp8, fp4, int8");
      if (!a.supports(path))
        m.fail(key, "the device has no " + std::string(to_string(path)) + " peak in peak_tflops");
    } else if (!a.supports(path)) {
      m.fail(key, "the device has no " + std::string(key) + " peak; state the path " +
                      std::string(key) + " ops run on instead (e.g. 'fp8: int8' or 'fp8: bf16')");
    }
    a.path_for[static_cast<int>(p)] = path;
  }
  m.finish();
}

void read_memory(MapReader& m, Accelerator& a) {
  read_provenance(m);
  a.hbm_capacity_gb = read_range(m, "hbm_capacity_gb", 1e-3, 1e6);
  a.hbm_bandwidth_tb_per_s = read_range(m, "hbm_bandwidth_tb_per_s", 1e-3, 1e3);
  a.last_level_cache_mb = read_range(m, "last_level_cache_mb", 0, 1e6);
  m.finish();
}

void read_interconnect(MapReader& m, Accelerator& a) {
  read_provenance(m);
  a.scale_up_gb_per_s = read_range(m, "scale_up_gb_per_s", 0, kMaxGbPerS);
  a.scale_up_usable_fraction = read_positive(m, "scale_up_usable_fraction", 1.0);
  a.scale_out_gb_per_s = read_range(m, "scale_out_gb_per_s", 0, kMaxGbPerS);
  a.scale_out_usable_fraction = read_positive(m, "scale_out_usable_fraction", 1.0);
  m.allow("die_to_die_gb_per_s");
  if (a.dies_per_package > 1) {
    a.die_to_die_gb_per_s = read_positive(m, "die_to_die_gb_per_s", kMaxGbPerS);
  } else if (m.has("die_to_die_gb_per_s")) {
    m.fail("die_to_die_gb_per_s",
           "only a package of several dies (rank.dies_per_package > 1) has one");
  }
  m.finish();
}

void read_product(MapReader& m, Accelerator& a) {
  read_provenance(m);
  a.tdp_w = read_range(m, "tdp_w", 1, 1e5);
  a.launch_year = static_cast<int>(m.integer("launch_year", 1990, 2100));
  m.finish();
}

void read_economics(MapReader& m, Accelerator& a) {
  read_provenance(m);
  a.purchase_price_usd = read_range(m, "purchase_price_usd", 0, kMaxUsd);
  a.rental_usd_per_hour = read_range(m, "rental_usd_per_hour", 0, 1e4);
  m.finish();
}

void read_efficiency(MapReader& m, Accelerator& a) {
  read_provenance(m);
  a.compute_efficiency.max_fraction = read_positive(m, "compute_max_fraction", 1.0);
  a.compute_efficiency.ramp_s = m.number("compute_ramp_s", 0, kMaxSeconds);
  a.memory_efficiency = read_positive(m, "memory_fraction", 1.0);
  a.launch_overhead_s = m.number("launch_overhead_s", 0, kMaxSeconds);
  m.finish();
}

Accelerator read_accelerator(const config::Document& doc) {
  MapReader root(doc.root, doc.file, "");
  Accelerator a;
  a.file = doc.file;
  read_provenance(root);
  a.name = root.string("name");
  a.display_name = root.string("display_name");
  a.vendor = root.string("vendor");
  MapReader rank = root.map("rank");
  read_rank(rank, a);
  MapReader peaks = root.map("peak_tflops");
  read_peaks(peaks, a);
  MapReader execution = root.map("execution");
  read_execution(execution, a);
  MapReader memory = root.map("memory");
  read_memory(memory, a);
  MapReader links = root.map("interconnect");
  read_interconnect(links, a);
  MapReader product = root.map("product");
  read_product(product, a);
  MapReader economics = root.map("economics");
  read_economics(economics, a);
  MapReader efficiency = root.map("efficiency");
  read_efficiency(efficiency, a);
  root.finish();
  return a;
}

}  // namespace

std::string_view to_string(ComputePath p) {
  switch (p) {
    case ComputePath::fp32:
      return "fp32";
    case ComputePath::tf32:
      return "tf32";
    case ComputePath::bf16:
      return "bf16";
    case ComputePath::fp8:
      return "fp8";
    case ComputePath::fp4:
      return "fp4";
    case ComputePath::int8:
      return "int8";
  }
  return "?";
}

bool parse_compute_path(std::string_view text, ComputePath& out) {
  for (ComputePath p : kAllComputePaths) {
    if (to_string(p) == text) {
      out = p;
      return true;
    }
  }
  return false;
}

ComputePath native_path(Precision p) {
  switch (p) {
    case Precision::fp32:
      return ComputePath::fp32;
    case Precision::bf16:
      return ComputePath::bf16;
    case Precision::fp8:
      return ComputePath::fp8;
    case Precision::fp4:
      return ComputePath::fp4;
    case Precision::int8:
      return ComputePath::int8;
  }
  return ComputePath::bf16;
}

double ComputeEfficiency::at(double flops, double peak_flops_per_s) const {
  if (flops <= 0) return max_fraction;
  return max_fraction * flops / (flops + peak_flops_per_s * max_fraction * ramp_s);
}

double Accelerator::peak_flops_per_s(ComputePath p) const {
  const auto& peak = peak_tflops[static_cast<int>(p)];
  return peak ? peak->nominal * 1e12 : 0.0;
}

std::filesystem::path default_accelerators_dir() {
  return data::data_root() / "hardware" / "accelerators";
}

Accelerator load_accelerator(std::string_view name_or_path, const std::filesystem::path& dir) {
  return read_accelerator(config::load_file(hardware_yaml::resolve(
      name_or_path, data::dirs_or(dir, "hardware/accelerators"), "accelerator")));
}

std::string peek_vendor(std::string_view name, const std::filesystem::path& dir) {
  std::filesystem::path file;
  try {
    file = hardware_yaml::resolve(name, data::dirs_or(dir, "hardware/accelerators"), "accelerator");
  } catch (const InputError&) {
    return "";
  }
  std::ifstream in(file);
  std::string line, vendor;
  int found = 0;
  while (std::getline(in, line)) {
    if (!line.starts_with("vendor:")) continue;
    std::string_view word(line);
    word.remove_prefix(7);
    while (!word.empty() && (word.front() == ' ')) word.remove_prefix(1);
    while (!word.empty() && (word.back() == ' ' || word.back() == '\r')) word.remove_suffix(1);
    const bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
      return std::islower(static_cast<unsigned char>(c)) ||
             std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    });
    if (!plain) return "";
    vendor = std::string(word);
    ++found;
  }
  return found == 1 ? vendor : "";
}

std::optional<DeviceSpeeds> peek_speeds(std::string_view name, const std::filesystem::path& dir) {
  std::filesystem::path file;
  try {
    file = hardware_yaml::resolve(name, data::dirs_or(dir, "hardware/accelerators"), "accelerator");
  } catch (const InputError&) {
    return std::nullopt;
  }
  // A plain decimal (digits, at most one point): from_chars and the loader's stream read round
  // it alike.
  const auto plain_decimal = [](std::string_view v) -> std::optional<double> {
    while (!v.empty() && (v.back() == ' ' || v.back() == '\r')) v.remove_suffix(1);
    if (v.empty() || std::count(v.begin(), v.end(), '.') > 1 ||
        !std::all_of(v.begin(), v.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; }))
      return std::nullopt;
    double x = 0;
    const auto [end, err] = std::from_chars(v.data(), v.data() + v.size(), x);
    if (err != std::errc() || end != v.data() + v.size()) return std::nullopt;
    return x;
  };
  // A plain decimal, or the nominal of a one-line range {nominal: x, low: y, high: z}.
  const auto nominal = [&](std::string_view v) -> std::optional<double> {
    while (!v.empty() && (v.back() == ' ' || v.back() == '\r')) v.remove_suffix(1);
    if (!v.starts_with('{')) return plain_decimal(v);
    if (!v.ends_with('}')) return std::nullopt;
    v = v.substr(1, v.size() - 2);
    std::optional<double> out;
    int parts = 0;
    while (!v.empty()) {
      const std::size_t comma = v.find(',');
      std::string_view entry = v.substr(0, comma);
      v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
      while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
      const std::size_t colon = entry.find(':');
      if (colon == std::string_view::npos) return std::nullopt;
      const std::string_view key = entry.substr(0, colon);
      std::string_view value = entry.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      const std::optional<double> x = plain_decimal(value);
      if (!x || (key != "nominal" && key != "low" && key != "high")) return std::nullopt;
      if (key == "nominal") {
        if (out) return std::nullopt;
        out = x;
      }
      ++parts;
    }
    return parts == 3 ? out : std::nullopt;
  };
  std::ifstream in(file);
  std::string line, block;
  std::size_t child_indent = 0;  // the indentation of the current block's keys, once seen
  int peaks_blocks = 0, memory_blocks = 0, bf16_lines = 0, hbm_lines = 0;
  std::optional<double> bf16_tflops, hbm_tb_per_s;
  while (std::getline(in, line)) {
    const std::size_t indent = line.find_first_not_of(' ');
    if (indent == std::string::npos || line[indent] == '#' || line[indent] == '\r') continue;
    if (indent == 0) {
      block = line.substr(0, line.find(':'));
      child_indent = 0;
      peaks_blocks += line.starts_with("peak_tflops:");
      memory_blocks += line.starts_with("memory:");
      continue;
    }
    if (child_indent == 0) child_indent = indent;
    if (indent != child_indent) continue;
    const std::string_view key_value = std::string_view(line).substr(indent);
    const auto value_of = [&](std::string_view key) {
      std::string_view v = key_value.substr(key.size());
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      return nominal(v);
    };
    if (block == "peak_tflops" && key_value.starts_with("bf16:")) {
      ++bf16_lines;
      bf16_tflops = value_of("bf16:");
    } else if (block == "memory" && key_value.starts_with("hbm_bandwidth_tb_per_s:")) {
      ++hbm_lines;
      hbm_tb_per_s = value_of("hbm_bandwidth_tb_per_s:");
    }
  }
  if (peaks_blocks != 1 || memory_blocks != 1 || bf16_lines != 1 || hbm_lines != 1 ||
      !bf16_tflops || !hbm_tb_per_s)
    return std::nullopt;
  // As peak_flops_per_s() and hbm_bytes_per_s() scale the nominal values.
  return DeviceSpeeds{*bf16_tflops * 1e12, *hbm_tb_per_s * 1e12};
}

std::vector<std::string> list_accelerators(const std::filesystem::path& dir) {
  return hardware_yaml::list_yaml(data::dirs_or(dir, "hardware/accelerators"));
}

}  // namespace v4sim
