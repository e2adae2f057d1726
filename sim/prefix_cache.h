// The serving simulation's prefix cache of one engine: an LRU set of 512-token block hashes
// (sim/trace.h), front the most recently used. Byte accounting is the simulator's (blocks share
// the engine's KV pool with running sequences).
#pragma once

#include <cstdint>
#include <list>
#include <unordered_map>
#include <vector>

namespace v4sim {

class PrefixCache {
 public:
  /// Leading blocks of `hashes` present (each touched), stopping at the first miss.
  std::int64_t leading_hits(const std::vector<std::uint64_t>& hashes) {
    std::int64_t hits = 0;
    for (std::uint64_t h : hashes) {
      auto it = index_.find(h);
      if (it == index_.end()) break;
      lru_.splice(lru_.begin(), lru_, it->second);
      ++hits;
    }
    return hits;
  }
  bool contains(std::uint64_t h) const { return index_.count(h) != 0; }
  /// leading_hits without touching (for routing).
  std::int64_t peek_leading_hits(const std::vector<std::uint64_t>& hashes) const {
    std::int64_t hits = 0;
    while (hits < static_cast<std::int64_t>(hashes.size()) &&
           contains(hashes[static_cast<std::size_t>(hits)]))
      ++hits;
    return hits;
  }
  void touch_or_add(std::uint64_t h) {
    auto it = index_.find(h);
    if (it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return;
    }
    lru_.push_front(h);
    index_.emplace(h, lru_.begin());
  }
  /// Drops the least recently used block; false when empty.
  bool evict_one() {
    if (lru_.empty()) return false;
    index_.erase(lru_.back());
    lru_.pop_back();
    return true;
  }
  std::size_t size() const { return lru_.size(); }

 private:
  std::list<std::uint64_t> lru_;
  std::unordered_map<std::uint64_t, std::list<std::uint64_t>::iterator> index_;
};

}  // namespace v4sim
