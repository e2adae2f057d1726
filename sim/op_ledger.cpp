// The bookkeeping of a step's pricing: roofline work per rank and the op-timing ledger (where each
// op's time came from), which step_time.cpp fills and merges across layers and microbatches.
#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hardware/perf_model.h"
#include "hardware/roofline.h"
#include "sim/serving_internal.h"

namespace v4sim::serving_detail {

void Work::add(const Accelerator& d, const Cost& c, const OpTime& t, double times) {
  for (Precision p : kAllPrecisions) {
    if (c.flops_at(p) <= 0) continue;
    const double peak = d.peak_flops_per_s(t.executed_as[static_cast<int>(p)]);
    if (peak > 0) ideal_compute_s += static_cast<double>(c.flops_at(p)) / peak * times;
  }
  bytes += static_cast<double>(c.total_bytes()) * times;
  if (!t.fallback_used) return;
  // The paths op_time remapped: precisions with FLOPs that did not run on their own path.
  for (Precision p : kAllPrecisions) {
    const ComputePath path = t.executed_as[static_cast<int>(p)];
    const PrecisionFallback f{p, path};
    if (c.flops_at(p) > 0 && path != native_path(p) &&
        std::find(fallback.begin(), fallback.end(), f) == fallback.end())
      fallback.push_back(f);
  }
}

void Work::add(const RooflineRates& r, const Cost& c, bool fallback_used, double times) {
  // add() above on its own operands: op_time runs each precision on path_for, whose peak r holds.
  for (int p = 0; p < kNumPrecisions; ++p) {
    const std::int64_t flops = c.flops[static_cast<std::size_t>(p)];
    if (flops <= 0) continue;
    const double peak = r.peak_flops_per_s[static_cast<std::size_t>(p)];
    if (peak > 0) ideal_compute_s += static_cast<double>(flops) / peak * times;
  }
  bytes += static_cast<double>(c.total_bytes()) * times;
  if (!fallback_used) return;
  for (Precision p : kAllPrecisions) {
    const PrecisionFallback f{p, r.device->path_for[static_cast<int>(p)]};
    if (c.flops_at(p) > 0 && r.remapped[static_cast<int>(p)] &&
        std::find(fallback.begin(), fallback.end(), f) == fallback.end())
      fallback.push_back(f);
  }
}

void Work::merge_fallback(const std::vector<PrecisionFallback>& list) {
  for (const PrecisionFallback& f : list)
    if (std::find(fallback.begin(), fallback.end(), f) == fallback.end()) fallback.push_back(f);
}

std::size_t OpLedger::find(std::string_view name, std::string_view source) {
  const std::size_t n = ops.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t j = (cursor_ + i) % n;
    if (ops[j].name == name && ops[j].efficiency_source == source) {
      cursor_ = j + 1;
      return j;
    }
  }
  return n;
}

void OpLedger::warn_if_extrapolated(std::string_view name, const PerfEstimate& e) {
  if (e.found && e.extrapolated) {
    // Every point of a search meets the same few warnings: compare before building the text.
    const std::array<std::string_view, 5> parts = {name, ": outside the measured range of ",
                                                   e.device, "/", e.table};
    constexpr std::string_view tail = " (efficiency held at the nearest measured size)";
    const auto reads = [&](const std::shared_ptr<const std::string>& text) {
      std::string_view w = *text;
      for (std::string_view part : parts) {
        if (!w.starts_with(part)) return false;
        w.remove_prefix(part.size());
      }
      return w == tail;
    };
    if (std::none_of(warnings.begin(), warnings.end(), reads)) {
      std::string w;
      for (std::string_view part : parts) w += part;
      warnings.push_back(std::make_shared<const std::string>(w += tail));
    }
  }
}

void OpLedger::add(std::string_view name, std::string_view component, double time_s, double repeats,
                   const PerfEstimate& e, bool warn) {
  const double t = time_s * repeats;
  const TimeSource kind = e.found ? e.source : TimeSource::roofline;
  (kind == TimeSource::roofline   ? sources.roofline_s
   : kind == TimeSource::measured ? sources.measured_s
                                  : sources.transferred_s) += t;
  if (warn) warn_if_extrapolated(name, e);
  if (!detail) return;
  std::string transferred;
  std::string_view source = "roofline";
  if (kind == TimeSource::measured) source = "measured";
  if (kind == TimeSource::transferred) source = transferred = "transferred from " + e.device;
  const std::size_t i = find(name, source);
  if (i < ops.size()) {
    OpTiming& o = ops[i];
    o.time_s += t;
    o.calls += std::llround(repeats);
    o.extrapolated = o.extrapolated || (e.found && e.extrapolated);
    return;
  }
  ops.push_back({std::string(name), std::string(component), std::llround(repeats), t,
                 std::string(source), e.found ? e.table : "", e.found && e.extrapolated});
}

void OpLedger::merge(const OpLedger& o, double times, double calls) {
  for (const OpTiming& t : o.ops) {
    const std::size_t i = find(t.name, t.efficiency_source);
    if (i < ops.size()) {
      OpTiming& mine = ops[i];
      mine.time_s += t.time_s * times;
      mine.calls += std::llround(static_cast<double>(t.calls) * calls);
      mine.extrapolated = mine.extrapolated || t.extrapolated;
      continue;
    }
    OpTiming copy = t;
    copy.time_s *= times;
    copy.calls = std::llround(static_cast<double>(t.calls) * calls);
    ops.push_back(std::move(copy));
  }
  sources.measured_s += o.sources.measured_s * times;
  sources.transferred_s += o.sources.transferred_s * times;
  sources.roofline_s += o.sources.roofline_s * times;
  for (const std::shared_ptr<const std::string>& w : o.warnings)
    if (std::none_of(warnings.begin(), warnings.end(),
                     [&](const auto& mine) { return mine == w || *mine == *w; }))
      warnings.push_back(w);
}

std::vector<std::string> OpLedger::texts() const {
  std::vector<std::string> out;
  out.reserve(warnings.size());
  for (const std::shared_ptr<const std::string>& w : warnings) out.push_back(*w);
  return out;
}

}  // namespace v4sim::serving_detail
