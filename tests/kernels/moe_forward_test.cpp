// MoE kernels (kernels/moe_forward.h) against the naive double reference (reference/moe_ref.h) at
// Flash (D 4096, I 2048, E 256, k 6, scale 1.5) and Pro (D 7168, I 3072, E 384, k 6, scale 2.5)
// widths, with a few tokens and a few distinct expert weight sets (many expert ids share one set,
// so the router still picks among all E).
//
// Tolerances:
//   * routing weights (double internally, stored float32): 1e-6 relative per weight;
//     their sum equals route_scale to 1e-6 relative;
//   * selections: identical whenever the reference's k-th / (k+1)-th margin exceeds 1e-9;
//   * layer output (float32 GEMMs over 2048..7168 terms vs double): max abs error <= 1e-4 of the
//     output's max abs value (observed a few 1e-6);
//   * counted work: exactly cost(shape) (integers).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "kernels/moe.h"
#include "kernels/moe_forward.h"
#include "tests/kernels/reference/moe_ref.h"
#include "tests/support/random.h"

namespace v4sim {
namespace {

using reference::MoeRefRouter;

using Rng = test_support::SeededRng;

struct Dims {
  const char* name;
  std::int64_t hidden, inter, experts, topk;
  float route_scale;
};
constexpr Dims kFlash{"flash", 4096, 2048, 256, 6, 1.5f};
constexpr Dims kPro{"pro", 7168, 3072, 384, 6, 2.5f};

MoeRefRouter ref_router(const RouterParams& p) {
  return {p.score == RouterScore::sigmoid, int(p.topk), double(p.route_scale), int(p.n_group),
          int(p.topk_group)};
}

std::vector<double> row_of(const RowMatrixXf& m, Eigen::Index t) {
  return std::vector<double>(m.row(t).data(), m.row(t).data() + m.cols());
}

// Compares a kernel routing with the reference token by token (sets, then weights per expert).
void expect_routing_matches(const RouterParams& p, const RowMatrixXf& logits,
                            const std::vector<float>& bias, const Routing& r) {
  const MoeRefRouter rr = ref_router(p);
  const std::vector<double> b(bias.begin(), bias.end());
  int compared = 0;
  for (Eigen::Index t = 0; t < logits.rows(); ++t) {
    const auto l = row_of(logits, t);
    const auto sel = reference::moe_ref_select(rr, l, b);
    std::vector<int> got(r.experts.row(t).data(), r.experts.row(t).data() + p.topk);
    double sum = 0.0;
    for (Eigen::Index j = 0; j < p.topk; ++j) sum += r.weights(t, j);
    EXPECT_NEAR(sum, p.route_scale, 1e-6 * p.route_scale) << "token " << t;
    if (sel.margin <= 1e-9) continue;  // a near tie: either choice is right
    ++compared;
    EXPECT_EQ(std::set<int>(got.begin(), got.end()),
              std::set<int>(sel.experts.begin(), sel.experts.end()))
        << "token " << t;
    const auto want = reference::moe_ref_weights(rr, l, got);
    for (Eigen::Index j = 0; j < p.topk; ++j)
      EXPECT_NEAR(r.weights(t, j), want[j], 1e-6 * want[j] + 1e-12) << "token " << t;
  }
  EXPECT_GT(compared, logits.rows() / 2);
}

TEST(MoeRouter, V4SqrtSoftplusWithBiasMatchesReference) {
  for (const Dims& d : {kFlash, kPro}) {
    Rng rng(d.name, d.hidden);
    TRACE_SEED(rng);
    const RouterParams p = v4_router(d.topk, d.route_scale);
    const RowMatrixXf logits = rng.uniform(64, d.experts, 2.0);
    const std::vector<float> bias = rng.normal_vec(d.experts, 0.3);
    const Routing r = moe_route_by_score(p, logits, bias);
    expect_routing_matches(p, logits, bias, r);
    const Routing unbiased = moe_route_by_score(p, logits, {});
    expect_routing_matches(p, logits, {}, unbiased);
    EXPECT_FALSE(r.experts == unbiased.experts);  // the bias changes the selection ...
  }
}

TEST(MoeRouter, BiasChangesTheSelectionButNotTheWeights) {
  Rng rng("moe.bias", 77);
  TRACE_SEED(rng);
  const RouterParams p = v4_router(6, 1.5f);
  const RowMatrixXf logits = rng.uniform(16, 256, 2.0);
  // A large bias on experts 10..15 forces them in; their weights are those of the unbiased
  // scores normalised over {10..15}, whatever the bias values are.
  std::vector<float> bias(256, 0.0f);
  for (int e = 10; e < 16; ++e) bias[e] = 100.0f + float(e);
  const Routing r = moe_route_by_score(p, logits, bias);
  std::vector<float> other = bias;
  for (int e = 10; e < 16; ++e) other[e] = 50.0f - float(e);
  const Routing r2 = moe_route_by_score(p, logits, other);
  for (Eigen::Index t = 0; t < 16; ++t) {
    std::vector<int> got(r.experts.row(t).data(), r.experts.row(t).data() + 6);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (std::vector<int>{10, 11, 12, 13, 14, 15}));
    const auto want = reference::moe_ref_weights(ref_router(p), row_of(logits, t), got);
    for (int j = 0; j < 6; ++j) {
      const std::int32_t e = r.experts(t, j);
      EXPECT_NEAR(r.weights(t, j), want[e - 10], 1e-6 * want[e - 10]);
      // Same selection under a different bias: the same weight for the same expert.
      for (int k = 0; k < 6; ++k)
        if (r2.experts(t, k) == e) {
          EXPECT_EQ(r2.weights(t, k), r.weights(t, j));
        }
    }
  }
}

TEST(MoeRouter, V3GroupLimitedSigmoidMatchesReference) {
  Rng rng("moe.v3_groups", 0x3);
  TRACE_SEED(rng);
  const RouterParams p = v3_router(8, 2.5f, 8, 4);
  const RowMatrixXf logits = rng.uniform(64, 256, 2.0);
  const std::vector<float> bias = rng.normal_vec(256, 0.1);
  const Routing r = moe_route_by_score(p, logits, bias);
  expect_routing_matches(p, logits, bias, r);
  for (Eigen::Index t = 0; t < r.experts.rows(); ++t) {
    std::set<int> groups;
    for (Eigen::Index j = 0; j < 8; ++j) groups.insert(r.experts(t, j) / 32);
    EXPECT_LE(groups.size(), 4u) << "token " << t;
  }
  // Group limit matters: without it the selection differs for some token.
  const Routing flat = moe_route_by_score(v3_router(8, 2.5f, 1, 1), logits, bias);
  EXPECT_FALSE(flat.experts == r.experts);
}

TEST(MoeRouter, HashRoutingReadsTheTable) {
  Rng rng("moe.hash", 0x4A54);
  TRACE_SEED(rng);
  const RouterParams p = v4_router(6, 1.5f);
  ExpertIds table(1000, 6);
  for (Eigen::Index v = 0; v < table.rows(); ++v)
    for (Eigen::Index j = 0; j < 6; ++j) table(v, j) = std::int32_t((v * 7 + j * 41) % 256);
  const RowMatrixXf logits = rng.uniform(10, 256, 2.0);
  std::vector<std::int64_t> ids = {0, 999, 5, 5, 123, 456, 789, 1, 2, 3};
  const Routing r = moe_route_by_hash(p, logits, ids, table);
  for (Eigen::Index t = 0; t < 10; ++t) {
    EXPECT_TRUE(r.experts.row(t) == table.row(ids[t])) << t;
    std::vector<int> sel(r.experts.row(t).data(), r.experts.row(t).data() + 6);
    const auto want = reference::moe_ref_weights(ref_router(p), row_of(logits, t), sel);
    for (int j = 0; j < 6; ++j) EXPECT_NEAR(r.weights(t, j), want[j], 1e-6 * want[j]);
  }
  ids[3] = 1000;
  EXPECT_THROW(moe_route_by_hash(p, logits, ids, table), std::invalid_argument);
}

TEST(MoeRouter, ExtremeLogitsStayFinite) {
  for (RouterScore f : {RouterScore::sqrt_softplus, RouterScore::sigmoid}) {
    const RouterParams p{f, 6, 2.5f, 1, 1};
    RowMatrixXf logits(4, 256);
    logits.row(0).setConstant(-1e4f);  // every score underflows
    logits.row(1).setConstant(1e4f);   // every score saturates
    for (int e = 0; e < 256; ++e) logits(2, e) = e % 2 ? 1e4f : -1e4f;
    logits.row(3).setConstant(-1e4f);
    logits(3, 17) = 1e4f;  // one winner, the rest underflow
    const Routing r = moe_route_by_score(p, logits, {});
    for (Eigen::Index t = 0; t < 4; ++t) {
      double sum = 0;
      for (int j = 0; j < 6; ++j) {
        EXPECT_TRUE(std::isfinite(r.weights(t, j)));
        EXPECT_GE(r.weights(t, j), 0.0f);
        sum += r.weights(t, j);
      }
      EXPECT_NEAR(sum, 2.5, 1e-6) << "token " << t;
    }
    for (int j = 0; j < 6; ++j) EXPECT_NEAR(r.weights(0, j), 2.5 / 6, 1e-6);  // equal scores
    EXPECT_EQ(r.experts(3, 0), 17);
    if (f == RouterScore::sqrt_softplus) {
      EXPECT_NEAR(r.weights(3, 0), 2.5, 1e-6);  // sqrt(1e4) against underflowed scores
      // sqrt-softplus of -1e4 is sqrt(~e^-1e4): the ratio of scores e^((l-l')/2) is kept exactly
      // in the log domain.
      EXPECT_NEAR(router_log_score(f, -1e4), -5e3, 1e-9);
    }
    EXPECT_TRUE(std::isfinite(router_score(f, 1e4)) && std::isfinite(router_score(f, -1e4)));
  }
}

// ---- expert forward
// ------------------------------------------------------------------------------

struct Layer {
  MoeShape shape;
  MoeLayer layer;
  std::vector<ExpertWeights> sets;  // distinct routed weight sets; expert e uses sets[e % size]
};

ExpertWeights random_expert(Rng& rng, std::int64_t d, std::int64_t i, double gate_gain) {
  // Gate / up outputs have standard deviation gate_gain * |x| / sqrt(D): gain 4 makes the clamp
  // at 10 bite on a few per cent of entries for unit-variance inputs.
  return {rng.uniform(i, d, gate_gain / std::sqrt(double(d))),
          rng.uniform(i, d, gate_gain / std::sqrt(double(d))),
          rng.uniform(d, i, 1.0 / std::sqrt(double(i)))};
}

Layer make_layer(Rng& rng, const Dims& d, std::int64_t tokens, int num_sets, int num_shared) {
  Layer L;
  L.shape.tokens = tokens;
  L.shape.hidden = d.hidden;
  L.shape.inter = d.inter;
  L.shape.num_experts = d.experts;
  L.shape.topk = d.topk;
  L.shape.num_shared = num_shared;
  L.layer.router = v4_router(d.topk, d.route_scale);
  L.layer.gate = rng.uniform(d.experts, d.hidden, 1.0 / std::sqrt(double(d.hidden)));
  L.layer.bias = rng.normal_vec(d.experts, 0.1);
  for (int s = 0; s < num_sets; ++s) L.sets.push_back(random_expert(rng, d.hidden, d.inter, 4.0));
  for (int s = 0; s < num_shared; ++s)
    L.layer.shared.push_back(random_expert(rng, d.hidden, d.inter, 4.0));
  L.layer.experts.resize(d.experts);
  return L;
}

void bind_sets(Layer& L) {
  for (std::size_t e = 0; e < L.layer.experts.size(); ++e)
    L.layer.experts[e] = &L.sets[e % L.sets.size()];
}

// The whole layer in double for every token, from the kernel's routing decision (routing itself is
// compared separately above), plus the number of clamped gate/up values.
RowMatrixXf reference_layer(const Layer& L, const RowMatrixXf& x, const Routing& r,
                            std::int64_t* clamped) {
  const auto logits = reference::moe_ref_logits(x, L.layer.gate);
  RowMatrixXf out(x.rows(), x.cols());
  std::vector<double> y(x.cols());
  for (Eigen::Index t = 0; t < x.rows(); ++t) {
    std::fill(y.begin(), y.end(), 0.0);
    std::vector<int> sel;
    if (r.experts.rows() > 0)
      sel.assign(r.experts.row(t).data(), r.experts.row(t).data() + r.experts.cols());
    const auto gamma = reference::moe_ref_weights(ref_router(L.layer.router), logits[t], sel);
    for (std::size_t j = 0; j < sel.size(); ++j) {
      const ExpertWeights& w = *L.layer.experts[sel[j]];
      reference::moe_ref_expert(w.w1, w.w3, w.w2, x.row(t).data(), gamma[j], L.layer.swiglu_limit,
                                y.data(), clamped);
    }
    for (const ExpertWeights& w : L.layer.shared)
      reference::moe_ref_expert(w.w1, w.w3, w.w2, x.row(t).data(), 1.0, L.layer.swiglu_limit,
                                y.data(), clamped);
    for (Eigen::Index c = 0; c < x.cols(); ++c) out(t, c) = float(y[c]);
  }
  return out;
}

double max_rel_error(const RowMatrixXf& a, const RowMatrixXf& b) {
  return (a - b).cwiseAbs().maxCoeff() / b.cwiseAbs().maxCoeff();
}

void run_layer_case(const Dims& d, std::int64_t tokens, int num_sets, std::uint64_t seed) {
  Rng rng(d.name, seed);
  TRACE_SEED(rng);
  Layer L = make_layer(rng, d, tokens, num_sets, 1);
  bind_sets(L);
  const RowMatrixXf x = rng.uniform(tokens, d.hidden, 1.0);
  RowMatrixXf out(tokens, d.hidden);
  Cost counted;
  const Routing r = moe_forward(L.shape, L.layer, x, {}, out, &counted);

  std::int64_t clamped = 0;
  const RowMatrixXf want = reference_layer(L, x, r, &clamped);
  const double err = max_rel_error(out, want);
  std::printf("[error] moe %s, %lld tokens: %.3g (clamped values: %lld)\n", d.name,
              static_cast<long long>(tokens), err, static_cast<long long>(clamped));
  EXPECT_LE(err, 1e-4);
  EXPECT_GT(clamped, 0) << "the test should exercise the SwiGLU clamp";

  MoeShape touched = L.shape;
  touched.experts_touched = distinct_experts(r);
  EXPECT_EQ(counted, cost(touched));
  EXPECT_EQ(counted, router_cost(L.shape) + routed_cost(touched) + shared_cost(L.shape));
}

TEST(MoeForward, FlashLayerMatchesReferenceAndCountsCost) {
  run_layer_case(kFlash, 5, 3, 4096);
}

TEST(MoeForward, ProLayerMatchesReferenceAndCountsCost) {
  run_layer_case(kPro, 2, 2, 7168);
}

TEST(MoeForward, GroupedCountingEqualsCostForSeveralShapes) {
  // Small widths, many tokens: experts repeat across tokens, so the weights are read once per
  // distinct expert (fewer than tokens * topk) and cost() must be told that count.
  Rng rng("moe.shapes", 0xC057);
  TRACE_SEED(rng);
  const Dims small{"small", 64, 32, 16, 4, 2.5f};
  for (std::int64_t tokens : {1, 3, 17, 64}) {
    for (const auto& [wf, pc] : {std::pair{WeightFormat::mxfp4, Precision::fp4},
                                 std::pair{WeightFormat::mxfp4, Precision::fp8},
                                 std::pair{WeightFormat::bf16, Precision::bf16}}) {
      Layer L = make_layer(rng, small, tokens, 16, 2);
      bind_sets(L);
      L.shape.expert_weight = wf;
      L.shape.expert_compute = pc;
      const RowMatrixXf x = rng.uniform(tokens, small.hidden, 1.0);
      RowMatrixXf out(tokens, small.hidden);
      Cost counted;
      const Routing r = moe_forward(L.shape, L.layer, x, {}, out, &counted);
      MoeShape touched = L.shape;
      touched.experts_touched = distinct_experts(r);
      EXPECT_EQ(counted, cost(touched)) << tokens << " tokens";
      if (tokens == 1) {
        EXPECT_EQ(counted, cost(L.shape));  // k distinct experts = min(E, T*k)
      }
      if (touched.experts_touched < std::min<std::int64_t>(16, tokens * 4)) {
        EXPECT_NE(counted, cost(L.shape));
      }
      std::int64_t clamped = 0;
      EXPECT_LE(max_rel_error(out, reference_layer(L, x, r, &clamped)), 1e-5);
    }
  }
}

TEST(MoeForward, HashLayerAndDenseFfn) {
  Rng rng("moe.hash_layer", 0xD0);
  TRACE_SEED(rng);
  const Dims small{"small", 128, 64, 32, 6, 1.5f};
  Layer L = make_layer(rng, small, 8, 4, 1);
  bind_sets(L);
  ExpertIds table(50, 6);
  for (Eigen::Index v = 0; v < 50; ++v)
    for (Eigen::Index j = 0; j < 6; ++j) table(v, j) = std::int32_t((v + 5 * j) % 32);
  L.layer.tid2eid = &table;
  const std::vector<std::int64_t> ids = {3, 1, 4, 1, 5, 9, 2, 6};
  const RowMatrixXf x = rng.uniform(8, small.hidden, 1.0);
  RowMatrixXf out(8, small.hidden);
  Cost counted;
  const Routing r = moe_forward(L.shape, L.layer, x, ids, out, &counted);
  for (Eigen::Index t = 0; t < 8; ++t) EXPECT_TRUE(r.experts.row(t) == table.row(ids[t]));
  MoeShape touched = L.shape;
  touched.experts_touched = distinct_experts(r);
  EXPECT_EQ(counted, cost(touched));  // the router is still evaluated (weights come from it)
  std::int64_t clamped = 0;
  EXPECT_LE(max_rel_error(out, reference_layer(L, x, r, &clamped)), 1e-5);

  // Dense FFN: no routed experts, one shared expert.
  Layer dense = make_layer(rng, small, 8, 1, 1);
  dense.shape.num_experts = 0;
  dense.shape.topk = 0;
  dense.layer.experts.clear();
  Cost dense_counted;
  const Routing none = moe_forward(dense.shape, dense.layer, x, {}, out, &dense_counted);
  EXPECT_EQ(none.experts.size(), 0);
  EXPECT_EQ(dense_counted, cost(dense.shape));
  EXPECT_LE(max_rel_error(out, reference_layer(dense, x, none, &clamped)), 1e-5);
}

TEST(MoeForward, ClampMattersAndHugeInputsStayFinite) {
  Rng rng("moe.clamp", 0xC1A);
  TRACE_SEED(rng);
  const Dims small{"small", 128, 64, 32, 6, 1.5f};
  Layer L = make_layer(rng, small, 4, 4, 1);
  bind_sets(L);
  RowMatrixXf x = rng.uniform(4, small.hidden, 1.0);
  x.row(3).setConstant(1e4f);
  x(3, 0) = -1e4f;
  RowMatrixXf clamped_out(4, small.hidden), free_out(4, small.hidden);
  moe_forward(L.shape, L.layer, x, {}, clamped_out);
  EXPECT_TRUE(clamped_out.allFinite());
  // |y| <= sum over experts of gamma * |W2| * max|h|, with |h| <= SiLU(10) * 10 < 100.
  double w2_row_sum = 0;
  for (const auto& w : L.sets)
    w2_row_sum = std::max<double>(w2_row_sum, w.w2.cwiseAbs().rowwise().sum().maxCoeff());
  for (const auto& w : L.layer.shared)
    w2_row_sum = std::max<double>(w2_row_sum, w.w2.cwiseAbs().rowwise().sum().maxCoeff());
  const double bound = (1.5 + 1.0) * 100.0 * w2_row_sum;
  EXPECT_LE(clamped_out.row(3).cwiseAbs().maxCoeff(), bound);
  L.layer.swiglu_limit = std::numeric_limits<float>::infinity();  // V3: no clamp
  moe_forward(L.shape, L.layer, x, {}, free_out);
  EXPECT_GT((free_out - clamped_out).cwiseAbs().maxCoeff(), 1.0f);
}

TEST(MoeForward, RejectsInconsistentInputs) {
  Rng rng("moe.errors", 1);
  const Dims small{"small", 64, 32, 16, 4, 2.5f};
  Layer L = make_layer(rng, small, 2, 2, 1);
  bind_sets(L);
  L.layer.experts[3] = nullptr;
  ExpertIds force(1, 4);
  force << 3, 0, 1, 2;
  Routing r{force, RowMatrixXf::Ones(1, 4)};
  MoeShape one = L.shape;
  one.tokens = 1;
  const RowMatrixXf x = rng.uniform(1, 64, 1.0);
  RowMatrixXf out = RowMatrixXf::Zero(1, 64);
  EXPECT_THROW(moe_routed_forward(one, x, r, L.layer.experts, 10.0f, out), std::invalid_argument);
  const RowMatrixXf wrong = rng.uniform(2, 63, 1.0);
  RowMatrixXf out2(2, 64);
  EXPECT_THROW(moe_forward(L.shape, L.layer, wrong, {}, out2), std::invalid_argument);
}

}  // namespace
}  // namespace v4sim
