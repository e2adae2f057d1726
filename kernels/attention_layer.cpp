#include "kernels/attention_layer.h"

namespace v4sim {

std::int64_t compress_ratio(const AttentionLayerShape& s) {
  switch (s.kind) {
    case AttentionLayerKind::swa:
      return 0;
    case AttentionLayerKind::csa:
      return s.csa_ratio;
    case AttentionLayerKind::hca:
      return s.hca_ratio;
  }
  return 0;
}

std::vector<LinearShape> projection_shapes(const AttentionLayerShape& s) {
  const std::int64_t T = s.num_tokens, D = s.hidden, Hd = s.num_heads * s.head_dim;
  const WeightFormat f = s.attention_weights;
  const Precision p = s.projections;
  std::vector<LinearShape> out = {
      {T, D, s.q_lora_rank, 1, f, p},                         // wq_a
      {T, s.q_lora_rank, Hd, 1, f, p},                        // wq_b
      {T, D, s.head_dim, 1, f, p},                            // wkv
      {T, Hd, s.o_groups * s.o_lora_rank, s.o_groups, f, p},  // wo_a (grouped)
      {T, s.o_groups * s.o_lora_rank, D, 1, f, p},            // wo_b
  };
  if (s.kind == AttentionLayerKind::csa) {
    const Precision pi = s.indexer_projections;
    out.push_back({T, s.q_lora_rank, s.indexer_heads * s.indexer_dim, 1, s.indexer_weights, pi});
    out.push_back({T, D, s.indexer_heads, 1, WeightFormat::bf16, pi});  // weights_proj
  }
  return out;
}

SparseAttentionShape core_shape(const AttentionLayerShape& s) {
  SparseAttentionShape c;
  c.num_heads = s.num_heads;
  c.head_dim = s.head_dim;
  c.rope_dim = s.rope_dim;
  c.window = s.window;
  c.compress_ratio = compress_ratio(s);
  c.topk = s.kind == AttentionLayerKind::csa ? s.topk : 0;
  c.start_pos = s.start_pos;
  c.num_tokens = s.num_tokens;
  c.kv_format = s.main_entry;
  c.compute = s.core;
  return c;
}

CompressorShape compressor_shape(const AttentionLayerShape& s) {
  return {s.hidden,
          s.head_dim,
          s.rope_dim,
          compress_ratio(s),
          s.kind == AttentionLayerKind::csa,
          s.start_pos,
          s.num_tokens,
          s.compressor_weights,
          s.compressor,
          s.main_entry};
}

CompressorShape indexer_compressor_shape(const AttentionLayerShape& s) {
  return {s.hidden,    s.indexer_dim, s.rope_dim,           s.csa_ratio,  true,
          s.start_pos, s.num_tokens,  s.compressor_weights, s.compressor, s.indexer_key};
}

IndexerScoringShape indexer_scoring_shape(const AttentionLayerShape& s) {
  return {s.indexer_heads, s.indexer_dim, s.csa_ratio,      s.start_pos,
          s.num_tokens,    s.indexer_key, s.indexer_scoring};
}

Cost cost(const AttentionLayerShape& s) {
  Cost c;
  for (const LinearShape& l : projection_shapes(s)) c += cost(l);
  c += cost(core_shape(s));
  if (s.kind == AttentionLayerKind::swa) return c;
  c += cost(compressor_shape(s));
  if (s.kind != AttentionLayerKind::csa) return c;
  c += cost(indexer_compressor_shape(s));
  c += cost(indexer_scoring_shape(s));
  return c;
}

}  // namespace v4sim
