#include "kernels/attention_cache_forward.h"

#include <algorithm>
#include <cassert>

#include "kernels/kv_entry.h"
#include "kernels/storage.h"

namespace v4sim {

void EntryTable::append(std::span<const float> v) {
  assert(static_cast<std::int64_t>(v.size()) == dim);
  data.resize(static_cast<std::size_t>((rows + 1) * dim));
  std::copy(v.begin(), v.end(), row(rows));
  ++rows;
}

std::int64_t IndexerKeyTable::entry_bytes() const {
  return kv_entry_bytes(KvEntryFormat::mxfp4, dim, 0);
}

void IndexerKeyTable::append(std::span<const float> v) {
  assert(static_cast<std::int64_t>(v.size()) == dim);
  if (exact) {
    values.resize(static_cast<std::size_t>((rows + 1) * dim));
    std::copy(v.begin(), v.end(), values.begin() + rows * dim);
  } else {
    const std::int64_t eb = entry_bytes();
    bytes.resize(static_cast<std::size_t>((rows + 1) * eb));
    encode_kv_entry(KvEntryFormat::mxfp4, v, 0,
                    std::span(bytes).subspan(static_cast<std::size_t>(rows * eb),
                                             static_cast<std::size_t>(eb)));
  }
  ++rows;
}

void IndexerKeyTable::reserve(std::int64_t n) {
  if (exact) {
    values.reserve(static_cast<std::size_t>(n * dim));
  } else {
    bytes.reserve(static_cast<std::size_t>(n * entry_bytes()));
  }
}

void IndexerKeyTable::decode(std::int64_t first, std::int64_t n, float* out) const {
  assert(first >= 0 && n >= 0 && first + n <= rows);
  if (exact) {
    std::copy_n(values.data() + first * dim, n * dim, out);
    return;
  }
  decode_mxfp4_entries(bytes.data() + first * entry_bytes(), n, dim, out);
}

std::vector<float> IndexerKeyTable::key(std::int64_t s) const {
  std::vector<float> k(static_cast<std::size_t>(dim));
  decode(s, 1, k.data());
  return k;
}

void WindowRing::append(std::span<const float> v) {
  assert(static_cast<std::int64_t>(v.size()) == slots.cols());
  std::copy(v.begin(), v.end(), slots.row(length % window()).data());
  ++length;
}

}  // namespace v4sim
