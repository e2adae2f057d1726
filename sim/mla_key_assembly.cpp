#include "sim/mla_key_assembly.h"

#include "kernels/cost.h"

namespace v4sim {
namespace {

constexpr std::int64_t kBf16Bytes = 2;

ElementwiseKernel kernel(const char* name, std::int64_t read_bytes, std::int64_t written_bytes) {
  ElementwiseKernel k;
  k.name = name;
  k.component = OpComponent::core_attention;
  k.cost.read(MemClass::activations) = read_bytes;
  k.cost.written(MemClass::activations) = written_bytes;
  return k;
}

}  // namespace

std::vector<ElementwiseKernel> mla_key_assembly_kernels(const ModelSpec& spec,
                                                        const LayerSpec& layer,
                                                        std::int64_t queries, std::int64_t entries,
                                                        std::int64_t tp) {
  std::vector<ElementwiseKernel> out;
  // The expanded form: dense MLA (not V3.2's DSA layers, not V4), prefill (the caller's phase).
  const AttentionSpec& a = spec.attention;
  if (spec.architecture != Architecture::mla || layer.attention == AttentionKind::mla_dsa ||
      queries <= 0 || entries <= 0 || tp <= 0)
    return out;
  const std::int64_t heads = a.num_heads / tp;
  const std::int64_t q_rope = checked_mul(checked_mul(heads, a.rope_dim), kBf16Bytes);
  out.push_back(kernel("attn.q_rope", checked_mul(queries, q_rope), checked_mul(queries, q_rope)));
  const std::int64_t nope = checked_mul(checked_mul(heads, a.qk_nope_dim), kBf16Bytes);
  const std::int64_t rope_key = checked_mul(a.rope_dim, kBf16Bytes);
  const std::int64_t key = checked_mul(checked_mul(heads, a.qk_nope_dim + a.rope_dim), kBf16Bytes);
  out.push_back(
      kernel("attn.k_assemble", checked_mul(entries, nope + rope_key), checked_mul(entries, key)));
  return out;
}

}  // namespace v4sim
