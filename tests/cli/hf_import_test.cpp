// Hugging Face config.json import (models/hf_config.h): each shipped config under models/hf/ gives
// the same parameters, weight bytes, KV bytes and FLOPs as its catalogue YAML entry, at decode and
// prefill, from 4K to 1M tokens; the defaults it needed are reported; bad configs are errors at
// config.json:line:col with exit code 2.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/support/run_command.h"

namespace {

using v4sim::test_support::Outcome;
using v4sim::test_support::run_command;

namespace fs = std::filesystem;

Outcome run(const std::string& args, bool with_stderr = true) {
  return run_command(std::string(V4SIM_BINARY) + " " + args +
                     (with_stderr ? " 2>&1" : " 2>/dev/null"));
}

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

fs::path hf_config(const std::string& name) {
  return fs::path(V4SIM_SOURCE_DIR) / "models" / "hf" / name / "config.json";
}

class HfImport : public ::testing::TestWithParam<std::string> {};

TEST_P(HfImport, ReproducesCatalogueEntry) {
  const std::string name = GetParam();
  ASSERT_TRUE(fs::exists(hf_config(name)));
  ASSERT_TRUE(fs::exists(hf_config(name).parent_path() / "SOURCE.md"));
  for (const char* phase : {"decode", "prefill"}) {
    for (const char* kv : {"deploy", "bf16"}) {
      const std::string opts = std::string(" --context 4k,100000,128k,1m --extrapolate --phase ") +
                               phase + " --kv-format " + kv + " --format json";
      const Outcome yaml = run("cost --model " + name + opts, false);
      const Outcome hf = run("cost --model " + hf_config(name).string() + opts, false);
      ASSERT_EQ(yaml.code, 0) << yaml.out;
      ASSERT_EQ(hf.code, 0) << hf.out;
      const auto a = json_lines(yaml.out), b = json_lines(hf.out);
      ASSERT_EQ(a.size(), 4u);
      ASSERT_EQ(a.size(), b.size());
      for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(b[i]["model"], name);
        for (const char* part : {"params", "kv_cache", "flops", "context_tokens", "phase"})
          EXPECT_EQ(a[i][part], b[i][part]) << name << " " << phase << " " << kv << " " << part
                                            << " at context " << a[i]["context_tokens"];
        // The defaults the import needed are listed, never silent.
        ASSERT_TRUE(b[i].contains("assumed")) << b[i].dump();
        EXPECT_FALSE(b[i]["assumed"].empty());
        EXPECT_FALSE(a[i].contains("assumed"));
      }
    }
  }
  // Text output names the defaults too.
  const Outcome table = run("cost --model " + hf_config(name).string() + " --context 4k");
  ASSERT_EQ(table.code, 0) << table.out;
  EXPECT_NE(table.out.find("kv_cache.deploy"), std::string::npos) << table.out;
}

INSTANTIATE_TEST_SUITE_P(Shipped, HfImport,
                         ::testing::Values("deepseek-v4-pro", "deepseek-v4-flash", "deepseek-v3.2",
                                           "deepseek-v3"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

/// The "assumed" array of a command's JSON: each entry a field, the default taken and why.
void expect_assumed_entries(const nlohmann::json& j, const std::string& what) {
  ASSERT_TRUE(j.contains("assumed")) << what << ": " << j.dump();
  const nlohmann::json& a = j["assumed"];
  ASSERT_TRUE(a.is_array()) << what;
  ASSERT_FALSE(a.empty()) << what;
  bool kv = false;
  for (const nlohmann::json& e : a) {
    for (const char* key : {"field", "value", "reason"}) {
      ASSERT_TRUE(e.contains(key) && e[key].is_string()) << what << ": " << e.dump();
      EXPECT_FALSE(e[key].get<std::string>().empty()) << what << ": " << e.dump();
    }
    if (e["field"] == "kv_cache.deploy") {
      kv = true;
      // DeepSeek-V4-Flash's deploy KV: FlashMLA's 584-byte FP8 entries, 68-byte MXFP4 keys.
      EXPECT_NE(e["value"].get<std::string>().find("584 B"), std::string::npos) << e.dump();
      EXPECT_NE(e["value"].get<std::string>().find("68 B"), std::string::npos) << e.dump();
    }
  }
  EXPECT_TRUE(kv) << what << ": no kv_cache.deploy entry in " << a.dump();
}

// Every command that takes --model config.json states the defaults it took (issue 13): predict,
// optimize and simulate in their JSON ("assumed": [{field, value, reason}]) and text; a catalogue
// YAML model's output has no such key.
TEST(HfImportAssumed, ServingCommandsReportTheDefaults) {
  const std::string hf = hf_config("deepseek-v4-flash").string();
  const std::string serving = " --system hgx-h200 --devices 8 --context 4k";
  struct Command {
    std::string name, args;
  };
  const Command commands[] = {
      {"predict", "predict" + serving + " --batch 16"},
      {"optimize", "optimize" + serving},
      {"simulate",
       "simulate --system hgx-h200 --devices 8 --rate 2 --requests 4 "
       "--input-tokens 512 --output-tokens 8"},
  };
  for (const Command& c : commands) {
    const std::string model = " --model " + hf;
    const Outcome json = run(c.args + model + " --format json", false);
    ASSERT_EQ(json.code, 0) << c.name << ": " << json.out;
    expect_assumed_entries(nlohmann::json::parse(json.out), c.name);

    const Outcome text = run(c.args + model);
    ASSERT_EQ(text.code, 0) << c.name << ": " << text.out;
    EXPECT_NE(text.out.find("Assumed for deepseek-v4-flash (not stated in its config.json):"),
              std::string::npos)
        << c.name << ": " << text.out;
    EXPECT_NE(text.out.find("  - kv_cache.deploy: main_entry v4_fp8_sparse (584 B)"),
              std::string::npos)
        << c.name << ": " << text.out;
    // The file's name only, never the folder it was read from.
    EXPECT_EQ(text.out.find(hf), std::string::npos) << c.name << ": " << text.out;

    const Outcome yaml = run(c.args + " --model deepseek-v4-flash --format json", false);
    ASSERT_EQ(yaml.code, 0) << c.name << ": " << yaml.out;
    EXPECT_FALSE(nlohmann::json::parse(yaml.out).contains("assumed")) << c.name;
  }
}

/// A copy of a shipped config with one line's text replaced.
fs::path edited(const std::string& name, const std::string& from, const std::string& to) {
  std::ifstream in(hf_config(name));
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  const fs::path dir = fs::temp_directory_path() /
                       ("v4sim-hf-" + name + "-" + std::to_string(std::hash<std::string>{}(to)));
  fs::create_directories(dir);
  std::ofstream(dir / "config.json", std::ios::binary) << text;
  return dir / "config.json";
}

TEST(HfImportErrors, NameFileLineAndField) {
  struct Case {
    std::string model, from, to, line, fragment;
  };
  const Case cases[] = {
      {"deepseek-v4-flash", "\"o_groups\": 8", "\"o_groups\": 7", ":32:", "o_groups"},
      {"deepseek-v4-flash", "\"num_key_value_heads\": 1", "\"num_key_value_heads\": 8",
       ":30:", "shared-KV MQA"},
      {"deepseek-v4-flash", "\"hidden_size\": 4096", "\"hidden_size\": \"big\"",
       ":15:", "expected an integer"},
      {"deepseek-v4-flash", "\"model_type\": \"deepseek_v4\"", "\"model_type\": \"llama\"",
       ":21:", "deepseek_v3, deepseek_v32 and deepseek_v4"},
      {"deepseek-v4-flash", "\"hc_mult\": 4,", "\"hc_mult\": 4, \"hc_multi\": 4,",
       ":11:", "hc_multi"},
      {"deepseek-v4-flash", "\"compress_ratios\": [0, 0, 4,", "\"compress_ratios\": [0, 0, 5,",
       ":66:", "expected 0, csa_ratio or hca_ratio"},
      {"deepseek-v3", "\"fmt\": \"e4m3\"", "\"fmt\": \"e5m2\"", ":39:", "expected e4m3"},
      {"deepseek-v3.2", "\"n_routed_experts\": 256", "\"n_routed_experts\": 250",
       ":23:", "num_groups"},
  };
  for (const Case& c : cases) {
    const fs::path file = edited(c.model, c.from, c.to);
    const Outcome r = run("cost --model " + file.string() + " --context 4k");
    EXPECT_EQ(r.code, 2) << c.to << ": " << r.out;
    EXPECT_NE(r.out.find(file.string() + c.line), std::string::npos) << c.to << ": " << r.out;
    EXPECT_NE(r.out.find(c.fragment), std::string::npos) << c.to << ": " << r.out;
    fs::remove_all(file.parent_path());
  }
}

}  // namespace
