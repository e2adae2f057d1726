// `v4sim simulate`: requests over time through a scheduler on one deployment (sim/simulate.h):
// latency percentiles, SLO attainment, goodput, cache hits and occupancy.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "models/config/input_error.h"
#include "reports/cli/assumed.h"
#include "reports/cli/commands.h"
#include "reports/cli/serving_options.h"
#include "reports/cli/values.h"
#include "sim/communication.h"
#include "sim/simulate.h"
#include "sim/trace.h"

namespace v4sim::cli {
namespace {

using Json = nlohmann::ordered_json;

struct SimulateOptions {
  ServingOptions serving;
  std::string trace, input_tokens = "2048", output_tokens = "256", requests_csv;
  double time_scale = 1.0, rate = 0, burstiness = 1.0, kv_pool_gb = 0, timeline_interval_s = 1.0;
  std::int64_t requests = 0, max_batch = 256, token_budget = 0;
  std::uint64_t seed = 1;
  bool no_prefix_cache = false, cache_aware_routing = false;
};

Json summary_json(const Summary& s) {
  return {{"mean", s.mean}, {"p50", s.p50}, {"p90", s.p90}, {"p99", s.p99}};
}

Json result_json(const SimulationResult& r) {
  const double devices = static_cast<double>(r.devices);
  Json timeline = Json::array();
  for (const OccupancySample& o : r.timeline)
    timeline.push_back({{"start_s", o.start_s},
                        {"running", o.running},
                        {"waiting", o.waiting},
                        {"kv_fraction", o.kv_fraction},
                        {"cache_fraction", o.cache_fraction}});
  return {{"requests", r.requests.size()},
          {"completed", r.completed},
          {"rejected", r.rejected},
          {"preemptions", r.preemptions},
          {"ttft_s", summary_json(r.ttft_s)},
          {"tpot_s", summary_json(r.tpot_s)},
          {"e2e_s", summary_json(r.e2e_s)},
          {"queue_s", summary_json(r.queue_s)},
          {"slo_attainment", r.slo_attainment},
          {"goodput_requests_per_s", r.goodput_requests_per_s},
          {"throughput_tokens_per_s", r.output_tokens_per_s},
          {"input_tokens_per_s", r.input_tokens_per_s},
          {"output_tokens_per_s_per_device", r.output_tokens_per_s / devices},
          {"input_tokens_per_s_per_device", r.input_tokens_per_s / devices},
          {"cache_hit_rate", r.cache_hit_rate},
          {"makespan_s", r.makespan_s},
          {"devices", r.devices},
          {"engines", r.engines},
          {"prefill_engines", r.prefill_engines},
          {"kv_pool_bytes_per_engine", r.kv_pool_bytes},
          {"kv_bytes_per_token", r.kv_bytes_per_token},
          {"tokens_per_step", r.tokens_per_step},
          {"steps", r.steps},
          {"predict_calls", r.predict_calls},
          {"occupancy", {{"mean_running", r.mean_running}, {"max_running", r.max_running}}},
          {"littles_law",
           {{"mean_in_system", r.mean_in_system},
            {"completion_rate_times_mean_e2e", r.littles_law_rhs}}},
          {"timeline", timeline}};
}

void write_requests_csv(const std::string& path, const SimulationResult& r) {
  std::ofstream out(path);
  if (!out) throw InputError("--requests-csv " + path + ": cannot write the file");
  out << "id,arrival_s,start_s,first_token_s,finish_s,input_tokens,output_tokens,cached_tokens,"
         "preemptions,rejected,ttft_s,tpot_s,e2e_s\n";
  char buf[512];
  for (std::size_t i = 0; i < r.requests.size(); ++i) {
    const RequestRecord& q = r.requests[i];
    const bool done = !q.rejected;
    std::snprintf(buf, sizeof buf, "%zu,%.9g,%.9g,%.9g,%.9g,%lld,%lld,%lld,%d,%d,%.9g,%.9g,%.9g\n",
                  i, q.arrival_s, q.start_s, q.first_token_s, q.finish_s,
                  static_cast<long long>(q.input_tokens), static_cast<long long>(q.output_tokens),
                  static_cast<long long>(q.cached_tokens), q.preemptions, q.rejected ? 1 : 0,
                  done ? q.ttft_s() : 0.0, done ? q.tpot_s() : 0.0, done ? q.e2e_s() : 0.0);
    out << buf;
  }
}

void print_table(std::ostream& out, const SimulationResult& r) {
  char buf[256];
  auto line = [&](const char* name, const Summary& s, double scale, const char* unit) {
    std::snprintf(buf, sizeof buf, "  %-6s mean %10.3f  p50 %10.3f  p90 %10.3f  p99 %10.3f %s\n",
                  name, s.mean * scale, s.p50 * scale, s.p90 * scale, s.p99 * scale, unit);
    out << buf;
  };
  std::snprintf(buf, sizeof buf,
                "requests %zu, completed %lld, rejected %lld, preemptions %lld, makespan %.1f s\n",
                r.requests.size(), static_cast<long long>(r.completed),
                static_cast<long long>(r.rejected), static_cast<long long>(r.preemptions),
                r.makespan_s);
  out << buf;
  line("TTFT", r.ttft_s, 1e3, "ms");
  line("TPOT", r.tpot_s, 1e3, "ms");
  line("e2e", r.e2e_s, 1.0, "s");
  line("queue", r.queue_s, 1e3, "ms");
  const double devices = static_cast<double>(r.devices);
  std::snprintf(buf, sizeof buf,
                "SLO attainment %.4f, goodput %.3f req/s\n"
                "tokens/s per device: input %.1f, output %.1f (%lld devices)\n"
                "cache hit rate %.4f; running sequences mean %.1f, max %.0f\n"
                "Little's law: mean in system %.3f vs completion rate x mean e2e %.3f\n",
                r.slo_attainment, r.goodput_requests_per_s, r.input_tokens_per_s / devices,
                r.output_tokens_per_s / devices, static_cast<long long>(r.devices),
                r.cache_hit_rate, r.mean_running, r.max_running, r.mean_in_system,
                r.littles_law_rhs);
  out << buf;
}

}  // namespace

void setup_simulate(CLI::App& app) {
  auto opt = std::make_shared<SimulateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "simulate",
      "Serving simulation: requests over time, continuous batching, prefix cache -> "
      "latency percentiles and SLO attainment");
  add_serving_options(cmd, opt->serving, true);
  // The simulation sets what predict takes as fixed: batch, context, phase and cache hits.
  for (const char* name :
       {"--batch", "--context", "--phase", "--cache-hit-rate", "--session-output-tokens"})
    cmd->remove_option(cmd->get_option(name));
  cmd->add_option("--trace", opt->trace,
                  "Request trace: Mooncake .jsonl or Azure LLM inference .csv");
  cmd->add_option("--time-scale", opt->time_scale,
                  "Replay speed-up of the trace's arrivals (2: twice as fast)")
      ->capture_default_str();
  cmd->add_option("--rate", opt->rate, "Synthetic arrivals per second (without --trace)");
  cmd->add_option("--requests", opt->requests, "Synthetic requests (without --trace)");
  cmd->add_option("--burstiness", opt->burstiness,
                  "Coefficient of variation of synthetic inter-arrival times (1: Poisson; > 1: "
                  "bursty, hyperexponential)")
      ->capture_default_str();
  cmd->add_option("--input-tokens", opt->input_tokens, "Synthetic prompt tokens: N or MIN-MAX")
      ->capture_default_str();
  cmd->add_option("--output-tokens", opt->output_tokens, "Synthetic output tokens: N or MIN-MAX")
      ->capture_default_str();
  cmd->add_option("--seed", opt->seed, "Seed of the synthetic arrivals")->capture_default_str();
  cmd->add_option("--max-batch", opt->max_batch, "Sequences per dp group (prefilling + decoding)")
      ->capture_default_str();
  cmd->add_option("--token-budget", opt->token_budget,
                  "Tokens per step per dp group (default: --chunk-tokens)");
  cmd->add_option("--kv-pool-gb", opt->kv_pool_gb,
                  "KV pool per dp group in GB (default: HBM left after weights and activations)");
  cmd->add_flag("--no-prefix-cache", opt->no_prefix_cache, "Turn off the prefix cache");
  cmd->add_flag("--cache-aware-routing", opt->cache_aware_routing,
                "Send a request to the dp group caching most of its prefix (when more than half "
                "of it), else to the least loaded");
  cmd->add_option("--timeline-interval-s", opt->timeline_interval_s,
                  "Resolution of the occupancy timeline (JSON)")
      ->capture_default_str();
  cmd->add_option("--requests-csv", opt->requests_csv, "Write the per-request table to FILE");
  cmd->callback([opt] {
    const OutputFormat format = parse_output_format(opt->serving.format);
    if (format == OutputFormat::csv)
      throw InputError("simulate --format: table or json (the per-request CSV: --requests-csv)");
    ServingOptions serving = opt->serving;
    serving.context = "1";  // resolve() checks a context; the simulation supplies its own
    const ServingRequest req = resolve(serving);
    SimulationConfig sim;
    sim.max_batch = opt->max_batch;
    sim.token_budget = opt->token_budget;
    if (opt->token_budget < 0) throw InputError("--token-budget must not be negative");
    if (!(opt->kv_pool_gb >= 0)) throw InputError("--kv-pool-gb must not be negative");
    sim.kv_pool_bytes = opt->kv_pool_gb * 1e9;
    sim.prefix_cache = !opt->no_prefix_cache;
    sim.cache_aware_routing = opt->cache_aware_routing;
    sim.slo_ttft_s = req.workload.slo_ttft_s;
    sim.slo_tpot_s = req.workload.slo_tpot_s;
    sim.timeline_interval_s = opt->timeline_interval_s;
    if (!(opt->timeline_interval_s > 0)) throw InputError("--timeline-interval-s must be positive");
    const std::int64_t max_context = req.model.spec.max_context_tokens;
    CommPlanner planner(req.system, req.nodes);
    SimulationResult r;
    if (!opt->trace.empty()) {
      if (opt->rate > 0 || opt->requests > 0)
        throw InputError("--trace replays a trace; --rate and --requests are for synthetic runs");
      const std::vector<Request> trace = read_trace(opt->trace, max_context, opt->time_scale);
      std::size_t next = 0;
      r = simulate(
          req.model, req.system, req.nodes, req.config, sim,
          [&](Request& out) {
            if (next >= trace.size()) return false;
            out = trace[next++];
            return true;
          },
          planner);
    } else {
      if (opt->rate <= 0 || opt->requests <= 0)
        throw InputError("simulate needs --trace FILE, or --rate R and --requests N");
      SyntheticArrivals spec;
      spec.rate_per_s = opt->rate;
      spec.requests = opt->requests;
      spec.burstiness_cv = opt->burstiness;
      spec.input = parse_length_distribution(opt->input_tokens, "--input-tokens");
      spec.output = parse_length_distribution(opt->output_tokens, "--output-tokens");
      spec.seed = opt->seed;
      SyntheticSource source(spec, max_context);
      r = simulate(
          req.model, req.system, req.nodes, req.config, sim,
          [&](Request& out) { return source.next(out); }, planner);
    }
    if (!opt->requests_csv.empty()) write_requests_csv(opt->requests_csv, r);
    if (format == OutputFormat::json) {
      nlohmann::ordered_json j = result_json(r);
      add_assumed(j, req.model.spec);  // a config.json import: the defaults it took
      std::cout << j.dump() << '\n';
    } else {
      print_table(std::cout, r);
      print_assumed(std::cout, req.model.spec);
    }
  });
}

}  // namespace v4sim::cli
