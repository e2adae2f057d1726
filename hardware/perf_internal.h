// Internal to hardware/perf_*.cpp: the conversions between a table row and a kernel call
// (perf_rows.cpp) and the interpolation inside one table (perf_interpolation.cpp) that PerfModel
// (perf_model.cpp) chooses between. Not installed and not for other folders: the public interface
// is hardware/perf_model.h.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "hardware/perf_model.h"
#include "kernels/storage.h"

namespace v4sim::perf_detail {

/// The table's pchip spline (perf_interpolation.cpp), kept opaque so that Boost stays there.
struct Spline;

/// A row group of one table: rows that share every key but the axis, as (log axis, log value).
struct Group {
  std::vector<double> keys;  // the non-axis keys
  std::vector<double> log_x, log_y;
  double floor_s = 0;              // smallest measured latency of the group
  std::shared_ptr<Spline> spline;  // four or more points; else piecewise linear
  double at(double lx) const;
};

/// A table ready for lookups: its groups and which columns are keys.
struct Prepared {
  const PerfTable* table = nullptr;
  std::vector<int> key_cols;  // non-axis key columns
  int axis_col = 0;
  std::vector<Group> groups;
};

Prepared prepare_table(const PerfTable& t, const Accelerator& device);

/// The group nearest the call's keys and its distance (sum of |log ratio| over the keys).
const Group& nearest_group(const Prepared& p, const KernelCall& c, double* distance = nullptr);

/// The call's time from a prepared table; found == false when the table's nearest group is a
/// collective over a group size more than twice or half the call's (a single-node table says
/// nothing about a 72-rank all-to-all over the scale-out network).
PerfEstimate evaluate_prepared(const Prepared& p, const Accelerator& table_device,
                               const Accelerator& target, const KernelCall& c, bool own_device,
                               double device_floor_s);

/// The weight format of a GEMM-like table: its weight_dtype word, else its precision's own.
WeightFormat table_weight_format(const PerfTable& t);

/// The compression ratio a table's rows were measured at (token-level classes: 1).
double table_compress_ratio(const PerfTable& t);

/// Where a table's fixed shape stands from the call's (dispatch/combine: hidden and top-k), so
/// that of several fitting tables the one measured on the nearest shape is used.
double fixed_distance(const PerfTable& t, const KernelCall& c);

}  // namespace v4sim::perf_detail
