#include "kernels/bench/suite.h"

#include <algorithm>
#include <map>
#include <memory>
#include <sstream>

#include "kernels/bench/suite_cases.h"

namespace v4sim::bench {

std::string_view to_string(SuiteMode m) {
  switch (m) {
    case SuiteMode::smoke:
      return "smoke";
    case SuiteMode::quick:
      return "quick";
    case SuiteMode::full:
      return "full";
  }
  return "?";
}

std::string context_label(std::int64_t tokens) {
  const bool pow2 = tokens >= 1024 && (tokens & (tokens - 1)) == 0;
  if (!pow2) return std::to_string(tokens);
  if (tokens >= (1 << 20)) return std::to_string(tokens >> 20) + "m";
  return std::to_string(tokens >> 10) + "k";
}

namespace detail {

std::vector<std::int64_t> decode_contexts(SuiteMode mode) {
  switch (mode) {
    case SuiteMode::smoke:
      return {1024};
    case SuiteMode::quick:
      return {4096, 1 << 20};
    case SuiteMode::full:
      return {4096, 65536, 131072, 1 << 20};
  }
  return {};
}

}  // namespace detail

std::vector<SuiteCase> suite_cases(SuiteMode mode) {
  std::vector<SuiteCase> cases;
  detail::add_v4_attention_cases(mode, cases);
  detail::add_v32_attention_cases(mode, cases);
  detail::add_ffn_cases(mode, cases);
  return cases;
}

std::vector<SuiteCase> filter_cases(std::vector<SuiteCase> cases, const std::string& filters) {
  if (filters.empty()) return cases;
  std::vector<std::string> parts;
  std::istringstream in(filters);
  for (std::string p; std::getline(in, p, ',');)
    if (!p.empty()) parts.push_back(p);
  std::erase_if(cases, [&](const SuiteCase& c) {
    return std::none_of(parts.begin(), parts.end(),
                        [&](const std::string& p) { return c.name.find(p) != std::string::npos; });
  });
  return cases;
}

TimingPolicy suite_timing_policy(SuiteMode mode) {
  // Smoke cases are toy shapes that check the plumbing, not the speed: no eviction, which would
  // add a read of the whole last-level cache to each of them.
  const auto cold = [] {
    return std::make_shared<CacheEvictor>(eviction_bytes(last_level_cache_bytes()));
  };
  switch (mode) {
    case SuiteMode::smoke:
      return {1, 2, 0.0, false, nullptr};
    case SuiteMode::quick:
      return {2, 30, 0.25, false, cold()};
    case SuiteMode::full:
      return {5, 1000, 1.0, false, cold()};
  }
  return {};
}

std::vector<CaseResult> run_suite(
    const std::vector<SuiteCase>& cases, const TimingPolicy& policy,
    const std::function<void(std::size_t, const std::string&)>& on_case) {
  std::vector<CaseResult> results;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const SuiteCase& c = cases[i];
    if (on_case) on_case(i, c.name);
    CaseResult r;
    r.name = c.name;
    r.family = c.family;
    r.model = c.model;
    r.context = c.context;
    r.tokens = c.tokens;
    r.cost = c.cost;
    r.host_cost = c.host_cost;
    r.host_ops = c.host_ops.empty() ? std::vector<HostOp>{HostOp(c.host_cost)} : c.host_ops;
    {
      CaseRun run = c.prepare();
      run(&r.counted);  // the warm-up run counts
      r.timing = time_repeated([&] { run(nullptr); }, policy);
    }  // the run (and whatever only it holds) is freed before the next case is prepared
    results.push_back(std::move(r));
  }
  return results;
}

double op_sum_roofline_s(const CaseResult& r, const std::array<double, kNumPrecisions>& flop_per_s,
                         double bytes_per_s) {
  double total = 0;
  const std::vector<HostOp> ops =
      r.host_ops.empty() ? std::vector<HostOp>{HostOp(r.host_cost)} : r.host_ops;
  for (const HostOp& host_op : ops) {
    const Cost& op = host_op.cost;
    double compute = 0;
    for (int i = 0; i < kNumPrecisions; ++i) {
      if (op.flops[i] == 0) continue;
      if (flop_per_s[i] <= 0) return 0;
      compute += static_cast<double>(op.flops[i]) / flop_per_s[i];
    }
    const double memory = bytes_per_s > 0 ? static_cast<double>(op.total_bytes()) / bytes_per_s : 0;
    total += std::max(compute, memory);
  }
  return total;
}

std::vector<SpeedRatio> v4_vs_v32_ratios(const std::vector<CaseResult>& results) {
  // name without "/<context>" -> context -> result
  std::map<std::string, std::map<std::int64_t, const CaseResult*>> by_kernel;
  for (const CaseResult& r : results) {
    const std::size_t slash = r.name.find('/');
    by_kernel[r.name.substr(0, slash)][r.context] = &r;
  }
  const std::pair<const char*, const char*> pairs[] = {
      {"v3.2-mla-dsa-core", "v4-pro-csa-core"},
      {"v3.2-mla-dsa-core", "v4-pro-hca-core"},
      {"v3.2-mla-dsa-attn", "v4-pro-csa-layer"},
      {"v3.2-mla-dsa-attn", "v4-pro-hca-layer"},
  };
  std::vector<SpeedRatio> out;
  for (const auto& [num, den] : pairs) {
    const auto a = by_kernel.find(num), b = by_kernel.find(den);
    if (a == by_kernel.end() || b == by_kernel.end()) continue;
    for (auto it = a->second.rbegin(); it != a->second.rend(); ++it) {  // largest context first
      const auto match = b->second.find(it->first);
      if (match == b->second.end()) continue;
      const CaseResult& n = *it->second;
      const CaseResult& d = *match->second;
      SpeedRatio r;
      r.numerator = n.name;
      r.denominator = d.name;
      r.context = it->first;
      r.measured = d.timing.min_s > 0 ? n.timing.min_s / d.timing.min_s : 0;
      r.flops = static_cast<double>(n.cost.total_flops()) /
                static_cast<double>(std::max<std::int64_t>(1, d.cost.total_flops()));
      r.host_bytes = static_cast<double>(n.host_cost.total_bytes()) /
                     static_cast<double>(std::max<std::int64_t>(1, d.host_cost.total_bytes()));
      out.push_back(r);
      break;
    }
  }
  return out;
}

std::vector<InterleavedRatio> interleaved_ratios(const std::vector<SuiteCase>& cases,
                                                 const std::vector<SpeedRatio>& pairs,
                                                 const TimingPolicy& policy, int rounds) {
  std::map<std::string, CaseRun> runs;  // every case a pair names, prepared and run once
  for (const SpeedRatio& p : pairs)
    for (const std::string& name : {p.numerator, p.denominator})
      for (const SuiteCase& c : cases)
        if (c.name == name && !runs.count(name)) {
          CaseRun run = c.prepare();
          run(nullptr);
          runs.emplace(name, std::move(run));
        }
  TimingPolicy one = policy;  // one repetition, the evictor (if any) before it
  one.min_reps = one.max_reps = 1;
  one.min_time_s = 0;
  std::map<std::string, std::vector<double>> times;
  for (int round = 0; round < rounds; ++round)
    for (auto& entry : runs) {  // not a structured binding: clang cannot capture one
      CaseRun& run = entry.second;
      times[entry.first].push_back(time_repeated([&] { run(nullptr); }, one).min_s);
    }
  std::vector<InterleavedRatio> out;
  for (const SpeedRatio& p : pairs) {
    if (!runs.count(p.numerator) || !runs.count(p.denominator)) continue;
    const std::vector<double>&num = times[p.numerator], &den = times[p.denominator];
    std::vector<double> ratio;
    for (int r = 0; r < rounds; ++r)
      if (den[static_cast<std::size_t>(r)] > 0)
        ratio.push_back(num[static_cast<std::size_t>(r)] / den[static_cast<std::size_t>(r)]);
    if (ratio.empty()) continue;
    std::sort(ratio.begin(), ratio.end());
    const std::size_t n = ratio.size();
    InterleavedRatio i{p.numerator, p.denominator,
                       n % 2 ? ratio[n / 2] : (ratio[n / 2 - 1] + ratio[n / 2]) / 2,
                       static_cast<int>(n)};
    out.push_back(i);
  }
  return out;
}

}  // namespace v4sim::bench
