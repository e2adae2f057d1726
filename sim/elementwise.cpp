#include "sim/elementwise.h"

#include <algorithm>

#include "hardware/roofline.h"
#include "kernels/linear.h"

namespace v4sim {
namespace {

constexpr std::int64_t kBf16Bytes = 2;

ElementwiseKernel kernel(std::string name, OpComponent c, std::int64_t read_bytes,
                         std::int64_t written_bytes) {
  ElementwiseKernel k;
  k.name = std::move(name);
  k.component = c;
  k.cost.read(MemClass::activations) = read_bytes;
  k.cost.written(MemClass::activations) = written_bytes;
  return k;
}

}  // namespace

std::vector<ElementwiseKernel> elementwise_kernels(const ModelSpec& spec, const LayerSpec& layer,
                                                   std::int64_t tokens) {
  std::vector<ElementwiseKernel> out;
  if (tokens <= 0) return out;
  out.reserve(4);  // one allocation: this runs for every layer kind of every point a search prices
  const std::int64_t row = spec.hidden_size * kBf16Bytes * tokens;
  // With a plain residual the norm kernel also adds the residual: two tensors in, two out.
  const std::int64_t tensors = spec.mhc.streams > 1 ? 1 : 2;
  for (const char* name : {"attn_norm", "ffn_norm"})
    out.push_back(kernel(name, OpComponent::attention_projections, tensors * row, tensors * row));
  if (const std::int64_t bytes = latent_norm_bytes(spec, tokens); bytes > 0)
    out.push_back(kernel("attn.latent_norm", OpComponent::attention_projections, bytes, bytes));
  if (layer.ffn == FfnKind::moe_scored && spec.moe.num_routed_experts > 0) {
    out.push_back(kernel("ffn.topk", OpComponent::router, 4 * spec.moe.num_routed_experts * tokens,
                         8 * spec.moe.experts_per_token * tokens));
    out.back().moe_glue = true;
  }
  return out;
}

std::int64_t latent_norm_bytes(const ModelSpec& spec, std::int64_t tokens) {
  // V4 normalises its single KV head (head_dim wide) where MLA normalises the KV latent.
  const std::int64_t kv = spec.attention.kv_lora_rank > 0         ? spec.attention.kv_lora_rank
                          : spec.architecture == Architecture::v4 ? spec.attention.head_dim
                                                                  : 0;
  return (spec.attention.q_lora_rank + kv) * kBf16Bytes * tokens;
}

double smallest_kernel_s(const PerfModel* perf, const Accelerator& device) {
  if (perf == nullptr) return device.launch_overhead_s;
  KernelCall call;
  call.kernel = KernelClass::gemm;
  call.precision = Precision::bf16;
  call.m = 1;
  call.n = 512;
  call.k = 512;
  call.cost = cost(LinearShape{1, 512, 512, 1, WeightFormat::bf16, Precision::bf16});
  const PerfEstimate e = perf->estimate(call);
  // Only a BF16 GEMM table times the kernel asked for; another precision's table (e.g. InferSim's
  // FP8 GEMMs on H800, whose smallest shape moves 8 MB) says nothing about an empty kernel.
  return e.found && e.table_precision == Precision::bf16 ? e.time_s : device.launch_overhead_s;
}

double elementwise_time_s(const Accelerator& device, const Cost& cost, double floor_s) {
  return std::max(floor_s, op_time(device, cost).total_s);
}

}  // namespace v4sim
