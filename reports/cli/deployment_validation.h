// `v4sim validate --deployments`: every row of a measured-deployment file (scenarios/deployments.h)
// predicted through the same path as `predict` (ServingOptions -> resolve() -> predict()) and
// compared with its measured figure. The file is a report, never an input to any constant.
//
// Aggregated rows (prefill and decode on the same ranks, the prefill inside the measured time, as
// TensorRT-LLM's throughput benchmark runs): per dp group, B requests of I input and O output
// tokens take O decode steps at batch B at the mean context I + O/2 (each step yields
// 1 + MTP acceptance tokens, so O * TPOT of decode time) plus B prefills of one I-token prompt on
// the same ranks (each the time to first token of a prompt priced alone):
// plus the stall of the dp groups that share the MoE layers when they admit prompts independently
// (sim/aggregated.h, sourced there):
//   output tokens/s per device = (sequences / devices) * O / (O * TPOT + B * prefill + skew)
// i.e. B * O / (O * TPOT + B * prefill + skew) per GPU with tp = pp = 1.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scenarios/deployments.h"
#include "sim/infeasible.h"
#include "sim/serving.h"

namespace v4sim::cli {

struct DeploymentPrediction {
  Deployment row;
  bool evaluated = false;             // false: the model could not run the row (see reason)
  std::string reason;                 // why not, when not evaluated
  Infeasible why = Infeasible::none;  // the same, as a value
  double predicted = 0;               // in the row's metric
  /// predicted / measured - 1; +inf when the row could not be evaluated.
  double error = 0;
  // The parts behind the prediction (decode and aggregated rows: the decode step; prefill and
  // aggregated rows: the prefill), for the JSON output.
  double step_s = 0, tpot_s = 0, prefill_s = 0;
  double skew_s = 0;  // aggregated rows: the attention-DP prefill stall (sim/aggregated.h)
  std::int64_t context_tokens = 0;  // the context the decode (or prefill) was priced at
  /// How much of the prediction rests on measured tables, transfers and the roofline: the op
  /// and communication time of the priced step or prefill by source; aggregated rows weigh the
  /// decode's shares by the output tokens' decode time and the prefill's by the prompts' time
  /// (prefills and skew).
  TimeSources sources;
};

struct DeploymentValidation {
  std::string file;
  std::vector<DeploymentPrediction> rows;
  /// Over every row, a row not evaluated counting as +inf.
  double median_abs_error = 0;
  double worst_abs_error = 0;
  std::string worst_id;
};

/// Predicts every row; a row the model finds infeasible is kept with its reason (error +inf).
/// Malformed requests (InputError from resolve or predict) are re-thrown naming the row.
DeploymentValidation validate_deployments(const DeploymentSet& set);

nlohmann::ordered_json deployment_validation_json(const DeploymentValidation& v);
void print_deployment_validation(std::ostream& out, const DeploymentValidation& v);

}  // namespace v4sim::cli
