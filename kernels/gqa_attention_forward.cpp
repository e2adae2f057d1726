#include "kernels/gqa_attention_forward.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/linear.h"
#include "kernels/precondition.h"

namespace v4sim {
namespace {

constexpr const char* kKernel = "gqa_attention_forward";  // names the kernel in precondition errors

}  // namespace

void gqa_attention_forward(const GqaAttentionShape& s, const Eigen::Ref<const RowMatrixXf>& q,
                           const Eigen::Ref<const RowMatrixXf>& k_cache,
                           const Eigen::Ref<const RowMatrixXf>& v_cache,
                           Eigen::Ref<RowMatrixXf> out, Cost* counted) {
  const Eigen::Index Hq = s.q_heads, Hkv = s.kv_heads, d = s.head_dim, T = s.num_tokens;
  V4SIM_REQUIRE(kKernel, Hq > 0 && Hkv > 0 && Hq % Hkv == 0,
                "q_heads must be a positive multiple of kv_heads");
  V4SIM_REQUIRE(kKernel, d > 0 && T >= 0 && s.start_pos >= 0, "bad shape");
  V4SIM_REQUIRE(kKernel, q.rows() == T && q.cols() == Hq * d, "q must be [T, q_heads*head_dim]");
  V4SIM_REQUIRE(kKernel, out.rows() == T && out.cols() == Hq * d,
                "out must be [T, q_heads*head_dim]");
  V4SIM_REQUIRE(kKernel, k_cache.cols() == Hkv * d && v_cache.cols() == Hkv * d,
                "caches must be [n, kv_heads*head_dim]");
  V4SIM_REQUIRE(kKernel, k_cache.rows() >= s.start_pos + T && v_cache.rows() >= s.start_pos + T,
                "caches hold fewer entries than the last position");
  const Eigen::Index G = Hq / Hkv;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));

  std::int64_t keys = 0;
  RowMatrixXf scores;
  for (Eigen::Index i = 0; i < T; ++i) {
    const Eigen::Index n = s.start_pos + i + 1;  // causal: keys 0..t
    // Query heads of group g are contiguous: row i seen as [Hkv, G*d], block g is [G, d].
    for (Eigen::Index g = 0; g < Hkv; ++g) {
      const Eigen::Map<const RowMatrixXf> qg(q.row(i).data() + g * G * d, G, d);
      Eigen::Map<RowMatrixXf> og(out.row(i).data() + g * G * d, G, d);
      const auto kg = k_cache.block(0, g * d, n, d);
      const auto vg = v_cache.block(0, g * d, n, d);
      scores.noalias() = qg * kg.transpose();  // [G, n]
      scores *= scale;
      for (Eigen::Index h = 0; h < G; ++h) {
        auto row = scores.row(h);
        row = (row.array() - row.maxCoeff()).exp();
        row /= row.sum();
      }
      og.noalias() = scores * vg;
    }
    keys += n;
  }

  if (counted != nullptr) {
    Cost c;
    c.flops_at(s.compute) = 4 * Hq * d * keys;  // QK and PV: 2 MACs per (query head, dim, key)
    c.read(MemClass::kv_cache) = keys * kv_bytes_per_token(s);
    c.read(MemClass::activations) = activation_bytes(Precision::bf16, T * Hq * d);
    c.written(MemClass::activations) = activation_bytes(Precision::bf16, T * Hq * d);
    *counted += c;
  }
}

}  // namespace v4sim
