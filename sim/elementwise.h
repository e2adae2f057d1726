// The memory-bound kernels a layer runs between its GEMMs, attention and collectives, which the
// kernels' cost() functions leave out by convention (kernels/cost.h): the residual-add RMSNorms
// before attention and before the FFN, the RMSNorms of MLA's compressed query and KV latents,
// and the router's top-k selection. Every engine the catalogue models (SGLang, vLLM,
// TensorRT-LLM) runs each of these as its own kernel in a DeepSeek layer. The FFN activation
// (sim/ffn_activation.h), a GEMM input's quantisation (sim/activation_quant.h: only where the
// GEMM's measured table does not time it already), the permutations around the routed experts
// (sim/moe_permutation.h) and the quantisation before the MoE exchange (sim/exchange_quant.h) are
// priced by their own files.
//
// Bytes per token (BF16 activations, 2 B per element, D = hidden size):
//   attn_norm, ffn_norm: read the sublayer output and the residual, write the new residual and
//     the normalised input: 4 * 2 * D. With mHC streams the residual lives in the mHC ops
//     (priced there): read and write the collapsed input, 2 * 2 * D.
//   attn.latent_norm (a low-rank query or a normalised KV): read and write the query latent and
//     the KV latent (MLA: kv_lora_rank; V4: its one KV head, head_dim), 2 * 2 * (q + kv).
//   ffn.topk (MoE layers with scored routing): read the FP32 router logits of every routed
//     expert, write top-k indices and weights (4 B each): 4 * E + 8 * k.
// Time of one kernel: max(floor_s, roofline memory time) - a kernel cannot finish faster than
// the device's smallest measured kernel (the caller passes that floor).
#pragma once

#include <string>
#include <vector>

#include "hardware/accelerator.h"
#include "hardware/perf_model.h"
#include "kernels/cost.h"
#include "models/model_spec.h"
#include "sim/op_list.h"

namespace v4sim {

struct ElementwiseKernel {
  std::string name;  // e.g. "attn_norm"
  OpComponent component = OpComponent::attention_projections;
  Cost cost;  // activation bytes read and written for the tokens asked
  /// Part of the routed-expert layer that a fused MoE kernel does itself (the top-k, the
  /// permutation around the grouped GEMMs, their activation): not launched when the routed
  /// experts are timed from a fused MoE table (PerfEstimate::includes_moe_glue).
  bool moe_glue = false;
};

/// The element-wise kernels of main layer `layer` of `spec` for `tokens` tokens on a rank.
std::vector<ElementwiseKernel> elementwise_kernels(const ModelSpec& spec, const LayerSpec& layer,
                                                   std::int64_t tokens);

/// Bytes the latent RMSNorm (attn.latent_norm) reads, and writes, for `tokens` tokens: MLA's query
/// and KV latents, V4's query latent and KV head; 0 for a model without them.
std::int64_t latent_norm_bytes(const ModelSpec& spec, std::int64_t tokens);

/// The device's smallest kernel: its measured (or transferred) time of the smallest GEMM in the
/// tables, BF16 1 x 512 x 512 (aiconfigurator's CUDA-graph replays: 2.5 us on B300/GB200/GB300,
/// 2.8 us on B200, 3.4 us on H200, 3.6 us on H100; kernel-data aic-gemm-bfloat16.csv), which is
/// launch, scheduling and pipeline fill, not work. Without a BF16 GEMM table serving the device
/// (`perf` null, or the nearest GEMM table another precision's): the device's launch overhead.
double smallest_kernel_s(const PerfModel* perf, const Accelerator& device);

/// One kernel's time: the larger of `floor_s` and its bytes at the device's derated HBM
/// bandwidth (hardware/roofline.h, launch overhead included).
double elementwise_time_s(const Accelerator& device, const Cost& cost, double floor_s);

}  // namespace v4sim
