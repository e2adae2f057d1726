// Command-line value parsers.
#include "reports/cli/values.h"

#include <gtest/gtest.h>

#include "models/config/input_error.h"

namespace v4sim::cli {
namespace {

TEST(ParseContext, Suffixes) {
  EXPECT_EQ(parse_context("4096", "--context"), 4096);
  EXPECT_EQ(parse_context("4k", "--context"), 4096);
  EXPECT_EQ(parse_context("128K", "--context"), 131072);
  EXPECT_EQ(parse_context("1m", "--context"), 1048576);
  EXPECT_EQ(parse_context("1M", "--context"), 1048576);
  EXPECT_EQ(parse_context_list("4k,128k,1m", "--context"),
            (std::vector<std::int64_t>{4096, 131072, 1048576}));
}

TEST(ParseContext, RejectsBadText) {
  for (const char* bad : {"", "0", "0k", "-1", "k", "4kk", "1.5k", "4 k", "4g", "99999999999999m",
                          "9999999999999m",  // 13 digits: 1.05e19 would overflow int64 (issue 7)
                          "1e6", "0x10", "4k,", ",4k", "4k,,1m"}) {
    EXPECT_THROW(parse_context_list(bad, "--context"), InputError) << "'" << bad << "'";
  }
  try {
    parse_context("4x", "--context");
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--context '4x'"), std::string::npos) << e.what();
  }
}

TEST(ParseOther, FormatsPhasesNames) {
  EXPECT_EQ(parse_output_format("json"), OutputFormat::json);
  EXPECT_THROW(parse_output_format("xml"), InputError);
  EXPECT_EQ(parse_phase("prefill"), Phase::prefill);
  EXPECT_THROW(parse_phase("train"), InputError);
  EXPECT_EQ(parse_name_list("a,b", "--models"), (std::vector<std::string>{"a", "b"}));
  EXPECT_THROW(parse_name_list("a,,b", "--models"), InputError);
}

}  // namespace
}  // namespace v4sim::cli
