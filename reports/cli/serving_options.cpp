#include "reports/cli/serving_options.h"

#include <cmath>
#include <utility>

#include "models/config/input_error.h"
#include "models/model_loader.h"
#include "reports/cli/values.h"

namespace v4sim::cli {

void add_serving_options(CLI::App* cmd, ServingOptions& o, bool with_layout_and_batch) {
  cmd->add_option("--model", o.model,
                  "Catalogue name, path to a model YAML, or a Hugging Face config.json (the "
                  "defaults it lacks are printed as Assumed)")
      ->required();
  cmd->add_option("--system", o.system, "Catalogue name or path to a system YAML")->required();
  cmd->add_option(
      "--devices", o.devices,
      "Ranks to use: whole nodes or a slice (e.g. 4 of an 8-GPU server); default: the system's");
  cmd->add_option("--context", o.context,
                  "Context tokens (decode) or prompt length (prefill): 4k, 128k, 1m")
      ->required();
  cmd->add_option("--phase", o.phase, "decode | prefill")->capture_default_str();
  if (with_layout_and_batch) {
    cmd->add_option("--layout", o.layout, "tp=..,dp=..,ep=..,pp=.. (default tp=1,dp=ep=devices)");
    cmd->add_option("--batch", o.batch,
                    "Sequences (decode) or prompts (prefill) per dp group; "
                    "default: the largest that fits and meets the SLOs");
  }
  cmd->add_option("--slo-tpot-ms", o.slo_tpot_ms, "Time-per-output-token target (ms, > 0)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--slo-ttft-ms", o.slo_ttft_ms, "Time-to-first-token target (ms, > 0)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--mtp-acceptance", o.mtp_acceptance,
                  "MTP draft acceptance in [0, 1]; 0 = no MTP")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--mtp-tokens", o.mtp_tokens,
                  "MTP draft tokens per step (each accepted with --mtp-acceptance given the "
                  "previous ones were)")
      ->capture_default_str()
      ->check(CLI::Range(1, 16));
  cmd->add_flag("--no-tables", o.no_tables,
                "Time every op on the roofline (ignore the measured kernel tables)");
  cmd->add_option("--step-overhead-ms", o.step_overhead_ms,
                  "Engine scheduling time per step the GPU waits for (ms; default 0: "
                  "overlapped, as SGLang and TensorRT-LLM do)")
      ->check(CLI::Range(0.0, 10000.0));
  cmd->add_option("--weights", o.weights,
                  "fp8 | int8 | fp4 | fp4_ffn (FFNs FP4, attention BF16) | bf16 (default: the "
                  "model's own formats)");
  cmd->add_option("--kv-format", o.kv_format, "deploy | bf16")->capture_default_str();
  cmd->add_option("--cache-hit-rate", o.cache_hit_rate,
                  "Share of each prompt already cached, [0, 1)")
      ->check(CLI::Range(0.0, 0.999));
  cmd->add_option("--redundant-experts", o.redundant_experts, "Extra expert copies per rank");
  cmd->add_option("--imbalance", o.imbalance,
                  "Busiest rank's expert load over the mean (>= 1; default: measured with EPLB)")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 1000.0));
  cmd->add_option("--moe-exchange", o.moe_exchange,
                  "all_to_all (DeepEP dispatch/combine) | all_gather (attention DP gathers every "
                  "rank's tokens and reduce-scatters the experts' outputs, as TensorRT-LLM does)")
      ->capture_default_str();
  cmd->add_option("--chunk-tokens", o.chunk_tokens, "Prefill chunk size")->capture_default_str();
  cmd->add_flag("--no-overlap", o.no_overlap, "Turn off two-microbatch overlap");
  cmd->add_flag("--no-cuda-graph", o.no_cuda_graph,
                "Decode without CUDA graphs (collectives timed from eager launches)");
  cmd->add_option(
         "--prefill-devices", o.prefill_devices,
         "Disaggregate: prefill on this many further ranks, KV shipped to decode (0: colocated)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--price-basis", o.price_basis, "rental | tco")->capture_default_str();
  cmd->add_option("--session-output-tokens", o.session_output_tokens,
                  "Output tokens of the priced session (predict, decode)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--format", o.format, "table | json | csv")->capture_default_str();
}

ServingRequest resolve(const ServingOptions& o) {
  ServingRequest r;
  const Phase phase = parse_phase(o.phase);
  const std::int64_t context = parse_context(o.context, "--context");
  r.model = prepare(load_model(o.model));
  r.system = load_system(o.system);
  const int per_node = r.system.devices_per_node;
  r.nodes = r.system.default_nodes;
  std::int64_t devices = static_cast<std::int64_t>(r.nodes) * per_node;
  if (o.devices != 0) {
    // Any rank count: whole nodes joined over the scale-out network, or a slice of the last one.
    if (o.devices < 0)
      throw InputError("--devices " + std::to_string(o.devices) + ": must be positive");
    const std::int64_t nodes = (o.devices + per_node - 1) / per_node;
    if (nodes < r.system.min_nodes || nodes > r.system.max_nodes)
      throw InputError("--devices " + std::to_string(o.devices) + ": " + r.system.name + " takes " +
                       std::to_string(r.system.min_nodes) + " to " +
                       std::to_string(r.system.max_nodes) + " nodes of " +
                       std::to_string(per_node) + " ranks");
    r.nodes = static_cast<int>(nodes);
    devices = o.devices;
    r.config.devices = o.devices;
  }
  if (o.layout.empty()) {
    const std::int64_t decode = devices - o.prefill_devices;
    if (decode < 1)
      throw InputError("--prefill-devices " + std::to_string(o.prefill_devices) +
                       " leaves no decode rank of " + std::to_string(devices));
    r.config.layout = dp_attention_layout(decode, r.model.spec.moe.num_routed_experts);
  } else {
    r.config.layout = parse_layout(o.layout);
    const std::int64_t decode = devices - o.prefill_devices;
    if (r.config.layout.devices() != decode)
      throw InputError("--layout '" + o.layout +
                       "': tp*dp*pp = " + std::to_string(r.config.layout.devices()) +
                       " ranks, but the run has " + std::to_string(decode) +
                       " (--devices, or the system's default, less --prefill-devices)");
  }
  if (o.batch < 0) throw InputError("--batch must be positive");
  // CLI11 reads "nan" as a number and its PositiveNumber check lets NaN through (every comparison
  // is false); an SLO of NaN would then silently mean "no SLO".
  for (const auto& [option, value] :
       {std::pair{"--slo-tpot-ms", o.slo_tpot_ms}, std::pair{"--slo-ttft-ms", o.slo_ttft_ms}})
    if (!(value >= 0) || !std::isfinite(value))
      throw InputError(std::string(option) + " " + std::to_string(value) +
                       ": expected a positive number of milliseconds");
  if (o.chunk_tokens < 1) throw InputError("--chunk-tokens must be positive");
  if (o.redundant_experts < 0) throw InputError("--redundant-experts must not be negative");
  r.config.mtp_acceptance = o.mtp_acceptance;
  r.config.mtp_tokens = o.mtp_tokens;
  r.config.measured_tables = !o.no_tables;
  if (!(o.step_overhead_ms >= 0) || !std::isfinite(o.step_overhead_ms))
    throw InputError("--step-overhead-ms: expected a non-negative number of milliseconds");
  r.config.scheduler_overhead_s = o.step_overhead_ms / 1e3;
  if (!o.weights.empty()) {
    r.config.weights = parse_weights_override(o.weights);
    if (!r.config.weights)
      throw InputError("--weights '" + o.weights + "': expected fp8, int8, fp4, fp4_ffn or bf16");
  }
  r.config.kv_format = o.kv_format;
  r.config.cache_hit_rate = o.cache_hit_rate;
  r.config.redundant_experts_per_device = o.redundant_experts;
  r.config.expert_imbalance = o.imbalance;
  const std::optional<MoeExchange> exchange = parse_moe_exchange(o.moe_exchange);
  if (!exchange)
    throw InputError("--moe-exchange '" + o.moe_exchange + "': expected all_to_all or all_gather");
  r.config.moe_exchange = *exchange;
  r.config.prefill_chunk_tokens = o.chunk_tokens;
  r.config.overlap = !o.no_overlap;
  r.config.cuda_graph = !o.no_cuda_graph;
  r.config.prefill_devices = o.prefill_devices;
  r.workload.phase = phase;
  r.workload.context_tokens = context;
  r.workload.batch = o.batch;
  if (o.slo_tpot_ms > 0) r.workload.slo_tpot_s = o.slo_tpot_ms / 1e3;
  if (o.slo_ttft_ms > 0) r.workload.slo_ttft_s = o.slo_ttft_ms / 1e3;
  if (const auto basis = parse_price_basis(o.price_basis))
    r.prices.basis = *basis;
  else
    throw InputError("--price-basis '" + o.price_basis + "': expected rental or tco");
  return r;
}

}  // namespace v4sim::cli
