#include "kernels/attention_cache_forward.h"

#include <algorithm>
#include <cassert>

namespace v4sim {

void EntryTable::append(std::span<const float> v) {
  assert(static_cast<std::int64_t>(v.size()) == dim);
  data.resize(static_cast<std::size_t>((rows + 1) * dim));
  std::copy(v.begin(), v.end(), row(rows));
  ++rows;
}

void WindowRing::append(std::span<const float> v) {
  assert(static_cast<std::int64_t>(v.size()) == slots.cols());
  std::copy(v.begin(), v.end(), slots.row(length % window()).data());
  ++length;
}

}  // namespace v4sim
