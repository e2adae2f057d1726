// The host's measured kernel tables (kernels/bench/host_tables.h) and validate's table path
// (reports/cli/host_validation.h): the calibration grid is not the suite, written tables load with
// the strict loader and re-predict their own rows through PerfModel, validate takes covered ops
// from the tables and the rest from the roofline, and an unwritable or defective table is an
// error naming it. No timing thresholds: measured tables are checked for form, synthetic ones for
// values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "hardware/perf_model.h"
#include "hardware/perf_table.h"
#include "hardware/roofline.h"
#include "kernels/bench/host_tables.h"
#include "kernels/bench/suite.h"
#include "kernels/linear.h"
#include "kernels/parallel.h"
#include "models/config/input_error.h"
#include "reports/cli/host_validation.h"

namespace v4sim {
namespace {

namespace fs = std::filesystem;

class HostTables : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("v4sim-host-tables-" + std::to_string(rd()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
};

Accelerator test_host() {
  Accelerator a;
  a.name = "host";
  a.vendor = "host";
  a.peak_tflops[static_cast<int>(ComputePath::fp32)] = Range::exactly(0.04);  // 40 GFLOP/s
  for (Precision p : kAllPrecisions) a.path_for[static_cast<int>(p)] = ComputePath::fp32;
  a.hbm_bandwidth_tb_per_s = Range::exactly(0.02);  // 20 GB/s
  a.memory_efficiency = 1;
  return a;
}

// A gemm-fp32 table with the given rows (m, n, k, latency_us), as calibrate would measure it.
bench::MeasuredTable synthetic_gemm(std::vector<std::vector<double>> rows) {
  bench::MeasuredTable t;
  t.spec.kernel = "gemm";
  t.spec.precision = Precision::fp32;
  t.spec.stem = "gemm-fp32";
  t.spec.columns = {"m", "n", "k"};
  t.spec.what = "synthetic";
  t.rows = std::move(rows);
  return t;
}

using CallKey = std::tuple<std::string, double, double, double, double, double>;
CallKey key(const bench::OpCall& c) {
  return {c.kernel, c.m, c.n, c.k, c.batch, c.kv_len};
}

TEST(HostTableGrid, NoCalibrationShapeIsASuiteShape) {
  // validate predicts the suite's ops; a table row at one of their shapes would hand the
  // prediction its own measurement. Checked across every mode (a grid of one mode against the
  // suite of any other, as a user may calibrate --quick and validate the full suite).
  std::vector<CallKey> suite_calls;
  int tagged = 0;
  for (bench::SuiteMode m :
       {bench::SuiteMode::smoke, bench::SuiteMode::quick, bench::SuiteMode::full})
    for (const bench::SuiteCase& c : bench::suite_cases(m))
      for (const bench::HostOp& op : c.host_ops)
        if (!op.call.kernel.empty()) {
          suite_calls.push_back(key(op.call));
          ++tagged;
        }
  EXPECT_GT(tagged, 0) << "no suite op names a table class: the table path would be idle";
  for (bench::SuiteMode m :
       {bench::SuiteMode::smoke, bench::SuiteMode::quick, bench::SuiteMode::full})
    for (const bench::TableSpec& t : bench::host_table_specs(m)) {
      EXPECT_FALSE(t.points.empty()) << t.stem;
      for (const bench::TablePoint& p : t.points) {
        const CallKey k = key(bench::point_call(t, p));
        for (const CallKey& s : suite_calls) EXPECT_NE(k, s) << t.stem << " has a suite shape";
      }
    }
}

TEST(HostTableGrid, EverySuiteCallHasATableOfItsClass) {
  // A tagged op whose class no table provides would silently take the roofline.
  for (bench::SuiteMode m : {bench::SuiteMode::smoke, bench::SuiteMode::quick}) {
    std::vector<std::string> classes;
    for (const bench::TableSpec& t : bench::host_table_specs(m)) classes.push_back(t.kernel);
    for (const bench::SuiteCase& c : bench::suite_cases(m))
      for (const bench::HostOp& op : c.host_ops) {
        if (op.call.kernel.empty()) continue;
        EXPECT_NE(std::find(classes.begin(), classes.end(), op.call.kernel), classes.end())
            << c.name << ": " << op.call.kernel;
      }
  }
}

TEST(HostTableGrid, ASuiteGemmCallIsTheShapeOfItsCost) {
  // The call is what the tables are asked; its shape must be the op's own (2 m n k FLOPs).
  int gemms = 0;
  for (bench::SuiteMode m : {bench::SuiteMode::smoke, bench::SuiteMode::quick})
    for (const bench::SuiteCase& c : bench::suite_cases(m))
      for (const bench::HostOp& op : c.host_ops)
        if (op.call.kernel == "gemm") {
          ++gemms;
          EXPECT_EQ(static_cast<double>(op.cost.flops_at(op.call.precision)),
                    2 * op.call.m * op.call.n * op.call.k)
              << c.name;
        }
  EXPECT_GT(gemms, 0);
}

TEST_F(HostTables, SmokeTablesAreWrittenAndLoadStrictly) {
  const KernelThreads one(1);
  const std::vector<bench::TableSpec> specs = bench::host_table_specs(bench::SuiteMode::smoke);
  const std::vector<bench::MeasuredTable> measured =
      bench::measure_host_tables(specs, bench::suite_timing_policy(bench::SuiteMode::smoke));
  bench::TableProvenance p;
  p.hostname = "testhost";
  p.date_utc = "2026-12-06T04:00Z";
  p.isa = "test ISA";
  const std::vector<fs::path> files = cli::write_host_tables(dir_, measured, p);
  ASSERT_EQ(files.size(), specs.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(files[i].parent_path(), dir_ / "host");
    const PerfTable t = load_perf_table(files[i]);
    KernelClass k{};
    ASSERT_TRUE(parse_kernel_class(specs[i].kernel, k));
    EXPECT_EQ(t.kernel, k);
    EXPECT_EQ(t.precision, specs[i].precision);
    EXPECT_EQ(t.rows.size(), specs[i].points.size());
    EXPECT_EQ(t.source, "measured by v4sim calibrate on 2026-12-06T04:00Z on testhost");
    EXPECT_NE(t.conditions.find("test ISA"), std::string::npos) << t.conditions;
    EXPECT_NE(t.conditions.find("1 kernel thread"), std::string::npos) << t.conditions;
    for (const std::vector<double>& row : t.rows) EXPECT_GT(row.back(), 0);
  }
}

// A table written with known latencies, read back, re-predicts each of its rows exactly and says
// "measured" (the host is the table's own device).
TEST_F(HostTables, AWrittenTableRePredictsItsOwnRowsThroughPerfModel) {
  const bench::MeasuredTable gemm = synthetic_gemm({{1, 8, 8, 0.5},
                                                    {1, 96, 6144, 140.0},
                                                    {4, 96, 6144, 160.0},
                                                    {32, 96, 6144, 900.0},
                                                    {1, 6144, 2048, 2500.0},
                                                    {4, 6144, 2048, 2700.0},
                                                    {32, 6144, 2048, 9000}});
  bench::MeasuredTable mla;
  mla.spec.kernel = "dsa_decode";
  mla.spec.precision = Precision::fp32;
  mla.spec.stem = "dsa-decode-fp32-kv-fp8";
  mla.spec.columns = {"batch", "kv_len"};
  mla.spec.fixed = {{"heads", "128"}, {"topk", "2048"}, {"kv_dtype", "fp8"}};
  mla.spec.what = "synthetic";
  mla.rows = {{1, 3000, 7000}, {1, 24000, 7400}, {1, 200000, 9100}};
  const std::vector<fs::path> files =
      cli::write_host_tables(dir_, {gemm, mla}, bench::TableProvenance{});
  const Accelerator host = test_host();
  const PerfModel model(host, dir_, dir_);
  for (const fs::path& f : files) {
    const PerfTable t = load_perf_table(f);
    for (const std::vector<double>& row : t.rows) {
      const PerfEstimate e = model.estimate(call_for_row(t, row));
      ASSERT_TRUE(e.found) << f;
      EXPECT_EQ(e.source, TimeSource::measured);
      EXPECT_EQ(e.device, "host");
      EXPECT_EQ(e.table, t.name);
      EXPECT_FALSE(e.extrapolated);
      // Each row is above the floor (the 8 x 8 GEMM's 0.5 us): its own time back.
      EXPECT_NEAR(e.time_s, row.back() * 1e-6, 1e-9 * row.back() * 1e-6) << t.name;
    }
  }
}

TEST_F(HostTables, ValidateTakesCoveredOpsFromTablesAndTheRestFromTheRoofline) {
  const bench::MeasuredTable gemm =
      synthetic_gemm({{1, 64, 64, 2.0}, {4, 64, 64, 3.0}, {16, 64, 64, 5.0}});
  cli::write_host_tables(dir_, {gemm}, bench::TableProvenance{});
  const Accelerator host = test_host();
  const PerfModel tables(host, dir_, dir_);

  // One op at a table row's shape (tagged gemm), one the tables cannot describe.
  const LinearShape covered_shape{4, 64, 64, 1, WeightFormat::fp32, Precision::fp32};
  Cost untagged;
  untagged.flops_at(Precision::fp32) = 40'000'000;  // 1 ms at 40 GFLOP/s
  bench::CaseResult r;
  r.name = "mixed";
  r.host_ops = {bench::HostOp(cost(covered_shape), {"gemm", Precision::fp32, 4, 64, 64}),
                bench::HostOp(untagged)};
  for (const bench::HostOp& op : r.host_ops) r.host_cost += op.cost;
  r.timing.min_s = 2e-3;
  bench::CaseResult bare = r;
  bare.name = "roofline-only";
  bare.host_ops = {bench::HostOp(untagged)};

  const cli::Validation v = cli::validate_on_host(host, {r, bare}, &tables);
  ASSERT_TRUE(v.tables.has_value());
  ASSERT_EQ(v.cases.size(), 2u);
  const cli::CasePrediction& p = v.cases[0];
  EXPECT_EQ(p.ops, 2);
  EXPECT_EQ(p.ops_from_tables, 1);
  const double roofline_s = op_time(host, untagged).total_s;
  EXPECT_NEAR(p.table_measured_s, 3e-6, 1e-15);
  EXPECT_NEAR(p.table_s, 3e-6 + roofline_s, 1e-15);
  EXPECT_NEAR(p.table_share(), 3e-6 / (3e-6 + roofline_s), 1e-12);
  // The roofline figures are unchanged by the tables.
  EXPECT_NEAR(p.predicted.total_s,
              op_time(host, cost(covered_shape)).total_s + op_time(host, untagged).total_s, 1e-15);
  EXPECT_EQ(v.cases[1].ops_from_tables, 0);
  EXPECT_NEAR(v.cases[1].table_s, roofline_s, 1e-15);

  // Without tables: no table figures at all.
  const cli::Validation plain = cli::validate_on_host(host, {r, bare});
  EXPECT_FALSE(plain.tables.has_value());
  EXPECT_EQ(plain.cases[0].ops_from_tables, 0);
  EXPECT_NEAR(plain.median_abs_error, v.median_abs_error, 1e-15);
}

TEST_F(HostTables, AnUnwritableOrDefectiveTableIsAnErrorNamingIt) {
  bench::MeasuredTable gemm = synthetic_gemm({{1, 64, 64, 2.0}});
  // The perf folder is a regular file: nothing can be written under it.
  const fs::path blocked = dir_ / "blocked";
  std::ofstream(blocked) << "not a folder\n";
  try {
    cli::write_host_tables(blocked, {gemm}, bench::TableProvenance{});
    ADD_FAILURE() << "no error for a perf folder that is a file";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("blocked"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("gemm-fp32"), std::string::npos) << e.what();
  }
  // A row the strict loader rejects (a zero latency) is caught when written, naming the file.
  gemm.rows = {{1, 64, 64, 0.0}};
  try {
    cli::write_host_tables(dir_, {gemm}, bench::TableProvenance{});
    ADD_FAILURE() << "no error for a zero latency";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("gemm-fp32.csv"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace v4sim
