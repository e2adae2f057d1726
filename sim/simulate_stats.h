// The serving simulation's statistics, apart from its event loop (sim/simulate.cpp): the
// occupancy timeline the loop feeds interval by interval, and the summaries computed from the
// request records once the run ends.
#pragma once

#include <vector>

#include "sim/simulate.h"

namespace v4sim {

/// Adds a state held constant over [from_s, to_s) to the timeline's bins of `interval_s`
/// (growing it as needed), each bin's share weighted by the part of the bin it covers.
/// `state.start_s` is ignored.
void add_occupancy(std::vector<OccupancySample>& timeline, double interval_s, double from_s,
                   double to_s, const OccupancySample& state);

/// Fills `r`'s latency summaries, SLO attainment (against `sim`'s SLOs), goodput, token rates,
/// cache hit rate, makespan and the right side of Little's law from `r.requests`. Returns the span
/// the rates divide by: the makespan, or 1 s when it is zero.
double summarize_requests(SimulationResult& r, const SimulationConfig& sim);

}  // namespace v4sim
