// One prompt's prefill, priced once per deployment for the searches of one model on one system:
// the decode search's time to first token (colocated prefill on the decode ranks) and the prefill
// search's one-prompt point price the same thing on the same ranks. A purchase plan searches both
// phases of every context bucket over the same sizes and layouts (sim/plan.cpp), and prefill is
// most of a search's time.
//
// Bound to one PreparedModel and one SystemSpec (by address, for the memo's lifetime: create it
// where both live, e.g. per plan bucket) and used only by setups of that pair. Keyed by every other
// input of a prefill's pricing: the node count, the context and every ServingConfig field (a field
// added to ServingConfig stops prefill_memo.cpp compiling until it joins the key). A kept prefill
// is the one pricing it would do, so results are unchanged (tests/sim/prefill_memo_test.cpp). Not
// thread-safe; passed explicitly (sim/serving.h sweep_batches).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>

#include "sim/serving_internal.h"

namespace v4sim {

class PrefillMemo {
 public:
  PrefillMemo(const PreparedModel& model, const SystemSpec& system)
      : model_(&model), system_(&system) {}

  /// Whether setups of `model` on `system` may use this memo.
  bool serves(const PreparedModel& model, const SystemSpec& system) const {
    return &model == model_ && &system == system_;
  }

  /// price_prefill(s, 1.0): one prompt of the setup's context, priced on first request.
  const serving_detail::Prefill& one_prompt(const serving_detail::Setup& s);

  std::size_t size() const { return kept_.size(); }

 private:
  /// Nodes, context, the setup's layout (tp, dp, pp, ep), then ServingConfig's fields in order
  /// (its layout's four, the MoE exchange and the weights override as integers, -1 for no
  /// override).
  using Key =
      std::tuple<int, std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t,
                 std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t,
                 double, int, bool, double, std::int64_t, bool, double, double, bool, bool,
                 std::string, int, double, double, std::int64_t, std::int64_t>;
  const PreparedModel* model_;
  const SystemSpec* system_;
  std::map<Key, serving_detail::Prefill> kept_;
};

}  // namespace v4sim
