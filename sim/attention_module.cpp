#include "sim/attention_module.h"

#include <algorithm>

namespace v4sim::serving_detail {

bool in_attention_module(OpComponent c) {
  return c == OpComponent::attention_projections || c == OpComponent::core_attention ||
         c == OpComponent::indexer_projections || c == OpComponent::indexer_scoring ||
         c == OpComponent::compressor;
}

int module_slot(const Setup& s, const Op& op, bool prefill) {
  if (prefill || s.perf == nullptr || s.spec.architecture != Architecture::v4 || op.layer < 0 ||
      op.layer >= s.spec.num_layers || !in_attention_module(op.component))
    return -1;
  const AttentionKind kind = s.spec.layers[static_cast<std::size_t>(op.layer)].attention;
  if (kind != AttentionKind::csa && kind != AttentionKind::hca) return -1;
  for (std::size_t r = 0; r < s.layer_representatives.size() && r < kMaxModuleSlots; ++r)
    if (s.layer_representatives[r] == op.layer) return static_cast<int>(r);
  return -1;
}

const PerfEstimate* attention_module_estimate(const Setup& s, const Pass& pass, double seqs,
                                              std::int64_t layer, const Cost& cost, double& time_s,
                                              std::optional<PerfModel::Shape>* shape) {
  const LayerSpec& l = s.spec.layers[static_cast<std::size_t>(layer)];
  KernelCall call;
  call.kernel = KernelClass::attention_module;
  call.kv_len = static_cast<double>(pass.start_pos + pass.num_tokens);
  call.heads = static_cast<double>(s.spec.attention.num_heads / s.layout.tp);
  call.hidden = static_cast<double>(s.spec.hidden_size);
  call.compress_ratio = static_cast<double>(l.compress_ratio);
  if (shape && !*shape) *shape = s.perf->shape(call);  // before the point's fields are set
  call.precision = s.spec.compute.attention_projections;
  call.cost = cost;
  call.batch = seqs;
  const PerfEstimate& e =
      shape ? s.perf->estimate(**shape, call, time_s) : s.perf->estimate(call, time_s);
  return e.found ? &e : nullptr;
}

double module_scale(double module_s, double separate_s, double composed_s) {
  if (!(composed_s > 0)) return 1.0;
  return std::max(0.0, module_s - separate_s) / composed_s;
}

}  // namespace v4sim::serving_detail
