#include "sim/simulate_stats.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace v4sim {

void add_occupancy(std::vector<OccupancySample>& timeline, double interval_s, double from_s,
                   double to_s, const OccupancySample& state) {
  double from = from_s;
  while (from < to_s) {
    const auto bin = static_cast<std::size_t>(std::floor(from / interval_s));
    const double to = std::min(to_s, static_cast<double>(bin + 1) * interval_s);
    if (timeline.size() <= bin) {
      const std::size_t old = timeline.size();
      timeline.resize(bin + 1);
      for (std::size_t b = old; b <= bin; ++b)
        timeline[b].start_s = static_cast<double>(b) * interval_s;
    }
    const double w = (to - from) / interval_s;
    OccupancySample& o = timeline[bin];
    o.running += state.running * w;
    o.waiting += state.waiting * w;
    o.kv_fraction += state.kv_fraction * w;
    o.cache_fraction += state.cache_fraction * w;
    if (to <= from) break;
    from = to;
  }
}

double summarize_requests(SimulationResult& r, const SimulationConfig& sim) {
  double first = 0, last = 0;
  bool any = false;
  std::vector<double> ttft, tpot, e2e, queue;
  double input = 0, output = 0, cached = 0, prompt = 0, e2e_sum = 0;
  std::int64_t good = 0;
  for (const RequestRecord& q : r.requests) {
    if (!any) first = q.arrival_s, any = true;
    prompt += static_cast<double>(q.input_tokens);
    if (q.rejected) continue;
    cached += static_cast<double>(q.cached_tokens);
    last = std::max(last, q.finish_s);
    ttft.push_back(q.ttft_s());
    e2e.push_back(q.e2e_s());
    e2e_sum += q.e2e_s();
    queue.push_back(q.start_s - q.arrival_s);
    if (q.output_tokens > 1) tpot.push_back(q.tpot_s());
    input += static_cast<double>(q.input_tokens);
    output += static_cast<double>(q.output_tokens);
    const bool ok = (!sim.slo_ttft_s || q.ttft_s() <= *sim.slo_ttft_s) &&
                    (!sim.slo_tpot_s || q.tpot_s() <= *sim.slo_tpot_s);
    good += ok ? 1 : 0;
  }
  r.makespan_s = last - first;
  const double span = r.makespan_s > 0 ? r.makespan_s : 1.0;
  r.ttft_s = summarize(std::move(ttft));
  r.tpot_s = summarize(std::move(tpot));
  r.e2e_s = summarize(std::move(e2e));
  r.queue_s = summarize(std::move(queue));
  r.slo_attainment =
      r.requests.empty() ? 0.0 : static_cast<double>(good) / static_cast<double>(r.requests.size());
  r.goodput_requests_per_s = static_cast<double>(good) / span;
  r.input_tokens_per_s = input / span;
  r.output_tokens_per_s = output / span;
  r.cache_hit_rate = prompt > 0 ? cached / prompt : 0.0;
  r.littles_law_rhs = static_cast<double>(r.completed) / span *
                      (r.completed > 0 ? e2e_sum / static_cast<double>(r.completed) : 0.0);
  return span;
}

}  // namespace v4sim
