#include "kernels/moe_forward.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "kernels/linear.h"
#include "kernels/parallel_for.h"
#include "kernels/precondition.h"
#include "kernels/storage.h"
#include "kernels/weight_gemm.h"

namespace v4sim {
namespace {

constexpr const char* kKernel = "moe_forward";  // names the kernel in precondition errors

// One executed GEMM [rows, in] x [in, out]: FLOPs, its weight once, input and output.
void count_gemm(Cost* c, std::int64_t rows, std::int64_t in, std::int64_t out, WeightFormat w,
                Precision p) {
  if (c == nullptr) return;
  c->flops_at(p) += 2 * rows * in * out;
  c->read(MemClass::weights) += weight_bytes(w, out, in);
  c->read(MemClass::activations) += activation_bytes(p, rows * in);
  c->written(MemClass::activations) += activation_bytes(Precision::bf16, rows * out);
}

void check_expert(const ExpertWeights& w, const MoeShape& s) {
  V4SIM_REQUIRE(kKernel, w.w1.rows() == s.inter && w.w1.cols() == s.hidden,
                "w1 must be [inter, hidden]");
  V4SIM_REQUIRE(kKernel, w.w3.rows() == s.inter && w.w3.cols() == s.hidden,
                "w3 must be [inter, hidden]");
  V4SIM_REQUIRE(kKernel, w.w2.rows() == s.hidden && w.w2.cols() == s.inter,
                "w2 must be [hidden, inter]");
}

// One SwiGLU expert on a gathered group xg [n, D]: y [n, D] = W2 (row_weight * h). Three GEMMs.
void swiglu_group(const ExpertWeights& w, const Eigen::Ref<const RowMatrixXf>& xg,
                  std::span<const float> row_weight, float limit, RowMatrixXf& y,
                  WeightFormat format, Precision p, Cost* counted) {
  const Eigen::Index n = xg.rows(), d = xg.cols(), inter = w.w1.rows();
  RowMatrixXf g, u;
  gemm_weight_t(xg, w.w1, g);
  gemm_weight_t(xg, w.w3, u);
  for (Eigen::Index r = 0; r < n; ++r) {
    const float gamma = row_weight.empty() ? 1.0f : row_weight[r];
    for (Eigen::Index i = 0; i < inter; ++i) {
      const float gv = std::min(g(r, i), limit);
      const float uv = std::clamp(u(r, i), -limit, limit);
      g(r, i) = gamma * (gv / (1.0f + std::exp(-gv))) * uv;  // γ applied before W2
    }
  }
  gemm_weight_t(g, w.w2, y);
  count_gemm(counted, n, d, inter, format, p);  // W1
  count_gemm(counted, n, d, inter, format, p);  // W3
  count_gemm(counted, n, inter, d, format, p);  // W2
}

// Indices 0..n-1 of the k largest values (ties: lower index first), in descending order.
std::vector<std::int32_t> top_indices(const std::vector<double>& v, std::int64_t k) {
  std::vector<std::int32_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](std::int32_t a, std::int32_t b) {
    return v[a] > v[b] || (v[a] == v[b] && a < b);
  });
  idx.resize(k);
  return idx;
}

double softplus(double l) {
  return std::max(l, 0.0) + std::log1p(std::exp(-std::fabs(l)));
}

}  // namespace

RouterParams v4_router(std::int64_t topk, float route_scale) {
  return {RouterScore::sqrt_softplus, topk, route_scale, 1, 1};
}

RouterParams v3_router(std::int64_t topk, float route_scale, std::int64_t n_group,
                       std::int64_t topk_group) {
  return {RouterScore::sigmoid, topk, route_scale, n_group, topk_group};
}

double router_score(RouterScore f, double l) {
  if (f == RouterScore::sqrt_softplus) return std::sqrt(softplus(l));
  return l >= 0 ? 1.0 / (1.0 + std::exp(-l)) : std::exp(l) / (1.0 + std::exp(l));
}

double router_log_score(RouterScore f, double l) {
  if (f == RouterScore::sigmoid) {
    return -softplus(-l);  // log sigmoid(l)
  }
  // log softplus(l) = l + log(1 - e^l/2 + ...): below -30 the correction is < 1e-13.
  const double log_softplus = l > -30.0 ? std::log(softplus(l)) : l;
  return 0.5 * log_softplus;
}

RowMatrixXf moe_routing_weights(const RouterParams& p, const Eigen::Ref<const RowMatrixXf>& logits,
                                const Eigen::Ref<const ExpertIds>& experts) {
  V4SIM_REQUIRE(kKernel, experts.rows() == logits.rows(), "routing and logits token counts differ");
  RowMatrixXf w(experts.rows(), experts.cols());
  std::vector<double> ls(experts.cols());
  for (Eigen::Index t = 0; t < experts.rows(); ++t) {
    double mx = -std::numeric_limits<double>::infinity();
    for (Eigen::Index j = 0; j < experts.cols(); ++j) {
      const std::int32_t e = experts(t, j);
      V4SIM_REQUIRE(kKernel, e >= 0 && e < logits.cols(), "expert id out of range");
      ls[j] = router_log_score(p.score, logits(t, e));
      mx = std::max(mx, ls[j]);
    }
    double sum = 0.0;
    for (double& v : ls) sum += (v = std::exp(v - mx));
    for (Eigen::Index j = 0; j < experts.cols(); ++j)
      w(t, j) = static_cast<float>(p.route_scale * ls[j] / sum);
  }
  return w;
}

Routing moe_route_by_score(const RouterParams& p, const Eigen::Ref<const RowMatrixXf>& logits,
                           std::span<const float> bias) {
  const Eigen::Index T = logits.rows(), E = logits.cols();
  V4SIM_REQUIRE(kKernel, bias.empty() || static_cast<Eigen::Index>(bias.size()) == E,
                "bias must be [E]");
  V4SIM_REQUIRE(kKernel, p.topk > 0 && p.topk <= E, "need 0 < topk <= E");
  V4SIM_REQUIRE(kKernel, p.n_group > 0 && E % p.n_group == 0, "E must be a multiple of n_group");
  V4SIM_REQUIRE(kKernel, p.topk_group > 0 && p.topk_group <= p.n_group,
                "need 0 < topk_group <= n_group");
  const Eigen::Index group_size = E / p.n_group;
  V4SIM_REQUIRE(kKernel, p.n_group == 1 || group_size >= 2,
                "group-limited routing needs >= 2 experts per group");
  V4SIM_REQUIRE(kKernel, p.topk <= p.topk_group * group_size,
                "topk exceeds the experts of the kept groups");

  Routing r{ExpertIds(T, p.topk), {}};
  std::vector<double> biased(E), group_score(p.n_group);
  for (Eigen::Index t = 0; t < T; ++t) {
    for (Eigen::Index e = 0; e < E; ++e)
      biased[e] = router_score(p.score, logits(t, e)) + (bias.empty() ? 0.0 : bias[e]);
    if (p.n_group > 1) {
      // DeepSeek-V3 group score: the sum of the two best biased scores of the group.
      for (Eigen::Index g = 0; g < p.n_group; ++g) {
        const std::vector<double> members(biased.begin() + g * group_size,
                                          biased.begin() + (g + 1) * group_size);
        const auto best = top_indices(members, 2);
        group_score[g] = members[best[0]] + members[best[1]];
      }
      std::vector<bool> keep(p.n_group, false);
      for (std::int32_t g : top_indices(group_score, p.topk_group)) keep[g] = true;
      for (Eigen::Index e = 0; e < E; ++e)
        if (!keep[e / group_size]) biased[e] = -std::numeric_limits<double>::infinity();
    }
    const auto top = top_indices(biased, p.topk);
    for (Eigen::Index j = 0; j < p.topk; ++j) r.experts(t, j) = top[j];
  }
  r.weights = moe_routing_weights(p, logits, r.experts);
  return r;
}

Routing moe_route_by_hash(const RouterParams& p, const Eigen::Ref<const RowMatrixXf>& logits,
                          std::span<const std::int64_t> token_ids,
                          const Eigen::Ref<const ExpertIds>& table) {
  V4SIM_REQUIRE(kKernel, static_cast<Eigen::Index>(token_ids.size()) == logits.rows(),
                "token_ids must be [T]");
  Routing r{ExpertIds(logits.rows(), table.cols()), {}};
  for (Eigen::Index t = 0; t < logits.rows(); ++t) {
    const std::int64_t id = token_ids[t];
    V4SIM_REQUIRE(kKernel, id >= 0 && id < table.rows(), "token id outside the tid2eid table");
    r.experts.row(t) = table.row(id);
  }
  r.weights = moe_routing_weights(p, logits, r.experts);
  return r;
}

std::int64_t distinct_experts(const Routing& r) {
  std::vector<std::int32_t> ids(r.experts.data(), r.experts.data() + r.experts.size());
  std::sort(ids.begin(), ids.end());
  return std::unique(ids.begin(), ids.end()) - ids.begin();
}

void moe_router_logits(const MoeShape& s, const Eigen::Ref<const RowMatrixXf>& x,
                       const Eigen::Ref<const RowMatrixXf>& w_gate, Eigen::Ref<RowMatrixXf> logits,
                       Cost* counted) {
  V4SIM_REQUIRE(kKernel, x.rows() == s.tokens && x.cols() == s.hidden,
                "x must be [tokens, hidden]");
  V4SIM_REQUIRE(kKernel, w_gate.rows() == s.num_experts && w_gate.cols() == s.hidden,
                "gate must be [E, hidden]");
  V4SIM_REQUIRE(kKernel, logits.rows() == s.tokens && logits.cols() == s.num_experts,
                "logits must be [T, E]");
  logits.noalias() = x * w_gate.transpose();
  count_gemm(counted, s.tokens, s.hidden, s.num_experts, s.router_weight, s.router_compute);
}

void moe_routed_forward(const MoeShape& s, const Eigen::Ref<const RowMatrixXf>& x,
                        const Routing& routing, std::span<const ExpertWeights* const> experts,
                        float swiglu_limit, Eigen::Ref<RowMatrixXf> out, Cost* counted) {
  if (s.num_experts == 0 || s.topk == 0) return;
  V4SIM_REQUIRE(kKernel, x.rows() == s.tokens && x.cols() == s.hidden,
                "x must be [tokens, hidden]");
  V4SIM_REQUIRE(kKernel, out.rows() == s.tokens && out.cols() == s.hidden,
                "out must be [tokens, hidden]");
  V4SIM_REQUIRE(kKernel,
                routing.experts.rows() == s.tokens && routing.experts.cols() == s.topk &&
                    routing.weights.rows() == s.tokens && routing.weights.cols() == s.topk,
                "routing must be [tokens, topk]");
  V4SIM_REQUIRE(kKernel, static_cast<std::int64_t>(experts.size()) == s.num_experts,
                "experts must be [E]");

  // Gather: the (token, weight) pairs of every expert, in token order.
  std::vector<std::vector<std::pair<Eigen::Index, float>>> groups(s.num_experts);
  for (Eigen::Index t = 0; t < s.tokens; ++t) {
    for (Eigen::Index j = 0; j < s.topk; ++j) {
      const std::int32_t e = routing.experts(t, j);
      V4SIM_REQUIRE(kKernel, e >= 0 && e < s.num_experts, "expert id out of range");
      groups[e].emplace_back(t, routing.weights(t, j));
    }
  }
  std::vector<std::int64_t> active;  // experts with tokens, ascending
  for (std::int64_t e = 0; e < s.num_experts; ++e) {
    if (groups[e].empty()) continue;
    V4SIM_REQUIRE(kKernel, experts[e] != nullptr, "a selected expert has no weights");
    check_expert(*experts[e], s);
    active.push_back(e);
  }
  // Experts are independent pieces (kernels/parallel.h): each runs its group on some thread into
  // its own output; the outputs are then added to the tokens in expert order on this thread, the
  // order a one-thread run adds them in.
  struct GroupScratch {
    RowMatrixXf xg;
    std::vector<float> gamma;
  };
  const auto n_active = static_cast<std::int64_t>(active.size());
  std::vector<RowMatrixXf> ys(active.size());
  std::vector<Cost> costs(counted != nullptr ? active.size() : 0);
  detail::parallel_pieces<GroupScratch>(n_active, [&](std::int64_t a, GroupScratch& scratch) {
    const auto e = static_cast<std::size_t>(active[static_cast<std::size_t>(a)]);
    const auto& group = groups[e];
    const auto n = static_cast<Eigen::Index>(group.size());
    scratch.xg.resize(n, s.hidden);
    scratch.gamma.resize(static_cast<std::size_t>(n));
    for (Eigen::Index i = 0; i < n; ++i) {
      scratch.xg.row(i) = x.row(group[i].first);
      scratch.gamma[i] = group[i].second;
    }
    swiglu_group(*experts[e], scratch.xg, scratch.gamma, swiglu_limit,
                 ys[static_cast<std::size_t>(a)], s.expert_weight, s.expert_compute,
                 counted != nullptr ? &costs[static_cast<std::size_t>(a)] : nullptr);
  });
  for (std::size_t a = 0; a < active.size(); ++a) {
    const auto& group = groups[static_cast<std::size_t>(active[a])];
    for (std::size_t i = 0; i < group.size(); ++i)
      out.row(group[i].first) += ys[a].row(static_cast<Eigen::Index>(i));  // scatter
    if (counted != nullptr) *counted += costs[a];
  }
}

void moe_shared_forward(const MoeShape& s, const Eigen::Ref<const RowMatrixXf>& x,
                        std::span<const ExpertWeights> shared, float swiglu_limit,
                        Eigen::Ref<RowMatrixXf> out, Cost* counted) {
  V4SIM_REQUIRE(kKernel, static_cast<std::int64_t>(shared.size()) == s.num_shared,
                "shared must be [num_shared]");
  if (s.num_shared == 0) return;
  V4SIM_REQUIRE(kKernel, x.rows() == s.tokens && x.cols() == s.hidden,
                "x must be [tokens, hidden]");
  V4SIM_REQUIRE(kKernel, out.rows() == s.tokens && out.cols() == s.hidden,
                "out must be [tokens, hidden]");
  RowMatrixXf y;
  for (const ExpertWeights& w : shared) {
    check_expert(w, s);
    swiglu_group(w, x, {}, swiglu_limit, y, s.shared_weight, s.shared_compute, counted);
    out += y;
  }
}

Routing moe_forward(const MoeShape& s, const MoeLayer& layer,
                    const Eigen::Ref<const RowMatrixXf>& x, std::span<const std::int64_t> token_ids,
                    Eigen::Ref<RowMatrixXf> out, Cost* counted) {
  V4SIM_REQUIRE(kKernel, out.rows() == s.tokens && out.cols() == s.hidden,
                "out must be [tokens, hidden]");
  out.setZero();
  Routing routing;
  if (s.num_experts > 0) {
    V4SIM_REQUIRE(kKernel, layer.router.topk == s.topk, "router topk differs from the shape's");
    RowMatrixXf logits(s.tokens, s.num_experts);
    moe_router_logits(s, x, layer.gate, logits, counted);
    routing = layer.tid2eid != nullptr
                  ? moe_route_by_hash(layer.router, logits, token_ids, *layer.tid2eid)
                  : moe_route_by_score(layer.router, logits, layer.bias);
    moe_routed_forward(s, x, routing, layer.experts, layer.swiglu_limit, out, counted);
  }
  moe_shared_forward(s, x, layer.shared, layer.swiglu_limit, out, counted);
  return routing;
}

}  // namespace v4sim
