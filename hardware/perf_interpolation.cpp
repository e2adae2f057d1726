#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

// Boost 1.74's pchip calls isnan unqualified at its definition: make std::isnan visible there.
using std::isnan;
#include <boost/math/interpolators/pchip.hpp>

#include "hardware/perf_internal.h"
#include "hardware/perf_model.h"

namespace v4sim {
namespace perf_detail {

struct Spline : boost::math::interpolators::pchip<std::vector<double>> {
  using pchip::pchip;
};

double Group::at(double lx) const {
  if (spline) return (*spline)(lx);
  if (log_x.size() == 1) return log_y[0];
  const auto it = std::upper_bound(log_x.begin(), log_x.end(), lx);
  const std::size_t i = std::clamp<std::size_t>(it - log_x.begin(), 1, log_x.size() - 1);
  const double f = (lx - log_x[i - 1]) / (log_x[i] - log_x[i - 1]);
  return log_y[i - 1] + f * (log_y[i] - log_y[i - 1]);
}

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
          std::make_shared<Spline>(std::vector<double>(g.log_x), std::vector<double>(g.log_y));
    p.groups.push_back(std::move(g));
  }
  return p;
}

namespace {

/// The call's value of a table column (0 when the call does not know it).
double call_key(const PerfTable& t, const KernelCall& c, const std::string& column) {
  // A row of whole SwiGLU experts covers the down projection too: it is read at the experts'
  // gate/up shape (n = 2 x inter, k = hidden), and its efficiency is the whole expert's.
  if (c.ffn_down && t.kernel == KernelClass::grouped_gemm && t.word_or("ffn", "gemm") != "gemm") {
    if (column == "n") return 2 * c.k;
    if (column == "k") return c.n;
  }
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

}  // namespace

const Group& nearest_group(const Prepared& p, const KernelCall& c, double* distance) {
  const Group* best = &p.groups.front();
  double best_d = std::numeric_limits<double>::infinity();
  for (const Group& g : p.groups) {
    double d = 0;
    for (std::size_t i = 0; i < p.key_cols.size(); ++i) {
      const double want = call_key(*p.table, c, p.table->columns[p.key_cols[i]]);
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

namespace {

/// The call's position on the table's axis, in the table's units.
double axis_value(const Prepared& p, const KernelCall& c) {
  const PerfTable& t = *p.table;
  if (t.kernel == KernelClass::dispatch || t.kernel == KernelClass::combine) {
    const double table_payload =
        t.fixed_or("hidden", 1) * t.fixed_or("topk", 1) * t.fixed_or("bytes_per_element", 1);
    return c.tokens_per_rank * c.payload_bytes_per_token / table_payload;
  }
  return call_key(t, c, t.columns[p.axis_col]);
}

double link_bytes_per_s(const Accelerator& a, bool spans_nodes) {
  return spans_nodes ? a.scale_out_gb_per_s.nominal * a.scale_out_usable_fraction * 1e9
                     : a.scale_up_gb_per_s.nominal * a.scale_up_usable_fraction * 1e9;
}

/// Seconds per byte a collective of `group` ranks spends on `a`'s links when `domain` ranks share
/// a scale-up domain (perf_model.h). A uniform all-to-all sends (group - domain) / group of a
/// rank's bytes to other domains; a ring passes every byte through the slowest link.
double seconds_per_byte(const Accelerator& a, KernelClass k, double group, double domain) {
  const double up = link_bytes_per_s(a, false), out = link_bytes_per_s(a, true);
  if (group <= domain) return 1.0 / up;
  if (k != KernelClass::dispatch && k != KernelClass::combine) return 1.0 / out;
  const double remote = 1.0 - domain / group;
  return std::max(remote / out, (1.0 - remote) / up);
}

}  // namespace

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
  e.includes_activation_quantisation = p.table->includes_activation_quantisation;
  e.includes_moe_glue = p.table->kernel == KernelClass::grouped_gemm &&
                        p.table->word_or("ffn", "gemm") == "fused_moe";
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
    // The part of the time that does not shrink with faster links: the group's smallest
    // measured latency, or the line's own latency when the group is one point.
    double floor_s = g.floor_s;
    if (g.log_x.size() == 1) {
      const double alpha = std::min(c.link_latency_s, t);
      t = alpha + (t - alpha) * std::exp(lx - lo);
      floor_s = alpha;
      lx = lo;  // the line covers every payload
      e.extrapolated = false;
    }
    // Beyond the largest payload: the last point's bandwidth (time linear in bytes).
    if (lx > hi) t *= std::exp(lx - hi);
    // The links the row crossed (its group against the measured scale-up domain) and the links
    // the call crosses may differ: an HGX table over InfiniBand serving 48 ranks of one NVL72
    // rack, or an EP8 NVLink row serving a group split over two nodes.
    const double row_group = g.keys.empty() ? 1.0 : g.keys.front();
    const double row_s =
        seconds_per_byte(table_device, c.kernel, row_group, p.table->scale_up_ranks);
    const double call_group =
        c.kernel == KernelClass::dispatch || c.kernel == KernelClass::combine ? c.ep : c.ranks;
    const double call_domain = c.scale_up_ranks > 0 ? c.scale_up_ranks
                               : c.spans_nodes      ? 0.0
                                                    : call_group;
    const double call_s = seconds_per_byte(target, c.kernel, call_group, call_domain);
    if (!own_device || call_s != row_s) {
      const double ratio = call_s / row_s;
      if (std::isfinite(ratio) && ratio > 0) t = floor_s + (t - floor_s) * ratio;
    }
    e.time_s = t;
    return e;
  }
  // Compute: the efficiency at the clamped position, applied to the op's own ideal time.
  e.efficiency = std::exp(g.at(std::clamp(lx, lo, hi)));
  e.time_s = std::max(ideal_time_s(target, c.cost) / e.efficiency, device_floor_s);
  return e;
}

}  // namespace perf_detail

double smallest_latency_s(const PerfTable& t) {
  double least = std::numeric_limits<double>::infinity();
  for (const std::vector<double>& row : t.rows) least = std::min(least, row.back() * 1e-6);
  return least;
}

PerfEstimate estimate_from_table(const PerfTable& table, const Accelerator& table_device,
                                 const Accelerator& target, const KernelCall& call) {
  const perf_detail::Prepared p = perf_detail::prepare_table(table, table_device);
  return perf_detail::evaluate_prepared(
      p, table_device, target, call, table_device.name == target.name, smallest_latency_s(table));
}

}  // namespace v4sim
