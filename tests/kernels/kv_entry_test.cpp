// KV-entry byte layouts (kernels/kv_entry.h): sizes equal kv_entry_bytes() and the published
// figures, bytes sit where the layout comment says, decode(encode(x)) equals the float simulation,
// and both equal the double reference of tests/kernels/reference/quant_ref.h.
//
// Tolerance: none. Every comparison is exact (bitwise for the round trip, value for the reference):
// storage formats are defined by rounding rules, so any difference is a bug.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/kv_entry.h"
#include "kernels/quant.h"
#include "kernels/storage.h"
#include "tests/kernels/reference/quant_ref.h"
#include "tests/support/random.h"

namespace v4sim {
namespace {

struct Case {
  const char* name;
  KvEntryFormat format;
  std::int64_t dim, rope;
  std::int64_t published_bytes;  // reference/kernels.md §9.2
};

constexpr Case kCases[] = {
    {"v4 main", KvEntryFormat::v4_fp8_sparse, 512, 64, 584},
    {"v4 indexer", KvEntryFormat::mxfp4, 128, 64, 68},
    {"v3.2 latent", KvEntryFormat::v32_fp8_sparse, 576, 64, 656},
    {"v3.2 indexer", KvEntryFormat::fp8_fp32_scale, 128, 64, 132},
    {"v4 demo bf16", KvEntryFormat::bf16, 512, 64, 1024},
};

std::vector<float> random_entry(std::mt19937_64& gen, std::int64_t dim) {
  // Per-64-dim groups with different magnitudes, so blocks get different scales.
  std::vector<float> x(dim);
  std::uniform_real_distribution<double> exponent(-12, 10);
  for (std::int64_t g = 0; g < dim; g += 32) {
    std::normal_distribution<float> d(0.0f, float(std::exp2(exponent(gen))));
    for (std::int64_t i = g; i < std::min(dim, g + 32); ++i) x[i] = d(gen);
  }
  return x;
}

void expect_bitwise_equal(std::span<const float> a, std::span<const float> b, const char* what) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(std::bit_cast<std::uint32_t>(a[i]), std::bit_cast<std::uint32_t>(b[i]))
        << what << " element " << i << ": " << a[i] << " vs " << b[i];
  }
}

TEST(KvEntry, SizesEqualStorageAndPublishedFigures) {
  for (const Case& c : kCases) {
    EXPECT_EQ(kv_entry_bytes(c.format, c.dim, c.rope), c.published_bytes) << c.name;
    std::vector<float> x(c.dim, 1.0f);
    std::vector<std::uint8_t> bytes(c.published_bytes);
    EXPECT_NO_THROW(encode_kv_entry(c.format, x, c.rope, bytes)) << c.name;
    std::vector<std::uint8_t> wrong(c.published_bytes + 1);
    EXPECT_THROW(encode_kv_entry(c.format, x, c.rope, wrong), std::invalid_argument) << c.name;
  }
}

TEST(KvEntry, DecodeOfEncodeEqualsSimulationAndReference) {
  const std::uint64_t seed = 0x6B76;
  test_support::SeededRng rng("kv_entry.round_trip", seed);
  TRACE_SEED(rng);
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    for (int rep = 0; rep < 20; ++rep) {
      const std::vector<float> x = random_entry(rng.gen(), c.dim);
      std::vector<std::uint8_t> bytes(kv_entry_bytes(c.format, c.dim, c.rope));
      std::vector<float> decoded(c.dim), simulated = x;
      encode_kv_entry(c.format, x, c.rope, bytes);
      decode_kv_entry(c.format, bytes, c.rope, decoded);
      simulate_kv_entry(c.format, simulated, c.rope);
      expect_bitwise_equal(decoded, simulated, "decode(encode) vs simulate");

      // Against the double reference, block by block.
      const bool all_quantised =
          c.format == KvEntryFormat::mxfp4 || c.format == KvEntryFormat::fp8_fp32_scale;
      const std::int64_t nope = c.format == KvEntryFormat::bf16 ? 0
                                : all_quantised                 ? c.dim
                                                                : c.dim - c.rope;
      const int block = c.format == KvEntryFormat::mxfp4 ? 32 : kv_fp8_block(c.format);
      for (std::int64_t b = 0; b < nope; b += block) {
        const std::vector<double> want = c.format == KvEntryFormat::mxfp4
                                             ? reference::fp4_round_trip(&x[b], block)
                                             : reference::fp8_round_trip(&x[b], block);
        for (int i = 0; i < block; ++i) ASSERT_EQ(double(decoded[b + i]), want[i]) << b + i;
      }
      for (std::int64_t i = nope; i < c.dim; ++i) {
        ASSERT_EQ(std::bit_cast<std::uint32_t>(decoded[i]),
                  std::uint32_t(reference::bf16_nearest(x[i])) << 16)
            << i;
      }
    }
  }
}

TEST(KvEntry, V4MainLayoutBytes) {
  std::vector<float> x(512, 0.0f);
  x[0] = 1.0f;     // block 0: amax 1 -> s = 2^-8 (1 * fl(1/448) -> next power of two)
  x[64] = 1e4f;    // block 1: s = 32
  x[448] = 1.5f;   // first RoPE dim: BF16 0x3FC0
  x[511] = -2.0f;  // last RoPE dim: BF16 0xC000
  std::vector<std::uint8_t> b(584, 0xAA);
  encode_kv_entry(KvEntryFormat::v4_fp8_sparse, x, 64, b);
  EXPECT_EQ(b[0], fp8_e4m3_encode(1.0f / 0x1p-8f));  // 256 -> 0x78
  EXPECT_EQ(b[0], 0x78);
  EXPECT_EQ(b[64], fp8_e4m3_encode(1e4f / 32.0f));
  EXPECT_EQ(b[448], 0xC0);  // little-endian BF16
  EXPECT_EQ(b[449], 0x3F);
  EXPECT_EQ(b[574], 0x00);
  EXPECT_EQ(b[575], 0xC0);
  EXPECT_EQ(b[576], 127 - 8);   // UE8M0 of 2^-8
  EXPECT_EQ(b[577], 127 + 5);   // UE8M0 of 32
  EXPECT_EQ(b[578], 127 - 22);  // all-zero block: amax floor 1e-4 -> 2^-22
  EXPECT_EQ(b[583], 0x00);      // padding
}

TEST(KvEntry, V32LatentAndIndexerLayoutBytes) {
  std::vector<float> x(576, 0.0f);
  x[128] = 448.0f;  // block 1: s = 1
  x[512] = 1.0f;    // first RoPE dim: BF16 0x3F80
  std::vector<std::uint8_t> b(656);
  encode_kv_entry(KvEntryFormat::v32_fp8_sparse, x, 64, b);
  float s1 = 0;
  std::memcpy(&s1, &b[516], 4);  // little-endian host
  EXPECT_EQ(s1, 1.0f);
  EXPECT_EQ(b[128], 0x7E);
  EXPECT_EQ(b[528], 0x80);
  EXPECT_EQ(b[529], 0x3F);

  std::vector<float> k(128, 0.25f);
  std::vector<std::uint8_t> kb(132);
  encode_kv_entry(KvEntryFormat::fp8_fp32_scale, k, 64, kb);
  float s = 0;
  std::memcpy(&s, &kb[128], 4);
  EXPECT_EQ(s, 0x1p-10f);  // 0.25 * fl(1/448) = 5.58e-4 -> 2^-10
  EXPECT_EQ(fp8_e4m3_decode(kb[0]) * s, 0.25f);

  std::vector<float> m(128, 0.0f);
  m[0] = 0.5f;
  m[1] = 3.0f;
  m[31] = 6.0f;  // block 0: s = 1
  std::vector<std::uint8_t> mb(68);
  encode_kv_entry(KvEntryFormat::mxfp4, m, 64, mb);
  EXPECT_EQ(mb[0], 0x51);  // element 0 low nibble, element 1 high nibble
  EXPECT_EQ(mb[15], 0x70);
  EXPECT_EQ(mb[64], 127);
  EXPECT_EQ(mb[65], 127 - 126);  // all-zero block: floor 6 * 2^-126 -> 2^-126
}

TEST(KvEntry, NonFiniteAndHugeValuesBehaveAsTheFormats) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    std::vector<float> x(c.dim, 0.1f);
    x[0] = 1e4f;
    x[1] = -std::numeric_limits<float>::infinity();
    x[c.dim - 1] = -1e4f;
    std::vector<std::uint8_t> bytes(kv_entry_bytes(c.format, c.dim, c.rope));
    std::vector<float> decoded(c.dim), simulated = x;
    encode_kv_entry(c.format, x, c.rope, bytes);
    decode_kv_entry(c.format, bytes, c.rope, decoded);
    simulate_kv_entry(c.format, simulated, c.rope);
    expect_bitwise_equal(decoded, simulated, "non-finite");
    for (float v : decoded) EXPECT_FALSE(std::isnan(v));
    if (c.format != KvEntryFormat::bf16) {
      EXPECT_TRUE(std::isfinite(decoded[1]));  // -Inf saturates in the quantised formats
      EXPECT_LT(decoded[1], 0.0f);
    }
  }
}

TEST(KvEntry, RejectsDimsThatDoNotFitTheBlocks) {
  EXPECT_THROW(check_kv_entry_dims(KvEntryFormat::v4_fp8_sparse, 500, 64), std::invalid_argument);
  EXPECT_THROW(check_kv_entry_dims(KvEntryFormat::v32_fp8_sparse, 512, 64), std::invalid_argument);
  EXPECT_THROW(check_kv_entry_dims(KvEntryFormat::mxfp4, 100, 0), std::invalid_argument);
  EXPECT_THROW(check_kv_entry_dims(KvEntryFormat::fp8_fp32_scale, 64, 0), std::invalid_argument);
  EXPECT_THROW(check_kv_entry_dims(KvEntryFormat::bf16, 64, 65), std::invalid_argument);
  EXPECT_NO_THROW(check_kv_entry_dims(KvEntryFormat::v4_fp8_sparse, 128 + 64, 64));
}

TEST(KvEntry, Mxfp4BlockDecodeEqualsEntryDecode) {
  // Every byte value in every position (random bytes, so every nibble and every scale byte
  // including the NaN byte 255 and the large ones whose products overflow to Inf), 37 entries
  // of 128 dims back to back: decode_mxfp4_entries equals decode_kv_entry bit for bit.
  const std::int64_t n = 37, dim = 128, eb = kv_entry_bytes(KvEntryFormat::mxfp4, dim, 0);
  std::mt19937 gen(4242);
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(n * eb));
  for (std::uint8_t& b : bytes) b = static_cast<std::uint8_t>(gen() & 0xFF);
  const std::uint8_t large[4] = {252, 253, 254, 255};  // entry 0's scales
  std::memcpy(bytes.data() + 64, large, sizeof large);
  std::vector<float> block(static_cast<std::size_t>(n * dim));
  decode_mxfp4_entries(bytes.data(), n, dim, block.data());
  for (std::int64_t r = 0; r < n; ++r) {
    std::vector<float> one(static_cast<std::size_t>(dim));
    decode_kv_entry(KvEntryFormat::mxfp4,
                    std::span<const std::uint8_t>(bytes).subspan(static_cast<std::size_t>(r * eb),
                                                                 static_cast<std::size_t>(eb)),
                    0, one);
    EXPECT_EQ(0, std::memcmp(one.data(), block.data() + r * dim, one.size() * sizeof(float)))
        << "entry " << r;
  }
  EXPECT_THROW(decode_mxfp4_entries(bytes.data(), 1, 100, block.data()), std::invalid_argument);
}

}  // namespace
}  // namespace v4sim
