// Storage the V4 attention kernels share: row-major float matrices, a growable table of cached
// entries (compressed K=V entries), the indexer's key table and the sliding-window ring buffer.
//
// K=V entries are held as float32 (after the optional quantisation round trips of the cache
// format, see kernels/quant.h); the bytes the kernels COUNT are those of the shapes' storage
// formats (kernels/storage.h), i.e. what a deployment moves, not these float copies. The indexer
// keys are held in their counted format (MXFP4), so the indexer pays the decode that format
// implies, as V3.2's pays for its FP8 keys (kernels/dsa_indexer_forward.h).
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
  // [capacity, dim]; the first `rows` rows are valid. Aligned as Eigen's matrices are (64 bytes
  // with AVX-512), so rows of a multiple of 16 floats start on a cache line: the core's weighted
  // sum loads them in place 16 floats at a time (kernels/key_block.h), and from a malloc'd vector
  // (16 bytes past a line) every load straddled two lines.
  std::vector<float, Eigen::aligned_allocator<float>> data;

  explicit EntryTable(std::int64_t width = 0) : dim(width) {}
  const float* row(std::int64_t i) const { return data.data() + i * dim; }
  float* row(std::int64_t i) { return data.data() + i * dim; }
  /// Appends one row (v.size() == dim).
  void append(std::span<const float> v);
  /// Room for `n` rows without reallocation (use before filling a 1M-token cache).
  void reserve(std::int64_t n) { data.reserve(static_cast<std::size_t>(n * dim)); }
  Eigen::Map<const RowMatrixXf> view() const { return {data.data(), rows, dim}; }  // [rows, dim]
};

/// The lightning indexer's keys, entry i is row i. Quantised mode (the default) holds what a
/// deployment holds: each key in the MXFP4 layout of kernels/kv_entry.h (128 dims -> 68 B, equal
/// to kv_entry_bytes(mxfp4, dim, 0)), encoded as it is appended. Exact mode (reference tests)
/// holds the float keys.
struct IndexerKeyTable {
  std::int64_t dim = 0;
  bool exact = false;
  std::int64_t rows = 0;            // the first `rows` entries are valid
  std::vector<std::uint8_t> bytes;  // [capacity, entry_bytes()] quantised mode
  std::vector<float> values;        // [capacity, dim] exact mode

  IndexerKeyTable() = default;
  explicit IndexerKeyTable(std::int64_t width, bool exact_mode = false)
      : dim(width), exact(exact_mode) {}
  /// Bytes of one stored key in quantised mode.
  std::int64_t entry_bytes() const;
  /// Appends one key (v.size() == dim), MXFP4-encoded unless exact.
  void append(std::span<const float> v);
  /// Room for `n` rows without reallocation (use before filling a 1M-token cache).
  void reserve(std::int64_t n);
  /// Rows [first, first + n) as floats into out [n * dim] (exact: a copy).
  void decode(std::int64_t first, std::int64_t n, float* out) const;
  /// Key s as the scorer sees it.
  std::vector<float> key(std::int64_t s) const;
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
