#include "scenarios/long_context.h"

#include "models/model_loader.h"
#include "sim/economics.h"
#include "sim/kv_cache.h"
#include "sim/serving.h"

namespace v4sim {

LongContextStudy study_long_context(const Scenario& sc, const ProgressFn& progress) {
  LongContextStudy st;
  for (const std::string& name : sc.models) st.models.push_back(prepare(load_model(name)));
  std::vector<SystemSpec> systems;
  for (const std::string& name : sc.systems) systems.push_back(load_system(name));

  const std::int64_t longest = sc.contexts.back();
  for (const PreparedModel& m : st.models) {
    std::vector<AnalyticResult>& decode = st.decode.emplace_back();
    for (std::int64_t n : sc.contexts)
      decode.push_back(analyze(m, {n, Phase::decode, sc.kv_format, false, true}));
    std::vector<KvCacheBytes>& kv = st.kv_by_format.emplace_back();
    for (const KvFormat& f : m.spec.kv_formats)
      kv.push_back(kv_cache_per_sequence(m.spec, longest, f));
  }

  ServingConfig config;
  config.kv_format = sc.kv_format;
  config.mtp_acceptance = sc.mtp_acceptance;
  std::size_t done = 0;
  const std::size_t total = systems.size() * st.models.size() * sc.contexts.size();
  for (const SystemSpec& s : systems) {
    LongContextSystem& out = st.systems.emplace_back();
    out.system = s;
    // The optimize command's price per rank-hour and communication models (by node count),
    // shared by every model and context on this system.
    const DeviceHour hour = device_hour(s, s.default_nodes, sc.prices);
    out.max_devices = default_max_devices(s);
    PlannerCache planners;
    for (const PreparedModel& m : st.models) {
      std::vector<LongContextServing>& runs = out.runs.emplace_back();
      for (std::int64_t n : sc.contexts) {
        if (progress) progress(++done, total);
        LongContextServing& run = runs.emplace_back();
        run.context_tokens = n;
        if (n > m.spec.max_context_tokens) {
          run.why = Infeasible::beyond_max_context;
          continue;
        }
        Workload w;
        w.context_tokens = n;
        w.slo_tpot_s = sc.slo_tpot_s;
        const DeploymentSearch d =
            search_deployments(m, s, config, w, hour, out.max_devices, &planners);
        if (d.result.cheapest) {
          run.best = d.result.points[*d.result.cheapest];
        } else if (d.nearest) {
          run.why = Infeasible::tpot_slo;
          run.nearest = d.result.points[*d.nearest].result;
        } else {
          run.why = Infeasible::memory;
        }
      }
    }
  }
  return st;
}

}  // namespace v4sim
