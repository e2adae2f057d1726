// Layout and batch search for one model x system x workload: every layout the device count allows
// (tp over powers of two dividing the heads, pp over powers of two, dp the rest, ep = tp * dp), at
// batches 1, 2, 4, ... up to the largest that fits. Reports the Pareto frontier of throughput per
// device against throughput per user and the cheapest point that meets the TPOT / TTFT targets.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "sim/economics.h"
#include "sim/serving.h"

namespace v4sim {

struct OptimizePoint {
  ServingResult result;
  double usd_per_million_tokens = 0;
  bool meets_slo = false;  // fits, and meets the workload's SLOs
};

struct OptimizeResult {
  std::vector<OptimizePoint> points;    // every feasible (fitting) point evaluated
  std::vector<std::size_t> frontier;    // indices into points, by rising tokens/s per user
  std::optional<std::size_t> cheapest;  // index of the cheapest point meeting the SLOs
  std::size_t layouts_tried = 0;
};

/// `base` supplies everything but the layout (its `devices`, when set, takes a slice of the
/// nodes); the workload's batch is ignored (searched).
/// `planner` (optional) caches communication models across calls on the same system and nodes;
/// `cache` (optional, built for `model`) op lists and weights per rank across setups of the model
/// (sim/model_cache.h); `memo` (optional, built for `model` on `system`) one prompt's prefill per
/// layout (sim/prefill_memo.h). None changes a result.
OptimizeResult optimize(const PreparedModel& model, const SystemSpec& system, int nodes,
                        const ServingConfig& base, const Workload& workload, const DeviceHour& hour,
                        CommPlanner* planner = nullptr, ModelCache* cache = nullptr,
                        PrefillMemo* memo = nullptr);

/// Deployment sizes worth trying on a system up to `max_devices` ranks: slices of one node in
/// powers of two (1, 2, 4 GPUs of an 8-GPU server; trays and boards of a rack-scale node) and
/// whole nodes in powers of two within the system's node range.
std::vector<std::int64_t> candidate_device_counts(const SystemSpec& system,
                                                  std::int64_t max_devices);

/// The largest deployment `optimize` and `plan` search by default: 256 ranks or one node,
/// whichever is larger.
std::int64_t default_max_devices(const SystemSpec& system);

/// Communication models of one system by node count, reused across searches on that system (or
/// on copies that differ only in prices, peaks or efficiencies: the topology is the same).
using PlannerCache = std::map<int, std::unique_ptr<CommPlanner>>;

/// optimize() over every candidate device count up to `max_devices`: points of all sizes, one
/// frontier (tokens/s per device against tokens/s per user), the cheapest point meeting the SLOs
/// and, when none does, the point closest to them (`nearest`: the lowest TPOT, or TTFT for
/// prefill). `base.devices` is ignored (searched). `planners` (optional) keeps the communication
/// models for later searches on the same system, `cache` (optional) the model's op lists and
/// weights per rank for later searches of the same model, `memo` (optional) one prompt's prefill
/// per deployment for later searches of the model on the system.
struct DeploymentSearch {
  OptimizeResult result;
  std::vector<std::int64_t> device_counts;  // tried
  std::optional<std::size_t> nearest;       // when nothing meets the SLOs
};
DeploymentSearch search_deployments(const PreparedModel& model, const SystemSpec& system,
                                    const ServingConfig& base, const Workload& workload,
                                    const DeviceHour& hour, std::int64_t max_devices,
                                    PlannerCache* planners = nullptr, ModelCache* cache = nullptr,
                                    PrefillMemo* memo = nullptr);

/// As above over the given deployment sizes (ranks) instead of every candidate size.
DeploymentSearch search_deployments(const PreparedModel& model, const SystemSpec& system,
                                    const ServingConfig& base, const Workload& workload,
                                    const DeviceHour& hour,
                                    const std::vector<std::int64_t>& device_counts,
                                    PlannerCache* planners = nullptr, ModelCache* cache = nullptr,
                                    PrefillMemo* memo = nullptr);

/// Re-ranks a search's points for other targets (`workload`'s SLOs): meets_slo, the frontier,
/// the cheapest point and the nearest. Points are evaluated without the targets, so this equals
/// searching again with them.
void apply_targets(DeploymentSearch& search, const Workload& workload);

/// Layouts searched for `devices` ranks (valid for the model).
std::vector<Layout> candidate_layouts(const ModelSpec& spec, std::int64_t devices);

}  // namespace v4sim
