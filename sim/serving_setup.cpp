// Request validation and the per-request setup (layout, stage shares, local experts, the
// communication model, the disaggregated prefill pool), and the weights override.
#include <array>
#include <memory>

#include "hardware/perf_model.h"
#include "models/config/enum_names.h"
#include "models/config/input_error.h"
#include "sim/compiled_step.h"
#include "sim/elementwise.h"
#include "sim/model_cache.h"
#include "sim/prefill_memo.h"
#include "sim/serving_internal.h"

namespace v4sim {
namespace {

// One table for both directions; the assertion fails when an enumerator is added after `bf16`
// without its name here.
constexpr std::array<std::string_view, 5> kWeightsNames{"fp8", "int8", "fp4", "fp4_ffn", "bf16"};
static_assert(kWeightsNames.size() == static_cast<std::size_t>(WeightsOverride::bf16) + 1);
constexpr std::array<std::string_view, 2> kMoeExchangeNames{"all_to_all", "all_gather"};
static_assert(kMoeExchangeNames.size() == static_cast<std::size_t>(MoeExchange::all_gather) + 1);

std::int64_t moe_layers(const ModelSpec& s) {
  std::int64_t n = 0;
  for (std::int64_t i = 0; i < s.num_layers; ++i) n += s.layers[i].ffn != FfnKind::dense;
  return n;
}

ComputePrecisions uniform_compute(Precision p, const ComputePrecisions& base) {
  ComputePrecisions c = base;
  c.attention_projections = c.indexer_projections = c.routed_experts = c.shared_experts =
      c.dense_ffn = p;
  return c;
}

}  // namespace

std::string_view to_string(WeightsOverride w) {
  return config::enum_name(kWeightsNames, w);
}

std::optional<WeightsOverride> parse_weights_override(std::string_view text) {
  return config::parse_enum<WeightsOverride>(kWeightsNames, text);
}

std::string_view to_string(MoeExchange e) {
  return config::enum_name(kMoeExchangeNames, e);
}

std::optional<MoeExchange> parse_moe_exchange(std::string_view text) {
  return config::parse_enum<MoeExchange>(kMoeExchangeNames, text);
}

ModelSpec with_weights(const ModelSpec& spec, WeightsOverride weights) {
  ModelSpec s = spec;
  WeightFormats& f = s.weights;
  auto all = [&](WeightFormat format, Precision precision) {
    f.attention = f.indexer = f.routed_experts = f.shared_experts = f.dense_ffn =
        f.mtp_projections = format;
    s.compute = uniform_compute(precision, s.compute);
  };
  switch (weights) {
    case WeightsOverride::fp8:
      all(WeightFormat::fp8_block128_ue8m0, Precision::fp8);
      break;
    case WeightsOverride::int8:
      // W8A8 with per-channel scales, as Ascend serving runs DeepSeek (no FP8 path on 910B/910C).
      all(WeightFormat::int8_channel, Precision::int8);
      break;
    case WeightsOverride::fp4:
      all(WeightFormat::mxfp4, Precision::fp4);
      break;
    case WeightsOverride::fp4_ffn:
      // BF16 everywhere, then the FFNs in FP4: the compressor, router, embedding and LM head keep
      // the model's own formats, as with every override.
      all(WeightFormat::bf16, Precision::bf16);
      f.routed_experts = f.shared_experts = f.dense_ffn = WeightFormat::mxfp4;
      s.compute.routed_experts = s.compute.shared_experts = s.compute.dense_ffn = Precision::fp4;
      break;
    case WeightsOverride::bf16:
      all(WeightFormat::bf16, Precision::bf16);
      break;
  }
  return s;
}

namespace serving_detail {
namespace {

void validate(const ModelSpec& spec, const ServingConfig& config, const Workload& workload) {
  const std::int64_t n = workload.context_tokens;
  if (n < 1 || n > spec.max_context_tokens)
    throw InputError("context " + std::to_string(n) + " is outside [1, " +
                     std::to_string(spec.max_context_tokens) + "] for model " + spec.name);
  if (!(config.mtp_acceptance >= 0 && config.mtp_acceptance <= 1))
    throw InputError("MTP acceptance " + std::to_string(config.mtp_acceptance) +
                     " is outside [0, 1]");
  if (!(config.cache_hit_rate >= 0 && config.cache_hit_rate < 1))
    throw InputError("cache-hit rate " + std::to_string(config.cache_hit_rate) +
                     " is outside [0, 1)");
  if (!(config.expert_imbalance >= 1 && config.expert_imbalance < 1e3))
    throw InputError("expert imbalance " + std::to_string(config.expert_imbalance) +
                     " is outside [1, 1000)");
  if (!(config.reserved_hbm_fraction >= 0 && config.reserved_hbm_fraction < 1))
    throw InputError("reserved HBM fraction is outside [0, 1)");
  if (config.prefill_chunk_tokens < 1) throw InputError("prefill chunk must be at least 1 token");
  spec.kv_format(config.kv_format);  // throws for an unknown format
  if (config.mtp_tokens < 1 || config.mtp_tokens > 16)
    throw InputError("MTP draft tokens " + std::to_string(config.mtp_tokens) +
                     " is outside [1, 16]");
  if (!(config.normal_mode_compute_share >= 0 && config.normal_mode_compute_share < 1))
    throw InputError("normal-mode compute share is outside [0, 1)");
  if (!(config.scheduler_overhead_s >= 0 && config.scheduler_overhead_s < 10))
    throw InputError("scheduler overhead is outside [0, 10) s");
  if (config.mtp_acceptance > 0 && spec.num_mtp_layers == 0)
    throw InputError("model " + spec.name + " has no MTP block for an MTP acceptance");
  if (workload.slo_tpot_s && !(*workload.slo_tpot_s > 0))
    throw InputError("TPOT SLO must be positive");
  if (workload.slo_ttft_s && !(*workload.slo_ttft_s > 0))
    throw InputError("TTFT SLO must be positive");
}

}  // namespace

void prepare_setup(Prepared& p, const PreparedModel& model, const SystemSpec& system, int nodes,
                   const ServingConfig& config, const Workload& workload, CommPlanner* planner,
                   ModelCache* cache, PrefillMemo* memo) {
  if (!planner) {
    p.own_planner = std::make_unique<CommPlanner>(system, nodes);
    planner = p.own_planner.get();
  }
  const ModelSpec& spec = model.spec;
  validate(spec, config, workload);
  p.totals = system_totals(system, nodes);
  if (config.devices < 0 || config.devices > p.totals.devices)
    throw InputError("devices " + std::to_string(config.devices) + " must be in [1, " +
                     std::to_string(p.totals.devices) + "] on " + std::to_string(nodes) +
                     " node(s) of " + system.name);
  if (config.devices > 0 && config.devices < p.totals.devices) {
    // A slice: its share of the nodes' power; the remaining ranks serve something else.
    const double share =
        static_cast<double>(config.devices) / static_cast<double>(p.totals.devices);
    p.totals.power_w.nominal *= share;
    p.totals.power_w.low *= share;
    p.totals.power_w.high *= share;
    p.totals.devices = config.devices;
  }
  p.problem.devices = p.totals.devices;
  p.problem.layout = config.layout;
  if (config.prefill_devices < 0 || config.prefill_devices >= p.totals.devices)
    throw InputError("prefill devices " + std::to_string(config.prefill_devices) +
                     " must be in [0, " + std::to_string(p.totals.devices) + ") on " + system.name);
  p.problem.reason =
      layout_problem(config.layout, p.totals.devices - config.prefill_devices, spec.num_layers,
                     spec.moe.num_routed_experts, spec.attention.num_heads);
  if (!p.problem.reason.empty()) {
    p.problem.why = Infeasible::layout;
    return;
  }
  if (config.weights) p.overridden = prepare(with_weights(spec, *config.weights));
  const PreparedModel& m = p.overridden ? *p.overridden : model;
  const Layout& l = config.layout;
  const std::int64_t stage_layers = (spec.num_layers + l.pp - 1) / l.pp;
  const std::int64_t experts = spec.moe.num_routed_experts;
  p.setup.emplace(Setup{
      m.spec, m.weights, system, nodes, config, workload, system.accelerator, l,
      config.mtp_acceptance > 0, config.mtp_acceptance > 0 ? 1 + config.mtp_tokens : 1,
      static_cast<double>(stage_layers) / static_cast<double>(spec.num_layers), stage_layers,
      (moe_layers(spec) + l.pp - 1) / l.pp,
      experts > 0 ? (experts + l.ep - 1) / l.ep + config.redundant_experts_per_device : 0,
      planner->model(l, config.moe_exchange),
      config.measured_tables ? &planner->perf(system.accelerator) : nullptr, nullptr, CommLine{}});
  for (const LayerGroup& g : layer_groups(spec)) {
    p.setup->layer_representatives.push_back(g.first);
    p.setup->layer_repeats.resize(static_cast<std::size_t>(spec.num_layers), 0.0);
    p.setup->layer_repeats[static_cast<std::size_t>(g.first)] = static_cast<double>(g.count);
  }
  if (p.setup->mtp)
    for (std::int64_t k = 0; k < spec.num_mtp_layers; ++k) {
      ++p.setup->mtp_layers;
      p.setup->mtp_moe_layers +=
          spec.layers[static_cast<std::size_t>(spec.num_layers + k)].ffn != FfnKind::dense;
    }
  p.setup->weight_index = &m.weight_index;
  p.setup->weight_sums = &m.weight_sums;
  p.setup->smallest_kernel_s = smallest_kernel_s(p.setup->perf, p.setup->device);
  p.setup->rates = roofline_rates(p.setup->device);
  if (cache && !p.overridden && cache->serves(model)) p.setup->model_cache = cache;
  if (memo && memo->serves(model, system)) p.setup->prefill_memo = memo;
  if (!config.op_timings) p.setup->compiled = std::make_shared<CompiledSteps>();
  fill_capacity(*p.setup);
  if (p.setup->mtp && config.mtp_tokens > 1) {
    // SGLang's EAGLE/NEXTN worker and TensorRT-LLM's MTP run the draft block once per draft
    // token, each on the token the previous pass drafted.
    Setup chain = *p.setup;
    chain.q = 1;
    chain.stage_layer_share = 0;
    chain.stage_layers = 0;
    chain.stage_moe_layers = 0;
    chain.layer_representatives.clear();
    chain.prefill_pool = nullptr;
    if (chain.compiled) chain.compiled = std::make_shared<CompiledSteps>();  // its own passes
    p.setup->mtp_chain = std::make_shared<const Setup>(std::move(chain));
  }
  if (config.prefill_devices > 0) {
    // The prefill pool: tp=1, one dp group per rank, experts as wide as they go; its prompts' KV
    // travels from the system's last rank to decode rank 0 (the farthest pair in node order).
    const std::int64_t n = config.prefill_devices;
    Setup pool = *p.setup;
    pool.layout = dp_attention_layout(n, experts);
    pool.stage_layer_share = 1.0;
    pool.stage_layers = spec.num_layers;
    pool.stage_moe_layers = moe_layers(spec);
    pool.local_experts = experts > 0 ? (experts + pool.layout.ep - 1) / pool.layout.ep : 0;
    pool.comm = planner->model(pool.layout, config.moe_exchange);
    if (pool.compiled) pool.compiled = std::make_shared<CompiledSteps>();  // its own layout's
    pool.prefill_memo = nullptr;  // a pool's experts per rank are not its config's: not keyed
    fill_capacity(pool);
    p.setup->prefill_pool = std::make_shared<const Setup>(pool);
    p.setup->kv_transfer = planner->transfer(static_cast<int>(p.totals.devices - 1), 0);
  }
}

OpOptions setup_op_options(const Setup& s, bool prefill, bool logits_all, OpSelect select) {
  OpOptions options;
  options.prefill = prefill;
  options.attention_tp = s.layout.tp;
  options.main_layers = s.stage_layers > 0;  // 0: a pass of the MTP draft chain (Setup::mtp_chain)
  options.kv_format = s.config.kv_format;
  options.include_mtp = s.mtp;
  options.logits_for_all_tokens = logits_all;
  options.layers = s.layer_representatives;  // identical layers are priced once and scaled
  options.names = OpNames::in_layer;
  options.select = select;
  return options;
}

const std::vector<Op>& setup_ops(const Setup& s, const Pass& pass, const OpOptions& options,
                                 std::vector<Op>& own) {
  if (s.model_cache) return s.model_cache->ops(pass, options);
  own = build_ops(s.spec, s.weights, *s.weight_index, pass, options);
  return own;
}

}  // namespace serving_detail
}  // namespace v4sim
