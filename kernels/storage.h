// Storage formats: how many bytes a weight matrix or a KV-cache entry takes, scales included.
// The byte layouts are those of the deployed kernels (reference/kernels.md §6.4-6.6, §9.2).
#pragma once

#include <cstdint>
#include <string_view>

namespace v4sim {

/// How a weight matrix [rows = out_features, cols = in_features] is stored.
enum class WeightFormat : std::uint8_t {
  fp32,
  bf16,
  fp8_block128_ue8m0,  // E4M3 values + one 1-byte UE8M0 scale per 128x128 block (V3.2, V4)
  fp8_block128_fp32,   // E4M3 values + one fp32 scale per 128x128 block (V3 checkpoint)
  mxfp4,         // E2M1 packed 2 per byte + one UE8M0 scale per 32 inputs of a row (V4 experts)
  int8_channel,  // INT8 values + one fp32 scale per output row (W8A8 serving, e.g. Ascend)
};
std::string_view to_string(WeightFormat f);
bool parse_weight_format(std::string_view text, WeightFormat& out);
/// Bytes of a [rows, cols] matrix in format f (cols is the reduction axis that MX scales run along).
std::int64_t weight_bytes(WeightFormat f, std::int64_t rows, std::int64_t cols);
/// Bytes per element of a 128 x 128 block in format f, scales included: what tells a float32
/// weight from an FP8 one when measured tables of both kernels exist.
double weight_bytes_per_element(WeightFormat f);

/// How one cached vector (a K=V entry, an MLA latent or an indexer key) is stored.
enum class KvEntryFormat : std::uint8_t {
  bf16,            // every dim BF16: 2 B/dim
  v4_fp8_sparse,   // FlashMLA MODEL1_FP8Sparse: NoPE dims E4M3, one UE8M0 per 64 NoPE dims padded
                   // to 8 B, RoPE dims BF16 (512-d V4 entry: 448 + 8 + 128 = 584 B)
  v32_fp8_sparse,  // FlashMLA V32_FP8Sparse: NoPE dims E4M3, one fp32 scale per 128, RoPE BF16
                   // (576-d MLA latent: 512 + 16 + 128 = 656 B)
  mxfp4,           // E2M1 packed + one UE8M0 per 32 (128-d indexer key: 64 + 4 = 68 B)
  fp8_fp32_scale,  // E4M3 + one fp32 scale per 128 dims (128-d indexer key: 128 + 4 = 132 B)
};
std::string_view to_string(KvEntryFormat f);
bool parse_kv_entry_format(std::string_view text, KvEntryFormat& out);
/// Bytes of one entry of `dim` dims of which the last `rope_dim` carry RoPE.
std::int64_t kv_entry_bytes(KvEntryFormat f, std::int64_t dim, std::int64_t rope_dim);

}  // namespace v4sim
