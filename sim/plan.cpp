#include "sim/plan.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <optional>

#include "kernels/tasks_on_cores.h"
#include "models/config/input_error.h"
#include "sim/model_cache.h"
#include "sim/optimize.h"
#include "sim/prefill_memo.h"

namespace v4sim {
namespace {

void validate(const Demand& d) {
  auto bad = [&](const std::string& what) { throw InputError("demand '" + d.name + "': " + what); };
  if (!(d.input_tokens_per_day >= 0) || !(d.output_tokens_per_day >= 0) ||
      d.input_tokens_per_day + d.output_tokens_per_day <= 0)
    bad("tokens per day must be non-negative and not both zero");
  if (!(d.cache_hit_rate >= 0 && d.cache_hit_rate < 1)) bad("cache_hit_rate must be in [0, 1)");
  if (!(d.peak_to_average >= 1)) bad("peak_to_average must be at least 1");
  if (d.contexts.empty()) bad("the context mix is empty");
  double total = 0;
  for (const ContextShare& c : d.contexts) {
    if (c.context_tokens < 1) bad("a context of " + std::to_string(c.context_tokens) + " tokens");
    if (!(c.share > 0)) bad("context shares must be positive");
    total += c.share;
  }
  if (std::fabs(total - 1.0) > 1e-6)
    bad("context shares add up to " + std::to_string(total) + ", not 1");
}

/// The point meeting the targets whose instances carry `tokens_per_s` (at peak) on the fewest
/// ranks, instances rounded up to whole ones; ties go to the faster point. For a large demand
/// this is the cheapest point per token (what `optimize` reports); for a small one a smaller
/// instance wastes less than one large instance mostly idle. nullptr when nothing meets them.
const OptimizePoint* fewest_ranks(const DeploymentSearch& d, double tokens_per_s) {
  const OptimizePoint* best = nullptr;
  double best_ranks = 0;
  for (const OptimizePoint& p : d.result.points) {
    if (!p.meets_slo) continue;
    const double size = static_cast<double>(p.result.devices);
    const double busy = tokens_per_s / p.result.throughput_tokens_per_s_per_device;
    const double ranks = std::max(1.0, std::ceil(busy / size)) * size;
    if (!best || ranks < best_ranks ||
        (ranks == best_ranks && p.result.throughput_tokens_per_s_per_device >
                                    best->result.throughput_tokens_per_s_per_device)) {
      best = &p;
      best_ranks = ranks;
    }
  }
  return best;
}

std::string ms_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f ms", s * 1e3);
  return buf;
}

std::string s_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", s);
  return buf;
}

/// "16 ranks, tp=1,dp=16,pp=1,ep=16, batch 4": a point's deployment in words.
std::string deployment_text(const ServingResult& r) {
  return std::to_string(r.devices) + " ranks, " + to_string(r.layout) + ", batch " +
         std::to_string(r.batch);
}

/// Why a phase's search found nothing meeting its target, with the nearest it reached.
std::string shortfall(const DeploymentSearch& d, Phase phase, std::int64_t max_devices,
                      std::optional<double> target_s, double extra_s) {
  if (d.result.points.empty())
    return std::string(phase == Phase::decode ? "decode" : "prefill") +
           ": the model and one sequence do not fit on up to " + std::to_string(max_devices) +
           " ranks";
  const ServingResult& r = d.result.points[*d.nearest].result;
  if (phase == Phase::decode)
    return "TPOT target " + ms_text(target_s.value_or(0)) + " missed: the fastest decode is " +
           ms_text(r.tpot_s) + " (" + deployment_text(r) + ")";
  return "TTFT target " + s_text(target_s.value_or(0)) + " missed: the fastest prefill is " +
         s_text(r.ttft_s + extra_s) + " with the KV hand-over (" + deployment_text(r) + ")";
}

double fastest(const DeploymentSearch& d, Phase phase) {
  double best = std::numeric_limits<double>::infinity();
  for (const OptimizePoint& p : d.result.points)
    best = std::min(best, phase == Phase::decode ? p.result.tpot_s : p.result.ttft_s);
  return best;
}

/// Plans one context bucket on one system (sizing only: nothing here depends on prices).
/// The search of `memo` for (model, context, phase), or a new one, re-ranked for `w`'s targets.
const DeploymentSearch& search(const PreparedModel& model, const SystemSpec& system,
                               const ServingConfig& config, const Workload& w,
                               const DeviceHour& hour, const std::vector<std::int64_t>& sizes,
                               PlannerCache* planners, ModelCache& cache, PrefillMemo& prefills,
                               SearchMemo& memo) {
  const auto key = std::make_tuple(model.spec.name, w.context_tokens, w.phase);
  auto it = memo.find(key);
  if (it == memo.end())
    it = memo.emplace(key, search_deployments(model, system, config, w, hour, sizes, planners,
                                              &cache, &prefills))
             .first;
  else
    apply_targets(it->second, w);
  return it->second;
}

BucketPlan plan_bucket(const PreparedModel& model, const Demand& demand, const ContextShare& c,
                       const SystemSpec& system, const DeviceHour& hour, std::int64_t max_devices,
                       PlannerCache* planners, ModelCache& cache, SearchMemo& memo,
                       const BucketPlan* nominal) {
  BucketPlan b;
  b.context_tokens = c.context_tokens;
  b.share = c.share;
  b.fastest_tpot_s = b.fastest_ttft_s = std::numeric_limits<double>::infinity();
  if (c.context_tokens > model.spec.max_context_tokens) {
    b.reason = "context beyond the model's " + std::to_string(model.spec.max_context_tokens);
    b.why = Infeasible::beyond_max_context;
    return b;
  }
  // The decode search's times to first token are the prefill search's one-prompt points.
  PrefillMemo prefills(model, system);
  ServingConfig config;
  config.mtp_acceptance = demand.mtp_acceptance;
  config.cache_hit_rate = demand.cache_hit_rate;
  const bool keep = nominal && nominal->feasible;
  const std::vector<std::int64_t> every = candidate_device_counts(system, max_devices);
  const std::vector<std::int64_t> decode_sizes =
      keep ? std::vector<std::int64_t>{nominal->decode_devices} : every;
  const std::vector<std::int64_t> prefill_sizes =
      keep ? std::vector<std::int64_t>{nominal->prefill_devices} : every;
  Workload decode;
  decode.context_tokens = c.context_tokens;
  decode.slo_tpot_s = demand.slo_tpot_s;
  const DeploymentSearch& ds =
      search(model, system, config, decode, hour, decode_sizes, planners, cache, prefills, memo);
  b.fits = !ds.result.points.empty();
  b.fastest_tpot_s = fastest(ds, Phase::decode);
  constexpr double kSecondsPerDay = 86400.0;
  const double peak = demand.peak_to_average * c.share / kSecondsPerDay;
  const OptimizePoint* d = fewest_ranks(ds, peak * demand.output_tokens_per_day);
  // The prefill instance hands each sequence's KV cache to a decode instance over the scale-out
  // network (one rank's NIC share: the conservative path; instances in one scale-up domain may do
  // better), which the TTFT target must also cover.
  if (d && system.scale_out && system.scale_out->gb_per_s > 0)
    b.kv_transfer_s = d->result.memory.kv_bytes_per_sequence / (system.scale_out->gb_per_s * 1e9) +
                      system.scale_out->latency_s;
  Workload prefill;
  prefill.phase = Phase::prefill;
  prefill.context_tokens = c.context_tokens;
  if (demand.slo_ttft_s) prefill.slo_ttft_s = *demand.slo_ttft_s - b.kv_transfer_s;
  const DeploymentSearch& fs =
      search(model, system, config, prefill, hour, prefill_sizes, planners, cache, prefills, memo);
  b.fastest_ttft_s = fastest(fs, Phase::prefill) + b.kv_transfer_s;
  // Prefill computes only the cache misses.
  const OptimizePoint* f =
      fewest_ranks(fs, peak * demand.input_tokens_per_day * (1.0 - demand.cache_hit_rate));
  if (!d || !f) {
    b.reason = !d ? shortfall(ds, Phase::decode, max_devices, demand.slo_tpot_s, 0)
                  : shortfall(fs, Phase::prefill, max_devices, demand.slo_ttft_s, b.kv_transfer_s);
    b.why = !b.fits ? Infeasible::memory : !d ? Infeasible::tpot_slo : Infeasible::ttft_slo;
    return b;
  }
  b.feasible = true;
  b.decode_devices = d->result.devices;
  b.decode_layout = to_string(d->result.layout);
  b.decode_batch = d->result.batch;
  b.decode_tokens_per_s_per_device = d->result.throughput_tokens_per_s_per_device;
  b.tpot_s = d->result.tpot_s;
  b.prefill_devices = f->result.devices;
  b.prefill_layout = to_string(f->result.layout);
  b.prefill_batch = f->result.batch;
  // Prefill throughput counts only the tokens it computes; cached tokens ride along for free.
  b.prefill_tokens_per_s_per_device =
      f->result.throughput_tokens_per_s_per_device / (1.0 - demand.cache_hit_rate);
  b.ttft_s = f->result.ttft_s + b.kv_transfer_s;
  b.decode_peak_devices = peak * demand.output_tokens_per_day / b.decode_tokens_per_s_per_device;
  b.prefill_peak_devices = peak * demand.input_tokens_per_day / b.prefill_tokens_per_s_per_device;
  return b;
}

/// Groups the buckets' peak loads into pools by phase and instance size (nodes not yet set).
std::vector<PoolPlan> make_pools(const std::vector<BucketPlan>& buckets) {
  std::vector<PoolPlan> pools;
  for (Phase phase : {Phase::prefill, Phase::decode}) {
    std::map<std::int64_t, PoolPlan> by_size;
    for (const BucketPlan& b : buckets) {
      const bool pre = phase == Phase::prefill;
      PoolPlan& p = by_size[pre ? b.prefill_devices : b.decode_devices];
      p.phase = phase;
      p.instance_devices = pre ? b.prefill_devices : b.decode_devices;
      p.peak_devices += pre ? b.prefill_peak_devices : b.decode_peak_devices;
      p.contexts.push_back(b.context_tokens);
    }
    for (auto& [size, p] : by_size) {
      if (!(p.peak_devices > 0)) continue;  // no tokens of this phase
      p.instances = std::max<std::int64_t>(
          1, static_cast<std::int64_t>(std::ceil(p.peak_devices / static_cast<double>(size))));
      pools.push_back(std::move(p));
    }
  }
  return pools;
}

}  // namespace

std::int64_t pack_pools(std::span<PoolPlan> pools, std::int64_t per_node) {
  std::int64_t whole = 0;
  for (PoolPlan& p : pools) {
    p.nodes = 0;
    if (p.instance_devices < per_node) continue;
    p.nodes = p.instances * ((p.instance_devices + per_node - 1) / per_node);
    whole += p.nodes;
  }
  // Slices, largest first (prefill before decode at equal size: the pools' order); identical
  // instances placed one after another fill the nodes in order, which is what first fit does
  // with each of them.
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < pools.size(); ++i)
    if (pools[i].instance_devices < per_node && pools[i].instances > 0) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return pools[a].instance_devices > pools[b].instance_devices;
  });
  std::vector<std::int64_t> free;  // free ranks of each shared node, in the order opened
  for (std::size_t i : order) {
    PoolPlan& p = pools[i];
    const std::int64_t size = p.instance_devices;
    std::int64_t left = p.instances;
    for (std::int64_t& f : free) {
      const std::int64_t take = std::min(left, f / size);
      if (take == 0) continue;
      f -= take * size;
      left -= take;
      ++p.nodes;
      if (left == 0) break;
    }
    const std::int64_t per = per_node / size;
    for (; left > 0; left -= std::min(left, per)) {
      free.push_back(per_node - std::min(left, per) * size);
      ++p.nodes;
    }
  }
  return whole + static_cast<std::int64_t>(free.size());
}

namespace {

/// The order plan_system plans the buckets in: context order, or with `failing_first` the buckets
/// `sizes` (an infeasible plan of the same demand) found infeasible first.
std::vector<std::size_t> bucket_order(const Demand& demand, const SystemPlan* sizes,
                                      bool failing_first) {
  std::vector<std::size_t> order(demand.contexts.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  if (failing_first && sizes && sizes->buckets.size() == order.size())
    std::stable_partition(order.begin(), order.end(),
                          [&](std::size_t k) { return !sizes->buckets[k].feasible; });
  return order;
}

/// One candidate's plan (plan_purchase's loop body): `planners` and `searches` may be null (then
/// built here), `sizes` the nominal plan whose sizes a sensitivity run keeps (or null).
SystemPlan plan_system(const PreparedModel& model, const Demand& demand, const SystemSpec& system,
                       const PriceAssumptions& prices, PlannerCache* planners,
                       std::int64_t max_devices, SearchMemo* searches, const SystemPlan* sizes,
                       bool stop_at_infeasible, ModelCache& model_cache) {
  SystemPlan p;
  p.system = system.name;
  p.display_name = system.display_name;
  p.max_devices = max_devices > 0 ? max_devices : default_max_devices(system);
  // One price per rank-hour for the whole search (the optimize command's): the search then
  // ranks points by speed alone, which sizing needs (price_plan).
  const DeviceHour hour = device_hour(system, system.default_nodes, prices);
  PlannerCache own;
  PlannerCache* cache = planners ? planners : &own;
  SearchMemo own_memo;
  SearchMemo& memo = searches ? *searches : own_memo;
  p.feasible = true;
  // Each bucket's plan depends on its own context and share alone, so the order they are planned
  // in changes none of them.
  std::vector<std::optional<BucketPlan>> planned(demand.contexts.size());
  for (std::size_t k : bucket_order(demand, sizes, stop_at_infeasible)) {
    const BucketPlan* nominal =
        sizes && sizes->feasible && k < sizes->buckets.size() ? &sizes->buckets[k] : nullptr;
    planned[k] = plan_bucket(model, demand, demand.contexts[k], system, hour, p.max_devices, cache,
                             model_cache, memo, nominal);
    if (!planned[k]->feasible) {
      p.feasible = false;
      if (stop_at_infeasible) break;
    }
  }
  for (std::size_t k = 0; k < planned.size(); ++k) {
    if (!planned[k]) continue;
    BucketPlan& b = *planned[k];
    if (!b.feasible && p.reason.empty()) {
      p.reason = std::to_string(b.context_tokens) + " tokens: " + b.reason;
      p.why = b.why;
    }
    p.buckets.push_back(std::move(b));
  }
  if (p.feasible) price_plan(p, system, demand, prices);
  return p;
}

/// Whether no two entries are the same object (null entries aside).
template <typename T>
bool distinct(std::span<T* const> list) {
  for (std::size_t i = 0; i < list.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (list[i] && list[i] == list[j]) return false;
  return true;
}

}  // namespace

void price_plan(SystemPlan& p, const SystemSpec& system, const Demand& demand,
                const PriceAssumptions& prices) {
  constexpr double kHoursPerYear = 8760.0;
  p.pools = make_pools(p.buckets);
  p.units = pack_pools(p.pools, system.devices_per_node);
  p.average_devices = 0;
  p.prefill_devices = p.decode_devices = 0;
  for (const BucketPlan& b : p.buckets)
    p.average_devices += (b.decode_peak_devices + b.prefill_peak_devices) / demand.peak_to_average;
  for (const PoolPlan& pool : p.pools) {
    (pool.phase == Phase::prefill ? p.prefill_devices : p.decode_devices) +=
        pool.instances * pool.instance_devices;
  }
  p.peak_devices = p.average_devices * demand.peak_to_average;
  // Money counts every rank of the nodes bought (a node's spare ranks are paid for too).
  const SystemTotals totals = system_totals(system, static_cast<int>(p.units));
  p.devices = totals.devices;
  p.capex_usd = totals.price_usd.nominal;
  p.power_w = totals.power_w.nominal;
  p.floor_m2 = totals.floor_m2.nominal;
  const double kw = p.power_w / 1000.0;
  p.annual_opex_usd = kw * prices.pue * prices.usd_per_kwh * kHoursPerYear +
                      kw * prices.hosting_usd_per_kw_month * 12.0;
  p.annual_cost_usd = p.capex_usd / prices.amortization_years + p.annual_opex_usd;
  const double tokens_per_year =
      (demand.input_tokens_per_day + demand.output_tokens_per_day) * 365.0;
  p.usd_per_million_tokens = p.annual_cost_usd / tokens_per_year * 1e6;
  p.utilization = p.average_devices / static_cast<double>(p.devices);
}

std::vector<SystemPlan> plan_purchase(const PreparedModel& model, const Demand& demand,
                                      const std::vector<SystemSpec>& candidates,
                                      const PriceAssumptions& prices) {
  return plan_purchase(model, demand, candidates, prices, {});
}

std::vector<SystemPlan> plan_purchase(
    const PreparedModel& model, const Demand& demand, const std::vector<SystemSpec>& candidates,
    const PriceAssumptions& prices, std::span<PlannerCache* const> planners,
    std::int64_t max_devices, std::span<SearchMemo* const> searches,
    std::span<const SystemPlan* const> sizes_from, bool stop_at_infeasible) {
  validate(demand);
  if (!sizes_from.empty() && sizes_from.size() != candidates.size())
    throw InputError("plan_purchase: " + std::to_string(sizes_from.size()) + " nominal plans for " +
                     std::to_string(candidates.size()) + " candidates");
  if (!planners.empty() && planners.size() != candidates.size())
    throw InputError("plan_purchase: " + std::to_string(planners.size()) + " planners for " +
                     std::to_string(candidates.size()) + " candidates");
  if (!searches.empty() && searches.size() != candidates.size())
    throw InputError("plan_purchase: " + std::to_string(searches.size()) + " search memos for " +
                     std::to_string(candidates.size()) + " candidates");
  if (max_devices < 0) throw InputError("plan_purchase: max_devices must not be negative");
  // The candidates are planned independently (each with its own planners and searches), so they
  // run on up to as many threads as the machine has cores, each taking the next candidate not yet
  // started, and each plan lands in its candidate's slot: the plans are the one-thread plans, in
  // the same order. Candidates sharing a cache (the same planner or search memo twice) run on one
  // thread, the caches not being thread-safe.
  std::vector<SystemPlan> plans(candidates.size());
  run_tasks(
      candidates.size(),
      distinct(planners) && distinct(searches) ? threads_for(candidates.size()) : 1,
      // Op lists and weights per rank, shared by the plans of one thread.
      [&] { return ModelCache(model); },
      [&](std::size_t i, ModelCache& model_cache) {
        plans[i] = plan_system(
            model, demand, candidates[i], prices, planners.empty() ? nullptr : planners[i],
            max_devices, searches.empty() ? nullptr : searches[i],
            sizes_from.empty() ? nullptr : sizes_from[i], stop_at_infeasible, model_cache);
      });
  std::stable_sort(plans.begin(), plans.end(), [](const SystemPlan& a, const SystemPlan& b) {
    if (a.feasible != b.feasible) return a.feasible;
    return a.annual_cost_usd < b.annual_cost_usd;
  });
  return plans;
}

}  // namespace v4sim
