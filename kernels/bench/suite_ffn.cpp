// Suite cases of the MoE FFN and of mHC:
//   moe-flash-experts/<T>   the routed experts of a batch of T tokens, grouped per expert (gather,
//                           three GEMMs per expert, scatter) at V4-Flash widths (D 4096, expert
//                           inter 2048, top-6): tokens routed over the 8 experts one rank of an
//                           EP-32 layout holds (256 / 32), so 1 token runs matrix-vector products
//                           and 512 tokens GEMMs of about 384 rows per expert
//   moe-flash-w1-w8a8/<T>   one expert's W1 projection (4096 -> 2048) of T tokens as W8A8 INT8
//                           (linear_int8_forward: per-token INT8 activations, per-row INT8
//                           weights, exact int32 sums), the arithmetic Ascend deployments use
//   moe-flash-router/<T>    router logits over all 256 experts (fp32) and the top-6 selection
//   mhc-<model>/<T>         mHC around one sublayer (n = 4 streams, 20 Sinkhorn iterations):
//                           mappings, collapse and expand
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "kernels/bench/suite_cases.h"
#include "kernels/int8_gemm.h"
#include "kernels/mhc.h"
#include "kernels/mhc_forward.h"
#include "kernels/moe.h"
#include "kernels/moe_forward.h"
#include "kernels/random_fill.h"

namespace v4sim::bench::detail {
namespace {

struct MoeDims {
  std::int64_t hidden, inter, experts, topk, resident;
};
constexpr MoeDims kFlashMoe{4096, 2048, 256, 6, 8};
constexpr MoeDims kToyMoe{64, 32, 16, 6, 8};
constexpr float kRouteScale = 1.5f, kSwigluLimit = 10.0f;

MoeShape moe_shape(const MoeDims& m, std::int64_t tokens, std::int64_t experts) {
  MoeShape s;  // MXFP4 experts, FP8 compute, BF16 router computed in fp32 (kernels/moe.h)
  s.tokens = tokens;
  s.hidden = m.hidden;
  s.inter = m.inter;
  s.num_experts = experts;
  s.topk = m.topk;
  s.num_shared = 0;
  return s;
}

MoeShape as_run_on_host(MoeShape s) {
  s.expert_weight = s.shared_weight = s.router_weight = WeightFormat::fp32;
  s.expert_compute = s.shared_compute = s.router_compute = Precision::fp32;
  return s;
}

struct ResidentExperts {
  std::vector<ExpertWeights> weights;
  std::vector<const ExpertWeights*> table;
};

struct FfnInputs {
  Slot<ResidentExperts> experts;
};

SuiteCase experts_case(const MoeDims& m, std::int64_t tokens,
                       const std::shared_ptr<FfnInputs>& in) {
  const RowMatrixXf x = random_matrix(tokens, m.hidden, uniform_half_width(1.0), 7);
  const Routing routing =
      moe_route_by_score(v4_router(m.topk, kRouteScale),
                         random_matrix(tokens, m.resident, uniform_half_width(1.0), 8), {});
  MoeShape s = moe_shape(m, tokens, m.resident);
  s.experts_touched = distinct_experts(routing);
  SuiteCase c;
  c.name = "moe-flash-experts/" + std::to_string(tokens);
  c.family = "moe";
  c.model = "v4-flash";
  c.tokens = tokens;
  c.cost = routed_cost(s);
  c.host_cost = routed_cost(as_run_on_host(s));
  // As sim/ asks: the rank's experts and their mean tokens, gate/up width 2 x inter over D.
  OpCall call{"grouped_gemm", Precision::fp32, 0, static_cast<double>(2 * m.inter),
              static_cast<double>(m.hidden)};
  call.experts = static_cast<double>(s.experts_touched);
  call.tokens_per_expert = static_cast<double>(tokens * m.topk) / call.experts;
  c.host_ops = {{c.host_cost, call}};
  c.prepare = [m, s, x, routing, in]() -> CaseRun {
    auto experts = in->experts.get("experts", [&] {
      ResidentExperts r;
      for (std::int64_t i = 0; i < m.resident; ++i) {
        const std::uint64_t seed = 100 + 3 * static_cast<std::uint64_t>(i);
        r.weights.push_back(
            {random_matrix(m.inter, m.hidden, uniform_half_width(1.0 / 64), seed),
             random_matrix(m.inter, m.hidden, uniform_half_width(1.0 / 64), seed + 1),
             random_matrix(m.hidden, m.inter, uniform_half_width(1.0 / 45), seed + 2)});
      }
      for (const ExpertWeights& e : r.weights) r.table.push_back(&e);
      return r;
    });
    auto out = std::make_shared<RowMatrixXf>(s.tokens, m.hidden);
    return [s, x, routing, experts, out](Cost* counted) {
      out->setZero();
      moe_routed_forward(s, x, routing, experts->table, kSwigluLimit, *out, counted);
    };
  };
  return c;
}

SuiteCase w8a8_case(const MoeDims& m, std::int64_t tokens) {
  const LinearShape s{tokens, m.hidden, m.inter, 1, WeightFormat::int8_channel, Precision::int8};
  SuiteCase c;
  c.name = "moe-flash-w1-w8a8/" + std::to_string(tokens);
  c.family = "moe";
  c.model = "v4-flash";
  c.tokens = tokens;
  c.cost = cost(s);
  c.host_cost = c.cost;  // the kernel holds and computes exactly these formats
  c.host_ops = {{c.host_cost, linear_call(s)}};
  c.prepare = [m, tokens]() -> CaseRun {
    struct Data {
      RowMatrixXf x, y;
      Int8Rows w;
    };
    auto d = std::make_shared<Data>();
    d->x = random_matrix(tokens, m.hidden, uniform_half_width(1.0), 12);
    d->w = quantize_int8_rows(random_matrix(m.inter, m.hidden, uniform_half_width(1.0 / 64), 13));
    d->y.resize(tokens, m.inter);
    return [d](Cost* counted) { linear_int8_forward(d->x, d->w, d->y, counted); };
  };
  return c;
}

SuiteCase router_case(const MoeDims& m, std::int64_t tokens) {
  const MoeShape s = moe_shape(m, tokens, m.experts);
  SuiteCase c;
  c.name = "moe-flash-router/" + std::to_string(tokens);
  c.family = "moe";
  c.model = "v4-flash";
  c.tokens = tokens;
  c.cost = router_cost(s);
  c.host_cost = router_cost(as_run_on_host(s));
  // The logits are one GEMM (sim/ asks gemm of tokens x experts x D); the top-k is not priced.
  const MoeShape host = as_run_on_host(s);
  c.host_ops = {{c.host_cost, linear_call(LinearShape{tokens, m.hidden, m.experts, 1,
                                                      host.router_weight, host.router_compute})}};
  c.prepare = [m, s]() -> CaseRun {
    struct Data {
      RowMatrixXf x, gate, logits;
      std::vector<float> bias;
    };
    auto d = std::make_shared<Data>();
    d->x = random_matrix(s.tokens, m.hidden, uniform_half_width(1.0), 9);
    d->gate = random_matrix(m.experts, m.hidden, uniform_half_width(1.0 / 64), 10);
    d->bias.resize(static_cast<std::size_t>(m.experts));
    fill_uniform(d->bias, uniform_half_width(0.1), 11);
    d->logits.resize(s.tokens, m.experts);
    const RouterParams router = v4_router(m.topk, kRouteScale);
    return [s, router, d](Cost* counted) {
      moe_router_logits(s, d->x, d->gate, d->logits, counted);
      const Routing r = moe_route_by_score(router, d->logits, d->bias);
    };
  };
  return c;
}

OpCall mhc_call(const MhcShape& s) {
  OpCall c{"mhc", Precision::fp32, static_cast<double>(s.tokens)};
  c.hidden = static_cast<double>(s.hidden);
  return c;
}

CaseRun mhc_run(const MhcShape& s) {
  struct Data {
    MhcParams p;
    RowMatrixXf streams, f, x, out;
  };
  auto d = std::make_shared<Data>();
  const std::int64_t n = s.streams, rows = (2 + n) * n;
  d->p.fn = random_matrix(rows, n * s.hidden, uniform_half_width(1.0 / 128), 1);
  d->p.base.resize(static_cast<std::size_t>(rows));
  fill_uniform(d->p.base, uniform_half_width(1.0), 2);
  d->p.scale = {0.5f, 0.5f, 1.0f};
  d->streams = random_matrix(s.tokens, n * s.hidden, uniform_half_width(1.0), 3);
  d->f = random_matrix(s.tokens, s.hidden, uniform_half_width(1.0), 4);
  d->x.resize(s.tokens, s.hidden);
  d->out.resize(s.tokens, n * s.hidden);
  return [s, d](Cost* counted) {
    const MhcMappings m = mhc_pre(s, d->p, d->streams, d->x, counted);
    mhc_expand(s, d->streams, d->f, m, d->out, counted);
  };
}

SuiteCase mhc_case(const char* model, std::int64_t hidden, std::int64_t tokens) {
  MhcShape s;
  s.tokens = tokens;
  s.hidden = hidden;
  SuiteCase c;
  c.name = std::string("mhc-") + model + "/" + std::to_string(tokens);
  c.family = "mhc";
  c.model = std::string("v4-") + model;
  c.tokens = tokens;
  c.cost = cost(s);
  c.host_cost = c.cost;  // no formats in the shape; the kernel holds float32 streams (2x BF16)
  c.host_ops = {{c.host_cost, mhc_call(s)}};
  c.prepare = [s]() -> CaseRun { return mhc_run(s); };
  return c;
}

// ---- Host tables (kernels/bench/host_tables.h).

// The routed experts of `experts` experts with exactly `per_expert` tokens each (top-1 routing
// of experts x per_expert tokens), gate/up and down as moe_routed_forward runs them.
CaseRun experts_run(std::int64_t hidden, std::int64_t inter, std::int64_t experts,
                    std::int64_t per_expert) {
  struct Data {
    MoeShape s;
    RowMatrixXf x, out;
    Routing routing;
    std::vector<ExpertWeights> weights;
    std::vector<const ExpertWeights*> table;
  };
  auto d = std::make_shared<Data>();
  const std::int64_t tokens = experts * per_expert;
  d->s.tokens = tokens;
  d->s.hidden = hidden;
  d->s.inter = inter;
  d->s.num_experts = experts;
  d->s.topk = 1;
  d->s.num_shared = 0;
  d->s.experts_touched = experts;
  d->s = as_run_on_host(d->s);
  d->x = random_matrix(tokens, hidden, uniform_half_width(1.0), 20);
  d->out.resize(tokens, hidden);
  d->routing.experts.resize(tokens, 1);
  d->routing.weights = RowMatrixXf::Ones(tokens, 1);
  for (std::int64_t t = 0; t < tokens; ++t)
    d->routing.experts(t, 0) = static_cast<std::int32_t>(t / per_expert);
  for (std::int64_t e = 0; e < experts; ++e) {
    const std::uint64_t seed = 200 + 3 * static_cast<std::uint64_t>(e);
    d->weights.push_back({random_matrix(inter, hidden, uniform_half_width(1.0 / 64), seed),
                          random_matrix(inter, hidden, uniform_half_width(1.0 / 64), seed + 1),
                          random_matrix(hidden, inter, uniform_half_width(1.0 / 45), seed + 2)});
  }
  for (const ExpertWeights& e : d->weights) d->table.push_back(&e);
  return [d](Cost* counted) {
    d->out.setZero();
    moe_routed_forward(d->s, d->x, d->routing, d->table, kSwigluLimit, d->out, counted);
  };
}

TableSpec experts_table(SuiteMode mode) {
  // Suite: D 4096, inter 2048 (gate/up n 4096), 6-8 experts of 1-384 tokens; toy D 64, inter 32.
  struct Grid {
    std::int64_t hidden, inter, experts;
    std::vector<std::int64_t> per_expert;
  };
  const Grid g = mode == SuiteMode::smoke  ? Grid{48, 24, 4, {1, 5}}
                 : mode == SuiteMode::full ? Grid{3072, 1536, 4, {1, 5, 40, 300}}
                                           : Grid{3072, 1536, 4, {1, 5, 40, 100}};
  TableSpec t;
  t.kernel = "grouped_gemm";
  t.precision = Precision::fp32;
  t.stem = "grouped-gemm-fp32-contiguous";
  t.columns = {"experts", "tokens_per_expert", "n", "k"};
  t.fixed = {{"layout", "contiguous"}, {"ffn", "swiglu"}};
  t.what =
      "moe_routed_forward (each expert's tokens gathered into one block, float32 gate/up GEMM "
      "of n = 2 x inter over k = D, clamped SwiGLU, down GEMM, weighted scatter), top-1 "
      "routing with tokens_per_expert tokens on each expert";
  for (std::int64_t per : g.per_expert) {
    const std::int64_t hidden = g.hidden, inter = g.inter, experts = g.experts;
    t.points.push_back(
        {{static_cast<double>(experts), static_cast<double>(per), static_cast<double>(2 * inter),
          static_cast<double>(hidden)},
         [hidden, inter, experts, per] { return experts_run(hidden, inter, experts, per); }});
  }
  return t;
}

TableSpec mhc_table(SuiteMode mode) {
  // Suite: D 4096 / 7168 at 1 and 512 tokens; toy D 64 at 1 and 8.
  const std::vector<std::int64_t> hidden = mode == SuiteMode::smoke
                                               ? std::vector<std::int64_t>{48, 96}
                                               : std::vector<std::int64_t>{3072, 6144};
  const std::vector<std::int64_t> tokens = mode == SuiteMode::smoke
                                               ? std::vector<std::int64_t>{1, 5}
                                               : std::vector<std::int64_t>{1, 8, 64, 256};
  const MhcShape s0;
  TableSpec t;
  t.kernel = "mhc";
  t.precision = Precision::fp32;
  t.stem = "mhc-fp32";
  t.columns = {"tokens", "hidden"};
  t.fixed = {{"streams", std::to_string(s0.streams)},
             {"sinkhorn_iters", std::to_string(s0.sinkhorn_iters)},
             {"head", "0"}};
  t.what =
      "mhc_pre then mhc_expand (mappings with Sinkhorn-Knopp, collapse, expand; float32 "
      "streams)";
  for (std::int64_t d : hidden)
    for (std::int64_t n : tokens) {
      MhcShape s;
      s.tokens = n;
      s.hidden = d;
      t.points.push_back(
          {{static_cast<double>(n), static_cast<double>(d)}, [s] { return mhc_run(s); }});
    }
  return t;
}

}  // namespace

void add_ffn_cases(SuiteMode mode, std::vector<SuiteCase>& out) {
  const bool smoke = mode == SuiteMode::smoke, full = mode == SuiteMode::full;
  const MoeDims& m = smoke ? kToyMoe : kFlashMoe;
  auto in = std::make_shared<FfnInputs>();
  const std::vector<std::int64_t> expert_tokens = smoke  ? std::vector<std::int64_t>{1, 8}
                                                  : full ? std::vector<std::int64_t>{1, 8, 64, 512}
                                                         : std::vector<std::int64_t>{1, 8, 64};
  for (std::int64_t t : expert_tokens) out.push_back(experts_case(m, t, in));
  for (std::int64_t t : expert_tokens)
    if (t != 8) out.push_back(w8a8_case(m, t));
  const std::vector<std::int64_t> router_tokens = smoke  ? std::vector<std::int64_t>{8}
                                                  : full ? std::vector<std::int64_t>{1, 64, 512}
                                                         : std::vector<std::int64_t>{64};
  for (std::int64_t t : router_tokens) out.push_back(router_case(m, t));
  const std::vector<std::int64_t> mhc_tokens =
      smoke ? std::vector<std::int64_t>{1, 8} : std::vector<std::int64_t>{1, 512};
  out.push_back(mhc_case("flash", smoke ? 64 : 4096, mhc_tokens[0]));
  out.push_back(mhc_case("flash", smoke ? 64 : 4096, mhc_tokens[1]));
  if (full) {
    out.push_back(mhc_case("pro", 7168, 1));
    out.push_back(mhc_case("pro", 7168, 512));
  }
}

void add_ffn_tables(SuiteMode mode, std::vector<TableSpec>& out) {
  out.push_back(experts_table(mode));
  out.push_back(mhc_table(mode));
}

}  // namespace v4sim::bench::detail
