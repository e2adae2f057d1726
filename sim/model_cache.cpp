#include "sim/model_cache.h"

namespace v4sim {

WeightBytesOnRank weight_bytes_on_rank(const ModelSpec& spec,
                                       const std::vector<WeightTensor>& weights, std::int64_t tp,
                                       std::int64_t local_experts, bool mtp) {
  const double ranks = static_cast<double>(tp);
  WeightBytesOnRank out;
  for (const WeightTensor& w : weights) {
    if (w.mtp && !mtp) continue;
    double bytes = static_cast<double>(w.bytes());
    if (w.component == ParamComponent::routed_experts) {
      bytes = bytes / static_cast<double>(w.copies) * static_cast<double>(local_experts);
    } else if (split_over_tp(w)) {
      bytes /= ranks;  // split over tensor-parallel ranks (heads, FFN columns, or vocabulary)
    }
    const bool main_layer = w.layer >= 0 && w.layer < spec.num_layers;
    (main_layer ? out.main_layers : out.model_level) += bytes;
  }
  return out;
}

const std::vector<Op>& ModelCache::ops(const Pass& pass, const OpOptions& options) {
  // Every field, by structured binding: a field added to Pass or OpOptions stops this compiling
  // until it joins the key.
  const auto& [start_pos, num_tokens] = pass;
  const auto& [kv_format, include_mtp, logits_all, prefill, attention_tp, main_layers, layers,
               names, select] = options;
  OpsKey key{start_pos,    num_tokens,  kv_format,
             include_mtp,  logits_all,  prefill,
             attention_tp, main_layers, std::vector<std::int64_t>(layers.begin(), layers.end()),
             names,        select};
  auto it = ops_.find(key);
  if (it == ops_.end())
    it = ops_.emplace(std::move(key),
                      build_ops(model_->spec, model_->weights, model_->weight_index, pass, options))
             .first;
  return it->second;
}

const WeightBytesOnRank& ModelCache::weights(std::int64_t tp, std::int64_t local_experts,
                                             bool mtp) {
  const auto key = std::make_tuple(tp, local_experts, mtp);
  auto it = weights_.find(key);
  if (it == weights_.end())
    it = weights_
             .emplace(key,
                      weight_bytes_on_rank(model_->spec, model_->weights, tp, local_experts, mtp))
             .first;
  return it->second;
}

}  // namespace v4sim
