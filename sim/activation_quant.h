// The kernel that quantises a GEMM's BF16 input before an FP8 or FP4 product. Engines run it as a
// kernel of its own in front of each block-scaled GEMM (SGLang's per-token-group FP8 quantisation
// ahead of DeepGEMM, vLLM's QuantFP8, TensorRT-LLM's FP8/NVFP4 quantise ops). Whether a measured
// GEMM table already holds it depends on the source: aiconfigurator times SGLang's path with it,
// DeepGEMM's, InferSim's and AITER's benchmarks feed inputs already quantised. Tables say which
// (`activation_quantisation:` in hardware/perf/README.md); the step model adds this kernel only
// after a GEMM priced from a table that leaves it out. A GEMM on the roofline gets none: the
// roofline is the ideal bound of the product alone.
//
// Bytes per row (a token; `width` = the GEMM's reduction size k):
//   read the BF16 input: 2 * width;
//   write FP8 with one FP32 scale per 128 elements (DeepSeek-V3's 1 x 128 activation scaling,
//     DeepGEMM's input format): width + 4 * ceil(width / 128);
//   write FP4 as MXFP4, two E2M1 values per byte and one E8M0 scale byte per 32 elements (OCP
//     Microscaling Formats spec v1.0; the only kernel-only FP4 tables, AMD AITER's, take it):
//     ceil(width / 2) + ceil(width / 32).
// Timed like every element-wise kernel (sim/elementwise.h): the larger of the device's smallest
// kernel and the bytes at derated HBM bandwidth.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "hardware/perf_model.h"
#include "sim/elementwise.h"

namespace v4sim {

/// The quantisation kernel a GEMM of `rows` x `width` input in `compute` precision needs after
/// table lookup `e`, named `<gemm_name>.quant` in component `c`; none when the product is not
/// FP8/FP4, was not priced from a table of its own precision, or its table times the
/// quantisation already.
std::optional<ElementwiseKernel> activation_quant_kernel(const std::string& gemm_name,
                                                         OpComponent c, std::int64_t rows,
                                                         std::int64_t width, Precision compute,
                                                         const PerfEstimate& e);

/// The same kernel's cost alone (activation bytes read and written), for callers that need no
/// name (a search's points, sim/compiled_step.h).
std::optional<Cost> activation_quant_cost(std::int64_t rows, std::int64_t width, Precision compute,
                                          const PerfEstimate& e);

/// Bytes written per row when a `width`-wide BF16 row is quantised for a `compute` product.
std::int64_t quantised_row_bytes(std::int64_t width, Precision compute);

}  // namespace v4sim
