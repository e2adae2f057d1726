// PerfModel memoises table lookups by lookup_key(call). A KernelCall field left out of the key
// would let two calls that differ only in it share one memoised answer, silently. Two checks:
// the number of KernelCall's fields is pinned (a new field fails here until the key and this test
// list it), and each listed field, varied alone, moves the key in a slot of its own.
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "hardware/accelerator.h"
#include "hardware/perf_model.h"
#include "hardware/perf_table.h"

namespace v4sim {
namespace {

// Converts to any field type, so T{AnyField x N} compiles exactly when T has at least N fields.
struct AnyField {
  template <class T>
  operator T() const;  // never called: unevaluated operands only
};

template <class T, std::size_t... I>
constexpr bool brace_initialises(std::index_sequence<I...>) {
  return requires {
    T{(static_cast<void>(I), AnyField{})...};
  };
}

template <class T, std::size_t N = 0>
constexpr std::size_t field_count() {
  if constexpr (brace_initialises<T>(std::make_index_sequence<N + 1>{}))
    return field_count<T, N + 1>();
  else
    return N;
}

// Every field but `cost`, which only scales a lookup's result through the call's ideal time.
struct Variation {
  const char* field;
  std::function<void(KernelCall&)> vary;
};

std::vector<Variation> variations() {
  return {
      {"kernel", [](KernelCall& c) { c.kernel = KernelClass::mla_decode; }},
      {"precision", [](KernelCall& c) { c.precision = Precision::fp8; }},
      {"m", [](KernelCall& c) { c.m = 3; }},
      {"n", [](KernelCall& c) { c.n = 3; }},
      {"k", [](KernelCall& c) { c.k = 3; }},
      {"experts", [](KernelCall& c) { c.experts = 3; }},
      {"tokens_per_expert", [](KernelCall& c) { c.tokens_per_expert = 3; }},
      {"masked", [](KernelCall& c) { c.masked = !c.masked; }},
      {"ffn_down", [](KernelCall& c) { c.ffn_down = !c.ffn_down; }},
      {"batch", [](KernelCall& c) { c.batch = 3; }},
      {"kv_len", [](KernelCall& c) { c.kv_len = 3; }},
      {"seq_len", [](KernelCall& c) { c.seq_len = 3; }},
      {"heads", [](KernelCall& c) { c.heads = 3; }},
      {"compress_ratio", [](KernelCall& c) { c.compress_ratio = 3; }},
      {"head_dim", [](KernelCall& c) { c.head_dim = 3; }},
      {"weight_bytes", [](KernelCall& c) { c.weight_bytes = 3; }},
      {"kv_fp8", [](KernelCall& c) { c.kv_fp8 = !c.kv_fp8; }},
      {"ep", [](KernelCall& c) { c.ep = 3; }},
      {"tokens_per_rank", [](KernelCall& c) { c.tokens_per_rank = 3; }},
      {"payload_bytes_per_token", [](KernelCall& c) { c.payload_bytes_per_token = 3; }},
      {"low_latency", [](KernelCall& c) { c.low_latency = !c.low_latency; }},
      {"hidden", [](KernelCall& c) { c.hidden = 3; }},
      {"topk", [](KernelCall& c) { c.topk = 3; }},
      {"ranks", [](KernelCall& c) { c.ranks = 3; }},
      {"message_bytes", [](KernelCall& c) { c.message_bytes = 3; }},
      {"custom_all_reduce", [](KernelCall& c) { c.custom_all_reduce = !c.custom_all_reduce; }},
      {"cuda_graph", [](KernelCall& c) { c.cuda_graph = !c.cuda_graph; }},
      {"spans_nodes", [](KernelCall& c) { c.spans_nodes = !c.spans_nodes; }},
      {"scale_up_ranks", [](KernelCall& c) { c.scale_up_ranks = 3; }},
      {"link_latency_s", [](KernelCall& c) { c.link_latency_s = 3; }},
  };
}

TEST(PerfModelKey, EveryFieldOfKernelCallIsListed) {
  // The key's fields and `cost`. A failure here: a field was added to (or removed from)
  // KernelCall; put it in lookup_key() (hardware/perf_model.cpp) and in variations() above.
  static_assert(field_count<KernelCall>() == std::tuple_size_v<LookupKey> + 1,
                "KernelCall changed: update lookup_key() and this test");
  EXPECT_EQ(variations().size(), std::tuple_size_v<LookupKey>);
}

TEST(PerfModelKey, EachFieldMovesItsOwnSlot) {
  const KernelCall base;
  const LookupKey base_key = lookup_key(base);
  std::set<std::size_t> slots;
  for (const Variation& v : variations()) {
    KernelCall c = base;
    v.vary(c);
    const LookupKey key = lookup_key(c);
    std::vector<std::size_t> moved;
    for (std::size_t i = 0; i < key.size(); ++i)
      if (key[i] != base_key[i]) moved.push_back(i);
    ASSERT_EQ(moved.size(), 1u) << v.field << " moves " << moved.size() << " slots of the key";
    EXPECT_TRUE(slots.insert(moved[0]).second) << v.field << " shares slot " << moved[0];
  }
  EXPECT_EQ(slots.size(), base_key.size());
}

TEST(PerfModelKey, CostIsNotPartOfTheKey) {
  KernelCall a, b;
  b.cost.flops_at(Precision::bf16) = 1000;
  EXPECT_EQ(lookup_key(a), lookup_key(b));
}

// The lookup by shape (PerfModel::shape, estimate(shape, call, time_s)) answers what the lookup by
// the whole key does: the same memoised estimate and the same time, bit for bit, for a call of
// every shipped compute table at several points (the fields a search's point sets varied), on
// devices with their own tables, borrowed ones and another vendor's.
TEST(PerfModelKey, TheLookupByShapeEqualsTheLookupByKey) {
  std::vector<KernelCall> calls;
  for (const std::string& name : list_measured_accelerators())
    for (const PerfTable& t : load_perf_tables(name).tables)
      if (!is_communication(t.kernel)) calls.push_back(call_for_row(t, t.rows.front()));
  int found = 0;
  for (const char* device : {"h200", "h20", "b300", "mi300x", "ascend-910c"}) {
    const Accelerator target = load_accelerator(device);
    const PerfModel by_shape(target), by_key(target);
    for (const KernelCall& base : calls) {
      const PerfModel::Shape shape = by_shape.shape(base);
      for (double scale : {1.0, 0.5, 3.0, 1.0}) {  // the last asks the first point again
        for (Precision p : {base.precision, Precision::fp8}) {
          KernelCall c = base;
          c.precision = p;
          c.m = base.m * scale;
          c.batch = base.batch * scale;
          c.tokens_per_expert = base.tokens_per_expert * scale;
          c.cost.flops_at(p) = static_cast<std::int64_t>(1e9 * scale);
          c.cost.read(MemClass::weights) = static_cast<std::int64_t>(1e6 * scale);
          EXPECT_EQ(by_shape.shape(c).id, shape.id);
          double a_s = -1, b_s = -1, c_s = -1;
          const PerfEstimate& a = by_shape.estimate(shape, c, a_s);
          const PerfEstimate& b = by_key.estimate(c, b_s);
          const PerfEstimate& again = by_shape.estimate(c, c_s);  // the same memo entry
          const std::string what = std::string(device) + " " + std::string(to_string(c.kernel));
          EXPECT_EQ(&again, &a) << what;
          EXPECT_EQ(c_s, a_s) << what;
          EXPECT_EQ(a_s, b_s) << what;
          EXPECT_EQ(a.found, b.found) << what;
          EXPECT_EQ(a.device, b.device) << what;
          EXPECT_EQ(a.table, b.table) << what;
          EXPECT_EQ(a.source, b.source) << what;
          EXPECT_EQ(a.extrapolated, b.extrapolated) << what;
          found += a.found;
        }
      }
      // Another shape gets another id.
      KernelCall other = base;
      other.n = base.n + 1;
      other.heads = base.heads + 1;
      EXPECT_NE(by_shape.shape(other).id, shape.id);
    }
  }
  EXPECT_GT(found, 100);
}

}  // namespace
}  // namespace v4sim
