// The v4sim binary end to end: outputs programs rely on, and exit code 2 with a clear message for
// bad input.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <unistd.h>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "reports/studies/long_context.h"

#include "tests/support/run_command.h"

namespace {

using v4sim::test_support::Outcome;
using v4sim::test_support::run_command;

Outcome run(const std::string& args) {
  return run_command(std::string(V4SIM_BINARY) + " " + args + " 2>&1");
}

TEST(Cli, VersionHelpModels) {
  const Outcome v = run("--version");
  EXPECT_EQ(v.code, 0);
  EXPECT_NE(v.out.find("v4sim "), std::string::npos);
  EXPECT_EQ(run("--help").code, 0);
  const Outcome m = run("models");
  EXPECT_EQ(m.code, 0);
  for (const char* name : {"deepseek-v4-pro", "deepseek-v4-flash", "deepseek-v3.2", "deepseek-v3"})
    EXPECT_NE(m.out.find(name), std::string::npos) << name;
}

TEST(Cli, CostJsonHasTheDocumentedKeys) {
  const Outcome r = run("cost --model deepseek-v4-pro --context 4k,1m --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  std::istringstream lines(r.out);
  std::string line;
  int objects = 0;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    ++objects;
    EXPECT_EQ(j["model"], "deepseek-v4-pro");
    EXPECT_EQ(j["phase"], "decode");
    EXPECT_EQ(j["kv_cache"]["format"], "deploy");
    for (const char* key : {"total", "active_per_token", "weight_bytes"})
      EXPECT_TRUE(j["params"].contains(key)) << key;
    EXPECT_TRUE(j["kv_cache"].contains("bytes_per_sequence"));
    for (const char* key : {"per_token", "fp8_equivalent_per_token", "total", "by_component"})
      EXPECT_TRUE(j["flops"].contains(key)) << key;
    EXPECT_TRUE(j["flops"]["by_component"].contains("core_attention"));
  }
  EXPECT_EQ(objects, 2);  // one object per context
}

TEST(Cli, PrefillTotalIsWholePrompt) {
  const Outcome r =
      run("cost --model deepseek-v4-flash --context 8k --phase prefill --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["tokens"], 8192);
  EXPECT_NEAR(j["flops"]["total"].get<double>() / 8192.0, j["flops"]["per_token"].get<double>(),
              1.0);
}

TEST(Cli, CompareRatiosAndCsv) {
  const Outcome r =
      run("compare --models deepseek-v3.2,deepseek-v4-pro --contexts 128k --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_DOUBLE_EQ(j[0]["kv_vs_first"].get<double>(), 1.0);
  EXPECT_LT(j[1]["kv_vs_first"].get<double>(), 0.2);
  EXPECT_TRUE(j[1].contains("kv_vs_gqa8_bf16"));
  const Outcome csv =
      run("compare --models deepseek-v3.2,deepseek-v4-pro --contexts 4k --format csv");
  EXPECT_EQ(csv.code, 0);
  EXPECT_EQ(csv.out.rfind("context,model,flops_per_token", 0), 0u) << csv.out;
}

TEST(Cli, BadInputExitsTwoWithAMessage) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"cost --model nosuch --context 4k", "unknown model 'nosuch'"},
      {"cost --model deepseek-v4-pro --context 0", "--context '0'"},
      {"cost --model deepseek-v4-pro --context 4q", "--context '4q'"},
      {"cost --model deepseek-v4-pro --context 2m", "exceeds max_context_tokens"},
      {"cost --model deepseek-v4-pro --context 4k --phase train", "--phase 'train'"},
      {"cost --model deepseek-v4-pro --context 4k --kv-format fp2", "no KV format 'fp2'"},
      {"cost --model deepseek-v4-pro --context 4k --format xml", "--format 'xml'"},
      {"cost --context 4k", "--model is required"},
      {"frobnicate", "unknown command 'frobnicate'"},
      {"compare --models deepseek-v4-pro,,deepseek-v3 --contexts 4k", "empty name"},
      // Issue 7: NaN passed CLI11's PositiveNumber check and meant "no SLO"; counts beyond int64.
      {"optimize --model deepseek-v4-flash --system hgx-h200 --context 4k --slo-tpot-ms nan",
       "--slo-tpot-ms nan"},
      {"cost --model deepseek-v3 --context 4m --phase prefill --extrapolate", "exceed 2^63"},
  };
  for (const auto& [args, expected] : cases) {
    const Outcome r = run(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find(expected), std::string::npos) << args << "\n" << r.out;
  }
}

TEST(Cli, MalformedModelFileNamesFileAndLine) {
  const auto path = std::filesystem::temp_directory_path() / "v4sim-cli-bad.yaml";
  std::ofstream(path) << "name: x\ndisplay_name: X\narchitecture: v5\nsource: test\n";
  const Outcome r = run("cost --model " + path.string() + " --context 4k");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find(path.string() + ":3:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("architecture"), std::string::npos) << r.out;
  std::filesystem::remove(path);
}

}  // namespace

namespace {

TEST(CliServing, PredictJsonHasTheDocumentedKeys) {
  const Outcome r =
      run("predict --model deepseek-v4-flash --system hgx-h200 --phase decode --context 32k "
          "--format json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key :
       {"feasible", "reason", "devices", "batch_per_device", "throughput_tokens_per_s_per_device",
        "tpot_s", "ttft_s", "mfu", "mbu", "usd_per_million_tokens", "breakdown"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_TRUE(j["feasible"].get<bool>()) << j["reason"];
  EXPECT_EQ(j["devices"], 8);
  EXPECT_GT(j["usd_per_million_tokens"].get<double>(), 0);
}

TEST(CliServing, PredictSaysWhereItsTimeCameFrom) {
  // Issue 11: every op names its efficiency source; the step's shares of each add up to one;
  // MTP chains report their tokens per step; --devices takes a slice of a server.
  const Outcome r =
      run("predict --model deepseek-v4-flash --system hgx-h200 --devices 4 --layout tp=4,dp=1,ep=4 "
          "--phase decode --context 32k --batch 8 --mtp-acceptance 0.5 --mtp-tokens 2 "
          "--format json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["devices"], 4);
  EXPECT_DOUBLE_EQ(j["tokens_per_step"].get<double>(), 1.75);  // 1 + 0.5 + 0.25
  const auto& shares = j["time_sources"];
  EXPECT_NEAR(shares["measured"].get<double>() + shares["transferred"].get<double>() +
                  shares["roofline"].get<double>(),
              1.0, 1e-12);
  ASSERT_FALSE(j["ops"].empty());
  for (const auto& op : j["ops"]) EXPECT_FALSE(op["efficiency_source"].get<std::string>().empty());
}

TEST(CliServing, EngineBenchReportsItsRates) {
  // Issue 12: the engine's speed, measured (rates only: no timing thresholds in unit tests).
  const Outcome r = run("bench --engine --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"analytic_evaluations_per_s", "serving_points_per_s", "optimize_s",
                          "simulate_s", "simulate_requests_per_min"})
    EXPECT_GT(j[key].get<double>(), 0) << key;
}

TEST(CliSimulate, JsonHasTheIssueKeysAndIsByteIdenticalForASeed) {
  const std::string args =
      "simulate --model deepseek-v4-flash --system hgx-h200 --rate 20 --requests 300 "
      "--input-tokens 1000-3000 --output-tokens 50-300 --seed 11 --slo-ttft-ms 2000 "
      "--slo-tpot-ms 50 --format json";
  const Outcome a = run(args), b = run(args);
  ASSERT_EQ(a.code, 0) << a.out;
  EXPECT_EQ(a.out, b.out);
  const auto j = nlohmann::json::parse(a.out);
  EXPECT_EQ(j["requests"], 300);
  EXPECT_EQ(j["completed"], 300);
  for (const char* group : {"ttft_s", "tpot_s", "e2e_s"})
    for (const char* stat : {"mean", "p50", "p90", "p99"})
      EXPECT_GT(j[group][stat].get<double>(), 0) << group << "." << stat;
  for (const char* key : {"slo_attainment", "goodput_requests_per_s", "throughput_tokens_per_s"})
    EXPECT_GT(j[key].get<double>(), 0) << key;
  EXPECT_EQ(j["cache_hit_rate"], 0.0);  // synthetic requests carry no prefix blocks
  EXPECT_LE(j["slo_attainment"].get<double>(), 1.0);
  const Outcome other =
      run("simulate --model deepseek-v4-flash --system hgx-h200 --rate 20 --requests 300 "
          "--input-tokens 1000-3000 --output-tokens 50-300 --seed 12 --slo-ttft-ms 2000 "
          "--slo-tpot-ms 50 --format json");
  EXPECT_NE(a.out, other.out);
}

TEST(CliSimulate, TraceReplayWritesTheRequestTable) {
  const auto dir = std::filesystem::temp_directory_path() / "v4sim_cli_simulate";
  std::filesystem::create_directories(dir);
  const auto trace = dir / "t.jsonl";
  std::ofstream(trace)
      << "{\"timestamp\": 0, \"input_length\": 1000, \"output_length\": 20, \"hash_ids\": [0, 1]}\n"
      << "{\"timestamp\": 500, \"input_length\": 1200, \"output_length\": 9, \"hash_ids\": [0, 1, "
         "2]}\n";
  const auto csv = dir / "requests.csv";
  const Outcome r = run("simulate --model deepseek-v4-flash --system hgx-h200 --trace " +
                        trace.string() + " --requests-csv " + csv.string() + " --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["completed"], 2);
  EXPECT_GT(j["cache_hit_rate"].get<double>(), 0);  // the second prompt repeats blocks 0 and 1
  std::ifstream in(csv);
  std::string header, row;
  std::getline(in, header);
  EXPECT_EQ(header.rfind("id,arrival_s,", 0), 0u) << header;
  int rows = 0;
  while (std::getline(in, row)) ++rows;
  EXPECT_EQ(rows, 2);
}

TEST(CliSimulate, BadTraceIsExitTwoNamingFileLineAndField) {
  const auto dir = std::filesystem::temp_directory_path() / "v4sim_cli_simulate";
  std::filesystem::create_directories(dir);
  const auto trace = dir / "bad.csv";
  std::ofstream(trace) << "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                       << "2023-11-16 18:17:03.9799600,4808,10\n"
                       << "2023-11-16 18:17:04.0319600,-1,8\n";
  const Outcome r =
      run("simulate --model deepseek-v4-flash --system hgx-h200 --trace " + trace.string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find(trace.string() + ":3: field 'ContextTokens' = '-1'"), std::string::npos)
      << r.out;
  EXPECT_EQ(run("simulate --model deepseek-v4-flash --system hgx-h200").code, 2);
}

TEST(CliServing, OptimizeSearchesTheDeploymentSize) {
  const Outcome r =
      run("optimize --model deepseek-v3.2 --system hgx-h800 --context 128k --slo-tpot-ms 50 "
          "--max-devices 64 --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["device_counts_tried"].size(), 7u);  // 1, 2, 4, 8, 16, 32, 64
  ASSERT_FALSE(j["cheapest_meeting_slo"].is_null());
  for (const char* key :
       {"devices", "layout", "batch", "prefill_devices", "usd_per_million_tokens"})
    EXPECT_TRUE(j["cheapest_meeting_slo"].contains(key)) << key;
  EXPECT_GT(j["cheapest_meeting_slo"]["devices"].get<int>(), 8);
  EXPECT_EQ(run("optimize --model deepseek-v3.2 --system hgx-h800 --context 4k --devices 8 "
                "--max-devices 64")
                .code,
            2);
}

TEST(CliServing, OptimizeJsonPointsCarryTheDeployment) {
  // Issue 12: every frontier point and the cheapest one say which deployment they are.
  const Outcome r =
      run("optimize --model deepseek-v4-flash --system hgx-h200 --context 32k --slo-tpot-ms 50 "
          "--max-devices 16 --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_FALSE(j["frontier"].empty());
  ASSERT_FALSE(j["cheapest_meeting_slo"].is_null());
  std::vector<nlohmann::json> points(j["frontier"].begin(), j["frontier"].end());
  points.push_back(j["cheapest_meeting_slo"]);
  for (const auto& p : points) {
    for (const char* key :
         {"devices", "layout", "batch", "prefill_devices", "usd_per_million_tokens"})
      ASSERT_TRUE(p.contains(key)) << key << "\n" << p.dump();
    EXPECT_GE(p["devices"].get<int>(), 1);
    EXPECT_LE(p["devices"].get<int>(), 16);
    EXPECT_GT(p["usd_per_million_tokens"].get<double>(), 0);
  }
  // No point on the frontier is cheaper than the cheapest point that meets the SLO and also
  // meets it.
  for (const auto& p : j["frontier"]) {
    if (p["tpot_s"].get<double>() > 0.05) continue;
    EXPECT_GE(p["usd_per_million_tokens"].get<double>(),
              j["cheapest_meeting_slo"]["usd_per_million_tokens"].get<double>());
  }
}

TEST(CliServing, LongContextCostsEqualOptimize) {
  // Issue 12: the long-context report prices every (model, system, context) on the deployment
  // `optimize` finds for the same targets: same ranks, layout, batch and $/M tokens.
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("v4sim-lc-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::filesystem::path file = dir / "lc.yaml";
  std::ofstream(file) << R"(name: lc-test
title: "test"
kind: long_context
estimate: "test"
models: [deepseek-v3.2, deepseek-v4-flash]
systems: [hgx-h800, cloudmatrix384]
contexts: {from: 32768, to: 262144, points_per_doubling: 1}
kv_format: deploy
mtp_acceptance: 0.7
slo: {estimate: "test", tpot_ms: 50}
prices: {estimate: "test", basis: rental}
)";
  const v4sim::report::Report rep = v4sim::run_long_context(v4sim::load_scenario(file.string()));
  std::filesystem::remove_all(dir);
  const v4sim::report::TableBlock* serving = nullptr;
  for (const auto& sec : rep.sections)
    for (const auto& t : sec.tables)
      if (t.name == "serving") serving = &t;
  ASSERT_NE(serving, nullptr);
  const auto& cols = serving->table.columns;
  auto col = [&](const char* name) {
    return static_cast<std::size_t>(std::find(cols.begin(), cols.end(), name) - cols.begin());
  };
  int priced = 0;
  ASSERT_EQ(serving->table.rows.size(), 2u * 2u * 4u);
  for (const auto& row : serving->table.rows) {
    const std::string args = "optimize --model " + row[col("model")] + " --system " +
                             row[col("system")] + " --context " + row[col("context")] +
                             " --slo-tpot-ms 50 --mtp-acceptance 0.7 --kv-format deploy "
                             "--price-basis rental --format json";
    if (row[col("note")] == "beyond the model's max context") continue;
    const Outcome o = run(args);
    ASSERT_EQ(o.code, 0) << args << "\n" << o.out;
    const auto j = nlohmann::json::parse(o.out);
    if (row[col("devices")].empty()) {
      EXPECT_TRUE(j["cheapest_meeting_slo"].is_null()) << args;
      EXPECT_NE(row[col("note")].find("TPOT target missed"), std::string::npos) << args;
      continue;
    }
    const auto& best = j["cheapest_meeting_slo"];
    ASSERT_FALSE(best.is_null()) << args;
    EXPECT_EQ(row[col("devices")], std::to_string(best["devices"].get<int>())) << args;
    EXPECT_EQ(row[col("layout")], best["layout"].get<std::string>()) << args;
    EXPECT_EQ(row[col("batch")], std::to_string(best["batch"].get<int>())) << args;
    char usd[32];
    std::snprintf(usd, sizeof usd, "%.4f", best["usd_per_million_tokens"].get<double>());
    EXPECT_EQ(row[col("usd_per_m_output")], usd) << args;
    ++priced;
  }
  EXPECT_GE(priced, 8);  // V4-Flash everywhere, V3.2 up to its 160K maximum

  // Costs per million tokens are cents to dollars: SI tick labels would print $0.10 as "100m".
  int cost_charts = 0;
  for (const auto& sec : rep.sections)
    for (const auto& c : sec.charts)
      if (c.y.unit == "USD") {
        ++cost_charts;
        EXPECT_NE(c.y.ticks, v4sim::report::Axis::Ticks::Si) << c.name;
      }
  EXPECT_EQ(cost_charts, 2);  // one per system
}

TEST(CliServing, InfeasibleIsAResultNotAnError) {
  // V4-Pro's 865 GB of weights cannot fit on one 8 x 141 GB node.
  const Outcome r =
      run("predict --model deepseek-v4-pro --system hgx-h200 --context 4k --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_FALSE(j["feasible"].get<bool>());
  EXPECT_NE(j["reason"].get<std::string>().find("usable HBM"), std::string::npos);
  // A layout that does not multiply out to the device count is bad input, not a result (issue 7).
  const Outcome over =
      run("predict --model deepseek-v4-flash --system hgx-h200 --context 4k "
          "--layout tp=1,dp=16,ep=16 --format json");
  EXPECT_EQ(over.code, 2) << over.out;
  EXPECT_NE(over.out.find("--layout 'tp=1,dp=16,ep=16': tp*dp*pp = 16 ranks, but the run has 8"),
            std::string::npos)
      << over.out;
}

TEST(CliServing, OptimizeAndPlan) {
  const Outcome o =
      run("optimize --model deepseek-v4-flash --system hgx-h200 --context 16k "
          "--slo-tpot-ms 50 --format json");
  ASSERT_EQ(o.code, 0) << o.out;
  const auto j = nlohmann::json::parse(o.out);
  EXPECT_FALSE(j["frontier"].empty());
  EXPECT_LE(j["cheapest_meeting_slo"]["tpot_s"].get<double>(), 0.05);
  const Outcome p = run(std::string("plan ") + V4SIM_SOURCE_DIR +
                        "/scenarios/demand-50b-tokens-per-day.yaml --format json");
  ASSERT_EQ(p.code, 0) << p.out;
  const auto plan = nlohmann::json::parse(p.out);
  EXPECT_FALSE(plan["ranking"].empty());
  EXPECT_TRUE(plan["ranking"][0]["feasible"].get<bool>());
  // Issue 12: separately sized prefill and decode pools, bought as whole nodes; every failing
  // system says why, never a bare "no point".
  for (const auto& row : plan["ranking"]) {
    if (!row["feasible"].get<bool>()) {
      EXPECT_NE(row["reason"].get<std::string>().find("missed: the fastest"), std::string::npos)
          << row["reason"];
      continue;
    }
    int prefill = 0, decode = 0;
    for (const auto& pool : row["pools"]) {
      const int ranks = pool["instances"].get<int>() * pool["instance_devices"].get<int>();
      EXPECT_GE(ranks, pool["peak_devices"].get<double>());
      (pool["phase"] == "prefill" ? prefill : decode) += ranks;
    }
    EXPECT_EQ(prefill, row["prefill_devices"].get<int>());
    EXPECT_EQ(decode, row["decode_devices"].get<int>());
    EXPECT_GE(row["devices"].get<int>(), prefill + decode);
    for (const auto& b : row["buckets"])
      for (const char* key : {"decode_devices", "prefill_devices", "decode_batch", "kv_transfer_s"})
        EXPECT_TRUE(b.contains(key)) << key;
  }
}

TEST(CliServing, BadInputExitsTwo) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"predict --model deepseek-v4-flash --system nosuch --context 4k", "unknown system"},
      {"predict --model nosuch --system hgx-h200 --context 4k", "unknown model"},
      {"predict --model deepseek-v4-flash --system hgx-h200 --context 4k --layout tp=2,dp",
       "--layout"},
      {"predict --model deepseek-v4-flash --system hgx-h200 --context 4k --layout tp=2,dq=4",
       "unknown key"},
      {"predict --model deepseek-v4-flash --system hgx-h200 --context 4k --slo-tpot-ms -5",
       "slo-tpot-ms"},
      {"predict --model deepseek-v4-flash --system hgx-h200 --context 4k --slo-tpot-ms 0",
       "slo-tpot-ms"},
      {"predict --model deepseek-v4-flash --system hgx-h200 --context 4k --mtp-acceptance 2",
       "mtp-acceptance"},
      {"predict --model deepseek-v4-flash --system hgx-h200 --context 4k --weights fp6",
       "--weights 'fp6'"},
      {"predict --model deepseek-v4-flash --system hgx-h200 --context 4k --devices -4",
       "--devices -4"},
      {"predict --model deepseek-v4-flash --system hgx-h200 --context 4k --devices 100000",
       "--devices 100000"},
      {"plan /nonexistent/demand.yaml", "no such file"},
  };
  for (const auto& [args, expected] : cases) {
    const Outcome r = run(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find(expected), std::string::npos) << args << "\n" << r.out;
  }
}

// plan --size-by-simulation (sim/fleet_sizing.h): a simulated fleet per system, never smaller
// than the mean load needs, in the JSON beside the peak-factor plan; bad options exit 2.
TEST(CliServing, PlanSizedBySimulation) {
  const std::filesystem::path file = std::filesystem::temp_directory_path() /
                                     ("v4sim-plan-sim-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(file) << R"(name: small
model: deepseek-v4-flash
estimate: "test"
demand:
  estimate: "test"
  input_tokens_per_day: 20e9
  output_tokens_per_day: 2e9
  cache_hit_rate: 0
  peak_to_average: 2.0
  mtp_acceptance: 0.7
  contexts:
    - {context_tokens: 2048, share: 0.7}
    - {context_tokens: 8192, share: 0.3}
slo: {estimate: "test", tpot_ms: 50, ttft_ms: 2000}
prices: {estimate: "test", basis: tco}
candidates: [hgx-h200]
)";
  const Outcome p =
      run("plan " + file.string() + " --size-by-simulation --sim-requests 500 " + "--format json");
  ASSERT_EQ(p.code, 0) << p.out;
  const auto j = nlohmann::json::parse(p.out);
  const auto& row = j["ranking"].at(0);
  ASSERT_TRUE(row["feasible"].get<bool>()) << row["reason"];
  const auto& f = row["simulated_fleet"];
  ASSERT_TRUE(f["feasible"].get<bool>()) << f["reason"];
  EXPECT_DOUBLE_EQ(f["percentile"].get<double>(), 0.99);
  EXPECT_DOUBLE_EQ(f["slo_ttft_s"].get<double>(), 2.0);  // the demand's target by default
  EXPECT_GE(f["replicas"].get<int>(), f["mean_load_replicas"].get<int>());
  // The mean-load fleet carries the plan's average busy ranks (peak over peak_to_average).
  EXPECT_GE(f["mean_load_replicas"].get<double>() * f["replica_devices"].get<double>(),
            row["peak_devices"].get<double>() / 2.0 - 1e-9);
  EXPECT_LE(f["ttft_quantile_s"].get<double>(), 2.0);
  EXPECT_EQ(f["devices"].get<int>(), f["replicas"].get<int>() * f["replica_devices"].get<int>());
  // Without the flag the JSON is as before: no simulated fleet.
  const Outcome plain = run("plan " + file.string() + " --format json");
  ASSERT_EQ(plain.code, 0) << plain.out;
  EXPECT_FALSE(nlohmann::json::parse(plain.out)["ranking"].at(0).contains("simulated_fleet"));
  const Outcome bad = run("plan " + file.string() + " --size-by-simulation --percentile 120");
  EXPECT_EQ(bad.code, 2) << bad.out;
  EXPECT_NE(bad.out.find("--percentile"), std::string::npos) << bad.out;
  std::filesystem::remove(file);
}

// `validate --deployments`: every row of the shipped development set is predicted (finite values,
// no accuracy threshold: the step model is being changed) and the summary is present.
TEST(CliValidateDeployments, JsonHasEveryRowAndTheSummary) {
  const Outcome r = run("validate --deployments --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.contains("rows"));
  ASSERT_EQ(j["rows"].size(), 8u);
  for (const auto& row : j["rows"]) {
    SCOPED_TRACE(row.dump());
    for (const char* key : {"id", "predicted", "measured", "error", "metric", "conditions"})
      EXPECT_TRUE(row.contains(key)) << key;
    ASSERT_TRUE(row["predicted"].is_number());
    EXPECT_TRUE(std::isfinite(row["predicted"].get<double>()));
    EXPECT_GT(row["predicted"].get<double>(), 0);
    ASSERT_TRUE(row["error"].is_number());
    EXPECT_NEAR(row["error"].get<double>(),
                row["predicted"].get<double>() / row["measured"].get<double>() - 1, 1e-9);
  }
  for (const char* key : {"median_abs_error", "worst_abs_error", "worst_id"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_TRUE(j["median_abs_error"].is_number());
  EXPECT_LE(j["median_abs_error"].get<double>(), j["worst_abs_error"].get<double>());
}

// Each row says how much of its prediction rests on measured tables: a decode row's shares are
// `predict`'s for the same deployment, an aggregated row's weigh the decode's and the prompt's
// shares by the time each takes in the row (O decode steps; B prefills and the skew).
TEST(CliValidateDeployments, RowsShareTheirTimeBySource) {
  const Outcome r = run("validate --deployments --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto rows = nlohmann::json::parse(r.out)["rows"];
  const auto row = [&](const std::string& id) {
    for (const auto& x : rows)
      if (x["id"] == id) return x;
    ADD_FAILURE() << id;
    return nlohmann::json{};
  };
  for (const auto& x : rows) {
    const auto& t = x["time_sources"];
    EXPECT_NEAR(
        t["measured"].get<double>() + t["transferred"].get<double>() + t["roofline"].get<double>(),
        1.0, 1e-12)
        << x["id"];
  }
  const std::string h200 =
      "--model deepseek-v3 --system hgx-h200 --devices 8 --layout tp=1,dp=8,ep=8,pp=1 "
      "--kv-format bf16 --no-overlap --moe-exchange all_gather --format json";
  const auto decode = nlohmann::json::parse(
      run("predict --phase decode --context 2048 --batch 128 " + h200).out)["time_sources"];
  const auto prompt = nlohmann::json::parse(
      run("predict --phase prefill --context 1024 --batch 1 " + h200).out)["time_sources"];
  const auto agg = row("trtllm-h200-r1-fp8-adp8");
  const double out_s = 2048 * agg["step_s"].get<double>();
  const double in_s = 128 * agg["prefill_s"].get<double>() + agg["skew_s"].get<double>();
  for (const char* source : {"measured", "transferred", "roofline"}) {
    const double want =
        (out_s * decode[source].get<double>() + in_s * prompt[source].get<double>()) /
        (out_s + in_s);
    EXPECT_NEAR(agg["time_sources"][source].get<double>(), want, 1e-12) << source;
  }
  const auto profile = nlohmann::json::parse(
      run("predict --model deepseek-v3 --system hgx-h800 --devices 128 "
          "--layout tp=1,dp=128,ep=128,pp=1 --batch 128 --context 4096 --kv-format bf16 "
          "--imbalance 1 --format json")
          .out)["time_sources"];
  EXPECT_EQ(row("ds-profile-decode-h800")["time_sources"], profile);
}

TEST(CliValidateDeployments, TableAndBadInput) {
  const Outcome t = run("validate --deployments");
  ASSERT_EQ(t.code, 0) << t.out;
  for (const char* text : {"ds-profile-decode-h800", "vllm-v4pro-b300-c1", "median |error|",
                           "worst |error|", "Conditions:", "m/t/r %"})
    EXPECT_NE(t.out.find(text), std::string::npos) << text << "\n" << t.out;
  const Outcome named = run("validate --deployments dev --format json");
  EXPECT_EQ(named.code, 0) << named.out;
  const Outcome missing = run("validate --deployments /nonexistent/deployments.yaml");
  EXPECT_EQ(missing.code, 2) << missing.out;
  EXPECT_NE(missing.out.find("/nonexistent/deployments.yaml"), std::string::npos) << missing.out;
  const Outcome csv = run("validate --deployments --format csv");
  EXPECT_EQ(csv.code, 2) << csv.out;
}

}  // namespace
