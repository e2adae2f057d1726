// The measured kernel tables (hardware/perf/): every shipped table loads, re-predicts its own rows
// exactly and its left-out rows within a stated tolerance, extrapolates monotonically with a
// warning; malformed tables are errors naming file, line and field.
#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "hardware/accelerator.h"
#include "hardware/perf_internal.h"
#include "hardware/perf_model.h"
#include "hardware/perf_table.h"
#include "kernels/linear.h"
#include "kernels/moe.h"
#include "models/config/input_error.h"

namespace v4sim {
namespace {

namespace fs = std::filesystem;

struct Shipped {
  Accelerator device;
  PerfTable table;
};

std::vector<Shipped> shipped_tables() {
  std::vector<Shipped> out;
  for (const std::string& name : list_measured_accelerators()) {
    const Accelerator device = load_accelerator(name);
    for (PerfTable& t : load_perf_tables(name).tables) out.push_back({device, std::move(t)});
  }
  return out;
}

TEST(PerfTables, EveryShippedTableLoadsWithProvenance) {
  const std::vector<Shipped> all = shipped_tables();
  ASSERT_GE(all.size(), 100u);  // 135 tables when written (hardware/perf/COVERAGE.md)
  for (const Shipped& s : all) {
    EXPECT_FALSE(s.table.source.empty()) << s.table.file;
    EXPECT_FALSE(s.table.conditions.empty()) << s.table.file;
    EXPECT_FALSE(s.table.rows.empty()) << s.table.file;
  }
}

TEST(PerfTables, EveryAcceleratorFolderIsACatalogueAccelerator) {
  const std::vector<std::string> known = list_accelerators();
  for (const std::string& name : list_measured_accelerators())
    EXPECT_TRUE(std::find(known.begin(), known.end(), name) != known.end()) << name;
}

// A measured shape gets its own row back: the efficiency at a row is the row's, and the ideal
// time of the call is the ideal time of the row. (estimate_from_table is prepare + evaluate; the
// table is prepared once here, not once per row.)
TEST(PerfTables, EveryRowIsRepredictedExactly) {
  for (const Shipped& s : shipped_tables()) {
    const perf_detail::Prepared p = perf_detail::prepare_table(s.table, s.device);
    const double floor_s = smallest_latency_s(s.table);
    for (const std::vector<double>& row : s.table.rows) {
      const PerfEstimate e = perf_detail::evaluate_prepared(
          p, s.device, s.device, call_for_row(s.table, row), true, floor_s);
      ASSERT_TRUE(e.found) << s.table.file;
      EXPECT_NEAR(e.time_s / (row.back() * 1e-6), 1.0, 1e-9) << s.table.file;
      EXPECT_EQ(e.source, TimeSource::measured);
      EXPECT_FALSE(e.extrapolated);
    }
  }
}

// Leave-one-out: each interior row of a group (its neighbours on the axis kept) is predicted from
// the table without it. Tolerance, stated for the interpolation rule and not for any deployment:
// per table, the median error within 25 % and at most 10 % of its rows off by more than 2x.
// Measured sweeps have kernel-selection steps that neighbours cannot know about (aiconfigurator's
// H100/H200 FP8 GEMMs jump 2-3x at m = 256 for some n, k, with activation quantisation timed in).
// Groups are independent in a prepared table, so the table without row i is the prepared table
// with only row i's group rebuilt (and the table's smallest latency taken without the row): the
// same estimate as preparing the whole table again, at a fraction of the time.
TEST(PerfTables, LeftOutRowsArePredictedFromTheirNeighbours) {
  int tables_checked = 0;
  for (const Shipped& s : shipped_tables()) {
    const PerfTable& t = s.table;
    perf_detail::Prepared full = perf_detail::prepare_table(t, s.device);
    std::map<std::vector<double>, std::vector<std::size_t>> rows_of;  // by non-axis keys
    for (std::size_t i = 0; i < t.rows.size(); ++i) {
      std::vector<double> keys;
      for (int c : full.key_cols) keys.push_back(t.rows[i][c]);
      rows_of[keys].push_back(i);
    }
    std::vector<double> latencies;
    for (const std::vector<double>& row : t.rows) latencies.push_back(row.back() * 1e-6);
    std::vector<double> sorted = latencies;
    std::sort(sorted.begin(), sorted.end());
    const int axis = full.axis_col;
    PerfTable shell = t;  // the table's description, rows filled per left-out row
    shell.rows.clear();
    std::vector<double> errors;
    std::size_t beyond_2x = 0;
    for (const auto& [keys, members] : rows_of) {
      const auto group = std::find_if(full.groups.begin(), full.groups.end(),
                                      [&keys = keys](const auto& g) { return g.keys == keys; });
      ASSERT_NE(group, full.groups.end()) << t.file;
      for (std::size_t i : members) {
        // Interior: a row of the same group below and above on the axis.
        bool below = false, above = false;
        for (std::size_t j : members) {
          below = below || t.rows[j][axis] < t.rows[i][axis];
          above = above || t.rows[j][axis] > t.rows[i][axis];
        }
        if (!below || !above) continue;
        PerfTable group_without = shell;
        for (std::size_t j : members)
          if (j != i) group_without.rows.push_back(t.rows[j]);
        perf_detail::Prepared rebuilt = perf_detail::prepare_table(group_without, s.device);
        ASSERT_EQ(rebuilt.groups.size(), 1u) << t.file;
        std::swap(*group, rebuilt.groups.front());
        const double floor_s = latencies[i] == sorted[0] ? sorted[1] : sorted[0];
        const PerfEstimate e = perf_detail::evaluate_prepared(
            full, s.device, s.device, call_for_row(t, t.rows[i]), true, floor_s);
        std::swap(*group, rebuilt.groups.front());
        ASSERT_TRUE(e.found) << t.file;
        const double ratio = e.time_s / (t.rows[i].back() * 1e-6);
        errors.push_back(std::abs(ratio - 1.0));
        beyond_2x += std::max(ratio, 1.0 / ratio) > 2.0;
      }
    }
    if (errors.empty()) continue;
    ++tables_checked;
    EXPECT_LE(beyond_2x, errors.size() / 10)
        << t.file << ": " << beyond_2x << " of " << errors.size() << " left-out rows beyond 2x";
    std::nth_element(errors.begin(), errors.begin() + errors.size() / 2, errors.end());
    EXPECT_LE(errors[errors.size() / 2], 0.25) << t.file;
  }
  EXPECT_GE(tables_checked, 50);
}

// Beyond the largest measured m a GEMM keeps the efficiency of its end: time grows with m, and
// the estimate says it extrapolated.
TEST(PerfTables, OutOfRangeShapesExtrapolateMonotonicallyWithAWarning) {
  const Accelerator h800 = load_accelerator("h800");
  const PerfTables tables = load_perf_tables("h800");
  const auto gemm = std::find_if(tables.tables.begin(), tables.tables.end(),
                                 [](const auto& t) { return t.kernel == KernelClass::gemm; });
  ASSERT_NE(gemm, tables.tables.end());
  std::vector<double> row = gemm->rows.front();
  double largest_m = 0;
  for (const auto& r : gemm->rows)
    if (r[1] == row[1] && r[2] == row[2]) largest_m = std::max(largest_m, r[0]);
  double previous = 0;
  for (double m = largest_m / 4; m <= largest_m * 16; m *= 2) {
    row[0] = m;
    const PerfEstimate e = estimate_from_table(*gemm, h800, h800, call_for_row(*gemm, row));
    ASSERT_TRUE(e.found);
    EXPECT_GE(e.time_s, previous) << "m = " << m;
    EXPECT_EQ(e.extrapolated, m > largest_m) << "m = " << m;
    previous = e.time_s;
  }
}

// Every shipped table, every row group: beyond its largest measured position on the table's axis
// (2x, 4x, 16x) and below its smallest (1/2, 1/4) the time moves monotonically from the measured
// end (a compute kernel keeps the end's efficiency, a collective the end's bandwidth) and the
// estimate says it extrapolated, which the step model turns into a warning. A collective group
// measured at a single payload is the alpha-beta line through it, valid at every payload: there
// only monotonicity is asked.
TEST(PerfTables, EveryTableExtrapolatesMonotonicallyWithAWarning) {
  int groups_checked = 0;
  for (const Shipped& s : shipped_tables()) {
    const PerfTable& t = s.table;
    const perf_detail::Prepared p = perf_detail::prepare_table(t, s.device);
    const double floor_s = smallest_latency_s(t);
    const int axis = p.axis_col;
    std::map<std::vector<double>, std::pair<std::size_t, std::size_t>> ends;  // lowest, highest
    std::map<std::vector<double>, int> members;
    for (std::size_t i = 0; i < t.rows.size(); ++i) {
      std::vector<double> keys;
      for (int c : p.key_cols) keys.push_back(t.rows[i][c]);
      auto [it, fresh] = ends.try_emplace(keys, i, i);
      if (t.rows[i][axis] < t.rows[it->second.first][axis]) it->second.first = i;
      if (t.rows[i][axis] > t.rows[it->second.second][axis]) it->second.second = i;
      ++members[keys];
    }
    for (const auto& [keys, end] : ends) {
      const bool line = is_communication(t.kernel) && members[keys] == 1;
      const auto at = [&](std::size_t row, double factor) {
        std::vector<double> r = t.rows[row];
        r[axis] *= factor;
        return perf_detail::evaluate_prepared(p, s.device, s.device, call_for_row(t, r), true,
                                              floor_s);
      };
      double previous = at(end.second, 1.0).time_s;
      for (const double f : {2.0, 4.0, 16.0}) {
        const PerfEstimate e = at(end.second, f);
        ASSERT_TRUE(e.found) << t.file;
        EXPECT_GE(e.time_s, previous * (1 - 1e-12)) << t.file << " x" << f;
        EXPECT_EQ(e.extrapolated, !line) << t.file << " x" << f;
        previous = e.time_s;
      }
      previous = at(end.first, 1.0).time_s;
      for (const double f : {0.5, 0.25}) {
        const PerfEstimate e = at(end.first, f);
        ASSERT_TRUE(e.found) << t.file;
        EXPECT_LE(e.time_s, previous * (1 + 1e-12)) << t.file << " x" << f;
        EXPECT_EQ(e.extrapolated, !line) << t.file << " x" << f;
        previous = e.time_s;
      }
      ++groups_checked;
    }
  }
  EXPECT_GE(groups_checked, 1000);
}

// A transfer keeps the efficiency: on a device with twice the peaks and bandwidth a large,
// compute-bound GEMM takes half the time.
TEST(PerfTables, TransferScalesByPeaksAndBandwidth) {
  const Accelerator h800 = load_accelerator("h800");
  Accelerator twice = h800;
  twice.name = "twice";
  for (auto& p : twice.peak_tflops)
    if (p) p = Range::exactly(p->nominal * 2);
  twice.hbm_bandwidth_tb_per_s = Range::exactly(h800.hbm_bandwidth_tb_per_s.nominal * 2);
  const PerfTables tables = load_perf_tables("h800");
  const PerfTable& gemm =
      *std::find_if(tables.tables.begin(), tables.tables.end(),
                    [](const auto& t) { return t.kernel == KernelClass::gemm; });
  const std::vector<double>& big =
      *std::max_element(gemm.rows.begin(), gemm.rows.end(),
                        [](const auto& a, const auto& b) { return a.back() < b.back(); });
  const PerfEstimate here = estimate_from_table(gemm, h800, h800, call_for_row(gemm, big));
  const PerfEstimate there = estimate_from_table(gemm, h800, twice, call_for_row(gemm, big));
  EXPECT_EQ(there.source, TimeSource::transferred);
  EXPECT_NEAR(there.time_s / here.time_s, 0.5, 1e-9);
}

/// A DeepEP low-latency dispatch of DeepSeek-V3's shape (hidden 7168, top-8, FP8) over `ep`
/// ranks, 128 tokens each, as the step model asks for it.
KernelCall v3_low_latency_dispatch(double ep) {
  KernelCall c;
  c.kernel = KernelClass::dispatch;
  c.low_latency = true;
  c.hidden = 7168;
  c.topk = 8;
  c.payload_bytes_per_token = 7168 * 8;
  c.tokens_per_rank = 128;
  c.ep = ep;
  return c;
}

// A collective measured at one payload is the alpha-beta line through it.
TEST(PerfTables, OnePointCollectiveIsALineThroughIt) {
  const Accelerator h800 = load_accelerator("h800");
  const PerfTables tables = load_perf_tables("h800");
  const PerfTable& ll =
      *std::find_if(tables.tables.begin(), tables.tables.end(), [](const auto& t) {
        return t.kernel == KernelClass::dispatch && t.word_or("mode", "") == "low_latency";
      });
  KernelCall c = call_for_row(ll, ll.rows.back());  // EP256, 128 tokens: 194 us
  c.link_latency_s = 4e-6;
  c.spans_nodes = true;  // 256 H800s are 32 nodes, as the row's own group
  c.scale_up_ranks = 8;
  c.tokens_per_rank = 64;  // half the payload: 4 + (194 - 4) / 2 = 99 us
  EXPECT_NEAR(estimate_from_table(ll, h800, h800, c).time_s, 99e-6, 1e-12);
  c.ep = 8 * 256;  // eight times the largest measured group: nothing to say
  EXPECT_FALSE(estimate_from_table(ll, h800, h800, c).found);
}

// An all-reduce call takes the table of its own kind (the engine's custom kernel or NCCL) and launch
// (CUDA graph or eager); H100 has all three, measured on the same 8 GPUs.
TEST(PerfTables, AllReducePrefersItsImplementationAndLaunch) {
  const PerfModel model(load_accelerator("h100"));
  KernelCall c;
  c.kernel = KernelClass::all_reduce;
  c.ranks = 8;
  c.message_bytes = 256;  // 128 BF16 elements: a row of every table
  c.custom_all_reduce = true;
  c.cuda_graph = true;
  const PerfEstimate graph = model.estimate(c);
  EXPECT_EQ(graph.table, "all-reduce-bf16-custom-graph");
  EXPECT_NEAR(graph.time_s, 4.8173e-6, 1e-12);  // the row: H100, 8 GPUs, 128 elements
  c.cuda_graph = false;
  EXPECT_EQ(model.estimate(c).table, "all-reduce-bf16-custom-eager");
  c.custom_all_reduce = false;
  c.cuda_graph = true;
  const PerfEstimate nccl = model.estimate(c);
  EXPECT_EQ(nccl.table, "all-reduce-fp16");
  EXPECT_GT(nccl.time_s, graph.time_s);  // NCCL's small-message floor is the higher one
}

// A decode attention call takes the most efficient of the device's kernels at its shape, whatever
// their cache dtype: on H200 the BF16-cache kernel (the FP8-cache table is SGLang's slower FA3
// path), on B200 the FP8-cache TRT-LLM kernel where it is the more efficient.
TEST(PerfTables, AttentionTakesTheMostEfficientKernelOfEitherCacheDtype) {
  for (const char* device : {"h200", "b200"}) {
    const Accelerator a = load_accelerator(device);
    const PerfModel model(a);
    KernelCall c;
    c.kernel = KernelClass::mla_decode;
    c.batch = 64;
    c.kv_len = 4096;
    c.heads = 128;
    c.kv_fp8 = true;
    const PerfEstimate chosen = model.estimate(c);
    ASSERT_TRUE(chosen.found) << device;
    for (const PerfTable& t : load_perf_tables(device).tables) {
      if (t.kernel != KernelClass::mla_decode) continue;
      const PerfEstimate e = estimate_from_table(t, a, a, c);
      EXPECT_GE(chosen.efficiency, e.efficiency - 1e-12) << device << " " << t.name;
    }
  }
}

// A device with only NCCL tables serves a custom all-reduce call from them (AMD and Ascend have no
// custom all-reduce table).
TEST(PerfTables, AllReduceFallsBackToTheOtherImplementation) {
  const fs::path dir = fs::temp_directory_path() / ("v4sim-ar-" + std::to_string(::getpid()));
  fs::create_directories(dir / "h100");
  for (const char* ext : {".yaml", ".csv"})
    fs::copy_file(default_perf_dir() / "h100" / (std::string("all-reduce-fp16") + ext),
                  dir / "h100" / (std::string("all-reduce-fp16") + ext));
  KernelCall c;
  c.kernel = KernelClass::all_reduce;
  c.ranks = 8;
  c.message_bytes = 1 << 20;
  c.custom_all_reduce = true;
  const PerfEstimate e = PerfModel(load_accelerator("h100"), dir).estimate(c);
  fs::remove_all(dir);
  EXPECT_TRUE(e.found);
  EXPECT_EQ(e.source, TimeSource::measured);
  EXPECT_EQ(e.table, "all-reduce-fp16");
}

// aiconfigurator's rows are CUDA-graph replays of back-to-back calls timed around the loop, so the
// gap to the next kernel is inside them; DeepGEMM's H800 rows are profiler kernel durations.
TEST(PerfTables, GraphReplayTablesCarryTheirLaunchGap) {
  KernelCall c;
  c.kernel = KernelClass::gemm;
  c.precision = Precision::fp8;
  c.m = 64;
  c.n = 7168;
  c.k = 2048;
  c.cost = cost(LinearShape{64, 2048, 7168, 1, WeightFormat::fp8_block128_ue8m0, Precision::fp8});
  const PerfEstimate h100 = PerfModel(load_accelerator("h100")).estimate(c);
  EXPECT_EQ(h100.table, "gemm-fp8");
  EXPECT_TRUE(h100.includes_launch_gap);
  const PerfEstimate h800 = PerfModel(load_accelerator("h800")).estimate(c);
  EXPECT_EQ(h800.table, "gemm-fp8");
  EXPECT_FALSE(h800.includes_launch_gap);
  // aiconfigurator times SGLang's quantisation kernel with each FP8 GEMM; DeepGEMM's rows do not.
  EXPECT_TRUE(h100.includes_activation_quantisation);
  EXPECT_FALSE(h800.includes_activation_quantisation);
  for (const char* device : {"h100", "h200", "b200", "b300", "gb200", "gb300"}) {
    for (const PerfTable& t : load_perf_tables(device).tables) {
      if (is_communication(t.kernel)) continue;
      EXPECT_TRUE(t.includes_launch_gap) << t.file;  // every compute table there is aic's
    }
  }
}

// InferSim's attention benchmarks time back-to-back eager calls on the wall clock
// (torch.utils.benchmark), so the launch gap is inside their rows too; its GEMM benchmarks are
// profiler kernel durations.
TEST(PerfTables, EagerLoopTablesCarryTheirLaunchGap) {
  for (const PerfTable& t : load_perf_tables("h800").tables) {
    if (t.name == "mla-decode-bf16-kv-bf16" || t.name == "mla-prefill-bf16") {
      EXPECT_TRUE(t.includes_launch_gap) << t.file;
    }
    if (t.name == "grouped-gemm-fp8-masked" || t.name == "grouped-gemm-fp8-contiguous") {
      EXPECT_FALSE(t.includes_launch_gap) << t.file;
    }
  }
}

/// The routed experts' grouped GEMM as the step model asks for it: `experts` experts of hidden
/// 7168 and intermediate 2048 with `tokens` rows each, FP8, the gate/up projection or the down.
KernelCall v3_expert_gemm(double experts, double tokens, bool down) {
  KernelCall c;
  c.kernel = KernelClass::grouped_gemm;
  c.precision = Precision::fp8;
  c.masked = true;
  c.ffn_down = down;
  c.experts = experts;
  c.tokens_per_expert = tokens;
  c.n = down ? 7168 : 2 * 2048;
  c.k = down ? 2048 : 7168;
  const auto t = static_cast<std::int64_t>(tokens);
  c.cost = cost(LinearShape{t, static_cast<std::int64_t>(c.k), static_cast<std::int64_t>(c.n), 1,
                            WeightFormat::fp8_block128_ue8m0, Precision::fp8}) *
           static_cast<std::int64_t>(experts);
  return c;
}

/// V4-Pro's routed experts on a rank holding `experts` of them, one token each: MXFP4 weights,
/// FP8 products.
MoeShape v4_pro_experts_on_rank(std::int64_t experts) {
  MoeShape m;
  m.tokens = experts;
  m.topk = 1;
  m.num_experts = experts;
  m.experts_touched = experts;
  m.hidden = 7168;
  m.inter = 3072;
  m.expert_weight = WeightFormat::mxfp4;
  m.expert_compute = Precision::fp8;
  return m;
}

// InferSim times the experts' two GEMMs apart (rows of n 4096 x k 7168 and of n 7168 x k 2048):
// each of the step model's two ops gets its own rows, measured shapes exactly.
TEST(PerfTables, ExpertGemmsTakeTheirOwnRows) {
  const Accelerator h800 = load_accelerator("h800");
  const PerfModel model(h800);
  // grouped-gemm-fp8-masked.csv: 4 experts x 128 tokens, 63.222 us gate/up, 39.983 us down.
  EXPECT_NEAR(model.estimate(v3_expert_gemm(4, 128, false)).time_s, 63.222e-6, 1e-12);
  EXPECT_NEAR(model.estimate(v3_expert_gemm(4, 128, true)).time_s, 39.983e-6, 1e-12);
}

// A table of whole SwiGLU experts (the host's, `ffn: swiglu`) times both GEMMs in one row: the down
// projection is read at its experts' gate/up shape and takes the whole expert's efficiency, not
// that of the row group whose (n, k) happens to lie nearer its own (here V4-Pro's 6144 x 7168).
TEST(PerfTables, AWholeExpertTableServesTheDownProjectionAtItsExpertsShape) {
  const Accelerator h800 = load_accelerator("h800");
  PerfTable t;
  t.name = t.file = "grouped-gemm-swiglu";
  t.kernel = KernelClass::grouped_gemm;
  t.precision = Precision::fp8;
  t.fixed_words = {{"layout", "masked"}, {"ffn", "swiglu"}};
  t.columns = {"experts", "tokens_per_expert", "n", "k", "latency_us"};
  t.rows = {{4, 64, 4096, 7168, 90}, {4, 128, 4096, 7168, 120}, {4, 256, 4096, 7168, 180},
            {4, 64, 6144, 7168, 40}, {4, 128, 6144, 7168, 50},  {4, 256, 6144, 7168, 70}};
  const PerfEstimate up = estimate_from_table(t, h800, h800, v3_expert_gemm(4, 128, false));
  const PerfEstimate down = estimate_from_table(t, h800, h800, v3_expert_gemm(4, 128, true));
  ASSERT_TRUE(up.found && down.found);
  EXPECT_DOUBLE_EQ(down.efficiency, up.efficiency);
  // The row (both GEMMs, 120 us) splits by the two GEMMs' ideal times.
  EXPECT_NEAR(up.time_s + down.time_s, 120e-6, 1e-12);
  EXPECT_NEAR(up.time_s / down.time_s,
              ideal_time_s(h800, v3_expert_gemm(4, 128, false).cost) /
                  ideal_time_s(h800, v3_expert_gemm(4, 128, true).cost),
              1e-9);
}

// A fused MoE table (aiconfigurator's B300 V4-Pro rows) serves its own expert shape in decode and
// prefill, both GEMMs of it, and says that its rows hold the routing and activation too; another
// model's experts (V3: 7168 x 2048) are not served by it.
TEST(PerfTables, AFusedMoeTableServesOnlyItsExpertShape) {
  const PerfModel model(load_accelerator("b300"));
  KernelCall up = v3_expert_gemm(48, 1, false);
  up.n = 2 * 3072;  // V4-Pro: inter 3072, hidden 7168
  up.cost = routed_gate_up_cost(v4_pro_experts_on_rank(48));
  KernelCall down = v3_expert_gemm(48, 1, true);
  down.k = 3072;
  down.cost = routed_down_cost(v4_pro_experts_on_rank(48));
  for (const bool masked : {true, false}) {
    up.masked = down.masked = masked;
    const PerfEstimate u = model.estimate(up), d = model.estimate(down);
    EXPECT_EQ(u.table, "grouped-gemm-fused-fp8-v4pro");
    EXPECT_EQ(u.source, TimeSource::measured);
    EXPECT_TRUE(u.includes_moe_glue && d.includes_moe_glue);
    EXPECT_EQ(d.table, u.table);
    EXPECT_DOUBLE_EQ(d.efficiency, u.efficiency);
    // moe_ep 8 at 64 tokens: 48 pairs on the rank's 48 experts, 268.87 and 268.94 us measured.
    EXPECT_NEAR(u.time_s + d.time_s, 268.9e-6, 1e-12);
  }
  const PerfEstimate v3 = model.estimate(v3_expert_gemm(32, 8, false));
  EXPECT_TRUE(v3.found);
  EXPECT_NE(v3.table, "grouped-gemm-fused-fp8-v4pro");
  EXPECT_NE(v3.table, "grouped-gemm-fused-fp8-v4flash");
  EXPECT_FALSE(v3.includes_moe_glue);
}

// H100 holds DeepEP tables of one node (aiconfigurator, EP8) and of several (DeepEP PR #521,
// EP16-64): a call takes the table whose group is nearest its own, so an EP72 decode is measured on
// H100 itself rather than transferred from H800.
TEST(PerfTables, ACollectiveTakesTheTableOfItsGroupSize) {
  const PerfModel model(load_accelerator("h100"));
  KernelCall c = v3_low_latency_dispatch(8);
  const PerfEstimate one_node = model.estimate(c);
  EXPECT_EQ(one_node.table, "dispatch-fp8-low-latency");
  EXPECT_NEAR(one_node.time_s, 36.721e-6, 1e-12);  // aiconfigurator's H100 EP8 row
  c.ep = 64;
  c.spans_nodes = true;  // eight HGX nodes
  c.scale_up_ranks = 8;
  const PerfEstimate nodes = model.estimate(c);
  EXPECT_EQ(nodes.source, TimeSource::measured);
  EXPECT_EQ(nodes.table, "dispatch-fp8-low-latency-multinode");
  EXPECT_NEAR(nodes.time_s, 225.1e-6, 1e-12);  // the PR's EP64 row
  // Nearest measured group: EP64, whose ranks sent 7/8 of their bytes to other nodes; 72 ranks
  // send 8/9 of theirs (no link latency given: the single-payload line through the origin).
  c.ep = 72;
  EXPECT_NEAR(model.estimate(c).time_s, 225.1e-6 * (8.0 / 9.0) / (7.0 / 8.0), 1e-12);
}

// A collective's row crossed the links its group needed where it was measured: H100's EP32 row
// ran over four 8-GPU nodes, sending 3/4 of its bytes over InfiniBand (50 GB/s). 32 GPUs of one
// NVL72 rack send everything over NVLink (900 GB/s x 0.8 usable), so the row's time above its
// latency scales by (1 / 720) / (0.75 / 50); over four 8-GPU domains of InfiniBand it stays.
TEST(PerfTables, ATransferMovesTheRowToTheLinksOfTheCallsGroup) {
  const PerfModel model(load_accelerator("gb200"));
  KernelCall c = v3_low_latency_dispatch(32);
  c.scale_up_ranks = 72;
  c.link_latency_s = 2e-6;
  const PerfEstimate rack = model.estimate(c);
  EXPECT_EQ(rack.source, TimeSource::transferred);
  EXPECT_EQ(rack.table, "dispatch-fp8-low-latency-multinode");  // H100's EP32 row: 188.7 us
  EXPECT_NEAR(rack.time_s, 2e-6 + (188.7e-6 - 2e-6) * (1.0 / 720.0) / (0.75 / 50.0), 1e-12);
  c.spans_nodes = true;
  c.scale_up_ranks = 8;
  EXPECT_NEAR(model.estimate(c).time_s, 188.7e-6, 1e-12);
  c.scale_up_ranks = 0;  // unknown: every byte over InfiniBand, 1 / 0.75 times the row's
  EXPECT_NEAR(model.estimate(c).time_s, 2e-6 + (188.7e-6 - 2e-6) / 0.75, 1e-12);
}

// On the measured device too: H800's EP8 row ran over one node's NVLink (200 GB/s x 0.8). Eight
// ranks on two nodes of four send half their bytes over InfiniBand: max(0.5 / 50, 0.5 / 160)
// seconds per GB against 1 / 160, 1.6 times the row above its latency.
TEST(PerfTables, AnOwnRowMovesToTheLinksOfTheCallsGroup) {
  const PerfModel model(load_accelerator("h800"));
  KernelCall c = v3_low_latency_dispatch(8);
  c.scale_up_ranks = 8;
  c.link_latency_s = 2e-6;
  EXPECT_NEAR(model.estimate(c).time_s, 77e-6, 1e-12);  // the row itself
  c.spans_nodes = true;
  c.scale_up_ranks = 4;
  const PerfEstimate split = model.estimate(c);
  EXPECT_EQ(split.source, TimeSource::measured);
  EXPECT_NEAR(split.time_s, 2e-6 + (77e-6 - 2e-6) * 1.6, 1e-12);
}

class BadTable : public ::testing::Test {
 protected:
  fs::path dir = fs::temp_directory_path() / ("v4sim-perf-" + std::to_string(::getpid()));
  void SetUp() override { fs::create_directories(dir); }
  void TearDown() override { fs::remove_all(dir); }
  std::string error(const std::string& yaml, const std::string& csv) {
    std::ofstream(dir / "gemm.yaml") << yaml;
    std::ofstream(dir / "gemm.csv") << csv;
    try {
      load_perf_table(dir / "gemm.yaml");
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  }
  static std::string meta(const std::string& kernel = "gemm") {
    return "kernel: " + kernel +
           "\nprecision: fp8\nsource: \"a paper\"\nconditions: \"kernel only\"\ndata: gemm.csv\n" +
           (kernel == "gemm" ? "activation_quantisation: excluded\n" : "");
  }
};

// A collective says which links its rows crossed; no other table does.
TEST_F(BadTable, CollectivesNameTheirScaleUpDomain) {
  const auto load = [&](const std::string& stem, const std::string& yaml,
                        const std::string& csv) -> std::string {
    std::ofstream(dir / (stem + ".yaml")) << yaml;
    std::ofstream(dir / (stem + ".csv")) << csv;
    try {
      load_perf_table(dir / (stem + ".yaml"));
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  };
  const std::string csv = "ep,tokens_per_rank,latency_us\n8,128,77\n";
  const std::string body =
      "source: \"a paper\"\nconditions: \"c\"\n"
      "fixed: {mode: low_latency, hidden: 7168, topk: 8, bytes_per_element: 1}\n"
      "data: dispatch.csv\n";
  std::string e = load("dispatch", "kernel: dispatch\n" + body, csv);
  EXPECT_NE(e.find("dispatch.yaml"), std::string::npos) << e;
  EXPECT_NE(e.find("scale_up_ranks"), std::string::npos) << e;
  e = load("dispatch", "kernel: dispatch\nscale_up_ranks: 0\n" + body, csv);
  EXPECT_NE(e.find("dispatch.yaml:2"), std::string::npos) << e;
  EXPECT_EQ(load("dispatch", "kernel: dispatch\nscale_up_ranks: 8\n" + body, csv), "");
  e = error(meta() + "scale_up_ranks: 8\n", "m,n,k,latency_us\n1,2,3,4\n");
  EXPECT_NE(e.find("only collective tables"), std::string::npos) << e;
}

// A module's ideal time is its sublayer's cost at the table's shape: every dimension is stated, the
// ratio is CSA's or HCA's, and each row's heads divide the model's.
TEST_F(BadTable, AttentionModulesStateTheirShape) {
  const auto load = [&](const std::string& fixed, const std::string& csv) -> std::string {
    std::ofstream(dir / "attention-module.yaml")
        << "kernel: attention_module\nprecision: fp8\nsource: \"a paper\"\nconditions: \"c\"\n"
           "fixed: {"
        << fixed << "}\ndata: attention-module.csv\n";
    std::ofstream(dir / "attention-module.csv") << csv;
    try {
      load_perf_table(dir / "attention-module.yaml");
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  };
  const std::string dims =
      "hidden: 7168, heads: 128, head_dim: 512, rope_dim: 64, q_lora_rank: 1536, o_groups: 16, "
      "o_lora_rank: 1024, window: 128, indexer_heads: 64, indexer_dim: 128";
  const std::string csv = "batch,kv_len,heads,latency_us\n1,2,16,68.3\n";
  EXPECT_EQ(load(dims + ", compress_ratio: 128", csv), "");
  std::string e = load(dims + ", compress_ratio: 4", csv);
  EXPECT_NE(e.find("fixed.topk"), std::string::npos) << e;
  e = load(dims + ", compress_ratio: 16", csv);
  EXPECT_NE(e.find("fixed.compress_ratio"), std::string::npos) << e;
  e = load("hidden: 7168, compress_ratio: 128", csv);
  EXPECT_NE(e.find("attention-module.yaml"), std::string::npos) << e;
  EXPECT_NE(e.find("fixed.heads"), std::string::npos) << e;
  e = load(dims + ", compress_ratio: 128", "batch,kv_len,heads,latency_us\n1,2,24,68.3\n");
  EXPECT_NE(e.find("does not divide fixed.heads"), std::string::npos) << e;
}

// aiconfigurator's Blackwell MLA prefill rows time SGLang's RadixAttention with one shared K/V
// head: a row's cost has the expanded form's FLOPs and one head's K and V bytes.
TEST_F(BadTable, MlaPrefillRowsStateTheKvHeadsTheyRead) {
  const auto load = [&](const std::string& fixed) -> std::string {
    std::ofstream(dir / "mla-prefill.yaml")
        << "kernel: mla_prefill\nprecision: bf16\nsource: \"a paper\"\nconditions: \"c\"\n"
           "fixed: {"
        << fixed << "}\ndata: mla-prefill.csv\n";
    std::ofstream(dir / "mla-prefill.csv") << "batch,seq_len,latency_us\n1,4,10\n";
    try {
      load_perf_table(dir / "mla-prefill.yaml");
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(load("heads: 4, qk_head_dim: 192, v_head_dim: 128, kv_heads: 1"), "");
  for (const char* bad : {"kv_heads: 0", "kv_heads: 5", "kv_heads: 1.5"}) {
    const std::string e = load(std::string("heads: 4, qk_head_dim: 192, v_head_dim: 128, ") + bad);
    EXPECT_NE(e.find("fixed.kv_heads"), std::string::npos) << bad << ": " << e;
  }
  // 4 heads, 4 new tokens, batch 1: the MHA form reads each entry's expanded K and V for all 4
  // heads, 4 x (128 + 128) BF16, and its 64-wide RoPE key; over one shared head, 1 x 256. The
  // difference: 3 heads x 4 entries x 256 x 2 B = 6144 B, the FLOPs the same.
  ASSERT_EQ(load("heads: 4, qk_head_dim: 192, v_head_dim: 128, kv_heads: 1"), "");
  const PerfTable mqa = load_perf_table(dir / "mla-prefill.yaml");
  PerfTable mha = mqa;
  mha.fixed.erase("kv_heads");
  const std::vector<double> row = {1, 4};
  EXPECT_EQ(row_cost(mha, row).read(MemClass::activations) -
                row_cost(mqa, row).read(MemClass::activations),
            3 * 4 * 256 * 2);
  EXPECT_EQ(row_cost(mha, row).total_flops(), row_cost(mqa, row).total_flops());
}

// A fused MoE table serves only the expert shape it ran, so it states it; its layout may be `any`
// (one kernel for decode and prefill).
TEST_F(BadTable, FusedMoeTablesStateTheirExpertShape) {
  const auto load = [&](const std::string& fixed) -> std::string {
    std::ofstream(dir / "grouped-gemm.yaml")
        << "kernel: grouped_gemm\nprecision: fp8\nsource: \"a paper\"\nconditions: \"c\"\n"
           "fixed: {"
        << fixed << "}\ndata: grouped-gemm.csv\n";
    std::ofstream(dir / "grouped-gemm.csv")
        << "experts,tokens_per_expert,n,k,latency_us\n48,0.125,6144,7168,52\n";
    try {
      load_perf_table(dir / "grouped-gemm.yaml");
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  };
  std::string e = load("layout: any, ffn: fused_moe, inter: 3072");
  EXPECT_NE(e.find("grouped-gemm.yaml"), std::string::npos) << e;
  EXPECT_NE(e.find("fixed.hidden is required"), std::string::npos) << e;
  e = load("layout: any, ffn: fused, hidden: 7168, inter: 3072");
  EXPECT_NE(e.find("'fused'"), std::string::npos) << e;
  EXPECT_NE(e.find("fused_moe"), std::string::npos) << e;
  e = load("layout: both, ffn: fused_moe, hidden: 7168, inter: 3072");
  EXPECT_NE(e.find("'both'"), std::string::npos) << e;
  EXPECT_EQ(load("layout: any, ffn: fused_moe, weight_dtype: fp4, hidden: 7168, inter: 3072"), "");
  e = load("layout: any, ffn: fused_moe, weight_dtype: fp5, hidden: 7168, inter: 3072");
  EXPECT_NE(e.find("'fp5'"), std::string::npos) << e;
}

TEST_F(BadTable, QuantisedGemmTablesSayWhetherTheyTimeTheQuantisation) {
  const std::string csv = "m,n,k,latency_us\n1,2,3,4\n";
  const std::string base =
      "kernel: gemm\nprecision: fp8\nsource: \"a paper\"\nconditions: \"c\"\ndata: gemm.csv\n";
  std::string e = error(base, csv);
  EXPECT_NE(e.find("gemm.yaml"), std::string::npos) << e;
  EXPECT_NE(e.find("activation_quantisation"), std::string::npos) << e;
  EXPECT_NE(e.find("required"), std::string::npos) << e;
  e = error(base + "activation_quantisation: maybe\n", csv);
  EXPECT_NE(e.find("gemm.yaml:6"), std::string::npos) << e;
  EXPECT_NE(e.find("'maybe'"), std::string::npos) << e;
  // Only fp8/fp4 GEMMs quantise their input in a kernel of their own.
  e = error(
      "kernel: gemm\nprecision: bf16\nsource: \"a paper\"\nconditions: \"c\"\n"
      "activation_quantisation: included\ndata: gemm.csv\n",
      csv);
  EXPECT_NE(e.find("only fp8 and fp4 gemm tables"), std::string::npos) << e;
  EXPECT_EQ(error(base + "activation_quantisation: included\n", csv), "");
}

TEST_F(BadTable, NamesTheCellThatIsNotANumber) {
  const std::string e = error(meta(), "m,n,k,latency_us\n1,2,3,4\n5,6,x,8\n");
  EXPECT_NE(e.find("gemm.csv:3:5"), std::string::npos) << e;
  EXPECT_NE(e.find("field 'k'"), std::string::npos) << e;
}

TEST_F(BadTable, RejectsAHeaderThatDoesNotMatchTheClass) {
  const std::string e = error(meta(), "m,k,n,latency_us\n1,2,3,4\n");
  EXPECT_NE(e.find("gemm.csv:1:1"), std::string::npos) << e;
  EXPECT_NE(e.find("expected 'm,n,k,latency_us'"), std::string::npos) << e;
}

TEST_F(BadTable, SuggestsTheClassForATypo) {
  const std::string e = error(meta("gemmm"), "m,n,k,latency_us\n1,2,3,4\n");
  EXPECT_NE(e.find("gemm.yaml:1"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'gemm'"), std::string::npos) << e;
}

TEST_F(BadTable, RequiresConditions) {
  const std::string e = error("kernel: gemm\nprecision: fp8\nsource: \"a paper\"\ndata: gemm.csv\n",
                              "m,n,k,latency_us\n1,2,3,4\n");
  EXPECT_NE(e.find("conditions"), std::string::npos) << e;
}

TEST_F(BadTable, NamesItsFileAfterItsClass) {
  std::ofstream(dir / "fast.yaml") << meta();
  std::ofstream(dir / "gemm.csv") << "m,n,k,latency_us\n1,2,3,4\n";
  try {
    load_perf_table(dir / "fast.yaml");
    ADD_FAILURE() << "a gemm table named fast.yaml loaded";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("must be named gemm"), std::string::npos) << e.what();
  }
}

// Lookups read a collective table's group sizes from <stem>.csv before its YAML, so the YAML
// must name that file.
TEST_F(BadTable, NamesItsDataAfterItself) {
  const std::string e = error(
      "kernel: gemm\nprecision: fp8\nsource: \"a paper\"\nconditions: \"c\"\n"
      "activation_quantisation: excluded\ndata: other.csv\n",
      "m,n,k,latency_us\n1,2,3,4\n");
  EXPECT_NE(e.find("gemm.yaml:6"), std::string::npos) << e;
  EXPECT_NE(e.find("field 'data'"), std::string::npos) << e;
  EXPECT_NE(e.find("expected gemm.csv"), std::string::npos) << e;
}

// The group sizes of a table, read without its YAML: the first column when the header starts
// with the expected name; nothing (the strict loader decides) for anything else.
TEST_F(BadTable, ReadsTheGroupSizesOfACollectiveFromItsCsv) {
  std::ofstream(dir / "dispatch.csv") << "ep,tokens_per_rank,latency_us\n8,128,30\n 16 ,128,40\n";
  EXPECT_EQ(read_first_column(dir, "dispatch", "ep"), (std::vector<double>{8, 16}));
  EXPECT_TRUE(read_first_column(dir, "dispatch", "ranks").empty());
  EXPECT_TRUE(read_first_column(dir, "missing", "ep").empty());
  std::ofstream(dir / "bad.csv") << "ep,tokens_per_rank,latency_us\n8,128,30\nx,128,40\n";
  EXPECT_TRUE(read_first_column(dir, "bad", "ep").empty());
  std::ofstream(dir / "zero.csv") << "ep,tokens_per_rank,latency_us\n0,128,30\n";
  EXPECT_TRUE(read_first_column(dir, "zero", "ep").empty());
}

TEST_F(BadTable, RejectsAnUnknownAllReduceImplementation) {
  std::ofstream(dir / "all-reduce.yaml")
      << "kernel: all_reduce\nscale_up_ranks: 8\nsource: \"a paper\"\nconditions: \"graph\"\n"
         "fixed: {implementation: magic}\ndata: all-reduce.csv\n";
  std::ofstream(dir / "all-reduce.csv") << "ranks,message_bytes,latency_us\n8,256,5\n";
  try {
    load_perf_table(dir / "all-reduce.yaml");
    ADD_FAILURE() << "an all-reduce table of an unknown implementation loaded";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("fixed.implementation 'magic'"), std::string::npos)
        << e.what();
  }
}

TEST_F(BadTable, RejectsAnUnknownTiming) {
  // meta() ends with activation_quantisation on line 6, so the appended timing is line 7.
  const std::string e = error(meta() + "timing: wall_clock\n", "m,n,k,latency_us\n1,2,3,4\n");
  EXPECT_NE(e.find("gemm.yaml:7"), std::string::npos) << e;
  EXPECT_NE(e.find("'wall_clock'"), std::string::npos) << e;
}

TEST_F(BadTable, RejectsNonPositiveAndDuplicateRows) {
  EXPECT_NE(error(meta(), "m,n,k,latency_us\n1,2,3,0\n").find("must be positive"),
            std::string::npos);
  EXPECT_NE(error(meta(), "m,n,k,latency_us\n1,2,3,4\n1,2,3,5\n").find("same keys"),
            std::string::npos);
  // The first line in the file that repeats an earlier row's keys is named (line 5 here; line 6
  // repeats line 2, whose keys sort first), and a row differing in the last key only is not one.
  const std::string e = error(meta(),
                              "m,n,k,latency_us\n1,2,3,4\n9,9,9,1\n1,2,4,4\n9,9,9,2\n"
                              "1,2,3,7\n");
  EXPECT_NE(e.find(".csv:5:1: a row with the same keys"), std::string::npos) << e;
}

}  // namespace
}  // namespace v4sim
