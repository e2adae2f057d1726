// Serving a model on a system: capacity, decode step and prefill time, throughput, latency and
// utilisation, for one parallel layout and workload. Composes the analytic op list (kernel cost
// functions) with the hardware model (per-op roofline, collectives over the topology graph).
//
// Modelling assumptions, each stated where it is used in serving.cpp:
//  * DP attention: each dp group of tp ranks serves its own sequences; with one shared KV head
//    (V4, MLA) every TP rank holds the whole KV of its group's sequences.
//  * Attention projections, the LM head, shared experts and dense FFNs are split over tp (each
//    rank holds 1/tp of their weights and sees every token of its group): by output columns, the
//    output projections (MLA/GQA wo, V4 wo_b) by input rows. The low-rank query and latent KV
//    projections (wq_a, wkv_a, V4's wkv), the indexer, compressors, router and mHC are replicated:
//    every rank holds their whole weights and runs them on every token of its group (as SGLang
//    and vLLM do, and aiconfigurator's TP module rows measure; models/weights.h TpSplit).
//  * Routed experts spread over the stage's ep ranks (plus redundant copies); token-expert pairs
//    reach a rank in proportion, times the load-imbalance factor.
//  * MoE dispatch (FP8) and combine (BF16) are all-to-alls over the stage's ranks (or, with
//    MoeExchange::all_gather, an all-gather of the group's tokens and a reduce-scatter of the
//    experts' partial outputs); tp > 1 adds two
//    all-reduces per layer (attention output, FFN output); pp > 1 adds a point-to-point hop per
//    stage.
//  * Op times come from the accelerator's measured kernel tables where they cover the op's class,
//    else from the nearest measured sibling's table (transferred), else the roofline
//    (hardware/perf_model.h); each op, and the step's time shares, say which. A V4 CSA or HCA
//    decode sublayer with a measured module table takes the module's time, shared among its ops
//    (sim/attention_module.h). An op timed from a
//    kernel-only table also pays the accelerator's launch_overhead_s (the gap between kernels);
//    a table timed as a CUDA-graph replay of back-to-back calls has that gap inside its rows.
//  * The element-wise kernels between them (residual-add RMSNorms, latent norms, router top-k;
//    sim/elementwise.h) are ops on every token of the group, timed on their HBM bytes and never
//    below the device's smallest measured kernel; so is the activation pass between each FFN's
//    two products (sim/ffn_activation.h), over the rank's token-expert pairs for routed experts,
//    and the BF16 input's quantisation before an FP8/FP4 GEMM whose table does not time it
//    (`activation_quantisation: excluded`, sim/activation_quant.h). The routed pairs are
//    permuted into per-expert rows and their outputs summed back around the grouped GEMM except
//    where DeepEP's low-latency dispatch lays them out (sim/moe_permutation.h). Routed experts
//    timed from a fused MoE table (`ffn: fused_moe`) launch none of their top-k, activation and
//    permutation kernels apart: the table's rows time them with the GEMMs. Dense MLA's
//    expanded prefill ropes its queries and assembles every expanded entry's 192-deep key before
//    the core (sim/mla_key_assembly.h).
//  * MoE dispatch/combine come from measured DeepEP-style tables (low-latency mode in decode,
//    normal mode in prefill) where they exist, else from the topology graph; TP all-reduces from
//    measured all-reduce tables (their small-message latency floors), else the graph.
//  * Two-microbatch overlap splits the rank's sequences (or, for one prompt, the chunk's tokens)
//    into two halves: each op runs twice at half size (weights read twice, two launches), and
//    communication of one half hides behind compute of the other as far as the layer's
//    dependencies allow: a stage costs the two halves' schedule on one compute and one
//    communication stream, its layers run from an empty pipeline (sim/overlap_schedule.h): its
//    dense-FFN layers (nothing to send), then its MoE layers, each kind's sums spread evenly over
//    its layers, then the model-level ops once, between max(2 x compute(half),
//    2 x comm(half)) and their sum. In prefill the normal-mode all-to-all
//    kernels occupy `normal_mode_compute_share` of the compute units meanwhile, slowing compute
//    by 1 / (1 - share). Without overlap (or with nothing to split) a stage costs compute + comm.
//  * MTP: K draft tokens per step (`mtp_tokens`), verified together with the step's token (K + 1
//    query positions per sequence); each accepted with probability a given the previous ones
//    were, so a step yields 1 + a + ... + a^K tokens. The MTP block is placed like a main layer
//    (its experts over the ep group, its tokens dispatched and combined, its projections split
//    over tp) and runs once over the step's K + 1 positions, drafting the first token, then K - 1
//    times more on one token per sequence, each draft after the one before (no microbatches);
//    its time is booked as mtp. V3's dense MLA decode folds a sequence's K + 1 queries into the
//    kernel's 64-row tiles of the rank's heads (kernels/mla_attention.h folded_queries).
//  * The engine's per-step scheduling time (`scheduler_overhead_s`) adds to every step.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hardware/system.h"
#include "sim/analytic.h"
#include "sim/communication.h"
#include "sim/infeasible.h"
#include "sim/layout.h"
#include "sim/moe_exchange.h"
#include "sim/weights_override.h"

namespace v4sim {

class ModelCache;   // sim/model_cache.h
class PrefillMemo;  // sim/prefill_memo.h

/// Busiest rank's routed tokens over the mean under EPLB, as measured (see ServingConfig).
inline constexpr double kEplbImbalance = 1.112;

struct ServingConfig {
  Layout layout;
  /// Ranks the deployment uses: 0 takes every rank of the nodes; fewer is a slice (TP4 on 4 of an
  /// 8-GPU server, 18 trays' worth of an NVL72), the first ranks in node order, with the
  /// topology of the nodes they sit on. Power counts the slice's share of its nodes.
  std::int64_t devices = 0;
  std::int64_t redundant_experts_per_device = 0;
  /// Busiest rank's token-expert pairs over the mean; it scales the busiest rank's expert work and
  /// its dispatch/combine traffic. Default: measured with EPLB (redundant experts) on DeepSeek-R1,
  /// EP32 and EP36, local batch 256: the hottest rank receives 0.109-0.115 times more routed tokens
  /// than the mean (TensorRT-LLM tech blog 4, "Scaling Expert Parallelism in TensorRT-LLM", Table
  /// 1, github.com/NVIDIA/TensorRT-LLM docs/source/blogs/tech_blog/blog4_...md); without EPLB the
  /// same measurement gives 1.564 more (2.56x the mean). 1.0 is perfectly balanced routing.
  double expert_imbalance = kEplbImbalance;
  /// MoE token exchange between the ranks of an expert-parallel group (see MoeExchange).
  MoeExchange moe_exchange = MoeExchange::all_to_all;
  bool overlap = true;          // two-microbatch overlap of communication and compute
  double mtp_acceptance = 0.0;  // 0: no MTP; else acceptance of each draft token
  std::int64_t mtp_tokens = 1;  // draft tokens per step when MTP is on
  /// Time op's from measured kernel tables where they exist (false: roofline only).
  bool measured_tables = true;
  /// Share of the compute units the normal-mode (prefill) all-to-all kernels hold while they
  /// overlap compute: DeepEP's normal kernels run on 24 SMs (DeepEP README, `Buffer.set_num_sms
  /// (24)` in its examples; DeepSeek's profile-data README: 108 compute / 24 communication SMs
  /// of H800's 132) = 24 / 132. Low-latency (decode) kernels hold none (DeepEP README:
  /// hook-based receiving "without occupying any SM").
  double normal_mode_compute_share = 24.0 / 132.0;
  /// CPU scheduling and input preparation per step that the GPU waits for. 0 by default: the
  /// engines the catalogue models overlap it with the previous step (SGLang v0.4 "zero-overhead
  /// batch scheduler", lmsys.org/blog/2024-12-04-sglang-v0-4; TensorRT-LLM overlap scheduler,
  /// nvidia.github.io/TensorRT-LLM/latest/features/overlap-scheduler.html, on by default).
  double scheduler_overhead_s = 0.0;
  /// Decode steps are captured in CUDA graphs (the engines' default for decode: SGLang and vLLM
  /// capture batch sizes up to their cuda-graph limit, TensorRT-LLM with cuda_graph_config);
  /// false times decode collectives from eagerly launched measurements. Prefill is always eager.
  bool cuda_graph = true;
  /// Fill ServingResult::ops, the per-op timing table. Searches (optimize, plan, simulate) turn
  /// it off: naming and merging ops is about a quarter of a point's time, and only the chosen
  /// point is ever printed op by op. Times, sources and warnings are the same either way.
  bool op_timings = true;
  std::string kv_format = "deploy";
  /// Override of the model's weight storage and GEMM precision; none: the model's own.
  std::optional<WeightsOverride> weights;
  /// Share of HBM kept for the runtime, allocator fragmentation and CUDA graphs; vLLM's default
  /// gpu_memory_utilization of 0.9 leaves 10% (docs.vllm.ai, engine arguments).
  double reserved_hbm_fraction = 0.10;
  /// Fraction of the prompt whose KV is already cached (context-cache hit): prefill skips it.
  double cache_hit_rate = 0.0;
  /// Prefill processes prompts in chunks of this many tokens (weights re-read per chunk).
  std::int64_t prefill_chunk_tokens = 16384;
  /// Prefill/decode disaggregation: 0 colocates prefill with decode on the layout's ranks. N > 0
  /// runs prefill on N further ranks (tp=1, dp=N, widest ep) and ships each sequence's KV cache to
  /// a decode rank over the topology, which adds to the time to first token. The layout covers the
  /// system's other ranks; `devices` and per-device throughput then count both pools.
  std::int64_t prefill_devices = 0;
};

struct Workload {
  Phase phase = Phase::decode;
  std::int64_t context_tokens = 0;  // decode: context of each sequence; prefill: prompt length
  /// Sequences per dp group (decode) or prompts in flight per dp group (prefill); 0: the largest
  /// that fits in HBM and meets the SLOs.
  std::int64_t batch = 0;
  std::optional<double> slo_tpot_s;
  std::optional<double> slo_ttft_s;
};

struct MemoryUse {
  double capacity_bytes = 0;    // usable HBM per rank (after the reserved share)
  double weights_bytes = 0;     // per rank, on the heaviest pipeline stage
  double kv_bytes = 0;          // per rank, all its sequences
  double activation_bytes = 0;  // per rank, in-flight activations and MoE buffers
  double kv_bytes_per_sequence = 0;
  double free_bytes() const { return capacity_bytes - weights_bytes - kv_bytes - activation_bytes; }
};

/// Where an op's time came from (hardware/perf_model.h): shares of the step's op time.
struct TimeSources {
  double measured_s = 0;
  double transferred_s = 0;
  double roofline_s = 0;
  double total_s() const { return measured_s + transferred_s + roofline_s; }
};

/// One op (summed over the layers it repeats in) of a step on the busiest rank.
struct OpTiming {
  std::string name;        // op name without its layer index, e.g. "attn.wq_a", "ffn.dispatch"
  std::string component;   // OpComponent, or "communication"
  std::int64_t calls = 0;  // per step (layers x microbatches)
  double time_s = 0;
  std::string efficiency_source;  // measured | transferred from <device> | roofline
  std::string table;              // the table used ("" for the roofline)
  bool extrapolated = false;      // outside the table's measured range (held at its end)
};

/// Per-step (decode) or per-prompt (prefill) time on one rank, by what it is spent on.
struct StepBreakdown {
  double attention_s = 0;  // projections + core attention
  double indexer_s = 0;    // lightning indexer projections and scoring
  double compressor_s = 0;
  double moe_s = 0;      // router + routed + shared experts (or dense FFN)
  double routed_s = 0;   // of moe_s: routed experts (grouped GEMM, activation, permutation)
  double shared_s = 0;   // of moe_s: shared experts and dense FFNs
  double other_s = 0;    // mHC, LM head, MTP block
  double compute_s = 0;  // sum of the above
  double communication_s = 0;
  double exposed_communication_s = 0;  // what overlap did not hide
  double total_s = 0;
  /// Component by component (two microbatches, the chunks of a prefill).
  StepBreakdown& operator+=(const StepBreakdown& o);
};

/// FLOPs of `precision` that ran on another compute path (FP8 as INT8 on Ascend 910B/910C).
struct PrecisionFallback {
  Precision precision = Precision::bf16;
  ComputePath path = ComputePath::bf16;
  bool operator==(const PrecisionFallback&) const = default;
};
/// "fp8 as int8, fp32 as tf32" in the order given; "" for none.
std::string to_string(const std::vector<PrecisionFallback>& fallbacks);

struct ServingResult {
  bool feasible = false;
  std::string reason;                 // why not, when infeasible, in words
  Infeasible why = Infeasible::none;  // the same, as a value to test
  std::int64_t devices = 0;
  Layout layout;
  std::int64_t batch = 0;       // per dp group, as in Workload
  double batch_per_device = 0;  // concurrent sequences (decode) / prompts (prefill) per rank
  std::int64_t sequences = 0;   // concurrent sequences in the whole deployment
  double step_s = 0;            // one decode step (all pipeline stages) or one prefill
  double tpot_s = 0;            // decode: step / (1 + MTP acceptance)
  double ttft_s = 0;            // prefill of one prompt of the workload's context
  double kv_transfer_s = 0;  // disaggregated: one sequence's KV from its prefill to its decode rank
  std::int64_t prefill_devices = 0;  // disaggregated prefill ranks (included in `devices`)
  double throughput_tokens_per_s_per_device = 0;  // output (decode) or input (prefill) tokens
  double throughput_tokens_per_s = 0;             // the whole deployment
  double tokens_per_s_per_user = 0;               // decode only
  double mfu = 0;  // time the FLOPs need at the peaks they run on / step time
  double mbu = 0;  // HBM bytes moved / (bandwidth * step time)
  double power_w = 0;
  /// Precisions that ran on another path, in the order the step first met them; empty if none.
  std::vector<PrecisionFallback> precision_fallbacks;
  std::string precision_fallback;  // the same as text, e.g. "fp8 as int8" ("" if none)
  double tokens_per_step = 1;      // decode: 1 + a + ... + a^K with MTP
  MemoryUse memory;
  StepBreakdown breakdown;
  TimeSources time_sources;           // of the step's op and communication time (one stage)
  std::vector<OpTiming> ops;          // decode step or whole prefill, one stage
  std::vector<std::string> warnings;  // e.g. shapes beyond a table's measured range
};

/// Evaluates one layout and batch (or the largest batch meeting the SLOs when workload.batch is 0)
/// on `nodes` nodes of `system`. Infeasible layouts, batches or SLOs come back as a result with a
/// reason; malformed requests (context out of range, ...) throw InputError.
/// `planner`, when given, supplies the communication model (and caches it across calls).
ServingResult predict(const PreparedModel& model, const SystemSpec& system, int nodes,
                      const ServingConfig& config, const Workload& workload,
                      CommPlanner* planner = nullptr);

/// Evaluates each of `batches` (per dp group) with the layout's communication and time to first
/// token computed once; points that do not fit or miss an SLO come back infeasible with a reason.
/// `cache` (optional, built for `model`) shares op lists and weights per rank with the model's
/// other setups, `memo` (optional, built for `model` on `system`) one prompt's prefill with the
/// other searches: the same results (sim/model_cache.h, sim/prefill_memo.h).
std::vector<ServingResult> sweep_batches(const PreparedModel& model, const SystemSpec& system,
                                         int nodes, const ServingConfig& config,
                                         const Workload& workload,
                                         const std::vector<std::int64_t>& batches,
                                         CommPlanner* planner = nullptr,
                                         ModelCache* cache = nullptr, PrefillMemo* memo = nullptr);

/// The largest batch per dp group that fits in HBM on this layout (0 if none).
std::int64_t max_batch_that_fits(const PreparedModel& model, const SystemSpec& system, int nodes,
                                 const ServingConfig& config, const Workload& workload,
                                 CommPlanner* planner = nullptr, ModelCache* cache = nullptr);

/// The model with its weight storage and GEMM precision replaced.
ModelSpec with_weights(const ModelSpec& spec, WeightsOverride weights);

}  // namespace v4sim
