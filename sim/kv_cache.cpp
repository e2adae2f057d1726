#include "sim/kv_cache.h"

#include "kernels/compressor.h"
#include "kernels/gqa_attention.h"
#include "kernels/sparse_attention.h"
#include "kernels/storage.h"

namespace v4sim {
namespace {

void add_v4_layer(const ModelSpec& spec, const LayerSpec& l, std::int64_t n, const KvFormat& f,
                  KvCacheBytes& kv) {
  const AttentionSpec& a = spec.attention;
  SparseAttentionShape core;
  core.head_dim = a.head_dim;
  core.window = a.sliding_window;
  core.compress_ratio = l.compress_ratio;
  const SparseKvEntries entries = cached_entries(core, n);
  const std::int64_t entry = kv_entry_bytes(f.main_entry, a.head_dim, a.rope_dim);
  std::int64_t layer_bytes = entries.window * entry + entries.compressed * entry;
  kv.window += entries.window * entry;
  kv.compressed += entries.compressed * entry;
  if (l.attention != AttentionKind::swa) {
    const bool csa = l.attention == AttentionKind::csa;
    CompressorShape c;
    c.hidden = spec.hidden_size;
    c.head_dim = a.head_dim;
    c.ratio = l.compress_ratio;
    c.overlap = csa;
    std::int64_t state = tail_state_bytes(c, f.state_bytes_per_element);
    if (csa) {
      const IndexerSpec& ix = spec.indexer;
      const std::int64_t keys = entries.compressed * kv_entry_bytes(f.indexer_key, ix.head_dim, 0);
      kv.indexer_keys += keys;
      layer_bytes += keys;
      c.head_dim = ix.head_dim;
      state += tail_state_bytes(c, f.state_bytes_per_element);
    }
    kv.state += state;
    layer_bytes += state;
  }
  kv.by_layer_kind[static_cast<int>(l.attention)] += layer_bytes;
}

}  // namespace

KvCacheBytes kv_cache_per_sequence(const ModelSpec& spec, std::int64_t context,
                                   const KvFormat& format, bool include_mtp) {
  KvCacheBytes kv;
  if (context <= 0) return kv;
  const AttentionSpec& a = spec.attention;
  for (const LayerSpec& l : spec.layers) {
    if (l.mtp && !include_mtp) continue;
    switch (l.attention) {
      case AttentionKind::swa:
      case AttentionKind::csa:
      case AttentionKind::hca:
        add_v4_layer(spec, l, context, format, kv);
        break;
      case AttentionKind::mla:
      case AttentionKind::mla_dsa: {
        const std::int64_t latent =
            context * kv_entry_bytes(format.main_entry, a.kv_lora_rank + a.rope_dim, a.rope_dim);
        std::int64_t keys = 0;
        if (l.attention == AttentionKind::mla_dsa)
          keys = context * kv_entry_bytes(format.indexer_key, spec.indexer.head_dim, 0);
        kv.latent += latent;
        kv.indexer_keys += keys;
        kv.by_layer_kind[static_cast<int>(l.attention)] += latent + keys;
        break;
      }
      case AttentionKind::gqa: {
        const GqaAttentionShape g{a.num_heads, a.num_kv_heads,    a.head_dim,     0,
                                  1,           format.main_entry, Precision::bf16};
        const std::int64_t bytes = context * kv_bytes_per_token(g);
        kv.kv_heads += bytes;
        kv.by_layer_kind[static_cast<int>(l.attention)] += bytes;
        break;
      }
    }
  }
  return kv;
}

std::int64_t gqa8_baseline_kv_bytes(std::int64_t layers, std::int64_t context) {
  const GqaAttentionShape g{64, 8, 128, 0, 1, KvEntryFormat::bf16, Precision::bf16};
  return layers * context * kv_bytes_per_token(g);
}

}  // namespace v4sim
