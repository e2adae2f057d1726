// The two memory-bound kernels a dense-MLA prefill runs between the wkv_b expansion and the
// 192-deep MHA core: RoPE on the queries' rotary part, copied back into the query rows, and the
// assembly of each expanded entry's key from its per-head NoPE part and the shared rotary key.
//
// Why they are kernels of their own: the expansion writes K's NoPE half and V per head; the core
// (FlashAttention-3, FlashInfer, TRT-LLM's context MLA) wants one contiguous [entries, heads, 192]
// key. SGLang (python/sglang/srt/models/deepseek_v2.py, forward_normal_prepare) and vLLM
// (vllm/model_executor/models/deepseek_v2.py) both run `q_pe, k_pe = rotary_emb(...)`,
// `q[..., nope:] = q_pe`, then `k = torch.empty_like(q)`, `k[..., :nope] = k_nope`,
// `k[..., nope:] = k_pe`: the measured prefill core (InferSim's FA3 benchmark builds q, k, v of
// those shapes before timing) leaves them out. Absorbed MLA (decode, V3.2's DSA layers) and V4
// attend the cache directly and run neither.
//
// Bytes, BF16 (2 B), H = heads on the rank (heads / tp), n = nope dims, r = rope dims:
//   attn.q_rope: per query token, read and write q_pe: 2 * H * r * 2.
//   attn.k_assemble: per expanded entry (every cached and new position of the sequence), read
//     the NoPE key, H * n * 2, and the rotary key, r * 2; write the whole key, H * (n + r) * 2.
// Time as every element-wise kernel (sim/elementwise.h).
#pragma once

#include <cstdint>
#include <vector>

#include "models/model_spec.h"
#include "sim/elementwise.h"

namespace v4sim {

/// The kernels of main layer `layer` in a prefill pass with `queries` new tokens and `entries`
/// expanded entries (cached plus new positions, summed over the rank's sequences), heads split
/// over `tp`; none when the layer attends in the absorbed form. Names: attn.q_rope,
/// attn.k_assemble.
std::vector<ElementwiseKernel> mla_key_assembly_kernels(const ModelSpec& spec,
                                                        const LayerSpec& layer,
                                                        std::int64_t queries, std::int64_t entries,
                                                        std::int64_t tp);

}  // namespace v4sim
