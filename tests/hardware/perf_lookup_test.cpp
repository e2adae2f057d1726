// PerfModel passes over the siblings of other vendors (peek_vendor) and those whose tables cannot
// serve a collective (SiblingSearch::by_coverage, reading group sizes from the CSVs) instead of
// loading every sibling's accelerator file and tables of the class until one serves
// (exhaustive). Both must choose the same table and give the same time, for every catalogue
// accelerator as the target, a call of every shipped compute table, and collectives of every
// group size a deployment asks for: one node, a rack, a SuperPoD's expert-parallel group.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hardware/accelerator.h"
#include "hardware/perf_model.h"
#include "hardware/perf_table.h"

namespace v4sim {
namespace {

namespace fs = std::filesystem;

std::vector<KernelCall> collective_calls() {
  std::vector<KernelCall> calls;
  for (KernelClass k : {KernelClass::dispatch, KernelClass::combine})
    for (bool low_latency : {true, false})
      for (bool spans_nodes : {false, true})
        for (double ep : {2, 4, 8, 12, 16, 32, 36, 64, 72, 128, 144, 256, 384, 768, 8192})
          // The shapes of V3 (7168, top-8), V4-Pro (7168, top-6), V4-Flash (4096, top-6) and one
          // no table has: each takes its own variant where a device has one, else the nearest.
          for (auto [hidden, topk] : {std::pair{7168, 8}, {7168, 6}, {4096, 6}, {5120, 4}}) {
            KernelCall c;
            c.kernel = k;
            c.low_latency = low_latency;
            c.spans_nodes = spans_nodes;
            c.ep = ep;
            c.hidden = hidden;
            c.topk = topk;
            c.payload_bytes_per_token = hidden * topk * (k == KernelClass::dispatch ? 1 : 2);
            c.tokens_per_rank = 128;
            c.link_latency_s = 1e-6;
            calls.push_back(c);
          }
  for (bool custom : {true, false})
    for (bool graph : {true, false})
      for (double ranks : {2, 4, 8, 16, 72}) {
        KernelCall c;
        c.kernel = KernelClass::all_reduce;
        c.custom_all_reduce = custom;
        c.cuda_graph = graph;
        c.ranks = ranks;
        c.message_bytes = 7168 * 2 * 64;
        c.link_latency_s = 1e-6;
        calls.push_back(c);
      }
  return calls;
}

/// A compute call of every shipped compute table (its first row): the classes a device may lack
/// and borrow from the nearest sibling of its vendor.
std::vector<KernelCall> compute_calls() {
  std::vector<KernelCall> calls;
  for (const std::string& name : list_measured_accelerators())
    for (const PerfTable& t : load_perf_tables(name).tables)
      if (!is_communication(t.kernel)) calls.push_back(call_for_row(t, t.rows.front()));
  return calls;
}

// The exhaustive search reads every table of a class; the default one reads a dispatch or
// combine table only when its peeked shape is among the nearest to the call's.
TEST(PerfLookup, SkippingSiblingsThatCannotServeChoosesTheSameTable) {
  int transferred = 0, not_found = 0;
  const std::vector<KernelCall> compute = compute_calls();
  for (const std::string& name : list_accelerators()) {
    const Accelerator target = load_accelerator(name);
    const PerfModel fast(target);
    const PerfModel full(target, {}, {}, SiblingSearch::exhaustive);
    std::vector<KernelCall> calls = collective_calls();
    for (const KernelCall& c : compute) calls.push_back(c);
    for (const KernelCall& c : calls) {
      const PerfEstimate a = fast.estimate(c);
      const PerfEstimate b = full.estimate(c);
      const std::string what = name + " " + std::string(to_string(c.kernel)) + " key " +
                               std::to_string(c.kernel == KernelClass::all_reduce ? c.ranks : c.ep);
      ASSERT_EQ(a.found, b.found) << what;
      EXPECT_EQ(a.time_s, b.time_s) << what;
      EXPECT_EQ(a.device, b.device) << what;
      EXPECT_EQ(a.table, b.table) << what;
      EXPECT_EQ(a.source, b.source) << what;
      EXPECT_EQ(a.extrapolated, b.extrapolated) << what;
      transferred += a.source == TimeSource::transferred;
      not_found += !a.found;
    }
  }
  // Both kinds of answer occur, so the comparison covers skipped and chosen siblings.
  EXPECT_GT(transferred, 0);
  EXPECT_GT(not_found, 0);
}

// GB200's own dispatch tables are 4-GPU measurements; a 72-rank group takes the nearest sibling
// measured at 36-144 ranks, whichever way the siblings are searched.
TEST(PerfLookup, ARackWideGroupTakesASiblingThatCoversIt) {
  KernelCall c;
  c.kernel = KernelClass::dispatch;
  c.low_latency = false;
  c.ep = 72;
  c.hidden = 7168;
  c.topk = 8;
  c.payload_bytes_per_token = 7168 * 8;
  c.tokens_per_rank = 128;
  const PerfEstimate e = PerfModel(load_accelerator("gb200")).estimate(c);
  ASSERT_TRUE(e.found);
  EXPECT_EQ(e.source, TimeSource::transferred);
  EXPECT_NE(e.device, "gb200");
}

// The shape read from a table file's text is the loader's, for every shipped dispatch and
// combine table (the files whose loading waits on it); a `fixed:` line that is not one flow
// mapping of plain words and decimals, or that appears twice, gives nothing.
TEST(PeekTableShape, MatchesTheLoaderOrSaysNothing) {
  int peeked = 0;
  for (const std::string& name : list_measured_accelerators()) {
    const fs::path folder = default_perf_dir() / name;
    for (const std::string& stem : list_table_stems(folder))
      for (KernelClass k : {KernelClass::dispatch, KernelClass::combine}) {
        if (!stem_names_class(stem, k)) continue;
        const std::optional<PerfTable> shape = peek_table_shape(folder, stem, k);
        ASSERT_TRUE(shape) << name << "/" << stem;
        const PerfTable t = load_perf_table(folder / (stem + ".yaml"));
        EXPECT_EQ(shape->name, t.name);
        EXPECT_EQ(shape->kernel, t.kernel);
        EXPECT_EQ(shape->fixed, t.fixed) << name << "/" << stem;
        EXPECT_EQ(shape->fixed_words, t.fixed_words) << name << "/" << stem;
        ++peeked;
      }
  }
  EXPECT_GT(peeked, 50);
  const fs::path dir = fs::temp_directory_path() / ("v4sim-shape-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto peek = [&](const std::string& stem, const std::string& text) {
    std::ofstream(dir / (stem + ".yaml")) << text;
    return peek_table_shape(dir, stem, KernelClass::dispatch);
  };
  const auto plain =
      peek("dispatch-a", "kernel: dispatch\nfixed: {mode: normal, hidden: 7168.5}\n");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->fixed_words.at("mode"), "normal");
  EXPECT_EQ(plain->fixed.at("hidden"), 7168.5);
  EXPECT_FALSE(peek("dispatch-b", "fixed:\n  mode: normal\n"));  // block mapping
  EXPECT_FALSE(peek("dispatch-c", "fixed: {mode: normal}\nfixed: {mode: low_latency}\n"));
  EXPECT_FALSE(peek("dispatch-d", "fixed: {mode: \"normal\", hidden: 7168}\n"));  // quoted
  EXPECT_FALSE(peek("dispatch-e", "fixed: {mode: normal, hidden: 7_168}\n"));
  EXPECT_FALSE(peek("dispatch-f", "fixed: {mode: normal, hidden: 7.2e3}\n"));
  EXPECT_FALSE(peek("dispatch-g", "fixed: {hidden: 1, hidden: 2}\n"));
  EXPECT_FALSE(peek("dispatch-h", "fixed: {mode: normal} # a comment\n"));
  EXPECT_FALSE(peek("dispatch-i", "kernel: dispatch\n"));
  EXPECT_FALSE(peek_table_shape(dir, "dispatch-missing", KernelClass::dispatch));
  fs::remove_all(dir);
}

// A device's launch floor read from its GEMM tables' CSVs is the loader's smallest latency, for
// every shipped GEMM table (the tables whose loading it spares); a CSV that is not a header
// ending in latency_us over rows of positive numbers gives nothing.
TEST(PeekSmallestLatency, MatchesTheLoaderOrSaysNothing) {
  int peeked = 0;
  for (const std::string& name : list_measured_accelerators()) {
    const fs::path folder = default_perf_dir() / name;
    for (const std::string& stem : list_table_stems(folder)) {
      if (!stem_names_class(stem, KernelClass::gemm)) continue;
      const std::optional<double> smallest = peek_smallest_latency_s(folder, stem);
      ASSERT_TRUE(smallest) << name << "/" << stem;
      EXPECT_EQ(*smallest, smallest_latency_s(load_perf_table(folder / (stem + ".yaml"))))
          << name << "/" << stem;
      ++peeked;
    }
  }
  EXPECT_GT(peeked, 10);
  const fs::path dir = fs::temp_directory_path() / ("v4sim-floor-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto peek = [&](const std::string& stem, const std::string& text) {
    std::ofstream(dir / (stem + ".csv")) << text;
    return peek_smallest_latency_s(dir, stem);
  };
  EXPECT_EQ(peek("gemm-a", "m,n,k,latency_us\n1,2,3,4.5\n\n 8 ,2,3, 2.25\r\n"), 2.25e-6);
  EXPECT_FALSE(peek("gemm-b", "m,n,k,latency_us\n"));                    // no rows
  EXPECT_FALSE(peek("gemm-c", "m,n,k,time_us\n1,2,3,4\n"));              // not latency_us
  EXPECT_FALSE(peek("gemm-d", "m,n,k,latency_us\n1,2,3\n"));             // a cell short
  EXPECT_FALSE(peek("gemm-e", "m,n,k,latency_us\n1,2,3,4\n0,2,3,1\n"));  // not positive
  EXPECT_FALSE(peek("gemm-f", "m,n,k,latency_us\n1,2,3,4\n1,2,x,1\n"));  // not a number
  EXPECT_FALSE(peek_smallest_latency_s(dir, "gemm-missing"));
  fs::remove_all(dir);
}

// The vendor read from a file's text is the loader's, for every catalogue accelerator; a file
// whose vendor line is not one plain word, or that has two, gives nothing (the caller loads it).
TEST(PeekVendor, MatchesTheLoaderOrSaysNothing) {
  for (const std::string& name : list_accelerators())
    EXPECT_EQ(peek_vendor(name), load_accelerator(name).vendor) << name;
  const fs::path dir = fs::temp_directory_path() / ("v4sim-vendor-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "quoted.yaml") << "name: quoted\nvendor: \"nvidia\"\n";
  std::ofstream(dir / "twice.yaml") << "vendor: amd\nnote: |\nvendor: nvidia\n";
  std::ofstream(dir / "plain.yaml") << "name: plain\nvendor: amd  \nrank: {}\n";
  EXPECT_EQ(peek_vendor("quoted", dir), "");
  EXPECT_EQ(peek_vendor("twice", dir), "");
  EXPECT_EQ(peek_vendor("plain", dir), "amd");
  EXPECT_EQ(peek_vendor("missing", dir), "");
  fs::remove_all(dir);
}

// The speeds that rank siblings, read from a file's text, are the loader's for every catalogue
// accelerator; a file whose lines are not plain single numbers in their blocks gives nothing.
TEST(PeekSpeeds, MatchesTheLoaderOrSaysNothing) {
  int peeked = 0;
  for (const std::string& name : list_accelerators()) {
    const std::optional<DeviceSpeeds> s = peek_speeds(name);
    if (!s) continue;
    const Accelerator a = load_accelerator(name);
    EXPECT_EQ(s->bf16_flops_per_s, a.peak_flops_per_s(ComputePath::bf16)) << name;
    EXPECT_EQ(s->hbm_bytes_per_s, a.hbm_bytes_per_s()) << name;
    ++peeked;
  }
  // Every measured sibling a lookup may rank is read this way.
  for (const std::string& name : list_measured_accelerators())
    EXPECT_TRUE(peek_speeds(name)) << name;
  EXPECT_GT(peeked, 10);
  const fs::path dir = fs::temp_directory_path() / ("v4sim-speeds-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto peek = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / (name + ".yaml")) << text;
    return peek_speeds(name, dir);
  };
  const std::string peaks = "peak_tflops:\n  source: \"s\"\n  bf16: 148.5\n";
  const std::string memory = "memory:\n  hbm_capacity_gb: 96\n  hbm_bandwidth_tb_per_s: 4.0\n";
  const auto plain = peek("plain", "# bf16: 1\nname: plain\n" + peaks + memory);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->bf16_flops_per_s, 148.5e12);
  EXPECT_EQ(plain->hbm_bytes_per_s, 4.0e12);
  const auto range =
      peek("range", "peak_tflops:\n  bf16: {nominal: 2, low: 1, high: 3}\n" + memory);
  ASSERT_TRUE(range);
  EXPECT_EQ(range->bf16_flops_per_s, 2e12);
  EXPECT_FALSE(peek("partial", "peak_tflops:\n  bf16: {nominal: 2, low: 1}\n" + memory));
  EXPECT_FALSE(peek("block", "peak_tflops:\n  bf16:\n    nominal: 2\n" + memory));
  EXPECT_FALSE(peek("comment", "peak_tflops:\n  bf16: 1  # dense\n" + memory));
  EXPECT_FALSE(peek("twice", peaks + memory + peaks));
  EXPECT_FALSE(peek("nested", "peak_tflops:\n  fp8:\n    bf16: 1\n" + memory));
  EXPECT_FALSE(peek("elsewhere", "other:\n  bf16: 1\n" + memory));
  EXPECT_FALSE(peek("exponent", "peak_tflops:\n  bf16: 1e3\n" + memory));
  EXPECT_FALSE(peek_speeds("missing", dir));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace v4sim
