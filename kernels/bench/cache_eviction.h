// Cold caches between timed repetitions.
//
// A decode step reads each layer's weights and caches once, after the other layers' have passed
// through the caches, so a layer's data comes from DRAM. A benchmark that repeats one case back
// to back can instead find part of it still in the last-level cache: on the development VM (300
// MB L3 as sysfs reports it, shared with other tenants) a V4-Flash layer's 107-184 MB of weights
// measured 48 % to 113 % of the streaming-read ceiling between runs, so the fraction did not say
// "from DRAM". The timing loop (timing.h) therefore reads a buffer larger than the last-level
// cache before every repetition, outside the timed region: each repetition starts with the case's
// data displaced, as the read ceiling's 512 MB stream does.
//
// The buffer is the last-level cache's size plus a quarter (the replacement policy is not plain
// LRU, so a read of exactly its size need not displace every line; on the VM 50 MB already
// displaced a 16 MB array, so the margin is generous), or kFallbackEvictionBytes when the size is
// unknown. One read costs about the cache's size over the read bandwidth (300 MB: 25-60 ms on the
// VM), which is why the timing loop counts it against the policy's time budget.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace v4sim::bench {

/// Evicted when the last-level cache's size is unknown: larger than most server L3s per socket.
inline constexpr std::int64_t kFallbackEvictionBytes = std::int64_t{256} << 20;

/// A sysfs cache size ("32768K", "48M", "1024") in bytes; 0 when it does not parse.
std::int64_t parse_cache_size(const std::string& text);

/// The last-level cache of cpu0 as the kernel reports it (sysfs: `cache_dir`/index*/level and
/// size, the highest level wins); else glibc's sysconf (cpuid, which in a virtual machine can
/// describe the whole host package); 0 when neither knows.
std::int64_t last_level_cache_bytes(
    const std::filesystem::path& cache_dir = "/sys/devices/system/cpu/cpu0/cache");

/// Bytes to read between repetitions for a last-level cache of llc_bytes (0: unknown).
std::int64_t eviction_bytes(std::int64_t llc_bytes);

/// Reads a private buffer through the caches. The buffer is allocated and written (every page
/// backed, no shared zero page) on the first evict(), so a policy that never times anything
/// costs nothing.
class CacheEvictor {
 public:
  explicit CacheEvictor(std::int64_t bytes) : bytes_(bytes) {}
  std::int64_t bytes() const { return bytes_; }
  /// One load per 64-byte line of the buffer, in order (the hardware prefetchers stream it).
  void evict();

 private:
  std::int64_t bytes_ = 0;
  std::vector<std::uint64_t> buffer_;
  std::uint64_t sink_ = 0;  // the loads' sum, kept so they are not optimised away
};

}  // namespace v4sim::bench
