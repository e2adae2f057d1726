// KV-cache bytes one sequence holds after `context` tokens, by part and by layer kind, in one of
// the model's KV storage formats. Entry counts come from the attention kernels' cache rules.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "kernels/cost.h"
#include "models/model_spec.h"

namespace v4sim {

struct KvCacheBytes {
  std::int64_t window = 0;                      // V4 sliding-window entries (every layer)
  std::int64_t compressed = 0;                  // V4 CSA/HCA compressed entries
  std::int64_t indexer_keys = 0;                // lightning-indexer keys (V4 CSA, V3.2 DSA)
  std::int64_t state = 0;                       // V4 compressor tail state (fixed per sequence)
  std::int64_t latent = 0;                      // MLA latents (V3, V3.2)
  std::int64_t kv_heads = 0;                    // GQA K and V
  std::array<std::int64_t, 6> by_layer_kind{};  // indexed by AttentionKind
  std::int64_t total() const {
    std::int64_t sum = 0;
    for (std::int64_t part : {window, compressed, indexer_keys, state, latent, kv_heads})
      sum = checked_add(sum, part);  // kernels/cost.h
    return sum;
  }
};

/// Cache of one sequence after `context` tokens (0 gives 0). MTP blocks are counted only when
/// include_mtp (their window when drafting).
KvCacheBytes kv_cache_per_sequence(const ModelSpec& spec, std::int64_t context,
                                   const KvFormat& format, bool include_mtp = false);

/// Layers whose cache is the same (attention kind and compression) and how many there are: the
/// main layers, and the MTP blocks when include_mtp. kv_cache_per_sequence prices one layer of each.
struct KvLayerGroup {
  LayerSpec layer;
  std::int64_t count = 0;
};
std::vector<KvLayerGroup> kv_layer_groups(const ModelSpec& spec, bool include_mtp = false);
/// The same with the groups computed once (kv_layer_groups(spec, include_mtp)), for callers that
/// evaluate one model at many contexts.
KvCacheBytes kv_cache_per_sequence(const ModelSpec& spec, std::span<const KvLayerGroup> groups,
                                   std::int64_t context, const KvFormat& format);

/// The baseline the V4 report frames KV savings against: BF16 GQA with 8 KV heads of 128 dims over
/// `layers` layers.
std::int64_t gqa8_baseline_kv_bytes(std::int64_t layers, std::int64_t context);

}  // namespace v4sim
