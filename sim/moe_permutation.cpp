#include "sim/moe_permutation.h"

#include "kernels/cost.h"
#include "sim/activation_quant.h"

namespace v4sim {
namespace {

constexpr std::int64_t kBf16Bytes = 2;

ElementwiseKernel per_pair(const char* name, std::int64_t pairs, std::int64_t read_row,
                           std::int64_t written_row) {
  ElementwiseKernel k;
  k.name = name;
  k.component = OpComponent::routed_experts;
  k.cost.read(MemClass::activations) = checked_mul(pairs, read_row);
  k.cost.written(MemClass::activations) = checked_mul(pairs, written_row);
  k.moe_glue = true;
  return k;
}

}  // namespace

bool moe_permutes(MoeExchange exchange, std::int64_t exchange_ranks, bool prefill) {
  const bool low_latency_all_to_all =
      exchange == MoeExchange::all_to_all && exchange_ranks > 1 && !prefill;
  return !low_latency_all_to_all;
}

std::vector<ElementwiseKernel> moe_permutation_kernels(const ModelSpec& spec,
                                                       const LayerSpec& layer,
                                                       std::int64_t routed_pairs) {
  std::vector<ElementwiseKernel> out;
  if (layer.ffn == FfnKind::dense || spec.moe.num_routed_experts <= 0 || routed_pairs <= 0)
    return out;
  const std::int64_t D = spec.hidden_size;
  const Precision in = spec.compute.routed_experts;
  const std::int64_t input_row = in == Precision::fp8 || in == Precision::fp4
                                     ? quantised_row_bytes(D, in)
                                     : checked_mul(D, kBf16Bytes);
  const std::int64_t output_row = checked_mul(D, kBf16Bytes);
  out.push_back(per_pair("ffn.permute", routed_pairs, input_row, input_row));
  out.push_back(per_pair("ffn.unpermute", routed_pairs, output_row, output_row));
  return out;
}

}  // namespace v4sim
