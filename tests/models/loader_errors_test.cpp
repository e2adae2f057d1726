// Malformed model files: each defect gives an InputError naming the file, the line and the field.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "models/config/input_error.h"
#include "models/model_loader.h"

namespace v4sim {
namespace {

std::string shipped(const std::string& name) {
  std::ifstream in(default_models_dir() / (name + ".yaml"));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int line_of(const std::string& text, const std::string& needle) {
  const auto pos = text.find(needle);
  if (pos == std::string::npos) return -1;
  int line = 1;
  for (std::size_t i = 0; i < pos; ++i) line += text[i] == '\n';
  return line;
}

struct Case {
  std::string label;
  std::string from;  // text replaced in the shipped Pro file
  std::string to;
  std::string field;    // must appear in the message
  std::string at_line;  // the error's line: the first line holding this text in the mutated file
                        // (a mapping's position is that of its first key)
};

class LoaderErrors : public ::testing::TestWithParam<Case> {};

TEST_P(LoaderErrors, NamesFileLineAndField) {
  const Case& c = GetParam();
  std::string text = shipped("deepseek-v4-pro");
  const auto pos = text.find(c.from);
  ASSERT_NE(pos, std::string::npos) << c.from;
  text.replace(pos, c.from.size(), c.to);
  const auto path = std::filesystem::temp_directory_path() / ("v4sim-bad-" + c.label + ".yaml");
  std::ofstream(path) << text;
  const int line = line_of(text, c.at_line);
  ASSERT_GT(line, 0);
  try {
    load_model(path.string());
    FAIL() << c.label << ": no error";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path.string() + ":" + std::to_string(line) + ":"), std::string::npos)
        << c.label << ": " << msg;
    EXPECT_NE(msg.find(c.field), std::string::npos) << c.label << ": " << msg;
  }
  std::filesystem::remove(path);
}

// yaml-cpp reports a syntax error where it stops: for an unclosed bracket, the next line.
INSTANTIATE_TEST_SUITE_P(
    Model, LoaderErrors,
    ::testing::Values(
        Case{"unknown_key", "  num_heads: 128\n  head_dim: 512",
             "  num_heads: 128\n  num_headz: 3\n  head_dim: 512",
             "attention.num_headz' (did you mean 'num_heads'?)", "num_headz"},
        Case{"missing_key", "  o_lora_rank: 1024\n", "", "attention.o_lora_rank",
             "  source: https://huggingface.co/deepseek-ai/DeepSeek-V4-Pro/blob/main/config.json "
             "(num_attention_heads"},
        Case{"wrong_type", "  num_heads: 128", "  num_heads: many", "attention.num_heads",
             "num_heads: many"},
        Case{"negative", "  hidden_size: 7168", "  hidden_size: -7168", "dims.hidden_size",
             "hidden_size: -7168"},
        Case{"zero_heads", "  num_heads: 128", "  num_heads: 0", "attention.num_heads",
             "num_heads: 0"},
        Case{"float_for_int", "  vocab_size: 129280", "  vocab_size: 1.5", "dims.vocab_size",
             "vocab_size: 1.5"},
        Case{"groups", "  o_groups: 16", "  o_groups: 7", "attention.o_groups", "o_groups: 7"},
        Case{"ratios_length", "128, 4, 0]", "128, 0]", "attention.compress_ratios",
             "compress_ratios:"},
        Case{"ratio_value", "[128, 128, 4,", "[128, 128, 5,", "compress_ratios",
             "compress_ratios:"},
        Case{"bad_precision", "  core_attention: bf16", "  core_attention: bf17",
             "compute.core_attention", "core_attention: bf17"},
        Case{"bad_format", "  routed_experts: mxfp4", "  routed_experts: fp3",
             "weights.routed_experts", "routed_experts: fp3"},
        Case{"topk_gt_experts", "  experts_per_token: 6", "  experts_per_token: 385",
             "moe.experts_per_token", "experts_per_token: 385"},
        Case{"duplicate", "  num_heads: 128\n", "  num_heads: 128\n  num_heads: 64\n",
             "duplicate key 'attention.num_heads'", "num_heads: 64"},
        Case{"no_source",
             "  source: https://huggingface.co/deepseek-ai/DeepSeek-V4-Pro/blob/main/config.json "
             "(hc_mult, hc_sinkhorn_iters)\n",
             "", "mhc.source", "  streams: 4"},
        Case{"syntax", "  num_heads: 128", "  num_heads: [128", "YAML syntax error",
             "  head_dim: 512"},
        Case{"active_gt_total", "  active_params: 49e9", "  active_params: 2e12",
             "published.active_params", "active_params: 2e12"},
        Case{"nan", "  routed_scaling_factor: 2.5", "  routed_scaling_factor: .nan",
             "moe.routed_scaling_factor", "routed_scaling_factor: .nan"}),
    [](const auto& info) { return info.param.label; });

TEST(LoaderErrors, UnknownNameListsTheCatalogue) {
  try {
    load_model("deepseek-v4-prox");
    FAIL();
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("did you mean 'deepseek-v4-pro'"), std::string::npos) << msg;
  }
}

TEST(LoaderErrors, MissingFileAndNonMapping) {
  EXPECT_THROW(load_model("/nonexistent/model.yaml"), InputError);
  const auto path = std::filesystem::temp_directory_path() / "v4sim-bad-list.yaml";
  std::ofstream(path) << "- 1\n- 2\n";
  EXPECT_THROW(load_model(path.string()), InputError);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace v4sim
