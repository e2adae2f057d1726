#include "sim/kv_cache.h"

#include <algorithm>

#include "kernels/compressor.h"
#include "kernels/gqa_attention.h"
#include "kernels/sparse_attention.h"
#include "kernels/storage.h"

namespace v4sim {
namespace {

/// sum += v without wrapping (kernels/cost.h: CountOverflow for absurd contexts or widths).
void add(std::int64_t& sum, std::int64_t v) {
  sum = checked_add(sum, v);
}

void add_v4_layer(const ModelSpec& spec, const LayerSpec& l, std::int64_t n, const KvFormat& f,
                  KvCacheBytes& kv) {
  const AttentionSpec& a = spec.attention;
  SparseAttentionShape core;
  core.head_dim = a.head_dim;
  core.window = a.sliding_window;
  core.compress_ratio = l.compress_ratio;
  const SparseKvEntries entries = cached_entries(core, n);
  const std::int64_t entry = kv_entry_bytes(f.main_entry, a.head_dim, a.rope_dim);
  const std::int64_t window = checked_mul(entries.window, entry);
  const std::int64_t compressed = checked_mul(entries.compressed, entry);
  std::int64_t layer_bytes = checked_add(window, compressed);
  add(kv.window, window);
  add(kv.compressed, compressed);
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
      const std::int64_t keys =
          checked_mul(entries.compressed, kv_entry_bytes(f.indexer_key, ix.head_dim, 0));
      add(kv.indexer_keys, keys);
      add(layer_bytes, keys);
      c.head_dim = ix.head_dim;
      add(state, tail_state_bytes(c, f.state_bytes_per_element));
    }
    add(kv.state, state);
    add(layer_bytes, state);
  }
  add(kv.by_layer_kind[static_cast<int>(l.attention)], layer_bytes);
}

/// One layer's cache; it depends on the layer's attention kind and compression only.
KvCacheBytes layer_kv(const ModelSpec& spec, const LayerSpec& l, std::int64_t context,
                      const KvFormat& format) {
  KvCacheBytes kv;
  const AttentionSpec& a = spec.attention;
  switch (l.attention) {
    case AttentionKind::swa:
    case AttentionKind::csa:
    case AttentionKind::hca:
      add_v4_layer(spec, l, context, format, kv);
      break;
    case AttentionKind::mla:
    case AttentionKind::mla_dsa: {
      const std::int64_t latent = checked_mul(
          context, kv_entry_bytes(format.main_entry, a.kv_lora_rank + a.rope_dim, a.rope_dim));
      std::int64_t keys = 0;
      if (l.attention == AttentionKind::mla_dsa)
        keys = checked_mul(context, kv_entry_bytes(format.indexer_key, spec.indexer.head_dim, 0));
      add(kv.latent, latent);
      add(kv.indexer_keys, keys);
      add(kv.by_layer_kind[static_cast<int>(l.attention)], checked_add(latent, keys));
      break;
    }
    case AttentionKind::gqa: {
      const GqaAttentionShape g{a.num_heads, a.num_kv_heads,    a.head_dim,     0,
                                1,           format.main_entry, Precision::bf16};
      const std::int64_t bytes = checked_mul(context, kv_bytes_per_token(g));
      add(kv.kv_heads, bytes);
      add(kv.by_layer_kind[static_cast<int>(l.attention)], bytes);
      break;
    }
  }
  return kv;
}

/// kv += one * times, each part checked (all parts are non-negative, so the sum of `times` equal
/// layers overflows exactly when this product does).
void add_scaled(KvCacheBytes& kv, const KvCacheBytes& one, std::int64_t times) {
  add(kv.window, checked_mul(one.window, times));
  add(kv.compressed, checked_mul(one.compressed, times));
  add(kv.indexer_keys, checked_mul(one.indexer_keys, times));
  add(kv.state, checked_mul(one.state, times));
  add(kv.latent, checked_mul(one.latent, times));
  add(kv.kv_heads, checked_mul(one.kv_heads, times));
  for (std::size_t i = 0; i < kv.by_layer_kind.size(); ++i)
    add(kv.by_layer_kind[i], checked_mul(one.by_layer_kind[i], times));
}

}  // namespace

std::vector<KvLayerGroup> kv_layer_groups(const ModelSpec& spec, bool include_mtp) {
  // A model has a handful of layer kinds over up to a hundred layers: each kind is priced once
  // (cost and compare evaluate many contexts, and this was most of an evaluation's time).
  std::vector<KvLayerGroup> groups;
  for (const LayerSpec& l : spec.layers) {
    if (l.mtp && !include_mtp) continue;
    const auto same = [&l](const KvLayerGroup& g) {
      return g.layer.attention == l.attention && g.layer.compress_ratio == l.compress_ratio;
    };
    const auto g = std::find_if(groups.begin(), groups.end(), same);
    if (g != groups.end())
      ++g->count;
    else
      groups.push_back({l, 1});
  }
  return groups;
}

KvCacheBytes kv_cache_per_sequence(const ModelSpec& spec, std::span<const KvLayerGroup> groups,
                                   std::int64_t context, const KvFormat& format) {
  KvCacheBytes kv;
  if (context <= 0) return kv;
  for (const KvLayerGroup& g : groups)
    add_scaled(kv, layer_kv(spec, g.layer, context, format), g.count);
  return kv;
}

KvCacheBytes kv_cache_per_sequence(const ModelSpec& spec, std::int64_t context,
                                   const KvFormat& format, bool include_mtp) {
  if (context <= 0) return {};
  return kv_cache_per_sequence(spec, kv_layer_groups(spec, include_mtp), context, format);
}

std::int64_t gqa8_baseline_kv_bytes(std::int64_t layers, std::int64_t context) {
  const GqaAttentionShape g{64, 8, 128, 0, 1, KvEntryFormat::bf16, Precision::bf16};
  return checked_mul(layers, context, kv_bytes_per_token(g));
}

}  // namespace v4sim
