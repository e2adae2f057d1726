// KV compressor (cost side) of CSA (ratio 4, overlapping windows of 8), HCA (ratio 128, no overlap)
// and the CSA lightning indexer's own compressor (ratio 4, overlapping, 128 wide)
// (reference/kernels.md §3.1-3.2, §3.4, §4).
#pragma once

#include <cstdint>

#include "kernels/cost.h"
#include "kernels/storage.h"

namespace v4sim {

struct CompressorShape {
  std::int64_t hidden = 0;      // D, input width
  std::int64_t head_dim = 512;  // width of one compressed entry (512 main, 128 indexer)
  std::int64_t rope_dim = 64;
  std::int64_t ratio = 4;  // tokens per compressed entry (stride)
  bool overlap = true;     // CSA: each entry pools 2*ratio tokens through two channel sets
  std::int64_t start_pos = 0;
  std::int64_t num_tokens = 1;
  WeightFormat weight = WeightFormat::bf16;  // wkv and wgate
  Precision compute = Precision::fp32;
  KvEntryFormat out_format = KvEntryFormat::v4_fp8_sparse;
};

/// Width of each projection (wkv and wgate): 2*head_dim with overlap, head_dim without.
std::int64_t projection_width(const CompressorShape& s);
/// Entries completed by the shape's tokens: one whenever (t+1) is a multiple of ratio.
std::int64_t entries_emitted(const CompressorShape& s);
/// Bytes of the per-sequence tail state (c and z rows for the tokens of the open window(s)), fixed
/// in the context length: 2 * (overlap ? 2 : 1) * ratio * projection_width * bytes_per_element
/// (the reference code keeps them in fp32: 4 bytes).
std::int64_t tail_state_bytes(const CompressorShape& s, std::int64_t bytes_per_element);

/// Pooled slots the shape's emitted entries read from rows stored by EARLIER calls (tokens before
/// start_pos, including the absent block -1 of entry 0 with overlap). Rows of the shape's own
/// tokens are written once and read back by the pooling; only rows that outlive a call add reads.
/// Non-zero for at most the first two emitted entries; decode at t = ratio*i + ratio - 1 reads
/// 2*ratio - 1 (overlap) or ratio - 1 slots.
std::int64_t state_slots_read(const CompressorShape& s);

/// FLOPs: two projections (2*T*D*width each) and, per emitted entry, a per-channel weighted sum
/// over its pooled slots (2*slots*head_dim, slots = 2*ratio with overlap, ratio without).
/// Reads the weights; writes the emitted entries in out_format and the tokens' state rows
/// (c and z, width each, fp32); reads back the (c, z) halves of head_dim channels of every slot
/// stored by an earlier call (state_slots_read), fp32. The fp32 state follows the reference code.
Cost cost(const CompressorShape& s);

}  // namespace v4sim
