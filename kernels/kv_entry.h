// KV-cache entries in their real byte layouts (reference/kernels.md §9.2), so a cache can hold the
// bytes a deployment holds and a kernel can decode exactly what it would read. The sizes equal
// kv_entry_bytes() of kernels/storage.h for every format; the number formats are kernels/quant.h.
//
// Byte order of one entry (multi-byte values little-endian; offsets for the production widths):
//
//   v4_fp8_sparse   V4 K=V entry, 512 = 448 NoPE + 64 RoPE dims -> 584 B (FlashMLA
//                   MODEL1_FP8Sparse, the order of its per-token array-of-structs layout):
//                     [0, 448)    E4M3 codes of the NoPE dims
//                     [448, 576)  BF16 RoPE dims
//                     [576, 583)  UE8M0 scales, one per 64 NoPE dims
//                     [583, 584)  zero padding (scale bytes are padded to a multiple of 8)
//   v32_fp8_sparse  V3.2 MLA latent, 576 = 512 + 64 RoPE -> 656 B (FlashMLA V32_FP8Sparse):
//                     [0, 512)    E4M3 codes
//                     [512, 528)  4 fp32 scales, one per 128 dims
//                     [528, 656)  BF16 RoPE dims
//   mxfp4           V4 indexer key, 128 dims -> 68 B: [0, 64) E2M1 pairs (element 2j low nibble),
//                   [64, 68) UE8M0 scales, one per 32 dims
//   fp8_fp32_scale  V3.2 indexer key, 128 dims -> 132 B: [0, 128) E4M3 codes, [128, 132) fp32 scale
//   bf16            every dim BF16 (the official demo's cache tensors)
//
// Scales: FP8 blocks use the power-of-two rule of kernels/quant.h (Fp8ScaleRule::pow2) in every
// format; the two fp32-scale formats store that power of two as a float (V3.2 runs with
// scale_fmt = "ue8m0"). The RoPE dims are never quantised beyond BF16. mxfp4 and fp8_fp32_scale
// quantise every dim (the indexer key's RoPE half is mixed in by the Hadamard before storage).
// Encoding does not rotate or transform: callers pass the entry exactly as the model caches it.
#pragma once

#include <cstdint>
#include <span>

#include "kernels/storage.h"

namespace v4sim {

/// FP8 block width of the NoPE dims in each format (v4: 64, v32 / fp8_fp32_scale: 128).
int kv_fp8_block(KvEntryFormat f);

/// Checks that (dim, rope_dim) fit the format's blocks; throws std::invalid_argument otherwise.
void check_kv_entry_dims(KvEntryFormat f, std::int64_t dim, std::int64_t rope_dim);

/// Writes the entry x [dim] (last rope_dim dims are the RoPE part) into out
/// [kv_entry_bytes(f, dim, rope_dim)] in the layout above.
void encode_kv_entry(KvEntryFormat f, std::span<const float> x, std::int64_t rope_dim,
                     std::span<std::uint8_t> out);
/// Reads an entry written by encode_kv_entry: bytes [kv_entry_bytes(f, dim, rope_dim)] -> out
/// [dim].
void decode_kv_entry(KvEntryFormat f, std::span<const std::uint8_t> bytes, std::int64_t rope_dim,
                     std::span<float> out);
/// Decodes n consecutive mxfp4 entries of `dim` dims (dim % 32 == 0), stored back to back at
/// `entries` (n * kv_entry_bytes(mxfp4, dim, 0) bytes), into out [n, dim] row-major: the same
/// values as decode_kv_entry, bit for bit. Block decode of the V4 indexer's key table; takes an
/// AVX-512 path on hosts that have it (kernels/host_isa.h).
void decode_mxfp4_entries(const std::uint8_t* entries, std::int64_t n, std::int64_t dim,
                          float* out);
/// The float-only simulation of storing x [dim] in format f (the official demo's quantise ->
/// dequantise round trips), in place. Equals decode_kv_entry(encode_kv_entry(x)) exactly.
void simulate_kv_entry(KvEntryFormat f, std::span<float> x, std::int64_t rope_dim);

}  // namespace v4sim
