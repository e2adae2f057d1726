// Internal to sim/step_time.cpp: a V4 attention sublayer timed as a whole. Where the device has an
// `attention_module` table (hardware/perf/README.md: SGLang's CSA and HCA self_attn in decode,
// measured by aiconfigurator on H100-GB300) the ops the step model composes the sublayer from
// (projections, compressors, indexer, sparse core) take the module's time between them, in
// proportion to their composed times; elsewhere, and for window-only layers, prefill and the
// MLA models, they keep their own. The module also times the sublayer's q/kv norms, which the
// step model prices as an element-wise kernel of their own: the ops share the module's time
// less that kernel's.
//
// Why: a composition of per-kernel tables pays each kernel's launch and quantisation floor as its
// table measured it alone (SGLang's FP8 GEMM rows time a quantisation kernel each), and leaves the
// compressors and top-k to the roofline; the engine runs the sublayer with some of them fused. On
// B300, V4-Pro's composed decode sublayer took 1.3-1.9x the measured module.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "hardware/perf_model.h"
#include "sim/op_list.h"
#include "sim/serving_internal.h"

namespace v4sim::serving_detail {

/// A layer representative's sublayer: its ops' composed time and cost on the rank, and once its
/// module is asked for, the estimate that times it and the factor its ops' times take.
struct ModuleScale {
  double composed_s = 0;
  Cost cost;
  const PerfEstimate* estimate = nullptr;  // null: the ops keep their own times
  double factor = 1.0;
};

/// The ops of a layer's attention sublayer a module table times (every op of these components).
bool in_attention_module(OpComponent c);

/// Layer representatives a step tracks modules for (V4 has a few kinds: window-only, CSA, HCA,
/// each with hash or scored routing); a later representative keeps its composed ops.
inline constexpr std::size_t kMaxModuleSlots = 8;
using ModuleScales = std::array<ModuleScale, kMaxModuleSlots>;

/// The slot of `op` (its layer representative's index in s.layer_representatives) when it is an
/// op of a CSA or HCA sublayer a module table may time (V4, decode, measured tables), else -1.
int module_slot(const Setup& s, const Op& op, bool prefill);

/// The module's time for main layer `layer` on the rank, `seqs` sequences per dp group each with
/// the queries of `pass`, whose sublayer ops cost `cost` on the rank; null when no table serves
/// (no table of the device or a sibling). `shape` (optional) keeps the call's interned shape
/// between the points of a compiled pass.
const PerfEstimate* attention_module_estimate(const Setup& s, const Pass& pass, double seqs,
                                              std::int64_t layer, const Cost& cost, double& time_s,
                                              std::optional<PerfModel::Shape>* shape = nullptr);

/// The factor that scales the composed times `composed_s` of the sublayer's ops to the module's
/// `module_s`, less `separate_s` the step model prices on its own (the q/kv norms): 1 when there
/// is nothing to scale.
double module_scale(double module_s, double separate_s, double composed_s);

}  // namespace v4sim::serving_detail
