// `v4sim bench / calibrate / validate` end to end in smoke mode (toy shapes, about a second):
// the documented JSON keys, a host file that loads, a validation row per kernel and a median,
// and exit code 2 for bad input.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "hardware/accelerator.h"
#include "hardware/perf_table.h"

#include "tests/support/run_command.h"

namespace {

using v4sim::test_support::Outcome;
using v4sim::test_support::run_command;

namespace fs = std::filesystem;

Outcome run(const std::string& args, bool with_stderr = false) {
  return run_command(std::string(V4SIM_BINARY) + " " + args +
                     (with_stderr ? " 2>&1" : " 2>/dev/null"));
}

/// A whole shell command line (environment and working directory of its own); stdout only.
Outcome run_shell(const std::string& line) {
  return run_command(line + " 2>/dev/null");
}

class BenchCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("v4sim_bench_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(BenchCli, BenchJsonHasTheDocumentedKeys) {
  const Outcome r = run("bench --smoke --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* k : {"command", "mode", "host", "ceilings", "cases", "ratios", "seconds"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["mode"], "smoke");
  EXPECT_EQ(j["host"]["threads_used"], 1);
  EXPECT_EQ(j["host"]["cache"],
            "warm: repetitions back to back");  // smoke: toy shapes, no eviction
  for (const char* k :
       {"precisions", "simd", "gemm_fp32_flop_per_s", "gemm_sweep", "gemm_fp32_flop_per_s_2threads",
        "gemm_2threads_bitwise_equal", "stream_bytes", "stream_cache", "read_bytes_per_s",
        "copy_bytes_per_s", "read_bytes_per_s_2threads", "copy_bytes_per_s_2threads",
        "best_stream_bytes_per_s", "gemv_bytes_per_s", "tiny_call_s", "theoretical_fp32_flop_per_s",
        "theoretical_fp32_flop_per_s_per_core", "peak", "gemm_fp32_fraction_of_theoretical"})
    EXPECT_TRUE(j["ceilings"].contains(k)) << k;
  // One entry per measured arithmetic: fp32 (Eigen), bf16 and int8 (their kernels, whichever
  // path the CPU takes), each with its path and GEMM rate.
  const auto& precisions = j["ceilings"]["precisions"];
  ASSERT_EQ(precisions.size(), 3u);
  EXPECT_EQ(precisions[0]["precision"], "fp32");
  EXPECT_EQ(precisions[1]["precision"], "bf16");
  EXPECT_EQ(precisions[2]["precision"], "int8");
  for (const auto& p : precisions) {
    for (const char* k : {"path", "gemm_n", "gemm_flop_per_s", "theoretical_flop_per_s",
                          "gemm_fraction_of_theoretical"})
      EXPECT_TRUE(p.contains(k)) << p["precision"] << ": " << k;
    EXPECT_GT(p["gemm_flop_per_s"].get<double>(), 0) << p["precision"];
  }
  EXPECT_NE(j["ceilings"]["simd"].get<std::string>().find("BF16 kernels"), std::string::npos);
  const auto& peak = j["ceilings"]["peak"];
  for (const char* k : {"method", "clock_hz", "vector_isa", "fp32_lanes", "fma_per_cycle",
                        "fma_units", "cores", "bf16_dp_per_cycle", "int8_dp_per_cycle"})
    EXPECT_TRUE(peak.contains(k)) << k;
#if defined(__x86_64__)
  // Every x86-64 CPU this runs on in CI has AVX2 + FMA at least: a clock and a peak exist.
  EXPECT_GT(peak["clock_hz"].get<double>(), 1e8);
  EXPECT_GT(j["ceilings"]["theoretical_fp32_flop_per_s"].get<double>(), 0);
#endif
  ASSERT_GE(j["cases"].size(), 15u);
  for (const auto& c : j["cases"]) {
    for (const char* k : {"name",
                          "family",
                          "model",
                          "context",
                          "tokens",
                          "time_s",
                          "median_s",
                          "wall_median_s",
                          "repetitions",
                          "spread",
                          "flops",
                          "bytes",
                          "host_bytes",
                          "flop_per_s",
                          "bytes_per_s",
                          "host_bytes_per_s",
                          "fraction_of_gemm",
                          "fraction_of_theoretical",
                          "fraction_of_bandwidth",
                          "counted_equals_cost"})
      EXPECT_TRUE(c.contains(k)) << c.value("name", "?") << ": " << k;
    EXPECT_TRUE(c["counted_equals_cost"].get<bool>()) << c["name"];
  }
  ASSERT_FALSE(j["ratios"].empty());
  for (const char* k : {"numerator", "denominator", "context", "measured", "measured_interleaved",
                        "interleaved_rounds", "flops", "host_bytes", "roofline"})
    EXPECT_TRUE(j["ratios"][0].contains(k)) << k;
}

TEST_F(BenchCli, TwoThreadsAreTimedByTheWallClockAndCountTheSameWork) {
  const Outcome r = run("bench --smoke --threads 2 --filter moe,core --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["host"]["threads_used"], 2);
  EXPECT_NE(j["host"]["timer"].get<std::string>().find("wall clock"), std::string::npos);
  ASSERT_FALSE(j["cases"].empty());
  for (const auto& c : j["cases"]) {
    EXPECT_TRUE(c["counted_equals_cost"].get<bool>()) << c["name"];
    EXPECT_GT(c["time_s"].get<double>(), 0) << c["name"];
  }
}

TEST_F(BenchCli, CalibrateWritesAHostFileThatValidateUses) {
  const std::string file = (dir_ / "sub" / "host.yaml").string();
  const Outcome c = run("calibrate --smoke -o " + file);
  ASSERT_EQ(c.code, 0) << c.out;
  EXPECT_NE(c.out.find("Wrote " + file), std::string::npos) << c.out;
  const v4sim::Accelerator a = v4sim::load_accelerator(file);
  EXPECT_EQ(a.rank_unit, "cpu");
  EXPECT_TRUE(a.supports(v4sim::ComputePath::fp32));
  EXPECT_GT(a.peak_flops_per_s(v4sim::ComputePath::fp32), 0);
  // The BF16 and W8A8 GEMMs are measured on whichever path the CPU takes: their peaks are in the
  // file, so validate times bf16 / int8 work on them, as the hardware model does for GPUs.
  EXPECT_GT(a.peak_flops_per_s(v4sim::ComputePath::bf16), 0);
  EXPECT_GT(a.peak_flops_per_s(v4sim::ComputePath::int8), 0);
  EXPECT_EQ(a.path_for[static_cast<int>(v4sim::Precision::bf16)], v4sim::ComputePath::bf16);
  EXPECT_EQ(a.path_for[static_cast<int>(v4sim::Precision::fp8)], v4sim::ComputePath::fp32);

  const Outcome v = run("validate --smoke --host " + file);
  ASSERT_EQ(v.code, 0) << v.out;
  const Outcome cases = run("bench --smoke --format json");
  ASSERT_EQ(cases.code, 0);
  // Keep the parsed document alive: a range-for over a member of a temporary reads freed memory
  // (found by the AddressSanitizer build).
  const nlohmann::json listed = nlohmann::json::parse(cases.out);
  for (const auto& k : listed["cases"]) {
    const std::string name = k["name"];
    EXPECT_NE(v.out.find("\n" + name + " "), std::string::npos) << name << "\n" << v.out;
  }
  EXPECT_NE(v.out.find("median |error|"), std::string::npos) << v.out;

  const Outcome vj = run("validate --smoke --format json --host " + file);
  ASSERT_EQ(vj.code, 0) << vj.out;
  const auto j = nlohmann::json::parse(vj.out);
  for (const char* k : {"command", "mode", "host_file", "cases", "median_abs_error", "worst_factor",
                        "worst_case", "within_2x", "ratios"})
    EXPECT_TRUE(j.contains(k)) << k;
  for (const auto& row : j["cases"])
    for (const char* k :
         {"name", "measured_s", "predicted_s", "error", "bound", "predicted_deploy_formats_s"})
      EXPECT_TRUE(row.contains(k)) << k;

  // The host tables beside the host file: they load, and validate predicts through them (the
  // V3.2 core's two ops and the GQA core have tables; the SWA layer's core has none and keeps the
  // roofline beside its projections' tables).
  const fs::path tables = dir_ / "sub" / "perf" / "host";
  for (const char* stem : {"gemm-fp32", "gemm-fp32-w-fp8", "gemm-int8", "dsa-decode-fp32-kv-fp8",
                           "dsa-decode-fp32-v4-csa", "dsa-decode-bf16-v4-hca",
                           "indexer-logits-fp32", "indexer-logits-fp32-v4", "gqa-decode-fp32",
                           "compressor-fp32-indexer", "grouped-gemm-fp32-contiguous", "mhc-fp32"}) {
    const v4sim::PerfTable t = v4sim::load_perf_table(tables / (std::string(stem) + ".yaml"));
    EXPECT_EQ(t.source.rfind("measured by v4sim calibrate on ", 0), 0u) << t.source;
  }
  ASSERT_TRUE(j["tables"].is_object()) << vj.out;
  EXPECT_GT(j["tables"]["measured_share"].get<double>(), 0);
  std::map<std::string, std::string> source;
  for (const auto& row : j["cases"]) source[row["name"]] = row["tables"]["source"];
  EXPECT_EQ(source["v3.2-mla-dsa-core/1k"], "measured");
  EXPECT_EQ(source["gqa8-core/1k"], "measured");
  EXPECT_EQ(source["v4-flash-csa-layer/1k"], "measured");
  EXPECT_EQ(source["v4-flash-swa-layer/1k"], "mixed");
  EXPECT_NE(v.out.find("tables: median |error|"), std::string::npos) << v.out;

  // A defective table there is bad input naming the file, not a silent roofline.
  std::FILE* f = std::fopen((tables / "gemm-fp32.csv").c_str(), "w");
  ASSERT_TRUE(f);
  std::fputs("m,n,k,latency_us\n1,8,8,0\n", f);
  std::fclose(f);
  const Outcome broken = run("validate --smoke --host " + file, true);
  EXPECT_EQ(broken.code, 2) << broken.out;
  EXPECT_NE(broken.out.find("gemm-fp32"), std::string::npos) << broken.out;
}

// Without -o / --host both commands use the user's cache, whatever the working directory, never
// the source tree: $XDG_CACHE_HOME/v4sim/host.yaml, else $HOME/.cache/v4sim/host.yaml.
TEST_F(BenchCli, CalibrateAndValidateShareADefaultInTheUsersCache) {
  const fs::path xdg = dir_ / "xdg", home = dir_ / "home", cwd = dir_ / "cwd";
  fs::create_directories(cwd);
  struct Case {
    std::string env;
    fs::path host_file;
  };
  const Case cases[] = {
      {"XDG_CACHE_HOME=" + xdg.string() + " HOME=" + home.string(), xdg / "v4sim" / "host.yaml"},
      {"-u XDG_CACHE_HOME HOME=" + home.string(), home / ".cache" / "v4sim" / "host.yaml"},
  };
  for (const Case& c : cases) {
    const std::string in = "cd " + cwd.string() + " && env " + c.env + " ";
    const Outcome cal = run_shell(in + V4SIM_BINARY + " calibrate --smoke");
    ASSERT_EQ(cal.code, 0) << c.env << ": " << cal.out;
    EXPECT_NE(cal.out.find("Wrote " + c.host_file.string()), std::string::npos) << cal.out;
    EXPECT_TRUE(fs::exists(c.host_file)) << c.host_file;
    EXPECT_TRUE(fs::exists(c.host_file.parent_path() / "perf" / "host" / "gemm-fp32.yaml"));
    EXPECT_TRUE(fs::is_empty(cwd)) << "calibrate wrote into the working directory";
    const Outcome val = run_shell(in + V4SIM_BINARY + " validate --smoke --format json");
    ASSERT_EQ(val.code, 0) << c.env << ": " << val.out;
    const auto j = nlohmann::json::parse(val.out);
    EXPECT_EQ(j["host_file"], c.host_file.string());
    EXPECT_TRUE(j["tables"].is_object()) << "validate did not find calibrate's tables";
  }
  const Outcome help = run("calibrate --help");
  EXPECT_NE(help.out.find("$XDG_CACHE_HOME/v4sim/host.yaml"), std::string::npos) << help.out;
}

TEST_F(BenchCli, BadInputExitsWithCode2) {
  const Outcome missing = run("validate --smoke --host " + (dir_ / "none.yaml").string(), true);
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.out.find("run `v4sim calibrate` first"), std::string::npos) << missing.out;
  const Outcome filter = run("bench --smoke --filter no-such-kernel", true);
  EXPECT_EQ(filter.code, 2);
  EXPECT_NE(filter.out.find("no-such-kernel"), std::string::npos) << filter.out;
  const Outcome format = run("bench --smoke --format csv", true);
  EXPECT_EQ(format.code, 2);
  const Outcome threads = run("bench --smoke --threads 3", true);
  EXPECT_EQ(threads.code, 2);
  EXPECT_NE(threads.out.find("--threads 3"), std::string::npos) << threads.out;
  // A malformed host file: the loader's error names the file and field.
  const fs::path bad = dir_ / "bad.yaml";
  std::FILE* f = std::fopen(bad.c_str(), "w");
  ASSERT_TRUE(f);
  std::fputs("name: host\n", f);
  std::fclose(f);
  const Outcome malformed = run("validate --smoke --host " + bad.string(), true);
  EXPECT_EQ(malformed.code, 2);
  EXPECT_NE(malformed.out.find("bad.yaml"), std::string::npos) << malformed.out;
}

}  // namespace
