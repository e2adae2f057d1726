#include "sim/activation_quant.h"

namespace v4sim {
namespace {

constexpr std::int64_t kBf16Bytes = 2;
constexpr std::int64_t kFp8ScaleGroup = 128;  // elements per FP32 scale (1 x 128 blocks)
constexpr std::int64_t kFp8ScaleBytes = 4;
constexpr std::int64_t kMxScaleGroup = 32;  // elements per E8M0 scale byte (MX formats)

std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return (a + b - 1) / b;
}

}  // namespace

std::int64_t quantised_row_bytes(std::int64_t width, Precision compute) {
  if (compute == Precision::fp4) return ceil_div(width, 2) + ceil_div(width, kMxScaleGroup);
  return width + kFp8ScaleBytes * ceil_div(width, kFp8ScaleGroup);
}

std::optional<ElementwiseKernel> activation_quant_kernel(const std::string& gemm_name,
                                                         OpComponent c, std::int64_t rows,
                                                         std::int64_t width, Precision compute,
                                                         const PerfEstimate& e) {
  if (compute != Precision::fp8 && compute != Precision::fp4) return std::nullopt;
  // Only a table of the product's own precision says what its rows left out.
  if (!e.found || e.includes_activation_quantisation || e.table_precision != compute)
    return std::nullopt;
  if (rows <= 0 || width <= 0) return std::nullopt;
  ElementwiseKernel k;
  k.name = gemm_name + ".quant";
  k.component = c;
  k.cost.read(MemClass::activations) = rows * width * kBf16Bytes;
  k.cost.written(MemClass::activations) = rows * quantised_row_bytes(width, compute);
  return k;
}

}  // namespace v4sim
