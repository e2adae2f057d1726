// Internal to the kernel suite (suite.cpp and the suite_*.cpp case builders): the builders per
// kernel family and a one-entry slot that shares large inputs between adjacent cases.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kernels/bench/host_tables.h"
#include "kernels/bench/suite.h"
#include "kernels/linear.h"

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

/// The table call of a linear op: a gemm of tokens x out x (in / groups), as sim/op_list.cpp asks
/// (a block-diagonal product is the GEMM with every group's outputs side by side: the same FLOPs
/// and weight bytes), with the bytes of one weight element (float32 and FP8 weights are
/// different host kernels).
inline OpCall linear_call(const LinearShape& s) {
  OpCall c{"gemm", s.compute, static_cast<double>(s.tokens), static_cast<double>(s.out_features),
           static_cast<double>(s.in_features / s.groups)};
  c.weight_bytes = weight_bytes_per_element(s.weight);
  return c;
}

/// The V4 tables: the CSA and HCA cores (dsa_decode, core v4_sparse; float32 and BF16), the
/// V4 indexer (indexer_logits, ratio 4), the compressors, the FP8-weight GEMM.
void add_v4_tables(SuiteMode mode, std::vector<TableSpec>& out);
/// The GQA decode core (gqa_decode).
void add_gqa_table(SuiteMode mode, std::vector<TableSpec>& out);
/// The routed experts (grouped_gemm, ffn swiglu) and mHC.
void add_ffn_tables(SuiteMode mode, std::vector<TableSpec>& out);

/// Contexts of the decode cases, by mode.
std::vector<std::int64_t> decode_contexts(SuiteMode mode);

/// V4 attention: whole-layer decode (SWA, CSA, HCA), core decode, prefill chunk.
void add_v4_attention_cases(SuiteMode mode, std::vector<SuiteCase>& out);
/// V3.2 MLA + DSA (core and attention step) and the dense GQA-8 baseline.
void add_v32_attention_cases(SuiteMode mode, std::vector<SuiteCase>& out);
/// The host tables of V3.2's sparse MLA core (dsa_decode) and indexer (indexer_logits), at the
/// mode's V3.2 widths and a kv_len grid off the suite's contexts (kernels/bench/host_tables.h).
void add_v32_tables(SuiteMode mode, std::vector<TableSpec>& out);
/// MoE (grouped experts, router) and mHC.
void add_ffn_cases(SuiteMode mode, std::vector<SuiteCase>& out);

}  // namespace v4sim::bench::detail
