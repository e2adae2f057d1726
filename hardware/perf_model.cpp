#include "hardware/perf_model.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <optional>
#include <set>
#include <unordered_map>

// Boost 1.74's pchip calls isnan unqualified at its definition: make std::isnan visible there.
using std::isnan;
#include <boost/math/interpolators/pchip.hpp>

#include "kernels/compressor.h"
#include "kernels/gqa_attention.h"
#include "kernels/indexer_scoring.h"
#include "kernels/linear.h"
#include "kernels/mhc.h"
#include "kernels/mla_attention.h"
#include "kernels/sparse_attention.h"
#include "kernels/storage.h"
#include "models/config/data_paths.h"
#include "models/config/input_error.h"

namespace v4sim {
namespace {

using Pchip = boost::math::interpolators::pchip<std::vector<double>>;

WeightFormat weight_format_for(Precision p) {
  switch (p) {
    case Precision::fp8:
      return WeightFormat::fp8_block128_ue8m0;
    case Precision::fp4:
      return WeightFormat::mxfp4;
    case Precision::int8:
      return WeightFormat::int8_channel;
    case Precision::fp32:
      return WeightFormat::fp32;
    case Precision::bf16:
      break;
  }
  return WeightFormat::bf16;
}

KvEntryFormat kv_format_for(const PerfTable& t) {
  return t.word_or("kv_dtype", "bf16") == "fp8" ? KvEntryFormat::v32_fp8_sparse
                                                : KvEntryFormat::bf16;
}

/// A V4 table's cache format: fp8 is V4's 584 B entry (FP8 NoPE + BF16 RoPE), fp4 the indexer's
/// MXFP4 key, else BF16.
KvEntryFormat v4_kv_format_for(const PerfTable& t, KvEntryFormat fallback) {
  const std::string w = t.word_or("kv_dtype", "");
  if (w == "fp8") return KvEntryFormat::v4_fp8_sparse;
  if (w == "fp4") return KvEntryFormat::mxfp4;
  if (w == "bf16") return KvEntryFormat::bf16;
  return fallback;
}

/// The weight format of a GEMM-like table: its weight_dtype word, else its precision's own.
WeightFormat table_weight_format(const PerfTable& t) {
  Precision p = t.precision;
  if (t.fixed_words.count("weight_dtype")) parse_precision(t.word_or("weight_dtype", ""), p);
  return weight_format_for(p);
}

/// The compression ratio a table's rows were measured at (token-level classes: 1).
double table_compress_ratio(const PerfTable& t) {
  return t.fixed_or("compress_ratio", 1);
}

std::int64_t whole(double v) {
  return std::max<std::int64_t>(1, std::llround(v));
}

/// A row group of one table: rows that share every key but the axis, as (log axis, log value).
struct Group {
  std::vector<double> keys;  // the non-axis keys
  std::vector<double> log_x, log_y;
  double floor_s = 0;             // smallest measured latency of the group
  std::shared_ptr<Pchip> spline;  // four or more points; else piecewise linear
  double at(double lx) const {
    if (spline) return (*spline)(lx);
    if (log_x.size() == 1) return log_y[0];
    const auto it = std::upper_bound(log_x.begin(), log_x.end(), lx);
    const std::size_t i = std::clamp<std::size_t>(it - log_x.begin(), 1, log_x.size() - 1);
    const double f = (lx - log_x[i - 1]) / (log_x[i] - log_x[i - 1]);
    return log_y[i - 1] + f * (log_y[i] - log_y[i - 1]);
  }
};

/// A table ready for lookups: its groups and which columns are keys.
struct Prepared {
  const PerfTable* table = nullptr;
  std::vector<int> key_cols;  // non-axis key columns
  int axis_col = 0;
  std::vector<Group> groups;
};

Prepared prepare_table(const PerfTable& t, const Accelerator& device) {
  Prepared p;
  p.table = &t;
  const ClassColumns& cc = columns_of(t.kernel);
  p.axis_col = t.column(cc.axis);
  for (int c = 0; c + 1 < static_cast<int>(t.columns.size()); ++c)
    if (c != p.axis_col) p.key_cols.push_back(c);
  std::map<std::vector<double>, std::vector<std::pair<double, double>>> by_keys;
  std::map<std::vector<double>, double> floors;
  for (const std::vector<double>& row : t.rows) {
    std::vector<double> keys;
    for (int c : p.key_cols) keys.push_back(row[c]);
    const double latency_s = row.back() * 1e-6;
    const double floor_s = latency_s;
    double value = latency_s;
    if (!is_communication(t.kernel)) value = ideal_time_s(device, row_cost(t, row)) / latency_s;
    by_keys[keys].emplace_back(std::log(row[p.axis_col]), std::log(value));
    auto [it, fresh] = floors.emplace(keys, floor_s);
    if (!fresh) it->second = std::min(it->second, floor_s);
  }
  for (auto& [keys, points] : by_keys) {
    std::sort(points.begin(), points.end());
    Group g;
    g.keys = keys;
    g.floor_s = floors[keys];
    for (const auto& [x, y] : points) {
      g.log_x.push_back(x);
      g.log_y.push_back(y);
    }
    if (g.log_x.size() >= 4)
      g.spline =
          std::make_shared<Pchip>(std::vector<double>(g.log_x), std::vector<double>(g.log_y));
    p.groups.push_back(std::move(g));
  }
  return p;
}

/// The call's value of a table column (0 when the call does not know it).
double call_key(const KernelCall& c, const std::string& column) {
  if (column == "m") return c.m;
  if (column == "n") return c.n;
  if (column == "k") return c.k;
  if (column == "experts") return c.experts;
  if (column == "tokens_per_expert") return c.tokens_per_expert;
  if (column == "batch") return c.batch;
  if (column == "kv_len") return c.kv_len;
  if (column == "seq_len") return c.seq_len;
  if (column == "heads") return c.heads;
  if (column == "ep") return c.ep;
  if (column == "tokens_per_rank") return c.tokens_per_rank;
  if (column == "ranks") return c.ranks;
  if (column == "message_bytes") return c.message_bytes;
  if (column == "tokens") return c.m;
  if (column == "hidden") return c.hidden;
  return 0;
}

/// The group nearest the call's keys and its distance (sum of |log ratio| over the keys).
const Group& nearest_group(const Prepared& p, const KernelCall& c, double* distance = nullptr) {
  const Group* best = &p.groups.front();
  double best_d = std::numeric_limits<double>::infinity();
  for (const Group& g : p.groups) {
    double d = 0;
    for (std::size_t i = 0; i < p.key_cols.size(); ++i) {
      const double want = call_key(c, p.table->columns[p.key_cols[i]]);
      if (want > 0) d += std::abs(std::log(want / g.keys[i]));
    }
    if (d < best_d) {
      best_d = d;
      best = &g;
    }
  }
  if (distance) *distance = best_d;
  return *best;
}

/// The call's position on the table's axis, in the table's units.
double axis_value(const Prepared& p, const KernelCall& c) {
  const PerfTable& t = *p.table;
  if (t.kernel == KernelClass::dispatch || t.kernel == KernelClass::combine) {
    const double table_payload =
        t.fixed_or("hidden", 1) * t.fixed_or("topk", 1) * t.fixed_or("bytes_per_element", 1);
    return c.tokens_per_rank * c.payload_bytes_per_token / table_payload;
  }
  return call_key(c, t.columns[p.axis_col]);
}

double link_bytes_per_s(const Accelerator& a, bool spans_nodes) {
  return spans_nodes ? a.scale_out_gb_per_s.nominal * a.scale_out_usable_fraction * 1e9
                     : a.scale_up_gb_per_s.nominal * a.scale_up_usable_fraction * 1e9;
}

bool table_fits(const PerfTable& t, const KernelCall& c, bool same_precision) {
  if (t.kernel != c.kernel) return false;
  if (c.kernel == KernelClass::grouped_gemm &&
      t.word_or("layout", "") != (c.masked ? "masked" : "contiguous"))
    return false;
  if ((c.kernel == KernelClass::dispatch || c.kernel == KernelClass::combine) &&
      t.word_or("mode", "") != (c.low_latency ? "low_latency" : "normal"))
    return false;
  if (!is_communication(c.kernel) && same_precision && t.precision != c.precision) return false;
  return true;
}

/// Ranks siblings by how alike their peaks and bandwidths are.
double device_distance(const Accelerator& a, const Accelerator& b) {
  const auto ratio = [](double x, double y) {
    return x > 0 && y > 0 ? std::abs(std::log(x / y)) : 10.0;
  };
  return ratio(a.peak_flops_per_s(ComputePath::bf16), b.peak_flops_per_s(ComputePath::bf16)) +
         ratio(a.hbm_bytes_per_s(), b.hbm_bytes_per_s());
}

/// The call's time from a prepared table; found == false when the table's nearest group is a
/// collective over a group size more than twice or half the call's (a single-node table says
/// nothing about a 72-rank all-to-all over the scale-out network).
PerfEstimate evaluate_prepared(const Prepared& p, const Accelerator& table_device,
                               const Accelerator& target, const KernelCall& c, bool own_device,
                               double device_floor_s) {
  double distance = 0;
  const Group& g = nearest_group(p, c, &distance);
  if (is_communication(c.kernel) && distance > std::log(2.0) + 1e-9) return PerfEstimate{};
  PerfEstimate e;
  e.found = true;
  e.device = table_device.name;
  e.table = p.table->name;
  e.table_precision = p.table->precision;
  e.source = own_device ? TimeSource::measured : TimeSource::transferred;
  e.includes_launch_gap = p.table->includes_launch_gap;
  const double x = axis_value(p, c);
  if (!(x > 0)) {
    e.time_s = is_communication(c.kernel) ? g.floor_s : device_floor_s;
    return e;
  }
  double lx = std::log(x);
  const double lo = g.log_x.front(), hi = g.log_x.back();
  e.extrapolated = lx < lo - 1e-9 || lx > hi + 1e-9;
  if (is_communication(c.kernel)) {
    double t = std::exp(g.at(std::clamp(lx, lo, hi)));
    if (g.log_x.size() == 1) {
      const double alpha = std::min(c.link_latency_s, t);
      t = alpha + (t - alpha) * std::exp(lx - lo);
      lx = lo;  // the line covers every payload
      e.extrapolated = false;
    }
    // Beyond the largest payload: the last point's bandwidth (time linear in bytes).
    if (lx > hi) t *= std::exp(lx - hi);
    if (!own_device) {
      const double ratio =
          link_bytes_per_s(table_device, c.spans_nodes) / link_bytes_per_s(target, c.spans_nodes);
      if (std::isfinite(ratio) && ratio > 0) t = g.floor_s + (t - g.floor_s) * ratio;
    }
    e.time_s = t;
    return e;
  }
  // Compute: the efficiency at the clamped position, applied to the op's own ideal time.
  e.efficiency = std::exp(g.at(std::clamp(lx, lo, hi)));
  e.time_s = std::max(ideal_time_s(target, c.cost) / e.efficiency, device_floor_s);
  return e;
}

}  // namespace

std::string_view to_string(TimeSource s) {
  switch (s) {
    case TimeSource::measured:
      return "measured";
    case TimeSource::transferred:
      return "transferred";
    case TimeSource::roofline:
      return "roofline";
  }
  return "?";
}

double ideal_time_s(const Accelerator& device, const Cost& cost) {
  double compute = 0;
  for (Precision p : kAllPrecisions) {
    const double flops = static_cast<double>(cost.flops_at(p));
    if (flops <= 0) continue;
    const double peak = device.peak_flops_per_s(device.path_for[static_cast<int>(p)]);
    if (peak > 0) compute += flops / peak;
  }
  const double memory = static_cast<double>(cost.total_bytes()) / device.hbm_bytes_per_s();
  return std::max(compute, memory);
}

Cost row_cost(const PerfTable& t, const std::vector<double>& row) {
  const auto col = [&](std::string_view name, double fallback) {
    const int i = t.column(name);
    return i >= 0 ? row[i] : fallback;
  };
  switch (t.kernel) {
    case KernelClass::gemm:
      return cost(LinearShape{whole(col("m", 1)), whole(col("k", 1)), whole(col("n", 1)), 1,
                              table_weight_format(t), t.precision});
    case KernelClass::grouped_gemm: {
      const std::int64_t rows = whole(col("tokens_per_expert", 1)), n = whole(col("n", 1)),
                         k = whole(col("k", 1));
      const WeightFormat w = table_weight_format(t);
      Cost one = cost(LinearShape{rows, k, n, 1, w, t.precision});
      // swiglu: the row times the whole expert, gate/up (n = 2 x inter) and down (inter -> k).
      if (t.word_or("ffn", "gemm") == "swiglu")
        one += cost(LinearShape{rows, std::max<std::int64_t>(1, n / 2), k, 1, w, t.precision});
      return one * whole(col("experts", 1));
    }
    case KernelClass::mla_decode:
    case KernelClass::dsa_decode: {
      if (t.word_or("core", "mla") == "v4_sparse") {
        SparseAttentionShape s;
        s.num_heads = whole(col("heads", t.fixed_or("heads", 128)));
        s.head_dim = whole(t.fixed_or("head_dim", 512));
        s.rope_dim = whole(t.fixed_or("rope_dim", 64));
        s.window = whole(t.fixed_or("window", 128));
        s.compress_ratio = std::llround(t.fixed_or("compress_ratio", 0));
        s.topk = std::llround(t.fixed_or("topk", 0));
        s.num_tokens = whole(t.fixed_or("query_tokens", 1));
        s.start_pos = whole(col("kv_len", 1)) - s.num_tokens;
        s.kv_format = v4_kv_format_for(t, KvEntryFormat::v4_fp8_sparse);
        s.compute = t.precision;
        return cost(s) * whole(col("batch", 1));
      }
      MlaAttentionShape s;
      s.num_heads = whole(col("heads", t.fixed_or("heads", 128)));
      s.latent_dim = whole(t.fixed_or("latent_dim", 512));
      s.rope_dim = whole(t.fixed_or("rope_dim", 64));
      s.topk = t.kernel == KernelClass::dsa_decode ? whole(t.fixed_or("topk", 2048)) : 0;
      s.num_tokens = whole(t.fixed_or("query_tokens", 1));
      s.start_pos = whole(col("kv_len", 1)) - s.num_tokens;
      s.kv_format = kv_format_for(t);
      s.compute = t.precision;
      return cost(s) * whole(col("batch", 1));
    }
    case KernelClass::mla_prefill: {
      MlaExpandedShape s;
      s.num_heads = whole(col("heads", t.fixed_or("heads", 128)));
      s.nope_dim = whole(t.fixed_or("qk_head_dim", 192)) - s.rope_dim;
      s.v_dim = whole(t.fixed_or("v_head_dim", 128));
      s.start_pos = 0;
      s.num_tokens = whole(col("seq_len", 1));
      s.compute = t.precision;
      return cost(s) * whole(col("batch", 1));
    }
    case KernelClass::indexer_logits: {
      IndexerScoringShape s;
      s.num_heads = whole(t.fixed_or("heads", 64));
      s.head_dim = whole(t.fixed_or("head_dim", 128));
      s.ratio = whole(t.fixed_or("compress_ratio", 1));
      s.start_pos = whole(col("kv_len", 1)) - 1;
      s.num_tokens = 1;
      s.key_format = v4_kv_format_for(t, KvEntryFormat::fp8_fp32_scale);
      if (s.key_format == KvEntryFormat::v4_fp8_sparse || s.key_format == KvEntryFormat::bf16)
        s.key_format = KvEntryFormat::fp8_fp32_scale;  // fp8 indexer keys: 128 B + an fp32 scale
      s.compute = t.precision;
      return cost(s) * whole(col("batch", 1));
    }
    case KernelClass::gqa_decode: {
      GqaAttentionShape s;
      s.q_heads = whole(col("heads", t.fixed_or("heads", 64)));
      s.kv_heads = whole(t.fixed_or("kv_heads", 8));
      s.head_dim = whole(t.fixed_or("head_dim", 128));
      s.num_tokens = whole(t.fixed_or("query_tokens", 1));
      s.start_pos = whole(col("kv_len", 1)) - s.num_tokens;
      s.kv_format = KvEntryFormat::bf16;
      s.compute = t.precision;
      return cost(s) * whole(col("batch", 1));
    }
    case KernelClass::compressor: {
      CompressorShape s;
      s.hidden = whole(col("hidden", 1));
      s.head_dim = whole(t.fixed_or("head_dim", 512));
      s.rope_dim = whole(t.fixed_or("rope_dim", 64));
      s.ratio = whole(t.fixed_or("compress_ratio", 4));
      s.overlap = t.fixed_or("overlap", s.ratio == 4 ? 1 : 0) > 0;
      s.start_pos = std::llround(t.fixed_or("start_pos", 0));
      s.num_tokens = whole(col("tokens", 1));
      s.weight = table_weight_format(t);
      s.compute = t.precision;
      s.out_format = v4_kv_format_for(t, KvEntryFormat::v4_fp8_sparse);
      return cost(s);
    }
    case KernelClass::mhc: {
      MhcShape s;
      s.tokens = whole(col("tokens", 1));
      s.hidden = whole(col("hidden", 1));
      s.streams = whole(t.fixed_or("streams", 4));
      s.sinkhorn_iters = whole(t.fixed_or("sinkhorn_iters", 20));
      s.head = t.fixed_or("head", 0) > 0;
      return cost(s);
    }
    case KernelClass::dispatch:
    case KernelClass::combine:
    case KernelClass::all_reduce:
      break;
  }
  return Cost{};
}

double smallest_latency_s(const PerfTable& t) {
  double least = std::numeric_limits<double>::infinity();
  for (const std::vector<double>& row : t.rows) least = std::min(least, row.back() * 1e-6);
  return least;
}

PerfEstimate estimate_from_table(const PerfTable& table, const Accelerator& table_device,
                                 const Accelerator& target, const KernelCall& call) {
  const Prepared p = prepare_table(table, table_device);
  return evaluate_prepared(p, table_device, target, call, table_device.name == target.name,
                           smallest_latency_s(table));
}

KernelCall call_for_row(const PerfTable& t, const std::vector<double>& row) {
  KernelCall c;
  c.kernel = t.kernel;
  c.precision = t.precision;
  for (std::size_t i = 0; i + 1 < t.columns.size(); ++i) {
    const std::string& name = t.columns[i];
    const double v = row[i];
    if (name == "m") c.m = v;
    if (name == "n") c.n = v;
    if (name == "k") c.k = v;
    if (name == "experts") c.experts = v;
    if (name == "tokens_per_expert") c.tokens_per_expert = v;
    if (name == "batch") c.batch = v;
    if (name == "kv_len") c.kv_len = v;
    if (name == "seq_len") c.seq_len = v;
    if (name == "heads") c.heads = v;
    if (name == "ep") c.ep = v;
    if (name == "tokens_per_rank") c.tokens_per_rank = v;
    if (name == "ranks") c.ranks = v;
    if (name == "message_bytes") c.message_bytes = v;
    if (name == "tokens") c.m = v;
    if (name == "hidden") c.hidden = v;
  }
  // The table's own fixed shape, so that the row is asked of this table among its class's others.
  if (t.kernel != KernelClass::gemm && t.kernel != KernelClass::grouped_gemm &&
      !is_communication(t.kernel) && t.kernel != KernelClass::mhc)
    c.compress_ratio = table_compress_ratio(t);
  if (t.kernel == KernelClass::compressor) c.head_dim = t.fixed_or("head_dim", 512);
  if (t.kernel == KernelClass::gemm)
    c.weight_bytes = weight_bytes_per_element(table_weight_format(t));
  if (t.fixed.count("topk")) c.topk = t.fixed.at("topk");
  if (t.fixed.count("hidden")) c.hidden = t.fixed.at("hidden");
  c.masked = t.word_or("layout", "masked") == "masked";
  c.low_latency = t.word_or("mode", "low_latency") == "low_latency";
  c.payload_bytes_per_token =
      t.fixed_or("hidden", 1) * t.fixed_or("topk", 1) * t.fixed_or("bytes_per_element", 1);
  if (!is_communication(t.kernel)) c.cost = row_cost(t, row);
  return c;
}

/// Where a table's fixed shape stands from the call's (dispatch/combine: hidden and top-k), so
/// that of several fitting tables the one measured on the nearest shape is used.
double fixed_distance(const PerfTable& t, const KernelCall& c) {
  double d = 0;
  if (c.kernel == KernelClass::all_reduce) {
    // Another implementation ranks after every table of the call's own; another launch mode
    // after every table of its own launch (shape distances stay well below 1).
    if ((t.word_or("implementation", "nccl") == "custom") != c.custom_all_reduce) d += 100;
    if ((t.word_or("launch", "graph") == "graph") != c.cuda_graph) d += 10;
  }

  // Compute classes with several fixed shapes on one device (the host's tables): a call that
  // states its shape takes the table of that shape first.
  if (c.compress_ratio > 0 &&
      (c.kernel == KernelClass::mla_decode || c.kernel == KernelClass::dsa_decode ||
       c.kernel == KernelClass::indexer_logits || c.kernel == KernelClass::compressor)) {
    d += std::abs(std::log(c.compress_ratio / table_compress_ratio(t)));
    // A V4 core (compressed entries) and an MLA core are different kernels.
    if (c.kernel != KernelClass::indexer_logits && c.kernel != KernelClass::compressor &&
        (t.word_or("core", "mla") == "v4_sparse") != (c.compress_ratio > 1))
      d += 10;
  }
  if (c.head_dim > 0 && c.kernel == KernelClass::compressor && t.fixed.count("head_dim"))
    d += std::abs(std::log(c.head_dim / t.fixed.at("head_dim")));
  if (c.weight_bytes > 0 && c.kernel == KernelClass::gemm &&
      std::abs(std::log(c.weight_bytes / weight_bytes_per_element(table_weight_format(t)))) > 1e-3)
    d += 10;
  if (c.hidden > 0 && t.fixed.count("hidden"))
    d += std::abs(std::log(c.hidden / t.fixed.at("hidden")));
  if (c.topk > 0 && t.fixed.count("topk")) d += std::abs(std::log(c.topk / t.fixed.at("topk")));
  return d;
}

struct PerfModel::Impl {
  /// One measured device: its tables, loaded one kernel class at a time on first use.
  struct Source {
    Accelerator device;
    std::filesystem::path folder;    // <perf dir>/<device>: the first search folder that has it
    std::vector<std::string> stems;  // table files of the folder, listed once
    bool listed = false;
    bool device_loaded = false;  // siblings: the accelerator file is read when first needed
    std::array<bool, kNumKernelClasses> loaded{};
    std::vector<std::unique_ptr<PerfTable>> tables;
    std::vector<std::unique_ptr<Prepared>> prepared;  // parallel to tables, filled on first use
    /// The device's smallest measured GEMM time (else the table's own smallest): its launch and
    /// pipeline-fill floor, which no op goes below and which a transfer keeps.
    double floor_s = -1;
  };
  /// What a lookup found, before the call's own ideal time is applied (memoised by shape).
  struct Found {
    PerfEstimate estimate;  // time_s: collectives only
    double efficiency = 0;  // compute classes
    double floor_s = 0;
  };

  Accelerator target;
  std::vector<std::filesystem::path> perf_dirs;  // search order
  std::filesystem::path accelerators_dir;        // empty: the search path
  Source own;
  bool siblings_listed = false;
  std::vector<std::unique_ptr<Source>> siblings;  // nearest first
  using MemoKey = LookupKey;                      // lookup_key(call): perf_model.h
  // Bitwise hash and equality (a key is a copy of the call's fields, never NaN): independent
  // multiplies that pipeline, and one memcmp.
  struct KeyHash {
    std::size_t operator()(const MemoKey& k) const {
      std::uint64_t h = 0;
      for (std::size_t i = 0; i < k.size(); ++i) {
        std::uint64_t bits = 0;
        std::memcpy(&bits, &k[i], sizeof bits);
        h += (bits ^ (bits >> 31)) * (0x9E3779B97F4A7C15ull + 2 * i);
      }
      return static_cast<std::size_t>(h ^ (h >> 29));
    }
  };
  struct KeyEqual {
    bool operator()(const MemoKey& a, const MemoKey& b) const {
      return std::memcmp(a.data(), b.data(), sizeof(MemoKey)) == 0;
    }
  };
  std::unordered_map<MemoKey, Found, KeyHash, KeyEqual> memo;

  void load_class(Source& s, KernelClass k) {
    if (!s.listed) {
      s.listed = true;
      std::error_code ec;
      for (const std::filesystem::path& dir : perf_dirs)
        if (std::filesystem::is_directory(dir / s.device.name, ec)) {
          s.folder = dir / s.device.name;
          s.stems = list_table_stems(s.folder);
          break;
        }
    }
    if (s.loaded[static_cast<int>(k)]) return;
    s.loaded[static_cast<int>(k)] = true;
    for (const std::string& stem : s.stems)
      if (stem_names_class(stem, k)) {
        s.tables.push_back(
            std::make_unique<PerfTable>(load_perf_table(s.folder / (stem + ".yaml"))));
        s.prepared.emplace_back();
      }
  }

  /// Every other measured accelerator's folder, listed (cheap); an accelerator file is read only
  /// when its folder holds a table of a class the target lacks.
  void list_siblings() {
    if (siblings_listed) return;
    siblings_listed = true;
    const auto accelerator_dirs = data::dirs_or(accelerators_dir, "hardware/accelerators");
    std::set<std::string> seen = {target.name};  // a name's first folder shadows later ones
    for (const std::filesystem::path& dir : perf_dirs)
      for (const std::string& name : list_measured_accelerators(dir)) {
        if (!seen.insert(name).second) continue;
        std::error_code ec;
        if (std::none_of(accelerator_dirs.begin(), accelerator_dirs.end(), [&](const auto& d) {
              return std::filesystem::exists(d / (name + ".yaml"), ec);
            }))
          continue;
        auto s = std::make_unique<Source>();
        s->device.name = name;
        s->folder = dir / name;
        s->stems = list_table_stems(s->folder);
        s->listed = true;
        siblings.push_back(std::move(s));
      }
  }

  /// Siblings of the target's vendor with a table of class k, nearest first (by BF16 peak and HBM
  /// bandwidth).
  std::vector<Source*> siblings_with(KernelClass k) {
    list_siblings();
    std::vector<Source*> out;
    for (auto& s : siblings) {
      if (std::none_of(s->stems.begin(), s->stems.end(),
                       [&](const std::string& stem) { return stem_names_class(stem, k); }))
        continue;
      if (!s->device_loaded) {
        s->device = load_accelerator(s->device.name, accelerators_dir);
        s->device_loaded = true;
      }
      if (s->device.vendor == target.vendor) out.push_back(s.get());
    }
    std::stable_sort(out.begin(), out.end(), [&](const Source* a, const Source* b) {
      return device_distance(target, a->device) < device_distance(target, b->device);
    });
    return out;
  }

  const Prepared& prepared(Source& s, std::size_t index) {
    auto& slot = s.prepared[index];
    if (!slot) slot = std::make_unique<Prepared>(prepare_table(*s.tables[index], s.device));
    return *slot;
  }

  /// The fitting table of `s` measured nearest the call's fixed shape, or -1. Of collective tables
  /// of the same shape, the one whose nearest group (ep, ranks) is nearest the call's: a device
  /// may hold a single-node table (EP8) and a multi-node one (EP16-64) of one kernel.
  int find(Source& s, const KernelCall& c, bool same_precision) {
    load_class(s, c.kernel);
    int best = -1;
    double best_d = std::numeric_limits<double>::infinity();
    double best_group = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < s.tables.size(); ++i) {
      if (!table_fits(*s.tables[i], c, same_precision)) continue;
      const double d = fixed_distance(*s.tables[i], c);
      if (d > best_d + 1e-9) continue;
      double group = 0;
      if (is_communication(c.kernel)) nearest_group(prepared(s, i), c, &group);
      if (d < best_d - 1e-9 || group < best_group - 1e-9) {
        best_d = d;
        best_group = group;
        best = static_cast<int>(i);
      }
    }
    return best;
  }

  double floor_of(Source& s, const PerfTable& fallback) {
    if (s.floor_s < 0) {
      load_class(s, KernelClass::gemm);
      s.floor_s = std::numeric_limits<double>::infinity();
      for (const auto& t : s.tables)
        if (t->kernel == KernelClass::gemm) s.floor_s = std::min(s.floor_s, smallest_latency_s(*t));
    }
    return std::isfinite(s.floor_s) ? s.floor_s : smallest_latency_s(fallback);
  }

  std::optional<Found> evaluate(Source& s, int index, const KernelCall& c, bool own_device) {
    const PerfTable& table = *s.tables[static_cast<std::size_t>(index)];
    const double floor_s = floor_of(s, table);  // may load the GEMM tables: before taking a slot
    const Prepared& p = prepared(s, static_cast<std::size_t>(index));
    // Efficiency = ideal / time: evaluate with the target's ideal time and invert.
    PerfEstimate e = evaluate_prepared(p, s.device, target, c, own_device, floor_s);
    if (!e.found) return std::nullopt;
    Found f;
    f.estimate = e;
    f.floor_s = floor_s;
    f.efficiency = e.efficiency;
    return f;
  }

  /// Decode attention: the device's tables for either cache dtype, the most efficient at the
  /// call's shape. The dtype alone does not name the kernel: H100/H200's FP8-cache tables time
  /// SGLang's FA3 path, 4x slower than their BF16-cache FlashMLA-class kernel, while FlashMLA's
  /// own FP8 kernel (the format the models deploy) is not measured there; an engine runs the
  /// fastest kernel it has, so the best measured efficiency stands for it.
  /// Of the tables measured nearest the call's fixed shape (when it states one: the host's V3.2
  /// and V4 cores are different kernels), that is.
  std::optional<Found> best_attention(Source& s, const KernelCall& call, bool own_device) {
    load_class(s, call.kernel);
    double nearest = std::numeric_limits<double>::infinity();
    for (const auto& t : s.tables)
      if (table_fits(*t, call, true)) nearest = std::min(nearest, fixed_distance(*t, call));
    std::optional<Found> best;
    for (std::size_t i = 0; i < s.tables.size(); ++i) {
      if (!table_fits(*s.tables[i], call, true)) continue;
      if (fixed_distance(*s.tables[i], call) > nearest + 1e-9) continue;
      auto f = evaluate(s, static_cast<int>(i), call, own_device);
      if (f && (!best || f->efficiency > best->efficiency)) best = f;
    }
    return best;
  }

  /// The device's own tables first (at the call's precision, then any: a measurement on the
  /// hardware itself beats a transfer), then the siblings nearest first.
  Found lookup(const KernelCall& call) {
    if (call.kernel == KernelClass::mla_decode || call.kernel == KernelClass::dsa_decode)
      if (auto f = best_attention(own, call, true)) return *f;
    for (bool same_precision : {true, false})
      if (const int i = find(own, call, same_precision); i >= 0)
        if (auto f = evaluate(own, i, call, true)) return *f;
    const std::vector<Source*> candidates = siblings_with(call.kernel);
    for (bool same_precision : {true, false})
      for (Source* s : candidates)
        if (const int i = find(*s, call, same_precision); i >= 0)
          if (auto f = evaluate(*s, i, call, false)) return *f;
    return Found{};
  }
};

PerfModel::PerfModel(const Accelerator& target, std::filesystem::path perf_dir,
                     std::filesystem::path accelerators_dir)
    : impl_(std::make_unique<Impl>()) {
  impl_->target = target;
  impl_->perf_dirs = data::dirs_or(perf_dir, "hardware/perf");
  impl_->accelerators_dir = std::move(accelerators_dir);
  impl_->own.device = target;
}

PerfModel::~PerfModel() = default;
PerfModel::PerfModel(PerfModel&&) noexcept = default;
PerfModel& PerfModel::operator=(PerfModel&&) noexcept = default;

const Accelerator& PerfModel::target() const {
  return impl_->target;
}

LookupKey lookup_key(const KernelCall& call) {
  return {static_cast<double>(call.kernel),
          static_cast<double>(call.precision),
          call.m,
          call.n,
          call.k,
          call.experts,
          call.tokens_per_expert,
          call.masked ? 1.0 : 0.0,
          call.batch,
          call.kv_len,
          call.seq_len,
          call.heads,
          call.ep,
          call.tokens_per_rank,
          call.payload_bytes_per_token,
          call.low_latency ? 1.0 : 0.0,
          call.ranks,
          call.message_bytes,
          call.custom_all_reduce ? 1.0 : 0.0,
          call.kv_fp8 ? 1.0 : 0.0,
          call.cuda_graph ? 1.0 : 0.0,
          call.spans_nodes ? 1.0 : 0.0,
          call.link_latency_s,
          call.hidden,
          call.topk,
          call.compress_ratio,
          call.head_dim,
          call.weight_bytes};
}

PerfEstimate PerfModel::estimate(const KernelCall& call) const {
  Impl& m = *impl_;
  const Impl::MemoKey key = lookup_key(call);
  auto it = m.memo.find(key);
  if (it == m.memo.end()) it = m.memo.emplace(key, m.lookup(call)).first;
  const Impl::Found& f = it->second;
  PerfEstimate e = f.estimate;
  if (e.found && !is_communication(call.kernel)) {
    const double ideal = ideal_time_s(m.target, call.cost);
    e.time_s = f.efficiency > 0 ? std::max(ideal / f.efficiency, f.floor_s) : f.floor_s;
  }
  return e;
}

}  // namespace v4sim
