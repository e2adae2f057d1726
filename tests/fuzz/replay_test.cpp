// Every committed fuzz corpus file (seeds and past findings) through its target, in the ordinary
// build: a finding fixed once stays fixed. The fuzzers themselves run in .ci/fuzz.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "tests/fuzz/targets.h"

namespace {

namespace fs = std::filesystem;
using v4sim::fuzz::kTargets;
using v4sim::fuzz::Target;

std::vector<std::uint8_t> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class FuzzCorpus : public ::testing::TestWithParam<Target> {};

TEST_P(FuzzCorpus, EveryFileIsAcceptedOrRejectedAsInputError) {
  const Target t = GetParam();
  const fs::path dir = fs::path(V4SIM_FUZZ_CORPUS) / std::string(t.name);
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  EXPECT_FALSE(files.empty()) << "no seeds in " << dir;
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.string());
    const std::vector<std::uint8_t> bytes = read_bytes(f);
    EXPECT_NO_THROW(t.run(v4sim::fuzz::Bytes(bytes.data(), bytes.size())));
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzCorpus, ::testing::ValuesIn(kTargets),
                         [](const ::testing::TestParamInfo<Target>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
