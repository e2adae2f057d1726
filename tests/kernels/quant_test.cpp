// Number formats of kernels/quant.h against the definitions in tests/kernels/reference/quant_ref.h.
//
// Tolerances: every codec and block quantiser is compared EXACTLY (bit for bit / value for value):
// the formats are defined by rounding rules, so any difference is a bug. Only the Hadamard
// transform (float32 butterflies vs the double matrix product) has a tolerance: 1e-6 of the input's
// L2 norm per element (7 stages of float adds, observed ~2e-7).
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

#include "kernels/quant.h"
#include "tests/kernels/reference/quant_ref.h"
#include "tests/support/random.h"

namespace v4sim {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

using test_support::SeededRng;

// A generator named after the running test.
SeededRng test_rng(std::uint64_t seed) {
  return SeededRng(::testing::UnitTest::GetInstance()->current_test_info()->name(), seed);
}

// Sign * 2^U(lo, hi) * U(1, 2): covers every binade between lo and hi.
float log_uniform(SeededRng& rng, double lo_exp, double hi_exp) {
  std::uniform_real_distribution<double> e(lo_exp, hi_exp), sign(0.0, 1.0);
  const double v = std::exp2(e(rng.gen()));
  return static_cast<float>(sign(rng.gen()) < 0.5 ? -v : v);
}
float normal_value(SeededRng& rng, double sigma) {
  return std::normal_distribution<float>(0.0f, float(sigma))(rng.gen());
}

// ---- FP8 E4M3
// ------------------------------------------------------------------------------------

TEST(Preconditions, NameTheKernelTheRuleAndWhereItIsChecked) {
  // 3 is not a power of two, so UE8M0 cannot hold it (kernels/precondition.h).
  try {
    (void)ue8m0_encode(3.0f);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("quant: UE8M0 holds only powers of two", 0), 0u) << what;
    EXPECT_NE(what.find("(kernels/quant.cpp:"), std::string::npos) << what;
  }
}

TEST(Fp8E4M3, DecodeMatchesTheFullValueTable) {
  for (int c = 0; c < 256; ++c) {
    const double want = reference::e4m3_value(c);
    const float got = fp8_e4m3_decode(static_cast<std::uint8_t>(c));
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(got)) << "code " << c;
    } else {
      EXPECT_EQ(double(got), want) << "code " << c;
      EXPECT_EQ(std::signbit(got), c >= 128) << "code " << c;
    }
  }
  // Anchors from the format's published properties.
  EXPECT_EQ(fp8_e4m3_decode(0x7E), 448.0f);
  EXPECT_EQ(fp8_e4m3_decode(0xFE), -448.0f);
  EXPECT_EQ(fp8_e4m3_decode(0x38), 1.0f);
  EXPECT_EQ(fp8_e4m3_decode(0x08), 0x1p-6f);  // smallest normal
  EXPECT_EQ(fp8_e4m3_decode(0x01), 0x1p-9f);  // smallest subnormal
  EXPECT_EQ(fp8_e4m3_decode(0x07), 7 * 0x1p-9f);
  EXPECT_TRUE(std::isnan(fp8_e4m3_decode(0x7F)));
  EXPECT_TRUE(std::isnan(fp8_e4m3_decode(0xFF)));
}

TEST(Fp8E4M3, EncodeInvertsDecodeForEveryFiniteCode) {
  for (int c = 0; c < 256; ++c) {
    if ((c & 0x7F) == 0x7F) continue;
    EXPECT_EQ(fp8_e4m3_encode(fp8_e4m3_decode(static_cast<std::uint8_t>(c))), c) << "code " << c;
  }
}

TEST(Fp8E4M3, MidpointsRoundToEvenAndNeighboursToNearest) {
  for (int c = 0; c < 0x7E; ++c) {
    const float lo = fp8_e4m3_decode(static_cast<std::uint8_t>(c));
    const float hi = fp8_e4m3_decode(static_cast<std::uint8_t>(c + 1));
    const float mid = 0.5f * (lo + hi);  // exact in float32
    const int even = (c % 2 == 0) ? c : c + 1;
    EXPECT_EQ(fp8_e4m3_encode(mid), even) << "between codes " << c << " and " << c + 1;
    EXPECT_EQ(fp8_e4m3_encode(-mid), 0x80 | even);
    EXPECT_EQ(fp8_e4m3_encode(std::nextafter(mid, 0.0f)), c);
    EXPECT_EQ(fp8_e4m3_encode(std::nextafter(mid, kInf)), c + 1);
  }
}

TEST(Fp8E4M3, RandomValuesMatchBruteForceNearest) {
  SeededRng rng = test_rng(0xE4E3);
  TRACE_SEED(rng);
  for (int i = 0; i < 20000; ++i) {
    const float x = log_uniform(rng, -14.0, 10.0);  // below the subnormals .. past saturation
    ASSERT_EQ(fp8_e4m3_encode(x), reference::e4m3_nearest(x)) << "x = " << x;
  }
}

TEST(Fp8E4M3, SaturatesAndKeepsNaN) {
  for (float x : {448.0f, 449.0f, 464.0f, 480.0f, 1e4f, 3.0e38f, kInf})
    EXPECT_EQ(fp8_e4m3_encode(x), 0x7E) << x;
  for (float x : {-448.0f, -1e4f, -kInf}) EXPECT_EQ(fp8_e4m3_encode(x), 0xFE) << x;
  EXPECT_EQ(fp8_e4m3_encode(kNaN), 0x7F);
  EXPECT_EQ(fp8_e4m3_encode(-kNaN), 0xFF);
  EXPECT_EQ(fp8_e4m3_encode(0.0f), 0x00);
  EXPECT_EQ(fp8_e4m3_encode(-0.0f), 0x80);
  EXPECT_EQ(fp8_e4m3_encode(0x1p-10f), 0x00);   // half the smallest subnormal: tie to even (0)
  EXPECT_EQ(fp8_e4m3_encode(0x1.8p-9f), 0x02);  // 1.5 subnormal steps: tie to even (2)
  EXPECT_EQ(fp8_e4m3_encode(1e-30f), 0x00);
}

// ---- UE8M0
// ---------------------------------------------------------------------------------------

TEST(Ue8m0, DecodesToExactPowersOfTwoAndEncodesBack) {
  for (int b = 0; b < 255; ++b) {
    const float v = ue8m0_decode(static_cast<std::uint8_t>(b));
    EXPECT_EQ(double(v), std::ldexp(1.0, b - 127)) << "byte " << b;
    EXPECT_EQ(ue8m0_encode(v), b) << "byte " << b;
    int e = 0;
    EXPECT_EQ(std::frexp(v, &e), 0.5f) << "not a power of two: byte " << b;
  }
  EXPECT_TRUE(std::isnan(ue8m0_decode(0xFF)));
  EXPECT_EQ(ue8m0_encode(kNaN), 0xFF);
  EXPECT_EQ(ue8m0_encode(1.0f), 127);
  EXPECT_THROW(ue8m0_encode(3.0f), std::invalid_argument);
  EXPECT_THROW(ue8m0_encode(0.0f), std::invalid_argument);
  EXPECT_THROW(ue8m0_encode(-2.0f), std::invalid_argument);
  EXPECT_THROW(ue8m0_encode(0x1p-128f), std::invalid_argument);
}

TEST(Ue8m0, Pow2CeilIsTheNextPowerOfTwo) {
  EXPECT_EQ(pow2_ceil(1.0f), 1.0f);
  EXPECT_EQ(pow2_ceil(std::nextafter(1.0f, 2.0f)), 2.0f);
  EXPECT_EQ(pow2_ceil(0.75f), 1.0f);
  EXPECT_EQ(pow2_ceil(0x1p-126f), 0x1p-126f);
  SeededRng rng = test_rng(0x5CA1E);
  TRACE_SEED(rng);
  for (int i = 0; i < 5000; ++i) {
    const float x = std::fabs(log_uniform(rng, -120.0, 120.0));
    ASSERT_EQ(double(pow2_ceil(x)), reference::pow2_at_least(x)) << x;
  }
}

// ---- FP4 E2M1
// ------------------------------------------------------------------------------------

TEST(Fp4E2M1, DecodeMatchesTheValueTable) {
  const float table[16] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6, -0.0f, -0.5f, -1, -1.5f, -2, -3, -4, -6};
  for (int c = 0; c < 16; ++c) {
    EXPECT_EQ(fp4_e2m1_decode(static_cast<std::uint8_t>(c)), table[c]) << "code " << c;
    EXPECT_EQ(double(fp4_e2m1_decode(static_cast<std::uint8_t>(c))), reference::e2m1_value(c));
    EXPECT_EQ(std::signbit(fp4_e2m1_decode(static_cast<std::uint8_t>(c))), c >= 8);
    EXPECT_EQ(fp4_e2m1_encode(table[c]), c);
  }
  EXPECT_EQ(fp4_e2m1_decode(0xF7), 6.0f);  // only the low nibble counts
}

TEST(Fp4E2M1, TiesToEvenSaturationAndRandom) {
  // Midpoints 0.25 0.75 1.25 1.75 2.5 3.5 5 go to the even code: 0, 1.0, 1.0, 2.0, 2.0, 4.0, 4.0.
  const float mids[7] = {0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f};
  const int even[7] = {0, 2, 2, 4, 4, 6, 6};
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(fp4_e2m1_encode(mids[i]), even[i]) << mids[i];
    EXPECT_EQ(fp4_e2m1_encode(-mids[i]), 8 | even[i]) << -mids[i];
  }
  for (float x : {6.0f, 7.0f, 1e4f, kInf}) EXPECT_EQ(fp4_e2m1_encode(x), 7) << x;
  for (float x : {-6.0f, -1e4f, -kInf}) EXPECT_EQ(fp4_e2m1_encode(x), 15) << x;
  EXPECT_EQ(fp4_e2m1_encode(kNaN), 0);
  SeededRng rng = test_rng(0xE2A1);
  TRACE_SEED(rng);
  for (int i = 0; i < 20000; ++i) {
    const float x = log_uniform(rng, -4.0, 4.0);
    ASSERT_EQ(fp4_e2m1_encode(x), reference::e2m1_nearest(x)) << x;
  }
}

// ---- BF16
// ----------------------------------------------------------------------------------------

TEST(Bf16, RoundsToNearestEven) {
  SeededRng rng = test_rng(0xBF16);
  TRACE_SEED(rng);
  for (int i = 0; i < 20000; ++i) {
    const float x = log_uniform(rng, -130.0, 127.0);
    ASSERT_EQ(bf16_encode(x), reference::bf16_nearest(x)) << x;
  }
  // Exact ties: 1 + 2^-8 is halfway between 1 and 1 + 2^-7 -> 1 (even); 1 + 3*2^-8 -> 1 + 2^-6.
  EXPECT_EQ(bf16_round(1.0f + 0x1p-8f), 1.0f);
  EXPECT_EQ(bf16_round(1.0f + 3 * 0x1p-8f), 1.0f + 0x1p-6f);
  EXPECT_EQ(bf16_round(1e4f), 9984.0f);  // 1e4 = 0x461C4000 -> 0x461C
  EXPECT_EQ(bf16_encode(kInf), 0x7F80);
  EXPECT_EQ(bf16_encode(-kInf), 0xFF80);
  EXPECT_EQ(bf16_encode(std::numeric_limits<float>::max()), 0x7F80);  // rounds past the range
  EXPECT_TRUE(std::isnan(bf16_round(kNaN)));
  EXPECT_TRUE(std::isnan(bf16_round(-kNaN)));
}

// ---- block quantisation
// --------------------------------------------------------------------------

std::vector<float> random_blocks(SeededRng& rng, int n, int block) {
  std::vector<float> x(n);
  for (int b = 0; b < n / block; ++b) {
    const double sigma = std::exp2(std::uniform_real_distribution<double>(-20, 12)(rng.gen()));
    for (int i = 0; i < block; ++i) x[b * block + i] = normal_value(rng, sigma);
  }
  return x;
}

void expect_same_values(std::span<const float> got, const std::vector<double>& want, int offset) {
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << "element " << offset + i;
    } else {
      EXPECT_EQ(double(got[i]), want[i]) << "element " << offset + i;
    }
  }
}

TEST(Fp8Blocks, MatchReferenceForBlocks64And128) {
  SeededRng rng = test_rng(0xF8B1);
  TRACE_SEED(rng);
  for (int block : {64, 128}) {
    const int n = 16 * block;
    std::vector<float> x = random_blocks(rng, n, block);
    std::vector<std::uint8_t> codes(n);
    std::vector<float> scales(n / block), deq(n), trip = x;
    fp8_quantize(x, block, codes, scales);
    fp8_dequantize(codes, scales, block, deq);
    fp8_round_trip(trip, block);
    for (int b = 0; b < n / block; ++b) {
      const double s = reference::fp8_scale(&x[b * block], block);
      EXPECT_EQ(double(scales[b]), s) << "block " << b;
      EXPECT_NO_THROW(ue8m0_encode(scales[b]));  // exact power of two
      expect_same_values(std::span(deq).subspan(b * block, block),
                         reference::fp8_round_trip(&x[b * block], block), b * block);
    }
    EXPECT_EQ(std::memcmp(deq.data(), trip.data(), n * sizeof(float)), 0);
    // Property: 3 mantissa bits -> relative error <= 2^-4 above the normal range of the block.
    for (int i = 0; i < n; ++i) {
      const double s = scales[i / block];
      if (std::fabs(x[i]) >= s * 0x1p-6) {
        EXPECT_LE(std::fabs(deq[i] - x[i]), std::fabs(x[i]) / 16.0) << i;
      }
    }
  }
}

TEST(Fp8Blocks, NonFiniteAndHugeInputs) {
  std::vector<float> x(64, 0.5f);
  x[0] = 1e4f;
  x[1] = -1e4f;
  x[2] = kInf;
  x[3] = -kInf;
  x[4] = kNaN;
  std::vector<std::uint8_t> codes(64);
  std::vector<float> scales(1), deq(64);
  fp8_quantize(x, 64, codes, scales);
  fp8_dequantize(codes, scales, 64, deq);
  // amax over finite values = 1e4; 1e4 * fl(1/448) = 22.32 -> s = 32; 1e4/32 = 312.5 -> 320.
  EXPECT_EQ(scales[0], 32.0f);
  EXPECT_EQ(deq[0], 10240.0f);
  EXPECT_EQ(deq[1], -10240.0f);
  EXPECT_EQ(deq[2], 448.0f * 32);  // Inf saturates
  EXPECT_EQ(deq[3], -448.0f * 32);
  EXPECT_TRUE(std::isnan(deq[4]));
  EXPECT_EQ(deq[5], 0.5f);
  const std::vector<double> want = reference::fp8_round_trip(x.data(), 64);
  expect_same_values(deq, want, 0);

  // All zeros: the amax floor 1e-4 gives s = 2^-22 and exact zeros.
  std::vector<float> z(128, 0.0f);
  std::vector<std::uint8_t> zc(128);
  std::vector<float> zs(1);
  fp8_quantize(z, 128, zc, zs);
  EXPECT_EQ(zs[0], 0x1p-22f);
  for (auto c : zc) EXPECT_EQ(c, 0);
}

TEST(Fp8Blocks, AmaxRuleUsesTheFullScale) {
  std::vector<float> x(128);
  for (int i = 0; i < 128; ++i) x[i] = 0.01f * float(i - 64);
  std::vector<std::uint8_t> codes(128);
  std::vector<float> scales(1);
  fp8_quantize(x, 128, codes, scales, Fp8ScaleRule::amax);
  EXPECT_EQ(scales[0], (0.01f * 64.0f) / 448.0f);
  EXPECT_EQ(codes[0], 0xFE);  // the largest magnitude maps to -448
}

TEST(Fp8Blocks, RejectsBadSizes) {
  std::vector<float> x(100);
  std::vector<std::uint8_t> codes(100);
  std::vector<float> scales(1);
  EXPECT_THROW(fp8_quantize(x, 64, codes, scales), std::invalid_argument);
  EXPECT_THROW(fp8_round_trip(x, 0), std::invalid_argument);
  EXPECT_THROW(fp4_round_trip(x), std::invalid_argument);
}

TEST(Mxfp4, MatchesReferenceAndRoundTrip) {
  SeededRng rng = test_rng(0x3FF4);
  TRACE_SEED(rng);
  const int n = 32 * 64;
  std::vector<float> x = random_blocks(rng, n, 32);
  std::vector<std::uint8_t> packed(n / 2), scales(n / 32);
  std::vector<float> deq(n), trip = x;
  mxfp4_quantize(x, packed, scales);
  mxfp4_dequantize(packed, scales, deq);
  fp4_round_trip(trip);
  for (int b = 0; b < n / 32; ++b) {
    EXPECT_EQ(double(ue8m0_decode(scales[b])), reference::fp4_scale(&x[b * 32], 32));
    expect_same_values(std::span(deq).subspan(b * 32, 32),
                       reference::fp4_round_trip(&x[b * 32], 32), b * 32);
  }
  EXPECT_EQ(std::memcmp(deq.data(), trip.data(), n * sizeof(float)), 0);
}

TEST(Mxfp4, NibbleOrderAndByteScalePairsReproduceTheTable) {
  // amax 6: 6 * fl(1/6) rounds to exactly 1, so s = 1 (byte 127) and values are stored as they are.
  std::vector<float> x(32, 0.0f);
  x[0] = 0.5f;  // low nibble of byte 0: code 1
  x[1] = 3.0f;  // high nibble of byte 0: code 5
  x[2] = -6.0f;
  x[3] = 1.5f;
  std::vector<std::uint8_t> packed(16), scales(1);
  mxfp4_quantize(x, packed, scales);
  EXPECT_EQ(scales[0], 127);
  EXPECT_EQ(packed[0], 0x51);
  EXPECT_EQ(packed[1], 0x3F);
  // Every (byte, scale) pair decodes to (table value) * 2^(scale - 127).
  for (int byte = 0; byte < 256; ++byte) {
    for (int sb : {0, 1, 100, 127, 130, 200}) {  // products within float32 range
      std::vector<std::uint8_t> p(16, static_cast<std::uint8_t>(byte)), s(1, std::uint8_t(sb));
      std::vector<float> out(32);
      mxfp4_dequantize(p, s, out);
      EXPECT_EQ(double(out[0]), reference::e2m1_value(byte & 15) * std::ldexp(1.0, sb - 127));
      EXPECT_EQ(double(out[1]), reference::e2m1_value(byte >> 4) * std::ldexp(1.0, sb - 127));
    }
  }
}

TEST(Mxfp4, NonFiniteAndHugeInputs) {
  std::vector<float> x(64, 1.0f);
  x[0] = 1e4f;
  x[1] = -kInf;
  x[40] = kNaN;  // second block
  std::vector<std::uint8_t> packed(32), scales(2);
  std::vector<float> deq(64), trip = x;
  mxfp4_quantize(x, packed, scales);
  mxfp4_dequantize(packed, scales, deq);
  fp4_round_trip(trip);
  // 1e4 * fl(1/6) = 1666.7 -> s = 2048; 1e4 / 2048 = 4.88 -> 4 (nearer than 6); 1 / 2048 -> 0.
  EXPECT_EQ(ue8m0_decode(scales[0]), 2048.0f);
  EXPECT_EQ(deq[0], 8192.0f);
  EXPECT_EQ(deq[1], -6.0f * 2048);  // -Inf saturates
  EXPECT_EQ(deq[2], 0.0f);
  EXPECT_EQ(scales[1], kUe8m0Nan);
  for (int i = 32; i < 64; ++i) EXPECT_TRUE(std::isnan(deq[i])) << i;
  for (int i = 0; i < 64; ++i) {
    if (std::isnan(deq[i])) {
      EXPECT_TRUE(std::isnan(trip[i]));
    } else {
      EXPECT_EQ(deq[i], trip[i]) << i;
    }
  }
}

// ---- Hadamard
// ------------------------------------------------------------------------------------

TEST(Hadamard, MatchesSylvesterMatrixAndIsOrthonormal) {
  SeededRng rng = test_rng(0x4AD4);
  TRACE_SEED(rng);
  for (int n : {1, 2, 4, 8, 32, 128, 512}) {
    std::vector<float> x(n), k(n);
    for (auto& v : x) v = normal_value(rng, 1.0);
    for (auto& v : k) v = normal_value(rng, 1.0);
    const std::vector<double> xd(x.begin(), x.end());
    const std::vector<double> want = reference::hadamard(xd);
    double norm = 0, dot = 0;
    for (int i = 0; i < n; ++i) {
      norm += xd[i] * xd[i];
      dot += xd[i] * k[i];
    }
    norm = std::sqrt(norm);
    std::vector<float> hx = x, hk = k;
    hadamard_transform(hx);
    hadamard_transform(hk);
    double hdot = 0;
    for (int i = 0; i < n; ++i) {
      EXPECT_NEAR(hx[i], want[i], 1e-6 * norm) << "n " << n << " i " << i;
      hdot += double(hx[i]) * hk[i];
    }
    EXPECT_NEAR(hdot, dot, 1e-5 * n) << "dot product changed, n " << n;  // orthonormal
    std::vector<float> back = hx;
    hadamard_transform(back);  // H / sqrt(n) is its own inverse
    for (int i = 0; i < n; ++i) EXPECT_NEAR(back[i], x[i], 1e-6 * norm) << "n " << n;
  }
  std::vector<float> bad(96);
  EXPECT_THROW(hadamard_transform(bad), std::invalid_argument);
  // Sylvester order: e_1 maps to the alternating row (+1, -1, +1, ...)/sqrt(128).
  std::vector<float> e1(kHadamardDim, 0.0f);
  e1[1] = 1.0f;
  hadamard_transform(e1);
  for (int i = 0; i < kHadamardDim; ++i)
    EXPECT_FLOAT_EQ(e1[i], (i % 2 ? -1.0f : 1.0f) / std::sqrt(128.0f));
}

}  // namespace
}  // namespace v4sim
