#include "sim/serving.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>

#include "hardware/perf_model.h"
#include "hardware/roofline.h"
#include "kernels/moe.h"
#include "models/config/input_error.h"
#include "sim/communication.h"
#include "sim/kv_cache.h"

namespace v4sim {
namespace {

/// Work split over the tp ranks of a group (Megatron-style: column- then row-parallel weights,
/// every token of the group on each rank): attention projections and core, the indexer, the LM
/// head, and the shared experts and dense FFNs (vLLM and SGLang shard those over tp too, reducing
/// the MoE output with the attention's kind of all-reduce).
bool tp_split(OpComponent c) {
  return c == OpComponent::attention_projections || c == OpComponent::core_attention ||
         c == OpComponent::indexer_projections || c == OpComponent::indexer_scoring ||
         c == OpComponent::lm_head || c == OpComponent::shared_experts ||
         c == OpComponent::dense_ffn;
}

std::int64_t scaled(std::int64_t v, double f) {
  return std::llround(static_cast<double>(v) * f);
}

/// An op's cost on one rank: `token_share` of its FLOPs and activations (the rank's tokens),
/// `kv_share` of its KV traffic and `weight_share` of its weights.
Cost on_rank(const Cost& c, double token_share, double kv_share, double weight_share) {
  Cost r;
  for (int p = 0; p < kNumPrecisions; ++p) r.flops[p] = scaled(c.flops[p], token_share);
  for (MemClass m :
       {MemClass::weights, MemClass::kv_cache, MemClass::state, MemClass::activations}) {
    const double f = m == MemClass::weights       ? weight_share
                     : m == MemClass::activations ? token_share
                                                  : kv_share;
    r.read(m) = scaled(c.read(m), f);
    r.written(m) = scaled(c.written(m), f);
  }
  return r;
}

/// Roofline work of a rank: time at 100% of the peaks the FLOPs run on, and bytes moved.
struct Work {
  double ideal_compute_s = 0;
  double bytes = 0;
  std::string fallback;
  void add(const Accelerator& d, const Cost& c, const OpTime& t, double times = 1.0) {
    for (Precision p : kAllPrecisions) {
      const double peak = d.peak_flops_per_s(t.executed_as[static_cast<int>(p)]);
      if (c.flops_at(p) > 0 && peak > 0)
        ideal_compute_s += static_cast<double>(c.flops_at(p)) / peak * times;
    }
    bytes += static_cast<double>(c.total_bytes()) * times;
    if (t.fallback_used) merge_fallback(t.fallback);
  }
  void scale(double f) {
    ideal_compute_s *= f;
    bytes *= f;
  }
  /// Adds the items of a ", "-separated list not yet present.
  void merge_fallback(const std::string& list) {
    std::size_t start = 0;
    while (start < list.size()) {
      std::size_t end = list.find(", ", start);
      if (end == std::string::npos) end = list.size();
      const std::string item = list.substr(start, end - start);
      if (!item.empty() && ("," + fallback + ",").find("," + item + ",") == std::string::npos &&
          (", " + fallback + ",").find(", " + item + ",") == std::string::npos)
        fallback += (fallback.empty() ? "" : ", ") + item;
      start = end + 2;
    }
  }
};

/// Op timings by name, summed over layers and microbatches, with where each came from.
struct OpLedger {
  std::vector<OpTiming> ops;
  TimeSources sources;
  std::vector<std::string> warnings;

  void add(const std::string& name, const std::string& component, double time_s, double repeats,
           const PerfEstimate& e) {
    const double t = time_s * repeats;
    std::string source = "roofline";
    if (e.found && e.source == TimeSource::measured) source = "measured";
    if (e.found && e.source == TimeSource::transferred) source = "transferred from " + e.device;
    (source == "roofline"   ? sources.roofline_s
     : source == "measured" ? sources.measured_s
                            : sources.transferred_s) += t;
    if (e.found && e.extrapolated) {
      const std::string w = name + ": outside the measured range of " + e.device + "/" + e.table +
                            " (efficiency held at the nearest measured size)";
      if (std::find(warnings.begin(), warnings.end(), w) == warnings.end()) warnings.push_back(w);
    }
    for (OpTiming& o : ops)
      if (o.name == name && o.efficiency_source == source) {
        o.time_s += t;
        o.calls += std::llround(repeats);
        o.extrapolated = o.extrapolated || (e.found && e.extrapolated);
        return;
      }
    ops.push_back({name, component, std::llround(repeats), t, source, e.found ? e.table : "",
                   e.found && e.extrapolated});
  }
  /// Adds `o` with its times scaled by `times` and its call counts by `calls` (the stage's share
  /// of the layers scales both; a slowdown scales only the time).
  void merge(const OpLedger& o, double times, double calls) {
    for (const OpTiming& t : o.ops) {
      bool done = false;
      for (OpTiming& mine : ops)
        if (mine.name == t.name && mine.efficiency_source == t.efficiency_source) {
          mine.time_s += t.time_s * times;
          mine.calls += std::llround(static_cast<double>(t.calls) * calls);
          mine.extrapolated = mine.extrapolated || t.extrapolated;
          done = true;
          break;
        }
      if (!done) {
        OpTiming copy = t;
        copy.time_s *= times;
        copy.calls = std::llround(static_cast<double>(t.calls) * calls);
        ops.push_back(copy);
      }
    }
    sources.measured_s += o.sources.measured_s * times;
    sources.transferred_s += o.sources.transferred_s * times;
    sources.roofline_s += o.sources.roofline_s * times;
    for (const std::string& w : o.warnings)
      if (std::find(warnings.begin(), warnings.end(), w) == warnings.end()) warnings.push_back(w);
  }
};

struct Pricing {
  StepBreakdown breakdown;  // one pipeline stage
  Work work;
  OpLedger ledger;
};

/// Everything about one (model, system, config, workload) that does not depend on the batch.
struct Setup {
  const ModelSpec& spec;
  const std::vector<WeightTensor>& weights;
  const SystemSpec& system;
  int nodes;
  const ServingConfig& config;
  const Workload& workload;
  const Accelerator& device;
  Layout layout;
  bool mtp;
  std::int64_t q;            // query positions per sequence per decode step
  double stage_layer_share;  // main layers on the heaviest stage / all main layers
  std::int64_t stage_layers;
  std::int64_t stage_moe_layers;
  std::int64_t local_experts;  // routed experts held per rank per layer
  CommModel comm;
  /// Measured kernel tables (null: roofline only).
  const PerfModel* perf = nullptr;
  /// Disaggregated prefill: its pool's setup and the KV transfer to a decode rank.
  std::shared_ptr<const Setup> prefill_pool;
  CommLine kv_transfer;
  /// One main layer of each kind (layer_groups) and, by layer index, how many it stands for.
  std::vector<std::int64_t> layer_representatives{};
  std::vector<double> layer_repeats{};
};

std::int64_t moe_layers(const ModelSpec& s) {
  std::int64_t n = 0;
  for (std::int64_t i = 0; i < s.num_layers; ++i) n += s.layers[i].ffn != FfnKind::dense;
  return n;
}

void add_time(StepBreakdown& b, OpComponent c, double s) {
  switch (c) {
    case OpComponent::attention_projections:
    case OpComponent::core_attention:
      b.attention_s += s;
      break;
    case OpComponent::indexer_projections:
    case OpComponent::indexer_scoring:
      b.indexer_s += s;
      break;
    case OpComponent::compressor:
      b.compressor_s += s;
      break;
    case OpComponent::router:
    case OpComponent::routed_experts:
    case OpComponent::shared_experts:
    case OpComponent::dense_ffn:
      b.moe_s += s;
      break;
    case OpComponent::mhc:
    case OpComponent::lm_head:
    case OpComponent::mtp:
      b.other_s += s;
      break;
  }
}

/// Token-expert pairs on the busiest rank of a stage when `stage_tokens` tokens pass it.
double pairs_on_rank(const Setup& s, double stage_tokens) {
  const double ranks = static_cast<double>(s.layout.devices_per_stage());
  // Pairs spread evenly over ranks, then the busiest gets `expert_imbalance` times the mean.
  return stage_tokens * static_cast<double>(s.spec.moe.experts_per_token) / ranks *
         s.config.expert_imbalance;
}

/// Routed-expert work of one MoE layer on the busiest rank, when `stage_tokens` tokens pass the
/// stage in one step.
Cost routed_on_rank(const Setup& s, double stage_tokens) {
  const MoeSpec& m = s.spec.moe;
  const double ranks = static_cast<double>(s.layout.devices_per_stage());
  const double replicas = ranks / static_cast<double>(s.layout.ep);
  const double pairs = pairs_on_rank(s, stage_tokens);
  // Distinct local experts touched: tokens pick experts near-uniformly (the load-balancing bias
  // aims for that), so a replica of an expert sees Poisson(lambda) tokens.
  const double lambda = stage_tokens * static_cast<double>(m.experts_per_token) /
                        (static_cast<double>(m.num_routed_experts) * replicas);
  const double touched = static_cast<double>(s.local_experts) * (1.0 - std::exp(-lambda));
  MoeShape shape;
  shape.tokens = std::max<std::int64_t>(1, std::llround(pairs));
  shape.hidden = s.spec.hidden_size;
  shape.inter = m.expert_intermediate_size;
  shape.num_experts = s.local_experts;
  shape.topk = 1;  // tokens here are token-expert pairs
  shape.experts_touched = std::max<std::int64_t>(1, std::llround(touched));
  shape.expert_weight = s.spec.weights.routed_experts;
  shape.expert_compute = s.spec.compute.routed_experts;
  return routed_cost(shape);
}

/// The precision carrying most of an op's FLOPs (its kernel's input type).
Precision main_precision(const Cost& c) {
  Precision best = Precision::bf16;
  std::int64_t most = 0;
  for (Precision p : kAllPrecisions)
    if (c.flops_at(p) > most) {
      most = c.flops_at(p);
      best = p;
    }
  return best;
}

/// The op's kernel call on a rank holding `seqs` sequences (`tokens` of them for token-parallel
/// work) of its dp group.
KernelCall kernel_call(const Setup& s, const Op& op, const Cost& c, double seqs,
                       double stage_tokens, bool prefill) {
  const OpKernel& k = op.kernel;
  const double tp = static_cast<double>(s.layout.tp);
  KernelCall call;
  call.kernel = k.kernel;
  call.cost = c;
  call.precision = main_precision(c);
  call.n = static_cast<double>(k.n);
  call.k = static_cast<double>(k.k);
  // Tensor-parallel GEMMs split their output over tp and see every token of the group;
  // replicated ones run on the rank's share of the tokens.
  if (tp_split(op.component)) {
    call.m = static_cast<double>(k.tokens) * seqs;
    call.n = std::max(1.0, call.n / tp);
  } else {
    call.m = std::max(1.0, static_cast<double>(k.tokens) * seqs / tp);
  }
  call.heads = static_cast<double>(k.heads) / tp;
  call.batch = seqs;
  call.kv_len = static_cast<double>(k.kv_len);
  call.seq_len = static_cast<double>(k.kv_len);
  if (k.kernel == KernelClass::grouped_gemm) {
    call.experts = static_cast<double>(std::max<std::int64_t>(1, s.local_experts));
    call.tokens_per_expert = pairs_on_rank(s, stage_tokens) / call.experts;
    call.masked = !prefill;
  }
  return call;
}

/// Compute of one pipeline stage for `seqs` sequences per dp group, each contributing the
/// queries of `pass`: time by component, roofline work and where each op's time came from.
Pricing price_compute(const Setup& s, const Pass& pass, double seqs, bool logits_all,
                      bool prefill) {
  OpOptions options;
  options.prefill = prefill;
  options.kv_format = s.config.kv_format;
  options.include_mtp = s.mtp;
  options.logits_for_all_tokens = logits_all;
  options.layers = s.layer_representatives;  // identical layers are priced once and scaled
  const double tp = static_cast<double>(s.layout.tp);
  const double token_share = seqs / tp;  // tokens of this rank for token-parallel work
  const double stage_tokens = seqs * static_cast<double>(s.layout.dp * pass.num_tokens);
  Pricing out;
  StepBreakdown main, rest;
  Work main_work, rest_work;
  OpLedger main_ops, rest_ops;
  Cost routed;
  bool routed_done = false;
  for (const Op& op : build_ops(s.spec, s.weights, pass, options)) {
    const bool main_layer = op.layer >= 0 && op.layer < s.spec.num_layers;
    Cost c;
    if (op.component == OpComponent::routed_experts) {
      if (!routed_done) routed = routed_on_rank(s, stage_tokens);
      routed_done = true;
      c = routed;
    } else if (tp_split(op.component)) {
      // Heads and projection weights split over tp; with one shared KV head every TP rank reads
      // the whole KV of its dp group's sequences.
      c = on_rank(op.cost, token_share, seqs, 1.0 / tp);
    } else {
      c = on_rank(op.cost, token_share, seqs, 1.0);  // replicated weights, the rank's tokens
    }
    const OpTime t = op_time(s.device, c);
    PerfEstimate e;
    if (s.perf && op.kernel.has_class)
      e = s.perf->estimate(kernel_call(s, op, c, seqs, stage_tokens, prefill));
    const double time_s = e.found ? e.time_s + s.device.launch_overhead_s : t.total_s;
    const double repeats = main_layer ? s.layer_repeats[static_cast<std::size_t>(op.layer)] : 1.0;
    add_time(main_layer ? main : rest, op.component, time_s * repeats);
    (main_layer ? main_work : rest_work).add(s.device, c, t, repeats);
    // The op's name without its layer index ("layers.3.attn.wq_a" -> "attn.wq_a").
    std::string name = op.name;
    if (op.layer >= 0) name = name.substr(name.find('.', name.find('.') + 1) + 1);
    if (op.component == OpComponent::mtp) name = "mtp." + name;
    (main_layer ? main_ops : rest_ops)
        .add(name, std::string(to_string(op.component)), time_s, repeats, e);
  }
  // The heaviest stage holds ceil(L / pp) of the L main layers, plus the model-level ops and the
  // MTP block (counted on it in full: conservative for pp > 1).
  const double f = s.stage_layer_share;
  StepBreakdown& b = out.breakdown;
  b.attention_s = main.attention_s * f + rest.attention_s;
  b.indexer_s = main.indexer_s * f + rest.indexer_s;
  b.compressor_s = main.compressor_s * f + rest.compressor_s;
  b.moe_s = main.moe_s * f + rest.moe_s;
  b.other_s = main.other_s * f + rest.other_s;
  b.compute_s = b.attention_s + b.indexer_s + b.compressor_s + b.moe_s + b.other_s;
  out.work.ideal_compute_s = main_work.ideal_compute_s * f + rest_work.ideal_compute_s;
  out.work.bytes = main_work.bytes * f + rest_work.bytes;
  out.work.fallback = main_work.fallback;
  out.work.merge_fallback(rest_work.fallback);
  out.ledger.merge(main_ops, f, f);
  out.ledger.merge(rest_ops, 1.0, 1.0);
  return out;
}

/// Communication of one stage for `seqs` sequences per dp group: MoE dispatch (FP8: 1 B per
/// element) and combine (BF16: 2 B) of the rank's tokens to top-k experts per MoE layer, an
/// all-reduce of the attention output per layer when tp > 1, one hop to the next stage when
/// pp > 1. Measured tables first (hardware/perf_model.h), else the topology graph.
struct CommTimes {
  double dispatch_s = 0;
  double combine_s = 0;
  double other_s = 0;  // TP all-reduces and the pipeline hop
  double total_s() const { return dispatch_s + combine_s + other_s; }
};

CommTimes price_comm(const Setup& s, const Pass& pass, double seqs, bool prefill,
                     OpLedger& ledger) {
  const double D = static_cast<double>(s.spec.hidden_size);
  const double tp = static_cast<double>(s.layout.tp);
  const double rank_tokens = seqs * static_cast<double>(pass.num_tokens) / tp;
  // The busiest rank receives (dispatch) and returns (combine) its imbalance times the mean.
  const double moe_tokens = rank_tokens * s.config.expert_imbalance;
  const double k = static_cast<double>(s.spec.moe.experts_per_token);
  const CommModel& net = s.comm;
  const int per_node = s.system.devices_per_node;
  CommTimes out;
  const auto table_or_graph = [&](const std::string& name, KernelCall call, const CommLine& line,
                                  double bytes, double repeats, double& comm) {
    PerfEstimate e;
    call.link_latency_s = line.latency_s;
    if (s.perf && bytes > 0) e = s.perf->estimate(call);
    const double t = e.found ? e.time_s : line.at(bytes);
    if (t <= 0) return;
    comm += t * repeats;
    ledger.add(name, "communication", t, repeats, e);
  };
  const std::int64_t group = std::min(s.layout.ep, s.layout.devices_per_stage());
  if (s.stage_moe_layers > 0 && group > 1) {
    const double layers = static_cast<double>(s.stage_moe_layers);
    KernelCall call;
    call.ep = static_cast<double>(group);
    call.tokens_per_rank = moe_tokens;
    call.low_latency = !prefill;
    call.spans_nodes = group > per_node;
    call.kernel = KernelClass::dispatch;
    call.hidden = D;
    call.topk = k;
    call.payload_bytes_per_token = k * D * 1.0;
    table_or_graph("ffn.dispatch", call, net.moe_all_to_all, moe_tokens * k * D * 1.0, layers,
                   out.dispatch_s);
    call.kernel = KernelClass::combine;
    call.payload_bytes_per_token = k * D * 2.0;
    table_or_graph("ffn.combine", call, net.moe_all_to_all, moe_tokens * k * D * 2.0, layers,
                   out.combine_s);
  }
  if (s.layout.tp > 1) {
    const double bytes = seqs * static_cast<double>(pass.num_tokens) * D * 2.0;
    KernelCall call;
    call.kernel = KernelClass::all_reduce;
    call.ranks = tp;
    call.message_bytes = bytes;
    call.spans_nodes = s.layout.tp > per_node;
    table_or_graph("attn.all_reduce", call, net.tp_all_reduce, bytes,
                   static_cast<double>(s.stage_layers), out.other_s);
    // The FFN's output (shared experts or dense FFN, with the routed experts' combine) is
    // reduced over tp once more per layer.
    table_or_graph("ffn.all_reduce", call, net.tp_all_reduce, bytes,
                   static_cast<double>(s.stage_layers), out.other_s);
  }
  const double streams = static_cast<double>(std::max<std::int64_t>(1, s.spec.mhc.streams));
  const double hop =
      net.stage_hop.at(seqs * static_cast<double>(pass.num_tokens) * streams * D * 2.0);
  if (hop > 0) {
    out.other_s += hop;
    ledger.add("stage_hop", "communication", hop, 1.0, PerfEstimate{});
  }
  return out;
}

/// One pipeline stage's time for `seqs` sequences per dp group, each contributing the queries of
/// `pass`. With overlap, two microbatches (halves of the sequences, or of one prompt's chunk)
/// each run every op, and one's communication hides behind the other's compute in two windows
/// per layer, as DeepSeek schedules them (profile-data README; V3 report §3.4): the attention
/// side of one microbatch against the other's combine (and TP all-reduce), its MoE against the
/// other's dispatch. A window lasts as long as its longer side.
Pricing price_stage(const Setup& s, const Pass& pass, double seqs, bool logits_all, bool prefill) {
  const bool has_comm = (s.stage_moe_layers > 0 && s.layout.ep > 1) || s.layout.tp > 1;
  const bool split_seqs = seqs >= 2;
  const bool split_tokens = !split_seqs && prefill && pass.num_tokens >= 2;
  if (!s.config.overlap || !has_comm || !(split_seqs || split_tokens)) {
    Pricing p = price_compute(s, pass, seqs, logits_all, prefill);
    const double comm = price_comm(s, pass, seqs, prefill, p.ledger).total_s();
    p.breakdown.communication_s = comm;
    p.breakdown.exposed_communication_s = comm;
    p.breakdown.total_s = p.breakdown.compute_s + comm;
    return p;
  }
  // The two halves.
  std::array<Pass, 2> passes{pass, pass};
  std::array<double, 2> half{seqs / 2, seqs / 2};
  if (split_tokens) {
    const std::int64_t first = pass.num_tokens / 2;
    passes[0] = Pass{pass.start_pos, first};
    passes[1] = Pass{pass.start_pos + first, pass.num_tokens - first};
    half = {seqs, seqs};
  }
  Pricing out;
  OpLedger compute_ops, comm_ops;
  CommTimes comm;
  for (int i = 0; i < 2; ++i) {
    const Pricing p = price_compute(s, passes[i], half[i], logits_all, prefill);
    out.breakdown += p.breakdown;  // compute only: communication is priced below
    out.work.ideal_compute_s += p.work.ideal_compute_s;
    out.work.bytes += p.work.bytes;
    out.work.merge_fallback(p.work.fallback);
    compute_ops.merge(p.ledger, 1.0, 1.0);
    const CommTimes c = price_comm(s, passes[i], half[i], prefill, comm_ops);
    comm.dispatch_s += c.dispatch_s;
    comm.combine_s += c.combine_s;
    comm.other_s += c.other_s;
  }
  // Normal-mode all-to-all kernels hold a share of the compute units while they overlap.
  const double slowdown = prefill ? 1.0 / (1.0 - s.config.normal_mode_compute_share) : 1.0;
  StepBreakdown& b = out.breakdown;
  for (double* v :
       {&b.attention_s, &b.indexer_s, &b.compressor_s, &b.moe_s, &b.other_s, &b.compute_s})
    *v *= slowdown;
  out.ledger.merge(compute_ops, slowdown, 1.0);
  out.ledger.merge(comm_ops, 1.0, 1.0);
  b.communication_s = comm.total_s();
  const double attention_side = b.compute_s - b.moe_s;
  b.total_s =
      std::max(attention_side, comm.combine_s + comm.other_s) + std::max(b.moe_s, comm.dispatch_s);
  b.exposed_communication_s = b.total_s - b.compute_s;
  return out;
}

double weights_per_rank(const Setup& s) {
  const double tp = static_cast<double>(s.layout.tp);
  double layer_bytes = 0, model_bytes = 0;
  for (const WeightTensor& w : s.weights) {
    if (w.mtp && !s.mtp) continue;
    double bytes = static_cast<double>(w.bytes());
    if (w.component == ParamComponent::routed_experts) {
      bytes = bytes / static_cast<double>(w.copies) * static_cast<double>(s.local_experts);
    } else if (w.component == ParamComponent::attention || w.component == ParamComponent::indexer ||
               w.component == ParamComponent::lm_head || w.component == ParamComponent::embedding ||
               w.component == ParamComponent::shared_experts ||
               w.component == ParamComponent::dense_ffn) {
      bytes /= tp;  // split over tensor-parallel ranks (heads, FFN columns, or vocabulary)
    }
    const bool main_layer = w.layer >= 0 && w.layer < s.spec.num_layers;
    (main_layer ? layer_bytes : model_bytes) += bytes;
  }
  return layer_bytes * s.stage_layer_share + model_bytes;
}

/// Activations in flight per rank for `tokens` tokens of its own: the mHC residual streams (BF16,
/// in and out), the MoE receive buffer (top-k copies, BF16) and a sub-layer output. An estimate of
/// working buffers, doubled with two-microbatch overlap.
double activations_per_rank(const Setup& s, double tokens) {
  const double D = static_cast<double>(s.spec.hidden_size);
  const double streams = static_cast<double>(std::max<std::int64_t>(1, s.spec.mhc.streams));
  const double k = static_cast<double>(std::max<std::int64_t>(1, s.spec.moe.experts_per_token));
  const double per_token = (2.0 * streams + k + 1.0) * D * 2.0;
  return tokens * per_token * (s.config.overlap ? 2.0 : 1.0);
}

MemoryUse memory_use(const Setup& s, std::int64_t batch) {
  MemoryUse m;
  const double b = static_cast<double>(batch);
  const std::int64_t n = s.workload.context_tokens;
  const KvCacheBytes kv =
      kv_cache_per_sequence(s.spec, n, s.spec.kv_format(s.config.kv_format), s.mtp);
  m.capacity_bytes =
      s.device.hbm_capacity_gb.nominal * 1e9 * (1.0 - s.config.reserved_hbm_fraction);
  m.weights_bytes = weights_per_rank(s);
  m.kv_bytes_per_sequence = static_cast<double>(kv.total());
  // Each rank holds the KV of its dp group's sequences for its stage's layers; with pp
  // microbatches in flight that is batch x the KV per sequence x the stage share x pp.
  const double kv_share = s.stage_layer_share * static_cast<double>(s.layout.pp);
  m.kv_bytes = b * m.kv_bytes_per_sequence * kv_share;
  const double tokens = s.workload.phase == Phase::decode
                            ? b * static_cast<double>(s.q)
                            : b * static_cast<double>(std::min(s.config.prefill_chunk_tokens, n));
  m.activation_bytes = activations_per_rank(s, tokens / static_cast<double>(s.layout.tp));
  return m;
}

std::string memory_reason(const MemoryUse& m) {
  char buf[256];
  std::snprintf(
      buf, sizeof buf,
      "weights %.1f GiB + KV %.1f GiB + activations %.1f GiB exceed the %.1f GiB usable HBM "
      "per rank",
      m.weights_bytes / 1073741824.0, m.kv_bytes / 1073741824.0, m.activation_bytes / 1073741824.0,
      m.capacity_bytes / 1073741824.0);
  return buf;
}

std::int64_t cached_tokens(const Setup& s) {
  return static_cast<std::int64_t>(
      std::floor(s.config.cache_hit_rate * static_cast<double>(s.workload.context_tokens)));
}

/// Prefill of `prompts` prompts per dp group of the workload's context (cache hits skipped),
/// chunk by chunk through every pipeline stage.
struct Prefill {
  double time_s = 0;        // all stages: the time to first token
  StepBreakdown breakdown;  // one stage, summed over chunks
  Work work;
  OpLedger ledger;
};

Prefill price_prefill(const Setup& s, double prompts) {
  Prefill out;
  const std::int64_t n = s.workload.context_tokens;
  for (std::int64_t start = cached_tokens(s); start < n; start += s.config.prefill_chunk_tokens) {
    const Pass chunk{start, std::min(s.config.prefill_chunk_tokens, n - start)};
    const Pricing p = price_stage(s, chunk, prompts, false, /*prefill=*/true);
    out.time_s += p.breakdown.total_s * static_cast<double>(s.layout.pp);
    out.work.ideal_compute_s += p.work.ideal_compute_s;
    out.work.bytes += p.work.bytes;
    out.work.merge_fallback(p.work.fallback);
    out.ledger.merge(p.ledger, 1.0, 1.0);
    out.breakdown += p.breakdown;
  }
  return out;
}

/// Disaggregated: shipping one sequence's KV cache from the prefill pool to its decode rank.
double kv_transfer_s(const Setup& s) {
  if (!s.prefill_pool) return 0.0;
  const KvCacheBytes kv = kv_cache_per_sequence(s.spec, s.workload.context_tokens,
                                                s.spec.kv_format(s.config.kv_format), s.mtp);
  return s.kv_transfer.at(static_cast<double>(kv.total()));
}

/// Prices `batch` on the setup. `decode_ttft_s` is the time to first token of one prompt, which
/// a decode batch does not change (computed once by the caller).
ServingResult evaluate(const Setup& s, std::int64_t batch, const SystemTotals& totals,
                       double decode_ttft_s) {
  ServingResult r;
  const Workload& w = s.workload;
  r.prefill_devices = s.config.prefill_devices;
  r.devices = s.layout.devices() + r.prefill_devices;
  r.layout = s.layout;
  r.batch = batch;
  r.power_w = totals.power_w.nominal;
  const double b = static_cast<double>(batch);
  const std::int64_t n = w.context_tokens;
  r.memory = memory_use(s, batch);
  r.batch_per_device =
      b * static_cast<double>(s.layout.dp * s.layout.pp) / static_cast<double>(s.layout.devices());
  r.sequences = batch * s.layout.dp * s.layout.pp;
  if (r.memory.free_bytes() < 0) {
    r.reason = memory_reason(r.memory);
    return r;
  }
  const double hbm = s.device.hbm_bytes_per_s();
  if (w.phase == Phase::prefill) {
    const Prefill p = price_prefill(s, b);
    const double new_tokens = static_cast<double>(n - cached_tokens(s));
    const double stage_s = p.time_s / static_cast<double>(s.layout.pp);
    r.ttft_s = p.time_s;
    r.step_s = p.time_s;
    r.breakdown = p.breakdown;
    // pp prompt batches in flight; each dp group finishes b prompts per stage time.
    r.throughput_tokens_per_s = b * new_tokens * static_cast<double>(s.layout.dp) / stage_s;
    r.throughput_tokens_per_s_per_device =
        r.throughput_tokens_per_s / static_cast<double>(r.devices);
    r.mfu = p.work.ideal_compute_s / stage_s;
    r.mbu = p.work.bytes / (hbm * stage_s);
    r.precision_fallback = p.work.fallback;
    r.time_sources = p.ledger.sources;
    r.ops = p.ledger.ops;
    r.warnings = p.ledger.warnings;
  } else {
    const Pricing p = price_stage(s, Pass{n - 1, s.q}, b, true, /*prefill=*/false);
    r.ttft_s = decode_ttft_s;
    r.kv_transfer_s = kv_transfer_s(s);
    r.breakdown = p.breakdown;
    r.step_s =
        p.breakdown.total_s * static_cast<double>(s.layout.pp) + s.config.scheduler_overhead_s;
    // Draft i (1-based) is kept when it and every earlier draft are accepted: a^i.
    double tokens_per_step = 1.0, accepted = 1.0;
    for (std::int64_t i = 0; s.mtp && i < s.config.mtp_tokens; ++i) {
      accepted *= s.config.mtp_acceptance;
      tokens_per_step += accepted;
    }
    r.tokens_per_step = tokens_per_step;
    r.tpot_s = r.step_s / tokens_per_step;
    r.tokens_per_s_per_user = 1.0 / r.tpot_s;
    r.throughput_tokens_per_s = static_cast<double>(r.sequences) / r.tpot_s;
    r.throughput_tokens_per_s_per_device =
        r.throughput_tokens_per_s / static_cast<double>(r.devices);
    r.mfu = p.work.ideal_compute_s / p.breakdown.total_s;
    r.mbu = p.work.bytes / (hbm * p.breakdown.total_s);
    r.precision_fallback = p.work.fallback;
    r.time_sources = p.ledger.sources;
    r.ops = p.ledger.ops;
    r.warnings = p.ledger.warnings;
  }
  // SLOs: a miss makes the point infeasible with the reason, never silently dropped.
  char buf[200];
  if (w.slo_tpot_s && w.phase == Phase::decode && r.tpot_s > *w.slo_tpot_s) {
    std::snprintf(buf, sizeof buf, "TPOT %.1f ms exceeds the %.1f ms SLO", r.tpot_s * 1e3,
                  *w.slo_tpot_s * 1e3);
    r.reason = buf;
    return r;
  }
  if (w.slo_ttft_s && r.ttft_s > *w.slo_ttft_s) {
    std::snprintf(buf, sizeof buf, "TTFT %.2f s exceeds the %.2f s SLO", r.ttft_s, *w.slo_ttft_s);
    r.reason = buf;
    return r;
  }
  r.feasible = true;
  return r;
}

ComputePrecisions uniform_compute(Precision p, const ComputePrecisions& base) {
  ComputePrecisions c = base;
  c.attention_projections = c.indexer_projections = c.routed_experts = c.shared_experts =
      c.dense_ffn = p;
  return c;
}

}  // namespace

StepBreakdown& StepBreakdown::operator+=(const StepBreakdown& o) {
  attention_s += o.attention_s;
  indexer_s += o.indexer_s;
  compressor_s += o.compressor_s;
  moe_s += o.moe_s;
  other_s += o.other_s;
  compute_s += o.compute_s;
  communication_s += o.communication_s;
  exposed_communication_s += o.exposed_communication_s;
  total_s += o.total_s;
  return *this;
}

ModelSpec with_weights(const ModelSpec& spec, const std::string& weights) {
  if (weights.empty()) return spec;
  ModelSpec s = spec;
  WeightFormats& f = s.weights;
  if (weights == "fp8") {
    f.attention = f.indexer = f.routed_experts = f.shared_experts = f.dense_ffn =
        f.mtp_projections = WeightFormat::fp8_block128_ue8m0;
    s.compute = uniform_compute(Precision::fp8, s.compute);
  } else if (weights == "int8") {
    // W8A8 with per-channel scales, as Ascend serving runs DeepSeek (no FP8 path on 910B/910C).
    f.attention = f.indexer = f.routed_experts = f.shared_experts = f.dense_ffn =
        f.mtp_projections = WeightFormat::int8_channel;
    s.compute = uniform_compute(Precision::int8, s.compute);
  } else if (weights == "fp4") {
    f.attention = f.indexer = f.routed_experts = f.shared_experts = f.dense_ffn =
        f.mtp_projections = WeightFormat::mxfp4;
    s.compute = uniform_compute(Precision::fp4, s.compute);
  } else if (weights == "bf16") {
    f.attention = f.indexer = f.routed_experts = f.shared_experts = f.dense_ffn =
        f.mtp_projections = WeightFormat::bf16;
    s.compute = uniform_compute(Precision::bf16, s.compute);
  } else {
    throw InputError("--weights '" + weights + "': expected fp8, int8, fp4 or bf16");
  }
  return s;
}

namespace {

/// Validates the request and builds everything that does not depend on the batch. Returns an
/// infeasible result in `problem` when the layout cannot run.
struct Prepared {
  std::unique_ptr<CommPlanner> own_planner;  // when the caller gave none (the setup points into it)
  std::optional<PreparedModel> overridden;
  std::optional<Setup> setup;
  SystemTotals totals;
  ServingResult problem;
};

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

void prepare_setup(Prepared& p, const PreparedModel& model, const SystemSpec& system, int nodes,
                   const ServingConfig& config, const Workload& workload, CommPlanner* planner) {
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
  if (!p.problem.reason.empty()) return;
  if (!config.weights.empty()) p.overridden = prepare(with_weights(spec, config.weights));
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
      planner->model(l), config.measured_tables ? &planner->perf() : nullptr, nullptr, CommLine{}});
  for (const LayerGroup& g : layer_groups(spec)) {
    p.setup->layer_representatives.push_back(g.first);
    p.setup->layer_repeats.resize(static_cast<std::size_t>(spec.num_layers), 0.0);
    p.setup->layer_repeats[static_cast<std::size_t>(g.first)] = static_cast<double>(g.count);
  }
  if (config.prefill_devices > 0) {
    // The prefill pool: tp=1, one dp group per rank, experts as wide as they go; its prompts' KV
    // travels from the system's last rank to decode rank 0 (the farthest pair in node order).
    const std::int64_t n = config.prefill_devices;
    Setup pool = *p.setup;
    pool.layout = Layout{1, n, 1, widest_ep(n, experts)};
    pool.stage_layer_share = 1.0;
    pool.stage_layers = spec.num_layers;
    pool.stage_moe_layers = moe_layers(spec);
    pool.local_experts = experts > 0 ? (experts + pool.layout.ep - 1) / pool.layout.ep : 0;
    pool.comm = planner->model(pool.layout);
    p.setup->prefill_pool = std::make_shared<const Setup>(pool);
    p.setup->kv_transfer = planner->transfer(static_cast<int>(p.totals.devices - 1), 0);
  }
}

std::int64_t largest_fitting(const Setup& s) {
  auto fits = [&](std::int64_t b) { return memory_use(s, b).free_bytes() >= 0; };
  std::int64_t lo = 0, hi = 1;
  while (hi <= (std::int64_t{1} << 24) && fits(hi)) {
    lo = hi;
    hi *= 2;
  }
  if (lo == 0) return 0;
  while (hi - lo > 1) {
    const std::int64_t mid = (lo + hi) / 2;
    (fits(mid) ? lo : hi) = mid;
  }
  return lo;
}

/// Time to first token of one prompt: on the decode ranks when colocated, or on the prefill pool
/// plus the KV transfer when disaggregated.
double decode_ttft(const Setup& s) {
  if (s.workload.phase != Phase::decode) return 0.0;
  if (!s.prefill_pool) return price_prefill(s, 1.0).time_s;
  return price_prefill(*s.prefill_pool, 1.0).time_s + kv_transfer_s(s);
}

}  // namespace

std::vector<ServingResult> sweep_batches(const PreparedModel& model, const SystemSpec& system,
                                         int nodes, const ServingConfig& config,
                                         const Workload& workload,
                                         const std::vector<std::int64_t>& batches,
                                         CommPlanner* planner) {
  Prepared p;
  prepare_setup(p, model, system, nodes, config, workload, planner);
  std::vector<ServingResult> out;
  if (!p.setup) {
    out.assign(batches.size(), p.problem);
    return out;
  }
  const double ttft = decode_ttft(*p.setup);
  for (std::int64_t b : batches) out.push_back(evaluate(*p.setup, b, p.totals, ttft));
  return out;
}

std::int64_t max_batch_that_fits(const PreparedModel& model, const SystemSpec& system, int nodes,
                                 const ServingConfig& config, const Workload& workload,
                                 CommPlanner* planner) {
  Prepared p;
  prepare_setup(p, model, system, nodes, config, workload, planner);
  return p.setup ? largest_fitting(*p.setup) : 0;
}

ServingResult predict(const PreparedModel& model, const SystemSpec& system, int nodes,
                      const ServingConfig& config, const Workload& workload, CommPlanner* planner) {
  Prepared p;
  prepare_setup(p, model, system, nodes, config, workload, planner);
  if (!p.setup) return p.problem;
  const Setup& s = *p.setup;
  const SystemTotals& totals = p.totals;
  const double ttft = decode_ttft(s);
  if (workload.batch > 0) return evaluate(s, workload.batch, totals, ttft);

  // The largest batch that fits (memory grows linearly in the batch).
  const std::int64_t lo = largest_fitting(s);
  if (lo == 0) return evaluate(s, 1, totals, ttft);  // not even one sequence fits: say why
  ServingResult best = evaluate(s, lo, totals, ttft);
  if (best.feasible) return best;
  // An SLO fails at the memory limit. Step time grows with the batch, so bisect for the largest
  // batch that meets it (or report why even one sequence misses it).
  const ServingResult one = evaluate(s, 1, totals, ttft);
  if (!one.feasible) return one;
  std::int64_t ok = 1, bad = lo;
  while (bad - ok > 1) {
    const std::int64_t mid = (ok + bad) / 2;
    (evaluate(s, mid, totals, ttft).feasible ? ok : bad) = mid;
  }
  return evaluate(s, ok, totals, ttft);
}

}  // namespace v4sim
