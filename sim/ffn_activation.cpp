#include "sim/ffn_activation.h"

#include <algorithm>

namespace v4sim {
namespace {

constexpr std::int64_t kBf16Bytes = 2;
constexpr std::int64_t kScaleGroup = 128;  // elements per FP32 activation scale
constexpr std::int64_t kScaleBytes = 4;

ElementwiseKernel activation(const char* name, OpComponent c, std::int64_t rows, std::int64_t inter,
                             Precision compute) {
  ElementwiseKernel k;
  k.name = name;
  k.component = c;
  k.cost.read(MemClass::activations) = rows * 2 * inter * kBf16Bytes;
  k.cost.written(MemClass::activations) = rows * activation_out_bytes(inter, compute);
  return k;
}

}  // namespace

std::int64_t activation_out_bytes(std::int64_t inter, Precision compute) {
  if (compute == Precision::fp8 || compute == Precision::fp4)
    return inter + kScaleBytes * ((inter + kScaleGroup - 1) / kScaleGroup);
  return inter * kBf16Bytes;
}

std::vector<ElementwiseKernel> ffn_activation_kernels(const ModelSpec& spec, const LayerSpec& layer,
                                                      std::int64_t tokens,
                                                      std::int64_t routed_pairs, std::int64_t tp) {
  std::vector<ElementwiseKernel> out;
  tp = std::max<std::int64_t>(1, tp);
  const MoeSpec& m = spec.moe;
  if (layer.ffn == FfnKind::dense) {
    const std::int64_t inter = m.dense_intermediate_size / tp;
    if (tokens > 0 && inter > 0)
      out.push_back(
          activation("ffn.act", OpComponent::dense_ffn, tokens, inter, spec.compute.dense_ffn));
    return out;
  }
  const std::int64_t shared = m.num_shared_experts * m.expert_intermediate_size / tp;
  if (tokens > 0 && shared > 0)
    out.push_back(activation("ffn.shared_act", OpComponent::shared_experts, tokens, shared,
                             spec.compute.shared_experts));
  if (routed_pairs > 0 && m.expert_intermediate_size > 0) {
    out.push_back(activation("ffn.routed_act", OpComponent::routed_experts, routed_pairs,
                             m.expert_intermediate_size, spec.compute.routed_experts));
    out.back().moe_glue = true;
  }
  return out;
}

}  // namespace v4sim
