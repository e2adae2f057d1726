// Internal to the kernel suite (suite.cpp and the suite_*.cpp case builders): the builders per
// kernel family and a one-entry slot that shares large inputs between adjacent cases.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kernels/bench/suite.h"

namespace v4sim::bench::detail {

/// Holds the most recently requested value: get() with the same key returns it, another key
/// drops it first (so a 1M-token cache is freed before the next one is built, once no prepared
/// case holds it any more).
template <class T>
class Slot {
 public:
  template <class Make>
  std::shared_ptr<T> get(const std::string& key, Make make) {
    if (!value_ || key != key_) {
      value_.reset();
      value_ = std::make_shared<T>(make());
      key_ = key;
    }
    return value_;
  }

 private:
  std::string key_;
  std::shared_ptr<T> value_;
};

/// Contexts of the decode cases, by mode.
std::vector<std::int64_t> decode_contexts(SuiteMode mode);

/// V4 attention: whole-layer decode (SWA, CSA, HCA), core decode, prefill chunk.
void add_v4_attention_cases(SuiteMode mode, std::vector<SuiteCase>& out);
/// V3.2 MLA + DSA (core and attention step) and the dense GQA-8 baseline.
void add_v32_attention_cases(SuiteMode mode, std::vector<SuiteCase>& out);
/// MoE (grouped experts, router) and mHC.
void add_ffn_cases(SuiteMode mode, std::vector<SuiteCase>& out);

}  // namespace v4sim::bench::detail
