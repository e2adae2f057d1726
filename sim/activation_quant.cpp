#include "sim/activation_quant.h"

#include "kernels/linear.h"
#include "kernels/storage.h"

namespace v4sim {

// A quantised row is laid out as a cached vector of that format (kernels/storage.h owns the
// layouts): E4M3 with one FP32 scale per 128 elements, or MXFP4 (E2M1 pairs, one E8M0 per 32).
std::int64_t quantised_row_bytes(std::int64_t width, Precision compute) {
  return kv_entry_bytes(
      compute == Precision::fp4 ? KvEntryFormat::mxfp4 : KvEntryFormat::fp8_fp32_scale, width, 0);
}

std::optional<Cost> activation_quant_cost(std::int64_t rows, std::int64_t width, Precision compute,
                                          const PerfEstimate& e) {
  if (compute != Precision::fp8 && compute != Precision::fp4) return std::nullopt;
  // Only a table of the product's own precision says what its rows left out.
  if (!e.found || e.includes_activation_quantisation || e.table_precision != compute)
    return std::nullopt;
  if (rows <= 0 || width <= 0) return std::nullopt;
  Cost c;
  c.read(MemClass::activations) = activation_bytes(Precision::bf16, checked_mul(rows, width));
  c.written(MemClass::activations) = checked_mul(rows, quantised_row_bytes(width, compute));
  return c;
}

std::optional<ElementwiseKernel> activation_quant_kernel(const std::string& gemm_name,
                                                         OpComponent c, std::int64_t rows,
                                                         std::int64_t width, Precision compute,
                                                         const PerfEstimate& e) {
  std::optional<Cost> cost = activation_quant_cost(rows, width, compute, e);
  if (!cost) return std::nullopt;
  ElementwiseKernel k;
  k.name = gemm_name + ".quant";
  k.component = c;
  k.cost = *cost;
  return k;
}

}  // namespace v4sim
