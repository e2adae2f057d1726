// The weight sums (sim/weight_sums.h) give weight_bytes_on_rank's tensor-by-tensor sum bit for bit
// wherever they answer, and decline where a term of that sum would not be an integer.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "models/model_loader.h"
#include "sim/analytic.h"
#include "sim/model_cache.h"
#include "sim/serving.h"
#include "sim/weight_sums.h"

namespace v4sim {
namespace {

TEST(WeightSums, EqualTheTensorByTensorSumWhereTheyAnswer) {
  int answered = 0;
  for (const std::string& name : list_models()) {
    for (const auto weights :
         {std::optional<WeightsOverride>{}, std::optional{WeightsOverride::fp4},
          std::optional{WeightsOverride::int8}}) {
      const ModelSpec spec = load_model(name);
      const PreparedModel m = prepare(weights ? with_weights(spec, *weights) : spec);
      for (std::int64_t tp : {1, 2, 3, 4, 6, 8, 16, 64})
        for (std::int64_t local : {0, 1, 3, 8, 33, 256})
          for (bool mtp : {false, true}) {
            const WeightBytesOnRank direct =
                weight_bytes_on_rank(m.spec, m.weights, tp, local, mtp);
            const std::optional<WeightBytesOnRank> sums =
                exact_weight_bytes_on_rank(m.weight_sums, tp, local, mtp);
            if (!sums) continue;
            ++answered;
            SCOPED_TRACE(name + " tp " + std::to_string(tp) + " experts " + std::to_string(local));
            EXPECT_EQ(sums->main_layers, direct.main_layers);
            EXPECT_EQ(sums->model_level, direct.model_level);
          }
    }
    // The shipped models' usual splits take the fast path.
    const PreparedModel m = prepare(load_model(name));
    EXPECT_TRUE(exact_weight_bytes_on_rank(m.weight_sums, 8, 32, true).has_value()) << name;
  }
  EXPECT_GT(answered, 100);
}

ModelSpec one_layer() {
  ModelSpec spec;
  spec.num_layers = 1;
  return spec;
}

WeightTensor tensor(ParamComponent c, std::int64_t cols, std::int64_t copies, std::int64_t layer) {
  WeightTensor w;
  w.component = c;
  w.rows = 1;
  w.cols = cols;
  w.copies = copies;
  w.layer = layer;
  return w;  // BF16: 2 * copies * cols bytes
}

TEST(WeightSums, DeclineWhenATermIsNotAnInteger) {
  const ModelSpec spec = one_layer();
  // 6 bytes split over tp: 2 and 3 divide it, 4 does not.
  const std::vector<WeightTensor> split = {tensor(ParamComponent::attention, 3, 1, 0),
                                           tensor(ParamComponent::mhc, 5, 1, -1)};
  const WeightSums s = weight_sums(spec, split);
  for (std::int64_t tp : {1, 2, 3}) {
    const auto exact = exact_weight_bytes_on_rank(s, tp, 1, false);
    ASSERT_TRUE(exact.has_value()) << tp;
    EXPECT_EQ(exact->main_layers, 6.0 / static_cast<double>(tp));
    EXPECT_EQ(exact->model_level, 10.0);
  }
  EXPECT_FALSE(exact_weight_bytes_on_rank(s, 4, 1, false).has_value());
  // Routed experts: bytes per copy times the rank's experts.
  const std::vector<WeightTensor> routed = {tensor(ParamComponent::routed_experts, 1, 3, 0)};
  const auto r = exact_weight_bytes_on_rank(weight_sums(spec, routed), 1, 7, false);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->main_layers, 14.0);  // 2 bytes per copy, 7 local experts
  EXPECT_EQ(weight_bytes_on_rank(spec, routed, 1, 7, false).main_layers, 14.0);
}

TEST(WeightSums, DeclineBeyondExactDoubles) {
  const ModelSpec spec = one_layer();
  // 2^52 BF16 elements: 2^53 bytes, where a double stops holding every integer.
  const std::vector<WeightTensor> huge = {tensor(ParamComponent::mhc, std::int64_t{1} << 52, 1, 0)};
  EXPECT_FALSE(weight_sums(spec, huge).exact);
  const std::vector<WeightTensor> fits = {tensor(ParamComponent::mhc, std::int64_t{1} << 40, 1, 0)};
  EXPECT_TRUE(exact_weight_bytes_on_rank(weight_sums(spec, fits), 1, 0, false).has_value());
  // Routed bytes per copy times the rank's experts past 2^53.
  const std::vector<WeightTensor> routed = {
      tensor(ParamComponent::routed_experts, std::int64_t{1} << 45, 1, 0)};
  EXPECT_TRUE(exact_weight_bytes_on_rank(weight_sums(spec, routed), 1, 4, false).has_value());
  EXPECT_FALSE(exact_weight_bytes_on_rank(weight_sums(spec, routed), 1, 1024, false).has_value());
}

}  // namespace
}  // namespace v4sim
