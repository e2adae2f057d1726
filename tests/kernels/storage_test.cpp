// Storage sizes against the byte layouts in reference/kernels.md §9.2 and §6.4.
#include "kernels/storage.h"

#include <gtest/gtest.h>

namespace v4sim {
namespace {

TEST(KvEntryBytes, DeployedLayouts) {
  // V4 MODEL1_FP8Sparse: 448 E4M3 + 7 UE8M0 scales + 1 pad + 64 BF16 = 448 + 8 + 128 = 584
  EXPECT_EQ(kv_entry_bytes(KvEntryFormat::v4_fp8_sparse, 512, 64), 584);
  // V4 indexer key MXFP4: 128 / 2 + 128 / 32 = 64 + 4 = 68
  EXPECT_EQ(kv_entry_bytes(KvEntryFormat::mxfp4, 128, 0), 68);
  // V3.2 V32_FP8Sparse: 512 E4M3 + 4 fp32 scales + 64 BF16 = 512 + 16 + 128 = 656
  EXPECT_EQ(kv_entry_bytes(KvEntryFormat::v32_fp8_sparse, 576, 64), 656);
  // V3.2 indexer key: 128 E4M3 + one fp32 scale = 132
  EXPECT_EQ(kv_entry_bytes(KvEntryFormat::fp8_fp32_scale, 128, 0), 132);
  // BF16: 2 bytes per dim
  EXPECT_EQ(kv_entry_bytes(KvEntryFormat::bf16, 512, 64), 1024);
  EXPECT_EQ(kv_entry_bytes(KvEntryFormat::bf16, 576, 64), 1152);
  EXPECT_EQ(kv_entry_bytes(KvEntryFormat::bf16, 128, 0), 256);
}

TEST(WeightBytes, BlockScales) {
  // Flash expert w1 [2048, 4096] MXFP4: 2048*4096/2 packed + 2048 * 4096/32 scales
  EXPECT_EQ(weight_bytes(WeightFormat::mxfp4, 2048, 4096), 2048 * 2048 + 2048 * 128);
  // Pro wq_a [1536, 7168] FP8 with 128x128 UE8M0 blocks: 12 x 56 one-byte scales
  EXPECT_EQ(weight_bytes(WeightFormat::fp8_block128_ue8m0, 1536, 7168), 1536 * 7168 + 12 * 56);
  // Same with fp32 scales (V3): 4 bytes per block
  EXPECT_EQ(weight_bytes(WeightFormat::fp8_block128_fp32, 1536, 7168), 1536 * 7168 + 4 * 12 * 56);
  // Partial blocks round up: [129, 1] has 2 x 1 blocks
  EXPECT_EQ(weight_bytes(WeightFormat::fp8_block128_ue8m0, 129, 1), 129 + 2);
  EXPECT_EQ(weight_bytes(WeightFormat::bf16, 3, 5), 30);
  EXPECT_EQ(weight_bytes(WeightFormat::fp32, 3, 5), 60);
}

TEST(Formats, NamesRoundTrip) {
  for (auto f : {KvEntryFormat::bf16, KvEntryFormat::v4_fp8_sparse, KvEntryFormat::v32_fp8_sparse,
                 KvEntryFormat::mxfp4, KvEntryFormat::fp8_fp32_scale}) {
    KvEntryFormat back{};
    ASSERT_TRUE(parse_kv_entry_format(to_string(f), back));
    EXPECT_EQ(back, f);
  }
  WeightFormat w{};
  EXPECT_FALSE(parse_weight_format("fp7", w));
}

}  // namespace
}  // namespace v4sim
