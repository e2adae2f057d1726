// What every serving setup of one model shares, whatever the system, layout, batch or context: the
// op list of a pass (build_ops) and the model's weight bytes per rank for a split of it. A search
// (optimize, plan, the purchase report) builds thousands of setups of one model; without this each
// rebuilds the same op lists and re-sums the same ~50,000 weight tensors.
//
// A cache is bound to one PreparedModel (by address, for the cache's lifetime: create it where the
// model lives and drop it with the model) and serves only setups of that model; a setup of another
// model, or with a weights override (a different model), prices without it. Both entries are keyed
// by every input that decides them, so a cached value is the uncached computation's bit for bit
// (tests/sim/model_cache_test.cpp). Not thread-safe; pass it explicitly (sim/serving.h), as a
// CommPlanner is passed.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "sim/analytic.h"
#include "sim/op_list.h"
#include "sim/weight_sums.h"

namespace v4sim {

/// The model's weights on one rank of `tp`-way tensor parallelism holding `local_experts` routed
/// experts per layer, with or without the MTP block: routed experts by the rank's share of each
/// tensor's copies, attention, indexer, LM head, embedding, shared experts and dense FFNs split
/// over tp, the rest whole.
WeightBytesOnRank weight_bytes_on_rank(const ModelSpec& spec,
                                       const std::vector<WeightTensor>& weights, std::int64_t tp,
                                       std::int64_t local_experts, bool mtp);

class ModelCache {
 public:
  explicit ModelCache(const PreparedModel& model) : model_(&model) {}

  /// Whether setups of `model` may use this cache (it is the model it was built for).
  bool serves(const PreparedModel& model) const { return &model == model_; }

  /// build_ops(model, pass, options) of the bound model, built on first request. The reference
  /// lives as long as the cache.
  const std::vector<Op>& ops(const Pass& pass, const OpOptions& options);

  /// weight_bytes_on_rank() of the bound model, summed on first request.
  const WeightBytesOnRank& weights(std::int64_t tp, std::int64_t local_experts, bool mtp);

 private:
  /// Every field of Pass and OpOptions (the layer list by value).
  using OpsKey = std::tuple<std::int64_t, std::int64_t, std::string, bool, bool, bool, std::int64_t,
                            bool, std::vector<std::int64_t>, OpNames, OpSelect>;
  const PreparedModel* model_;
  std::map<OpsKey, std::vector<Op>> ops_;
  std::map<std::tuple<std::int64_t, std::int64_t, bool>, WeightBytesOnRank> weights_;
};

}  // namespace v4sim
