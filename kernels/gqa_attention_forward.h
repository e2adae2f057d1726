// Dense causal GQA/MHA core attention: float32 reference kernel for the baseline V4 and V3.2 are
// compared with. Cost side: kernels/gqa_attention.h.
//
// q_heads query heads share kv_heads K/V heads (group size G = q_heads / kv_heads; MHA when G = 1,
// MQA when kv_heads = 1). Query head j of the token at position t uses KV head j / G:
//   o_j = sum_{s <= t} softmax_s(q_j . k_{s,g} / sqrt(head_dim)) v_{s,g}
// RoPE, if any, is applied by the caller (element-wise); the caches already hold every position up
// to the last query's, and are only read here.
#pragma once

#include <Eigen/Core>

#include "kernels/cost.h"
#include "kernels/gqa_attention.h"
#include "kernels/token_selection.h"

namespace v4sim {

/// Attention of the shape's queries (positions start_pos .. start_pos+num_tokens-1).
///   q [T, q_heads*head_dim]; k_cache, v_cache [n, kv_heads*head_dim] with n >= start_pos + T;
///   out [T, q_heads*head_dim]. Adds cost(s) worth of counted work to *counted when given.
void gqa_attention_forward(const GqaAttentionShape& s, const Eigen::Ref<const RowMatrixXf>& q,
                           const Eigen::Ref<const RowMatrixXf>& k_cache,
                           const Eigen::Ref<const RowMatrixXf>& v_cache,
                           Eigen::Ref<RowMatrixXf> out, Cost* counted = nullptr);

}  // namespace v4sim
