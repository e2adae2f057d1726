#include "reports/cli/host_validation.h"

#include <algorithm>
#include <cmath>
#include <exception>

#include "hardware/perf_table.h"
#include "models/config/input_error.h"

namespace v4sim::cli {
namespace {

struct Scored {
  std::string name;
  double predicted_s = 0, measured_s = 0;
};

ErrorSummary summarise(const std::vector<Scored>& scored) {
  ErrorSummary s;
  std::vector<double> abs_errors;
  for (const Scored& p : scored) {
    if (!(p.measured_s > 0 && p.predicted_s > 0)) continue;
    abs_errors.push_back(std::fabs(p.predicted_s / p.measured_s - 1));
    const double factor = std::max(p.predicted_s / p.measured_s, p.measured_s / p.predicted_s);
    if (factor <= 2.0) ++s.within_2x;
    if (factor > s.worst_factor) {
      s.worst_factor = factor;
      s.worst_case = p.name;
    }
  }
  if (!abs_errors.empty()) {
    std::sort(abs_errors.begin(), abs_errors.end());
    const std::size_t n = abs_errors.size();
    s.median_abs_error =
        n % 2 ? abs_errors[n / 2] : 0.5 * (abs_errors[n / 2 - 1] + abs_errors[n / 2]);
  }
  return s;
}

}  // namespace

std::optional<KernelCall> kernel_call(const bench::OpCall& op, const Cost& cost) {
  KernelClass k{};
  if (op.kernel.empty() || !parse_kernel_class(op.kernel, k)) return std::nullopt;
  KernelCall c;
  c.kernel = k;
  c.precision = op.precision;
  c.cost = cost;
  c.m = op.m;
  c.n = op.n;
  c.k = op.k;
  c.batch = op.batch;
  c.kv_len = op.kv_len;
  c.experts = op.experts;
  c.tokens_per_expert = op.tokens_per_expert;
  // The host's expert kernel gathers each expert's tokens into one block: the contiguous layout.
  c.masked = false;
  c.weight_bytes = op.weight_bytes;
  c.heads = op.heads;
  c.topk = op.topk;
  c.compress_ratio = op.compress_ratio;
  c.head_dim = op.head_dim;
  c.hidden = op.hidden;
  return c;
}

Validation validate_on_host(const Accelerator& host, const std::vector<bench::CaseResult>& results,
                            const PerfModel* tables) {
  Validation v;
  std::vector<Scored> roofline, table;
  double all_table_s = 0, all_measured_s = 0;
  for (const bench::CaseResult& r : results) {
    CasePrediction p;
    p.name = r.name;
    p.family = r.family;
    p.measured_s = r.timing.min_s;
    // Op by op, as sim/ times a step: a layer's weight-streaming projections and its
    // compute-bound core each at their own roofline, then added.
    const std::vector<bench::HostOp> ops =
        r.host_ops.empty() ? std::vector<bench::HostOp>{bench::HostOp(r.host_cost)} : r.host_ops;
    for (const bench::HostOp& op : ops) {
      const OpTime t = op_time(host, op.cost);
      p.predicted.compute_s += t.compute_s;
      p.predicted.memory_s += t.memory_s;
      p.predicted.overhead_s += t.overhead_s;
      p.predicted.total_s += t.total_s;
      p.predicted.fallback_used = p.predicted.fallback_used || t.fallback_used;
      if (!tables) continue;
      // The table path: measured where the op's class has a host table, else the roofline, as
      // a GPU op falls back.
      ++p.ops;
      const std::optional<KernelCall> call = kernel_call(op.call, op.cost);
      const PerfEstimate e = call ? tables->estimate(*call) : PerfEstimate{};
      if (e.found) {
        ++p.ops_from_tables;
        p.table_s += e.time_s;
        p.table_measured_s += e.time_s;
        p.table_extrapolated = p.table_extrapolated || e.extrapolated;
      } else {
        p.table_s += t.total_s;
      }
    }
    p.predicted.bound =
        p.predicted.compute_s >= p.predicted.memory_s ? Bound::compute : Bound::memory;
    p.predicted_deploy = op_time(host, r.cost);
    roofline.push_back({p.name, p.predicted.total_s, p.measured_s});
    table.push_back({p.name, p.table_s, p.measured_s});
    all_table_s += p.table_s;
    all_measured_s += p.table_measured_s;
    v.cases.push_back(p);
  }
  const ErrorSummary s = summarise(roofline);
  v.median_abs_error = s.median_abs_error;
  v.worst_factor = s.worst_factor;
  v.worst_case = s.worst_case;
  v.within_2x = s.within_2x;
  if (tables) {
    v.tables = summarise(table);
    v.table_measured_share = all_table_s > 0 ? all_measured_s / all_table_s : 0;
  }
  for (const bench::SpeedRatio& sr : bench::v4_vs_v32_ratios(results)) {
    RatioPrediction rp;
    rp.ratio = sr;
    double num = 0, den = 0;
    for (const CasePrediction& p : v.cases) {
      if (p.name == sr.numerator) num = p.predicted.total_s;
      if (p.name == sr.denominator) den = p.predicted.total_s;
    }
    rp.predicted = den > 0 ? num / den : 0;
    v.ratios.push_back(rp);
  }
  return v;
}

std::filesystem::path host_perf_dir(const std::filesystem::path& host_file) {
  return host_file.parent_path() / "perf";
}

std::vector<std::filesystem::path> write_host_tables(
    const std::filesystem::path& perf_dir, const std::vector<bench::MeasuredTable>& tables,
    const bench::TableProvenance& provenance) {
  std::vector<std::filesystem::path> files;
  for (const bench::MeasuredTable& t : tables) {
    std::filesystem::path yaml;
    try {
      yaml = bench::write_host_table(perf_dir / "host", t, provenance);
    } catch (const std::runtime_error& e) {
      throw InputError(std::string("host table ") + t.spec.stem + ": " + e.what());
    }
    load_perf_table(yaml);  // strict: a table that does not load is an error here, not later
    files.push_back(yaml);
  }
  return files;
}

}  // namespace v4sim::cli
