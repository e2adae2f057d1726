// The long-context study on a synthetic scenario: one model, one system, a context the model
// serves and one past its trained maximum, a TPOT target no deployment meets.
#include <gtest/gtest.h>

#include "scenarios/long_context.h"

namespace v4sim {
namespace {

TEST(LongContextStudy, InfeasiblePointsSayWhyAsAValue) {
  Scenario sc;
  sc.kind = ScenarioKind::long_context;
  sc.models = {"deepseek-v4-flash"};
  sc.systems = {"hgx-h200"};
  sc.contexts = {4096, 2 * 1048576};  // Flash is trained to 1M tokens
  sc.slo_tpot_s = 1e-5;               // 10 us per token: no deployment decodes that fast
  const LongContextStudy st = study_long_context(sc);

  ASSERT_EQ(st.models.size(), 1u);
  ASSERT_EQ(st.decode.size(), 1u);
  ASSERT_EQ(st.decode[0].size(), 2u);
  EXPECT_FALSE(st.decode[0][0].beyond_max_context);
  EXPECT_TRUE(st.decode[0][1].beyond_max_context);  // evaluated anyway, marked
  EXPECT_EQ(st.kv_by_format[0].size(), st.models[0].spec.kv_formats.size());

  ASSERT_EQ(st.systems.size(), 1u);
  const std::vector<LongContextServing>& runs = st.systems[0].runs[0];
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].why, Infeasible::tpot_slo);
  EXPECT_FALSE(runs[0].best);
  ASSERT_TRUE(runs[0].nearest);  // the fastest deployment found, for the note
  EXPECT_GT(runs[0].nearest->tpot_s, *sc.slo_tpot_s);
  EXPECT_EQ(runs[1].why, Infeasible::beyond_max_context);  // not searched
  EXPECT_FALSE(runs[1].best);
  EXPECT_FALSE(runs[1].nearest);
}

}  // namespace
}  // namespace v4sim
