#include "sim/exchange_quant.h"

#include "kernels/linear.h"
#include "sim/activation_quant.h"

namespace v4sim {

std::optional<Precision> exchange_quant_precision(const ModelSpec& spec, MoeExchange exchange,
                                                  std::int64_t exchange_ranks, bool prefill) {
  const Precision in = spec.compute.routed_experts;
  if (exchange_ranks <= 1 || spec.moe.num_routed_experts <= 0) return std::nullopt;
  if (exchange == MoeExchange::all_to_all) {
    if (prefill && (in == Precision::fp8 || in == Precision::fp4)) return Precision::fp8;
    return std::nullopt;
  }
  if (in == Precision::fp4) return Precision::fp4;
  return std::nullopt;
}

std::vector<ElementwiseKernel> exchange_quant_kernels(const ModelSpec& spec, const LayerSpec& layer,
                                                      std::int64_t tokens, Precision precision) {
  std::vector<ElementwiseKernel> out;
  if (layer.ffn == FfnKind::dense || spec.moe.num_routed_experts <= 0 || tokens <= 0) return out;
  const std::int64_t D = spec.hidden_size;
  ElementwiseKernel k;
  k.name = "ffn.exchange.quant";
  k.component = OpComponent::router;
  k.cost.read(MemClass::activations) = activation_bytes(Precision::bf16, checked_mul(tokens, D));
  k.cost.written(MemClass::activations) = checked_mul(tokens, quantised_row_bytes(D, precision));
  out.push_back(std::move(k));
  return out;
}

}  // namespace v4sim
