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
#include <set>
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
#include "models/model_loader.h"
#include "reports/cli/host_validation.h"
#include "sim/op_list.h"

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

// Every field of a call: two calls with one key are the same shape of the same kernel.
using CallKey = std::tuple<std::string, Precision, std::vector<double>>;
CallKey key(const bench::OpCall& c) {
  return {c.kernel,
          c.precision,
          {c.m, c.n, c.k, c.batch, c.kv_len, c.experts, c.tokens_per_expert, c.weight_bytes,
           c.heads, c.topk, c.compress_ratio, c.head_dim, c.hidden}};
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

TEST(HostTableGrid, EveryHostTableClassIsOneTheModelsAskFor) {
  // The host's tables stand in for a device's: each must be of a class sim/op_list.cpp asks the
  // tables for (V4, V3.2 and a GQA model, decode), else no prediction of a deployment could use it.
  std::set<std::string> asked;
  const auto ask = [&](const ModelSpec& spec) {
    OpOptions o;
    for (const Op& op : build_ops(spec, Pass{4095, 1}, o))
      if (op.kernel.has_class) asked.insert(std::string(to_string(op.kernel.kernel)));
  };
  ask(load_model("deepseek-v4-flash"));
  ask(load_model("deepseek-v3.2"));
  ModelSpec gqa = load_model("deepseek-v3.2");  // dense GQA-8 attention on V3.2's body
  gqa.architecture = Architecture::gqa;
  gqa.attention.num_kv_heads = 8;
  gqa.attention.head_dim = 128;
  ask(gqa);
  for (const char* k :
       {"gemm", "grouped_gemm", "dsa_decode", "indexer_logits", "gqa_decode", "compressor", "mhc"})
    EXPECT_TRUE(asked.count(k)) << "sim asks no table for " << k;
  for (bench::SuiteMode m : {bench::SuiteMode::smoke, bench::SuiteMode::full})
    for (const bench::TableSpec& t : bench::host_table_specs(m))
      EXPECT_TRUE(asked.count(t.kernel)) << t.stem << ": class " << t.kernel << " is never asked";
}

TEST(HostTableGrid, EverySuiteOpSimPricesByATableHasACall) {
  // The suite's ops of a class the model asks for carry its call, so validate takes them from the
  // host tables as sim/ would. Left on the roofline (as in sim/ or for want of a host table): the
  // V3.2 absorptions, the SWA core and a prefill chunk's core and scores.
  for (const bench::SuiteCase& c : bench::suite_cases(bench::SuiteMode::smoke)) {
    int calls = 0;
    for (const bench::HostOp& op : c.host_ops) calls += op.call.kernel.empty() ? 0 : 1;
    const bool swa = c.name.find("-swa-") != std::string::npos;
    if (c.name.starts_with("v3.2-mla-dsa-attn"))
      EXPECT_EQ(calls, static_cast<int>(c.host_ops.size()) - 2) << c.name;
    else if (swa && c.family == "attention-layer")
      EXPECT_EQ(calls, static_cast<int>(c.host_ops.size()) - 1) << c.name;
    else if (c.family == "prefill")
      EXPECT_EQ(calls, static_cast<int>(c.host_ops.size()) -
                           (swa                                         ? 1
                            : c.name.find("-csa-") != std::string::npos ? 2
                                                                        : 1))
          << c.name;
    else
      EXPECT_EQ(calls, static_cast<int>(c.host_ops.size())) << c.name;
  }
}

TEST(HostTableGrid, EachPointCountsTheFlopsOfItsRowCost) {
  // A row's efficiency is ideal(row_cost(row)) / its time: the kernel a point runs must do the
  // work row_cost() prices (FLOPs; bytes differ where the host holds floats the cost() names as
  // BF16 / FP8 / FP4, as in the suite's host_cost).
  const KernelThreads one(1);
  for (const bench::TableSpec& spec : bench::host_table_specs(bench::SuiteMode::smoke)) {
    bench::MeasuredTable m;
    m.spec = spec;
    for (const bench::TablePoint& p : spec.points) {
      std::vector<double> row = p.keys;
      row.push_back(1.0);
      m.rows.push_back(row);
    }
    const fs::path dir = fs::temp_directory_path() / ("v4sim-host-flops-" + spec.stem);
    const std::vector<fs::path> files = cli::write_host_tables(dir, {m}, bench::TableProvenance{});
    const PerfTable t = load_perf_table(files.at(0));
    for (std::size_t i = 0; i < spec.points.size(); ++i) {
      Cost counted;
      spec.points[i].prepare()(&counted);
      EXPECT_EQ(counted.total_flops(), row_cost(t, t.rows[i]).total_flops())
          << spec.stem << " row " << i;
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
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

// Leave-one-out: a host table whose efficiency follows a power law of kv_len (as a kernel whose
// fixed costs amortise) re-predicts each interior row from its neighbours within 1e-6, through
// PerfModel with the V3.2 and both V4 core tables side by side: each call reaches its own table.
TEST_F(HostTables, ACoreTableRePredictsALeftOutRowFromItsNeighbours) {
  const Accelerator host = test_host();
  const auto core = [](const std::string& stem,
                       std::vector<std::pair<std::string, std::string>> f) {
    bench::MeasuredTable t;
    t.spec.kernel = "dsa_decode";
    t.spec.precision = Precision::fp32;
    t.spec.stem = stem;
    t.spec.columns = {"batch", "kv_len"};
    t.spec.fixed = std::move(f);
    t.spec.what = "synthetic";
    return t;
  };
  const std::vector<std::pair<std::string, std::string>> v4 = {
      {"core", "v4_sparse"}, {"heads", "128"},      {"head_dim", "512"},
      {"window", "128"},     {"query_tokens", "1"}, {"kv_dtype", "fp8"}};
  bench::MeasuredTable csa = core("dsa-decode-fp32-v4-csa", v4);
  csa.spec.fixed.emplace_back("compress_ratio", "4");
  csa.spec.fixed.emplace_back("topk", "1024");
  bench::MeasuredTable hca = core("dsa-decode-fp32-v4-hca", v4);
  hca.spec.fixed.emplace_back("compress_ratio", "128");
  bench::MeasuredTable mla =
      core("dsa-decode-fp32-kv-fp8", {{"heads", "128"}, {"topk", "2048"}, {"kv_dtype", "fp8"}});
  const std::vector<double> kv_lens = {1001, 3001, 9001, 27001, 81001, 243001};
  // Efficiencies 0.1 (x/1000)^0.2 (CSA), 0.2 (x/1000)^0.1 (HCA), a constant 0.05 (MLA): latency =
  // ideal(row) / efficiency; the row costs come from the written tables themselves.
  for (bench::MeasuredTable* t : {&csa, &hca, &mla})
    for (double kv : kv_lens) t->rows.push_back({1, kv, 1.0});
  cli::write_host_tables(dir_, {csa, hca, mla}, bench::TableProvenance{});
  const auto efficiency = [](const std::string& stem, double kv) {
    if (stem.ends_with("csa")) return 0.1 * std::pow(kv / 1000, 0.2);
    if (stem.ends_with("hca")) return 0.2 * std::pow(kv / 1000, 0.1);
    return 0.05;
  };
  for (bench::MeasuredTable* t : {&csa, &hca, &mla}) {
    const PerfTable loaded = load_perf_table(dir_ / "host" / (t->spec.stem + ".yaml"));
    for (std::vector<double>& row : t->rows)
      row.back() =
          ideal_time_s(host, row_cost(loaded, row)) / efficiency(t->spec.stem, row[1]) * 1e6;
  }
  cli::write_host_tables(dir_, {csa, hca, mla}, bench::TableProvenance{});
  for (bench::MeasuredTable* t : {&csa, &hca, &mla}) {
    const PerfTable full = load_perf_table(dir_ / "host" / (t->spec.stem + ".yaml"));
    for (std::size_t left = 1; left + 1 < t->rows.size(); ++left) {
      const fs::path loo_dir = dir_ / ("loo-" + std::to_string(left));
      std::vector<bench::MeasuredTable> tables = {csa, hca, mla};
      for (bench::MeasuredTable& x : tables)
        if (x.spec.stem == t->spec.stem) x.rows.erase(x.rows.begin() + static_cast<long>(left));
      cli::write_host_tables(loo_dir, tables, bench::TableProvenance{});
      const PerfModel model(host, loo_dir, loo_dir);
      const PerfEstimate e = model.estimate(call_for_row(full, full.rows[left]));
      ASSERT_TRUE(e.found);
      EXPECT_EQ(e.table, t->spec.stem);
      EXPECT_NEAR(e.time_s / (full.rows[left].back() * 1e-6), 1.0, 1e-6)
          << t->spec.stem << " kv_len " << full.rows[left][1];
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
