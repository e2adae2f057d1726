#include "kernels/bench/cache_eviction.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>

namespace v4sim::bench {

std::int64_t parse_cache_size(const std::string& text) {
  std::size_t used = 0;
  long long n = 0;
  try {
    n = std::stoll(text, &used);
  } catch (...) {
    return 0;
  }
  if (n <= 0) return 0;
  const std::string unit = text.substr(used);
  if (unit.empty()) return n;
  if (unit == "K") return n << 10;
  if (unit == "M") return n << 20;
  if (unit == "G") return n << 30;
  return 0;
}

std::int64_t last_level_cache_bytes(const std::filesystem::path& cache_dir) {
  int best_level = 0;
  std::int64_t best = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(cache_dir, ec)) {
    if (entry.path().filename().string().rfind("index", 0) != 0) continue;
    std::ifstream level_in(entry.path() / "level"), size_in(entry.path() / "size");
    int level = 0;
    std::string size;
    if (!(level_in >> level) || !(size_in >> size)) continue;
    const std::int64_t bytes = parse_cache_size(size);
    if (bytes > 0 && level > best_level) {
      best_level = level;
      best = bytes;
    }
  }
  if (best > 0) return best;
#ifdef _SC_LEVEL3_CACHE_SIZE
  const long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
  if (l3 > 0) return l3;
#endif
  return 0;
}

std::int64_t eviction_bytes(std::int64_t llc_bytes) {
  return llc_bytes > 0 ? llc_bytes + llc_bytes / 4 : kFallbackEvictionBytes;
}

void CacheEvictor::evict() {
  constexpr std::size_t kWordsPerLine = 64 / sizeof(std::uint64_t);
  if (buffer_.empty() && bytes_ > 0) {
    const auto words = static_cast<std::size_t>(bytes_) / sizeof(std::uint64_t);
    buffer_.resize(std::max(words, kWordsPerLine));
    for (std::size_t i = 0; i < buffer_.size(); ++i) buffer_[i] = i;
  }
  // Eight independent sums: the loop is bound by the memory, not by one chain of adds.
  std::uint64_t s[8] = {};
  const std::size_t lines = buffer_.size() / kWordsPerLine;
  std::size_t l = 0;
  for (; l + 8 <= lines; l += 8)
    for (std::size_t j = 0; j < 8; ++j) s[j] += buffer_[(l + j) * kWordsPerLine];
  for (; l < lines; ++l) s[0] += buffer_[l * kWordsPerLine];
  for (std::uint64_t v : s) sink_ += v;
}

}  // namespace v4sim::bench
