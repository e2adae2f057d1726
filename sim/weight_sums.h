// A model's weight bytes summed once by how a rank holds them, so that a serving setup's weights
// per rank (weight_bytes_on_rank, sim/model_cache.h) is a few integer operations instead of a pass
// over every tensor.
//
// weight_bytes_on_rank sums, tensor by tensor in list order, a double per tensor: its bytes,
// its bytes over tp (tensor-parallel components), or its bytes over its copies times the rank's
// experts (routed experts). When every such term is an integer and the total stays below 2^53,
// each of those additions is exact, so the sum is the exact integer total whatever the order: the
// integer sums kept here give it bit for bit. The conditions are checked per query (tp must
// divide every split tensor's bytes, every routed tensor's copies its bytes); when one fails the
// caller sums the tensors as before.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "models/model_spec.h"
#include "models/weights.h"

namespace v4sim {

/// A model's weight bytes on one rank, before the pipeline stage's share of the main layers
/// scales them: the main layers' and the rest (embedding, LM head, MTP block).
struct WeightBytesOnRank {
  double main_layers = 0;
  double model_level = 0;
};

/// Whether tensors of `c` are split over the tensor-parallel ranks (heads, FFN columns, or
/// vocabulary): attention, LM head, embedding, shared experts and dense FFNs. The indexer is
/// replicated, as the engines run it (SGLang's and vLLM's indexers: ReplicatedLinear).
bool split_over_tp(ParamComponent c);

/// Whether tensor `w` is split over the tensor-parallel ranks: its component's rule, less the
/// projections the engines replicate (TpSplit::replicated).
bool split_over_tp(const WeightTensor& w);

/// Integer byte sums of a weight list, by [main layer][MTP block]: whole tensors, tensors split
/// over tp, and routed experts per copy.
struct WeightSums {
  using BySlot = std::array<std::array<std::int64_t, 2>, 2>;
  BySlot whole{}, split{}, routed_per_copy{};
  /// Greatest common divisor of the split tensors' bytes (0: none): tp divides every one of them
  /// exactly when it divides this.
  std::int64_t split_gcd = 0;
  /// Every routed tensor's bytes are a multiple of its copies, and every sum fits.
  bool exact = true;
};
WeightSums weight_sums(const ModelSpec& spec, const std::vector<WeightTensor>& weights);

/// weight_bytes_on_rank's result from the sums, or none when a term of its sum would not be an
/// integer or the totals would reach 2^53 (then the tensors must be summed in order).
std::optional<WeightBytesOnRank> exact_weight_bytes_on_rank(const WeightSums& sums, std::int64_t tp,
                                                            std::int64_t local_experts, bool mtp);

}  // namespace v4sim
