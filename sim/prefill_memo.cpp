#include "sim/prefill_memo.h"

namespace v4sim {

const serving_detail::Prefill& PrefillMemo::one_prompt(const serving_detail::Setup& s) {
  // Every field, by structured binding: a field added to ServingConfig stops this compiling until
  // it joins the key.
  const auto& [layout, devices, redundant_experts, imbalance, moe_exchange, overlap, mtp_acceptance,
               mtp_tokens, measured_tables, normal_share, scheduler_overhead_s, cuda_graph,
               op_timings, kv_format, weights, reserved_hbm, cache_hit_rate, chunk_tokens,
               prefill_devices] = s.config;
  // The setup's own layout (the config's, or a prefill pool's) decides the pricing.
  Key key{s.nodes,      s.workload.context_tokens,
          s.layout.tp,  s.layout.dp,
          s.layout.pp,  s.layout.ep,
          layout.tp,    layout.dp,
          layout.pp,    layout.ep,
          devices,      redundant_experts,
          imbalance,    static_cast<int>(moe_exchange),
          overlap,      mtp_acceptance,
          mtp_tokens,   measured_tables,
          normal_share, scheduler_overhead_s,
          cuda_graph,   op_timings,
          kv_format,    weights ? static_cast<int>(*weights) : -1,
          reserved_hbm, cache_hit_rate,
          chunk_tokens, prefill_devices};
  auto it = kept_.find(key);
  if (it == kept_.end()) it = kept_.emplace(std::move(key), price_prefill(s, 1.0)).first;
  return it->second;
}

}  // namespace v4sim
