// The v4sim binary: hardware and topology commands succeed on good input and exit 2 on bad input.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

int run(const std::string& args) {
  const std::string cmd = std::string(V4SIM_CLI_PATH) + " " + args + " >/dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(HardwareCli, GoodInput) {
  EXPECT_EQ(run("hardware"), 0);
  EXPECT_EQ(run("hardware h100"), 0);
  EXPECT_EQ(run("hardware ascend-910c --format json"), 0);
  EXPECT_EQ(run("hardware cloudmatrix384"), 0);
  EXPECT_EQ(run("topology hgx-h100 --nodes 2"), 0);
  const auto dot =
      std::filesystem::temp_directory_path() / ("v4sim_cli_" + std::to_string(::getpid()) + ".dot");
  EXPECT_EQ(run("topology cloudmatrix384 --format json --dot " + dot.string()), 0);
  EXPECT_TRUE(std::filesystem::exists(dot));
  std::filesystem::remove(dot);
}

TEST(HardwareCli, BadInputExitsTwo) {
  EXPECT_EQ(run("hardware no-such-device"), 2);
  EXPECT_EQ(run("hardware h100 --format yaml"), 2);
  EXPECT_EQ(run("hardware /nonexistent/dir/x.yaml"), 2);
  EXPECT_EQ(run("topology no-such-system"), 2);
  EXPECT_EQ(run("topology hgx-h100 --nodes 0"), 2);
  EXPECT_EQ(run("topology hgx-h100 --nodes 100000"), 2);
  EXPECT_EQ(run("topology cloudmatrix384 --nodes 49"), 2);
  EXPECT_EQ(run("topology h100"), 2);  // an accelerator, not a system
  EXPECT_EQ(run("topology hgx-h100 --dot /nonexistent/dir/x.dot"), 2);
}

}  // namespace
