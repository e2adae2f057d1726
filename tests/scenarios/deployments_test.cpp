// Measured-deployment files (scenarios/deployments.h): the shipped development set loads with
// every row as anchors-dev.md states it, and defects name the file, the line and the field.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "models/config/input_error.h"
#include "scenarios/deployments.h"
#include "tests/scenarios/scenario_files.h"

namespace v4sim {
namespace {

using testing_files::edit;
using testing_files::TempScenarios;

// One decode row and one aggregated row; line numbers below refer to this text.
const std::string kSmall = R"(source: "test file"
deployments:
  - id: decode-row
    source: "https://example.org/decode"
    conditions: "8 GPUs, decode"
    model: deepseek-v3
    system: hgx-h200
    devices: 8
    phase: decode
    layout: {tp: 1, dp: 8, ep: 8, pp: 1}
    batch: 64
    context_tokens: 4096
    kv_format: bf16
    mtp_tokens: 1
    mtp_acceptance: 0.8
    overlap: true
    expert_imbalance: 1.0
    measured: {metric: output_tokens_per_s_per_device, value: 1000}
  - id: aggregated-row
    source: "https://example.org/aggregated"
    estimate: "test reading"
    conditions: "8 GPUs, aggregated"
    model: deepseek-v3
    system: hgx-h200
    devices: 8
    phase: aggregated
    layout: {tp: 1, dp: 8, ep: 8, pp: 1}
    batch: 128
    input_tokens: 1024
    output_tokens: 2048
    weights: fp8
    kv_format: deploy
    mtp_tokens: 0
    overlap: false
    redundant_experts: 1
    moe_exchange: all_gather
    measured: {metric: output_tokens_per_s_per_device, value: 1436}
)";

/// Loading `text` fails with an InputError naming the file at `line`, the field and `what`.
void expect_deployments_error(const std::string& text, int line, const std::string& field,
                              const std::string& what) {
  testing_files::expect_load_error([](const std::string& path) { (void)load_deployments(path); },
                                   text, line, field, what);
}

TEST(Deployments, ShippedDevelopmentSetHasEveryAnchor) {
  const DeploymentSet s = load_deployments(default_deployments_file().string());
  ASSERT_EQ(s.rows.size(), 8u);
  const std::vector<std::string> ids = {"ds-profile-decode-h800",  "ds-profile-prefill-h800",
                                        "ds-service-decode-h800",  "sglang-h100-prefill-ep32",
                                        "sglang-h100-decode-ep72", "trtllm-b200-r1-fp4-adp8",
                                        "trtllm-h200-r1-fp8-adp8", "vllm-v4pro-b300-c1"};
  for (std::size_t i = 0; i < ids.size(); ++i) {
    SCOPED_TRACE(ids[i]);
    const Deployment& d = s.rows[i];
    EXPECT_EQ(d.id, ids[i]);
    EXPECT_NE(d.source.find("http"), std::string::npos);
    EXPECT_FALSE(d.conditions.empty());
    EXPECT_EQ(d.layout.devices(), d.devices);
    EXPECT_GT(d.measured, 0);
    EXPECT_EQ(d.model, i == 7 ? "deepseek-v4-pro" : "deepseek-v3");
    // TensorRT-LLM's attention DP on one DGX/HGX gathers tokens; the others dispatch them.
    EXPECT_EQ(d.moe_exchange, i == 5 || i == 6 ? MoeExchange::all_gather : MoeExchange::all_to_all);
  }
  // Loading by name finds the same file.
  EXPECT_EQ(load_deployments("dev").rows.size(), 8u);

  const Deployment& decode = s.rows[0];
  EXPECT_EQ(decode.system, "hgx-h800");
  EXPECT_EQ(decode.devices, 128);
  EXPECT_EQ(decode.phase, DeploymentPhase::decode);
  EXPECT_EQ(decode.layout.tp, 1);
  EXPECT_EQ(decode.layout.dp, 128);
  EXPECT_EQ(decode.layout.ep, 128);
  EXPECT_EQ(decode.batch, 128);
  EXPECT_EQ(decode.context_tokens, 4096);
  EXPECT_TRUE(decode.overlap);
  ASSERT_TRUE(decode.expert_imbalance.has_value());
  EXPECT_DOUBLE_EQ(*decode.expert_imbalance, 1.0);
  EXPECT_EQ(decode.metric, DeploymentMetric::output_tokens_per_s_per_device);
  EXPECT_DOUBLE_EQ(decode.measured, 2324);

  const Deployment& prefill = s.rows[1];
  EXPECT_EQ(prefill.phase, DeploymentPhase::prefill);
  EXPECT_EQ(prefill.metric, DeploymentMetric::input_tokens_per_s_per_device);
  EXPECT_EQ(prefill.batch * prefill.context_tokens, 16384);  // 16K tokens per GPU per step

  const Deployment& service = s.rows[2];
  EXPECT_EQ(service.devices, 144);
  EXPECT_EQ(service.mtp_tokens, 1);
  EXPECT_GE(service.mtp_acceptance, 0.85);
  EXPECT_LE(service.mtp_acceptance, 0.90);
  EXPECT_EQ(service.context_tokens, 4989);
  EXPECT_FALSE(service.estimate.empty());

  const Deployment& b200 = s.rows[5];
  EXPECT_EQ(b200.system, "dgx-b200");
  EXPECT_EQ(b200.phase, DeploymentPhase::aggregated);
  EXPECT_EQ(b200.weights, WeightsOverride::fp4_ffn);
  EXPECT_EQ(b200.batch, 896);
  EXPECT_EQ(b200.input_tokens, 1024);
  EXPECT_EQ(b200.output_tokens, 2048);
  EXPECT_EQ(b200.context_tokens, 0);

  const Deployment& v4 = s.rows[7];
  EXPECT_EQ(v4.system, "hgx-b300");
  EXPECT_EQ(v4.layout.tp, 8);
  EXPECT_EQ(v4.layout.dp, 1);
  EXPECT_EQ(v4.layout.ep, 8);
  EXPECT_EQ(v4.batch, 1);
  EXPECT_EQ(v4.metric, DeploymentMetric::tpot_s);
  EXPECT_DOUBLE_EQ(v4.measured, 0.0099);
}

TEST(Deployments, ReadsEveryField) {
  TempScenarios dir;
  const DeploymentSet s = load_deployments(dir.write("small", kSmall));
  EXPECT_EQ(s.source, "test file");
  ASSERT_EQ(s.rows.size(), 2u);
  const Deployment& d = s.rows[0];
  EXPECT_NE(d.where.find("small.yaml:3:"), std::string::npos) << d.where;
  EXPECT_EQ(d.kv_format, "bf16");
  EXPECT_EQ(d.weights, std::nullopt);
  EXPECT_EQ(d.mtp_tokens, 1);
  EXPECT_DOUBLE_EQ(d.mtp_acceptance, 0.8);
  EXPECT_FALSE(d.redundant_experts.has_value());
  EXPECT_EQ(d.moe_exchange, MoeExchange::all_to_all);
  const Deployment& a = s.rows[1];
  EXPECT_EQ(a.estimate, "test reading");
  EXPECT_EQ(a.weights, WeightsOverride::fp8);
  EXPECT_FALSE(a.overlap);
  EXPECT_FALSE(a.expert_imbalance.has_value());
  ASSERT_TRUE(a.redundant_experts.has_value());
  EXPECT_EQ(*a.redundant_experts, 1);
  EXPECT_EQ(a.moe_exchange, MoeExchange::all_gather);
}

TEST(Deployments, MalformedFilesNameFileLineAndField) {
  // Missing measured value.
  expect_deployments_error(edit(kSmall, "{metric: output_tokens_per_s_per_device, value: 1000}",
                                "{metric: output_tokens_per_s_per_device}"),
                           18, "deployments[0].measured.value", "missing required field");
  // Unknown key in a row, with a suggestion.
  expect_deployments_error(
      edit(kSmall, "    model: deepseek-v3\n    system", "    modle: deepseek-v3\n    system"), 6,
      "deployments[0].model", "modle");
  // Unknown model and system names are reported at the field naming them.
  expect_deployments_error(edit(kSmall, "model: deepseek-v3", "model: deepseek-v9"), 6,
                           "deployments[0].model", "deepseek-v9");
  expect_deployments_error(edit(kSmall, "system: hgx-h200", "system: hgx-h900"), 7,
                           "deployments[0].system", "hgx-h900");
  // Bad values.
  expect_deployments_error(edit(kSmall, "phase: decode", "phase: serving"), 9,
                           "deployments[0].phase", "expected decode, prefill or aggregated");
  expect_deployments_error(
      edit(kSmall, "{tp: 1, dp: 8, ep: 8, pp: 1}", "{tp: 1, dp: 4, ep: 4, pp: 1}"), 10,
      "deployments[0].layout", "tp*dp*pp = 4 ranks, but the row has 8 devices");
  expect_deployments_error(edit(kSmall, "value: 1000", "value: -3"), 18,
                           "deployments[0].measured.value", "must be in");
  expect_deployments_error(edit(kSmall, "metric: output_tokens_per_s_per_device, value: 1000",
                                "metric: input_tokens_per_s_per_device, value: 1000"),
                           18, "deployments[0].measured.metric", "does not fit phase decode");
  expect_deployments_error(edit(kSmall, "kv_format: bf16", "kv_format: fp8"), 13,
                           "deployments[0].kv_format", "expected deploy or bf16");
  expect_deployments_error(edit(kSmall, "weights: fp8", "weights: fp6"), 31,
                           "deployments[1].weights", "expected fp8, int8, fp4, fp4_ffn or bf16");
  expect_deployments_error(edit(kSmall, "    mtp_acceptance: 0.8\n", ""), 3,
                           "deployments[0].mtp_acceptance", "missing required field");
  expect_deployments_error(edit(kSmall, "mtp_tokens: 0", "mtp_tokens: 0\n    mtp_acceptance: 0.5"),
                           34, "deployments[1].mtp_acceptance", "given without draft tokens");
  expect_deployments_error(edit(kSmall, "overlap: true", "overlap: maybe"), 16,
                           "deployments[0].overlap", "");
  expect_deployments_error(edit(kSmall, "moe_exchange: all_gather", "moe_exchange: broadcast"), 36,
                           "deployments[1].moe_exchange", "expected all_to_all or all_gather");
  // Lengths that do not fit the phase.
  expect_deployments_error(edit(kSmall, "    input_tokens: 1024\n", "    context_tokens: 1024\n"),
                           29, "deployments[1].context_tokens",
                           "aggregated row gives input_tokens");
  expect_deployments_error(edit(kSmall, "    context_tokens: 4096\n", "    input_tokens: 4096\n"),
                           12, "deployments[0].input_tokens", "only aggregated rows");
  // A row without a source, an empty list, a duplicated id.
  expect_deployments_error(edit(kSmall, "    source: \"https://example.org/decode\"\n", ""), 3,
                           "deployments[0].source", "needs a 'source:'");
  expect_deployments_error("source: x\ndeployments: []\n", 2, "deployments", "non-empty list");
  expect_deployments_error(edit(kSmall, "id: aggregated-row", "id: decode-row"), 19,
                           "deployments[1].id", "listed twice");
  // Unknown top-level key.
  expect_deployments_error(edit(kSmall, "deployments:", "deployment:"), 2, "deployments", "");
}

}  // namespace
}  // namespace v4sim
