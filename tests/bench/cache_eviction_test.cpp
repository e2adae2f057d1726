// Cold caches between repetitions (kernels/bench/cache_eviction.h, timing.h): the last-level
// cache's size from a sysfs-shaped folder, the eviction size, and which policies evict.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "kernels/bench/cache_eviction.h"
#include "kernels/bench/host_ceilings.h"
#include "kernels/bench/suite.h"
#include "kernels/bench/timing.h"

namespace v4sim::bench {
namespace {

namespace fs = std::filesystem;

TEST(CacheEviction, ParsesSysfsSizes) {
  EXPECT_EQ(parse_cache_size("307200K"), 307200LL * 1024);
  EXPECT_EQ(parse_cache_size("48M"), 48LL << 20);
  EXPECT_EQ(parse_cache_size("1G"), 1LL << 30);
  EXPECT_EQ(parse_cache_size("4096"), 4096);
  EXPECT_EQ(parse_cache_size("12Q"), 0);
  EXPECT_EQ(parse_cache_size("K"), 0);
  EXPECT_EQ(parse_cache_size(""), 0);
  EXPECT_EQ(parse_cache_size("-5K"), 0);
}

class CacheDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("v4sim_cache_dir_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void add(const std::string& index, const std::string& level, const std::string& size) {
    fs::create_directories(dir_ / index);
    std::ofstream(dir_ / index / "level") << level << '\n';
    std::ofstream(dir_ / index / "size") << size << '\n';
  }
  fs::path dir_;
};

TEST_F(CacheDir, TheHighestLevelIsTheLastLevelCache) {
  add("index0", "1", "48K");
  add("index1", "1", "32K");
  add("index2", "2", "2048K");
  add("index3", "3", "307200K");
  add("other", "4", "999M");  // not a cache index: ignored
  EXPECT_EQ(last_level_cache_bytes(dir_), 307200LL * 1024);
}

TEST_F(CacheDir, AnUnreadableSizeIsSkipped) {
  add("index2", "2", "2048K");
  add("index3", "3", "lots");
  EXPECT_EQ(last_level_cache_bytes(dir_), 2048LL * 1024);
}

TEST(CacheEviction, ReadsAQuarterMoreThanTheCacheOrTheFallback) {
  EXPECT_EQ(eviction_bytes(300LL << 20), 375LL << 20);
  EXPECT_EQ(eviction_bytes(0), kFallbackEvictionBytes);
}

TEST(CacheEviction, OnlyTheMeasuringModesEvict) {
  EXPECT_EQ(suite_timing_policy(SuiteMode::smoke).evictor, nullptr);
  EXPECT_EQ(ceiling_options(SuiteMode::smoke).policy.evictor, nullptr);
  for (SuiteMode mode : {SuiteMode::quick, SuiteMode::full}) {
    const TimingPolicy p = suite_timing_policy(mode);
    ASSERT_NE(p.evictor, nullptr);
    EXPECT_EQ(p.evictor->bytes(), eviction_bytes(last_level_cache_bytes()));
    EXPECT_NE(ceiling_options(mode).policy.evictor, nullptr);
    EXPECT_EQ(cache_note(p).rfind("cold: ", 0), 0u) << cache_note(p);
  }
  EXPECT_EQ(cache_note(TimingPolicy{}), "warm: repetitions back to back");
}

TEST(CacheEviction, TheTimingLoopRunsEveryRepetitionAfterAnEviction) {
  TimingPolicy p;
  p.min_reps = 3;
  p.max_reps = 3;
  p.min_time_s = 0;
  p.evictor = std::make_shared<CacheEvictor>(std::int64_t{1} << 20);
  int runs = 0;
  const Timing t = time_repeated([&] { ++runs; }, p);
  EXPECT_EQ(runs, 3);
  EXPECT_EQ(t.reps, 3);
  EXPECT_EQ(cache_note(p), "cold: 1 MiB read before each repetition (untimed)");
}

}  // namespace
}  // namespace v4sim::bench
