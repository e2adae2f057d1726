// A parallel layout: how one model replica group is spread over devices.
//
//   tp  attention tensor parallelism: heads (and projection weights) split over tp ranks. With one
//       shared KV head (V4 MQA, MLA latents) every TP rank still holds the whole KV of its
//       sequences.
//   dp  attention data parallelism: dp groups of tp ranks, each serving its own sequences.
//   pp  pipeline stages: layers split into pp equal stages.
//   ep  expert parallelism within a stage: each stage's routed experts spread over ep ranks
//       (ep divides tp * dp; the stage's experts are replicated tp * dp / ep times).
// devices = tp * dp * pp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace v4sim {

struct Layout {
  std::int64_t tp = 1;
  std::int64_t dp = 1;
  std::int64_t pp = 1;
  std::int64_t ep = 1;
  std::int64_t devices() const { return tp * dp * pp; }
  std::int64_t devices_per_stage() const { return tp * dp; }
};

/// Parses "tp=1,dp=144,ep=144[,pp=1]"; omitted keys default to 1 (ep defaults to tp * dp; a
/// model with fewer experts than that needs an explicit ep).
/// Throws InputError naming the option and the offending item.
Layout parse_layout(std::string_view text, std::string_view option = "--layout");
std::string to_string(const Layout& layout);

/// The widest expert parallelism a stage of `stage_devices` ranks supports for `experts` routed
/// experts: the largest divisor of stage_devices not above experts (stage_devices when experts is
/// 0).
std::int64_t widest_ep(std::int64_t stage_devices, std::int64_t experts);

/// The layout DeepSeek-style serving defaults to on `devices` ranks: attention data-parallel over
/// every rank (tp = pp = 1) and the experts spread as widely as they allow (widest_ep).
Layout dp_attention_layout(std::int64_t devices, std::int64_t experts);

/// Why `layout` cannot run on `devices` devices for a model with `layers` layers and `experts`
/// routed experts, or "" when it can. An ep wider than the routed experts runs: every rank holds
/// one expert slot and the ep - experts slots beyond the experts hold copies of them
/// (CloudMatrix-Infer's EP320 decode of DeepSeek-R1's 256 routed experts, arXiv:2506.12708).
std::string layout_problem(const Layout& layout, std::int64_t devices, std::int64_t layers,
                           std::int64_t experts, std::int64_t heads);

}  // namespace v4sim
