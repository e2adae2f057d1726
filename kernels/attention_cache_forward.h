// Storage the V4 attention kernels share: row-major float matrices, a growable table of cached
// entries (compressed K=V entries, indexer keys) and the sliding-window ring buffer.
//
// Values are held as float32 (after the optional quantisation round trips of the cache format,
// see kernels/quant.h); the bytes the kernels COUNT are those of the shapes' storage formats
// (kernels/storage.h), i.e. what a deployment moves, not these float copies.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <vector>

namespace v4sim {

using RowMatrixXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Rows of `dim` floats appended one at a time and never moved out of order: entry i is row i.
struct EntryTable {
  std::int64_t dim = 0;
  std::int64_t rows = 0;
  std::vector<float> data;  // [capacity, dim]; the first `rows` rows are valid

  explicit EntryTable(std::int64_t width = 0) : dim(width) {}
  const float* row(std::int64_t i) const { return data.data() + i * dim; }
  float* row(std::int64_t i) { return data.data() + i * dim; }
  /// Appends one row (v.size() == dim).
  void append(std::span<const float> v);
  /// Room for `n` rows without reallocation (use before filling a 1M-token cache).
  void reserve(std::int64_t n) { data.reserve(static_cast<std::size_t>(n * dim)); }
  Eigen::Map<const RowMatrixXf> view() const { return {data.data(), rows, dim}; }  // [rows, dim]
};

/// The raw K=V entries of the last `window` tokens: slot = position mod window.
struct WindowRing {
  RowMatrixXf slots;        // [window, head_dim]
  std::int64_t length = 0;  // tokens appended so far = position of the next token

  WindowRing() = default;
  WindowRing(std::int64_t window, std::int64_t head_dim)
      : slots(RowMatrixXf::Zero(window, head_dim)) {}
  std::int64_t window() const { return slots.rows(); }
  const float* at(std::int64_t position) const { return slots.row(position % window()).data(); }
  /// Stores the entry of token `length` and advances (v.size() == head_dim).
  void append(std::span<const float> v);
};

}  // namespace v4sim
