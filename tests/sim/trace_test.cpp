// Trace readers and synthetic arrivals: strict errors naming file, line and field.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "models/config/input_error.h"
#include "sim/trace.h"

namespace v4sim {
namespace {

std::string write(const std::string& name, const std::string& text) {
  const std::filesystem::path p = std::filesystem::temp_directory_path() / ("v4sim_trace_" + name);
  std::ofstream(p, std::ios::binary) << text;
  return p.string();
}

/// The message of the InputError `f` throws ("" if none).
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Trace, MooncakeReadsEveryField) {
  const std::string path = write(
      "ok.jsonl",
      "{\"timestamp\": 0, \"input_length\": 1000, \"output_length\": 5, \"hash_ids\": [0, 1]}\n"
      "{\"timestamp\": 3000, \"input_length\": 512, \"output_length\": 1, \"hash_ids\": [0]}\n");
  const std::vector<Request> r = read_mooncake_trace(path, 1 << 20, 2.0);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].input_tokens, 1000);
  EXPECT_EQ(r[0].output_tokens, 5);
  EXPECT_EQ(r[0].block_hashes, (std::vector<std::uint64_t>{0, 1}));
  EXPECT_DOUBLE_EQ(r[1].arrival_s, 1.5);  // 3 s replayed twice as fast
}

TEST(Trace, MooncakeDefectsNameFileLineAndField) {
  const std::string good =
      "{\"timestamp\": 5, \"input_length\": 600, \"output_length\": 5, \"hash_ids\": [0, 1]}\n";
  const struct {
    std::string line, fragment;
  } cases[] = {
      {"{\"timestamp\": 4, \"input_length\": 600, \"output_length\": 5, \"hash_ids\": [0, 1]}",
       ":2: field 'timestamp' = '4': goes back in time"},
      {"{\"timestamp\": -1, \"input_length\": 600, \"output_length\": 5, \"hash_ids\": [0, 1]}",
       ":2: field 'timestamp' = '-1': must not be negative"},
      {"{\"timestamp\": 9, \"output_length\": 5, \"hash_ids\": [0, 1]}",
       ":2: field 'input_length': missing"},
      {"{\"timestamp\": 9, \"input_length\": 600, \"output_length\": 5, \"hash_ids\": [0]}",
       ":2: field 'hash_ids' = '1 ids': expected ceil(input_length / 512) = 2"},
      {"{\"timestamp\": 9, \"input_length\": 2000000, \"output_length\": 5, \"hash_ids\": []}",
       ":2: field 'input_length' = '2000000': prompt plus 5 output tokens exceeds"},
      {"{\"timestamp\": 9, \"input_length\": \"x\", \"output_length\": 5, \"hash_ids\": [0, 1]}",
       ":2: field 'input_length' = '\"x\"': expected an integer"},
      {"{\"timestamp\": 9, \"input_length\": 600, \"output_length\": 0, \"hash_ids\": [0, 1]}",
       ":2: field 'output_length' = '0': must be at least 1 token"},
      {"{\"timestamp\": 9, \"input_length\": 600, \"output_length\": 5, \"hash_ids\": [0, 1], "
       "\"user\": 3}",
       ":2: field 'user': unknown field"},
      {"", ":2: empty line"},
  };
  int i = 0;
  for (const auto& c : cases) {
    const std::string path = write("bad" + std::to_string(i++) + ".jsonl", good + c.line + "\n");
    const std::string msg = error_of([&] { read_mooncake_trace(path, 1 << 20); });
    EXPECT_NE(msg.find(path + c.fragment), std::string::npos) << msg << "\nwanted " << c.fragment;
  }
}

TEST(Trace, AzureCrlfAndMissingFinalNewline) {
  const std::string path = write("ok.csv",
                                 "TIMESTAMP,ContextTokens,GeneratedTokens\r\n"
                                 "2023-11-16 18:17:03.9799600,4808,10\r\n"
                                 "2023-11-16 18:17:04.0319600,3180,8");
  const std::vector<Request> r = read_azure_trace(path, 1 << 20);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_DOUBLE_EQ(r[0].arrival_s, 0.0);
  EXPECT_NEAR(r[1].arrival_s, 0.052, 1e-12);
  EXPECT_EQ(r[1].input_tokens, 3180);
  EXPECT_EQ(r[1].output_tokens, 8);
  EXPECT_TRUE(r[1].block_hashes.empty());
}

TEST(Trace, AzureDefectsNameFileLineAndField) {
  const std::string header = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  const std::string first = "2023-11-16 18:17:03.9799600,4808,10\n";
  const struct {
    std::string text, fragment;
  } cases[] = {
      {"TIMESTAMP,ContextTokens\n" + first, ":1: field 'GeneratedTokens': missing column"},
      {header + first + "2023-11-16 18:17:02.0,10,10\n",
       ":3: field 'TIMESTAMP' = '2023-11-16 18:17:02.0': goes back in time"},
      {header + first + "yesterday,10,10\n", ":3: field 'TIMESTAMP' = 'yesterday': expected"},
      {header + first + "2023-11-16 18:17:04.0,-3,10\n",
       ":3: field 'ContextTokens' = '-3': must be at least 1 token"},
      {header + first + "2023-11-16 18:17:04.0,10\n", ":3: 2 columns, the header has 3"},
      {header + first + "2023-11-16 18:17:04.0,9999999,10\n",
       ":3: field 'ContextTokens' = '9999999': prompt plus 10 output tokens exceeds"},
  };
  int i = 0;
  for (const auto& c : cases) {
    const std::string path = write("bad" + std::to_string(i++) + ".csv", c.text);
    const std::string msg = error_of([&] { read_azure_trace(path, 1 << 20); });
    EXPECT_NE(msg.find(path + c.fragment), std::string::npos) << msg << "\nwanted " << c.fragment;
  }
}

TEST(Trace, PublishedTracesReadWhole) {
  const std::filesystem::path dir = "/work/shared/data/traces";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "no " << dir;
  EXPECT_EQ(read_trace((dir / "mooncake_fast25_conversation_trace.jsonl").string(), 1 << 20).size(),
            12031u);
  EXPECT_EQ(read_trace((dir / "AzureLLMInferenceTrace_code.csv").string(), 1 << 20).size(), 8819u);
  EXPECT_EQ(read_trace((dir / "AzureLLMInferenceTrace_conv.csv").string(), 1 << 20).size(), 19366u);
}

TEST(Trace, SyntheticRateAndBurstiness) {
  for (double cv : {1.0, 4.0}) {
    SyntheticArrivals spec;
    spec.rate_per_s = 10;
    spec.requests = 200000;
    spec.burstiness_cv = cv;
    spec.input = {100, 200};
    spec.output = {7, 7};
    spec.seed = 42;
    SyntheticSource source(spec, 1 << 20);
    Request r;
    double previous = 0, sum = 0, sum2 = 0;
    std::int64_t n = 0;
    while (source.next(r)) {
      if (n > 0) {
        const double gap = r.arrival_s - previous;
        sum += gap;
        sum2 += gap * gap;
      }
      previous = r.arrival_s;
      EXPECT_GE(r.input_tokens, 100);
      EXPECT_LE(r.input_tokens, 200);
      EXPECT_EQ(r.output_tokens, 7);
      ++n;
    }
    ASSERT_EQ(n, 200000);
    const double mean = sum / static_cast<double>(n - 1);
    const double sd = std::sqrt(sum2 / static_cast<double>(n - 1) - mean * mean);
    EXPECT_NEAR(mean, 0.1, 0.003) << "cv " << cv;
    EXPECT_NEAR(sd / mean, cv, 0.05 * cv) << "cv " << cv;
  }
}

TEST(Trace, LengthDistributions) {
  EXPECT_EQ(parse_length_distribution("2048", "--input-tokens").max_tokens, 2048);
  EXPECT_EQ(parse_length_distribution("512-4096", "--input-tokens").min_tokens, 512);
  for (const char* bad : {"", "0", "-5", "10-5", "abc", "1-x"})
    EXPECT_NE(error_of([&] { parse_length_distribution(bad, "--input-tokens"); }).find("--input"),
              std::string::npos)
        << bad;
}

}  // namespace
}  // namespace v4sim
