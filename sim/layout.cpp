#include "sim/layout.h"

#include "models/config/input_error.h"

namespace v4sim {

Layout parse_layout(std::string_view text, std::string_view option) {
  auto bad = [&](std::string_view item, const std::string& why) {
    std::string msg(option);
    msg.append(" '").append(text).append("': item '").append(item).append("' ").append(why);
    msg.append(" (expected e.g. tp=1,dp=144,ep=144,pp=1)");
    return InputError(msg);
  };
  Layout l;
  bool ep_given = false;
  bool seen[4] = {false, false, false, false};
  std::size_t start = 0;
  if (text.empty()) throw bad(text, "is empty");
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::string_view item = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) throw bad(item, "has no '='");
    const std::string_view key = item.substr(0, eq), value = item.substr(eq + 1);
    if (value.empty() || value.size() > 7) throw bad(item, "needs a positive integer below 10^7");
    std::int64_t v = 0;
    for (char ch : value) {
      if (ch < '0' || ch > '9') throw bad(item, "needs a positive integer");
      v = v * 10 + (ch - '0');
    }
    if (v < 1) throw bad(item, "must be at least 1");
    int index = -1;
    if (key == "tp") index = 0, l.tp = v;
    if (key == "dp") index = 1, l.dp = v;
    if (key == "pp") index = 2, l.pp = v;
    if (key == "ep") index = 3, l.ep = v, ep_given = true;
    if (index < 0) throw bad(item, "has an unknown key (use tp, dp, pp, ep)");
    if (seen[index]) throw bad(item, "repeats a key");
    seen[index] = true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  // Each value is below 10^7, so tp * dp * pp could reach 10^21 and overflow: bound the product.
  constexpr std::int64_t kMaxRanks = 10'000'000;
  if (l.tp * l.dp > kMaxRanks || l.tp * l.dp * l.pp > kMaxRanks)
    throw bad(text, "multiplies out to more than 10^7 ranks (tp*dp*pp)");
  if (!ep_given) l.ep = l.tp * l.dp;
  return l;
}

std::string to_string(const Layout& l) {
  return "tp=" + std::to_string(l.tp) + ",dp=" + std::to_string(l.dp) +
         ",ep=" + std::to_string(l.ep) + ",pp=" + std::to_string(l.pp);
}

std::int64_t widest_ep(std::int64_t stage_devices, std::int64_t experts) {
  if (experts <= 0 || experts >= stage_devices) return stage_devices;
  for (std::int64_t ep = experts; ep > 1; --ep)
    if (stage_devices % ep == 0) return ep;
  return 1;
}

Layout dp_attention_layout(std::int64_t devices, std::int64_t experts) {
  return Layout{1, devices, 1, widest_ep(devices, experts)};
}

std::string layout_problem(const Layout& l, std::int64_t devices, std::int64_t layers,
                           std::int64_t /*experts*/, std::int64_t heads) {
  if (l.devices() != devices)
    return "layout " + to_string(l) + " uses tp*dp*pp = " + std::to_string(l.devices()) +
           " devices, not the " + std::to_string(devices) + " requested";
  if (l.devices_per_stage() % l.ep != 0)
    return "ep=" + std::to_string(l.ep) + " does not divide the " +
           std::to_string(l.devices_per_stage()) + " devices of a pipeline stage (tp*dp)";
  if (l.pp > layers)
    return "pp=" + std::to_string(l.pp) + " exceeds the model's " + std::to_string(layers) +
           " layers";
  if (heads % l.tp != 0)
    return "tp=" + std::to_string(l.tp) + " does not divide the " + std::to_string(heads) +
           " attention heads";
  return "";
}

}  // namespace v4sim
