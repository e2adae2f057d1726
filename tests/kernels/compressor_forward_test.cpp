// KV compressor forward (kernels/compressor_forward.h): batch entries against the naive double
// reference at production widths (CSA d = 512 from D = 7168, HCA d = 512 ratio 128 from D = 4096,
// indexer keys d = 128 with Hadamard), streaming == batch for every chunking, counted == cost.
//
// Tolerances: float32 kernel vs double reference, max |error| <= 5e-5 of the entries' max |value|
// (projections are 4096..7168-term float dot products, ~1e-6 relative, then a softmax over 8 or
// 128 slots and an RMSNorm). Streaming vs batch: the same float arithmetic except the projection
// (GEMV for one token, GEMM for a chunk), so <= 1e-5. With qat the NoPE dims differ from exact
// mode by at most the FP8 step: 2^-3 of the block scale, i.e. |x| * 2^-4 relative + the scale.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/compressor_forward.h"
#include "kernels/quant.h"
#include "tests/kernels/reference/v4_compressor_ref.h"
#include "tests/support/closeness.h"
#include "tests/support/random.h"

namespace v4sim {
namespace {

using test_support::random_chunks;
using test_support::relatively_close;
using test_support::SeededRng;

CompressorShape csa(std::int64_t hidden, std::int64_t head_dim = 512) {
  CompressorShape s;
  s.hidden = hidden;
  s.head_dim = head_dim;
  s.ratio = 4;
  s.overlap = true;
  s.out_format = head_dim == 128 ? KvEntryFormat::mxfp4 : KvEntryFormat::v4_fp8_sparse;
  return s;
}
CompressorShape hca(std::int64_t hidden) {
  CompressorShape s = csa(hidden);
  s.ratio = 128;
  s.overlap = false;
  return s;
}
CompressorShape at(CompressorShape s, std::int64_t start, std::int64_t tokens) {
  s.start_pos = start;
  s.num_tokens = tokens;
  return s;
}

struct CompressorRun {
  EntryTable entries;
  CompressorState state;
  Cost counted, expected;
};

// Compresses x_all in chunks of the given sizes (summing to x_all.rows()).
CompressorRun run_chunks(const CompressorShape& base, const CompressorWeights& w,
                         const CompressorOptions& o, const RowMatrixXf& x_all,
                         const std::vector<std::int64_t>& chunks) {
  const RopeTable rope = make_rope_table(v4_compressed_rope());
  CompressorRun r{EntryTable(base.head_dim), make_compressor_state(base), {}, {}};
  std::int64_t start = 0;
  for (std::int64_t T : chunks) {
    const CompressorShape s = at(base, start, T);
    compressor_forward(s, w, o, rope, x_all.middleRows(start, T), r.state, r.entries, &r.counted);
    r.expected += cost(s);
    start += T;
  }
  return r;
}

Eigen::MatrixXd reference_entries(const CompressorShape& s, const CompressorWeights& w,
                                  const RowMatrixXf& x_all, bool hadamard) {
  const RopeTable rope = make_rope_table(v4_compressed_rope());
  return reference::compressor_ref({int(s.head_dim), int(s.ratio), s.overlap, hadamard, 1e-6}, w,
                                   x_all, rope.frequencies);
}

struct Case {
  const char* name;
  CompressorShape shape;
  std::int64_t tokens;
  EntryKind kind;
};

// A case's weights, input and options from its own seed; the generator stays for more draws.
struct CaseInputs {
  CaseInputs(const Case& c, std::uint64_t seed)
      : rng(c.name, seed),
        w(random_compressor_weights(c.shape, seed * 7)),
        x(rng.normal(c.tokens, c.shape.hidden)) {
    o.kind = c.kind;
  }
  SeededRng rng;
  CompressorWeights w;
  RowMatrixXf x;
  CompressorOptions o;
};

TEST(CompressorForward, BatchMatchesReference) {
  const std::vector<Case> cases = {
      {"csa.pro", csa(7168), 23, EntryKind::attention},
      {"hca.flash", hca(4096), 257, EntryKind::attention},
      {"indexer.flash", csa(4096, 128), 27, EntryKind::indexer_key},
  };
  std::uint64_t seed = 400;
  for (const Case& c : cases) {
    CaseInputs in(c, ++seed);
    const CompressorRun r = run_chunks(c.shape, in.w, in.o, in.x, {c.tokens});
    const Eigen::MatrixXd ref =
        reference_entries(c.shape, in.w, in.x, c.kind == EntryKind::indexer_key);
    ASSERT_EQ(r.entries.rows, c.tokens / c.shape.ratio);
    EXPECT_TRUE(relatively_close(c.name, r.entries.view(), ref, 5e-5));
    EXPECT_EQ(r.counted, r.expected);
  }
}

// All 2^(n-1) ways to cut n tokens into consecutive chunks (bit k set: cut after token k).
std::vector<std::int64_t> chunks_of_mask(std::int64_t n, std::uint32_t mask) {
  std::vector<std::int64_t> out;
  std::int64_t len = 1;
  for (std::int64_t k = 0; k + 1 < n; ++k, ++len)
    if (mask >> k & 1u) {
      out.push_back(len);
      len = 0;
    }
  out.push_back(len);
  return out;
}

void expect_same_run(const CompressorRun& a, const CompressorRun& b, const char* what) {
  ASSERT_EQ(a.entries.rows, b.entries.rows) << what;
  if (a.entries.rows > 0) {
    EXPECT_TRUE(relatively_close(what, a.entries.view(), b.entries.view(), 1e-5));
  }
  EXPECT_TRUE(relatively_close(what, a.state.c, b.state.c, 1e-5));
  // z holds -inf in slots never written; compare where finite.
  for (Eigen::Index i = 0; i < a.state.z.size(); ++i) {
    const float za = a.state.z.data()[i], zb = b.state.z.data()[i];
    if (std::isinf(za) || std::isinf(zb)) {
      ASSERT_EQ(za, zb) << what;
    } else {
      ASSERT_NEAR(za, zb, 1e-5 * (1 + std::abs(zb))) << what;
    }
  }
  EXPECT_EQ(a.state.next_pos, b.state.next_pos) << what;
}

TEST(CompressorForward, StreamingEqualsBatchForEveryChunking) {
  // Exhaustive: all 512 chunkings of 10 tokens (CSA, narrow D to keep it fast).
  {
    SeededRng rng("compressor.exhaustive", 410);
    const CompressorShape s = csa(64);
    const CompressorWeights w = random_compressor_weights(s, 4100);
    const RowMatrixXf x = rng.normal(10, s.hidden);
    const CompressorRun batch = run_chunks(s, w, {}, x, {10});
    for (std::uint32_t mask = 0; mask < 512; ++mask) {
      const CompressorRun r = run_chunks(s, w, {}, x, chunks_of_mask(10, mask));
      expect_same_run(r, batch, "exhaustive");
      EXPECT_EQ(r.counted, r.expected) << "mask " << mask;
    }
  }
  // Random chunkings and token by token at production widths; lengths not multiples of 4 / 128.
  const std::vector<Case> cases = {
      {"stream.csa", csa(4096), 37, EntryKind::attention},
      {"stream.csa_long", csa(1024), 102, EntryKind::attention},
      {"stream.indexer", csa(4096, 128), 45, EntryKind::indexer_key},
      {"stream.hca", hca(4096), 301, EntryKind::attention},
      {"stream.hca_short", hca(1024), 131, EntryKind::attention},
  };
  std::uint64_t seed = 420;
  for (const Case& c : cases) {
    CaseInputs in(c, ++seed);
    const CompressorRun batch = run_chunks(c.shape, in.w, in.o, in.x, {c.tokens});
    EXPECT_EQ(batch.counted, batch.expected) << c.name;
    const CompressorRun single =
        run_chunks(c.shape, in.w, in.o, in.x, std::vector<std::int64_t>(c.tokens, 1));
    expect_same_run(single, batch, c.name);
    EXPECT_EQ(single.counted, single.expected) << c.name;
    for (int trial = 0; trial < 6; ++trial) {
      const CompressorRun r = run_chunks(c.shape, in.w, in.o, in.x,
                                         random_chunks(in.rng, c.tokens, trial < 3 ? 9 : 150));
      expect_same_run(r, batch, c.name);
      EXPECT_EQ(r.counted, r.expected) << c.name;
    }
  }
}

TEST(CompressorForward, CountedWorkEqualsCostAndStateReads) {
  // Decode steps that emit read the 7 (CSA) / 127 (HCA) earlier slots from the state; steps that
  // do not emit read none; the first entry's absent block -1 is read from the initial state.
  EXPECT_EQ(state_slots_read(at(csa(64), 7, 1)), 7);
  EXPECT_EQ(state_slots_read(at(csa(64), 3, 1)), 7);  // 3 own-block slots + 4 of block -1
  EXPECT_EQ(state_slots_read(at(csa(64), 8, 1)), 0);
  EXPECT_EQ(state_slots_read(at(csa(64), 0, 4)), 4);       // only block -1
  EXPECT_EQ(state_slots_read(at(csa(64), 5, 10)), 5 + 1);  // entries 1 (5 slots) and 2 (1 slot)
  EXPECT_EQ(state_slots_read(at(hca(64), 127, 1)), 127);
  EXPECT_EQ(state_slots_read(at(hca(64), 100, 200)), 100);
  SeededRng rng("compressor.counting", 430);
  for (const CompressorShape& base : {csa(256), hca(256), csa(256, 128)}) {
    const CompressorWeights w = random_compressor_weights(base, 4300);
    const RowMatrixXf x = rng.normal(300, base.hidden);
    for (const std::vector<std::int64_t>& chunks :
         {std::vector<std::int64_t>{3, 1, 4, 120, 9, 131, 32},
          std::vector<std::int64_t>{127, 1, 172}, std::vector<std::int64_t>{300}}) {
      const CompressorRun r = run_chunks(base, w, {}, x, chunks);
      EXPECT_EQ(r.counted, r.expected);
      // One HCA chunk from position 0 reads nothing back; every other run here does.
      if (base.overlap || chunks.size() > 1) {
        EXPECT_GT(r.counted.read(MemClass::state), 0);
      }
    }
  }
}

TEST(CompressorForward, QuantisationRoundTrips) {
  SeededRng rng("compressor.qat", 440);
  const CompressorShape s = csa(1024);
  const CompressorWeights w = random_compressor_weights(s, 4400);
  const RowMatrixXf x = rng.normal(16, s.hidden);
  CompressorOptions q;
  q.qat = true;
  const CompressorRun exact = run_chunks(s, w, {}, x, {16});
  const CompressorRun qat = run_chunks(s, w, q, x, {5, 11});
  EXPECT_EQ(qat.counted, qat.expected);
  for (std::int64_t i = 0; i < exact.entries.rows; ++i) {
    std::vector<float> e(qat.entries.row(i), qat.entries.row(i) + 512), again = e;
    fp8_round_trip(std::span<float>(again).first(448), 64);
    EXPECT_EQ(again, e) << "NoPE dims are not FP8 values (entry " << i << ")";
    for (int c = 0; c < 512; ++c) {
      const float ex = exact.entries.row(i)[c];
      if (c >= 448) {
        EXPECT_NEAR(e[c], ex, 1e-5 * (1 + std::abs(ex)));  // RoPE dims are not quantised
      } else {
        EXPECT_NEAR(e[c], ex, std::abs(ex) / 16 + 1e-2);
      }
    }
  }
  // Indexer keys: values on the MXFP4 grid after the Hadamard.
  const CompressorShape si = csa(1024, 128);
  const CompressorWeights wi = random_compressor_weights(si, 4401);
  CompressorOptions qi;
  qi.kind = EntryKind::indexer_key;
  qi.qat = true;
  const CompressorRun keys = run_chunks(si, wi, qi, x, {16});
  ASSERT_EQ(keys.entries.rows, 4);
  for (std::int64_t i = 0; i < keys.entries.rows; ++i) {
    std::vector<float> e(keys.entries.row(i), keys.entries.row(i) + 128), again = e;
    fp4_round_trip(again);
    EXPECT_EQ(again, e) << "indexer key " << i << " is not on the FP4 grid";
  }
}

}  // namespace
}  // namespace v4sim
