// Requests over time for the serving simulation (sim/simulate.h): the two public trace formats
// and a synthetic arrival process. Every reader is strict: a defect is an InputError naming the
// file, the line and the field; no row is ever skipped or repaired.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace v4sim {

/// Tokens per prefix block of the Mooncake traces' hash_ids (one id per 512 tokens, the last
/// block possibly partial).
inline constexpr std::int64_t kPrefixBlockTokens = 512;

struct Request {
  double arrival_s = 0;  // from the start of the run
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  /// Prefix blocks of kPrefixBlockTokens prompt tokens, by content hash; equal ids at the same
  /// position are the same KV. Empty: the trace has no prefix information (never a cache hit).
  std::vector<std::uint64_t> block_hashes;
};

/// Mooncake FAST'25 JSONL: one object per line with integer `timestamp` (ms from the trace start,
/// non-decreasing), `input_length`, `output_length` and `hash_ids` (ceil(input/512) ids).
/// Arrivals are timestamp / 1000 / time_scale (time_scale 2 replays twice as fast). A prompt plus
/// its output beyond `max_context_tokens` is an error, as are unknown or missing keys, negative
/// or decreasing times, non-positive lengths and a hash_ids count that does not match the prompt.
/// The published timestamps come in ~3 s buckets; they are replayed as recorded (bursts).
std::vector<Request> read_mooncake_trace(const std::string& path, std::int64_t max_context_tokens,
                                         double time_scale = 1.0);

/// Azure LLM inference trace 2023 CSV: header with TIMESTAMP, ContextTokens, GeneratedTokens (any
/// order, other columns refused), CRLF or LF, last line with or without its newline. TIMESTAMP is
/// `YYYY-MM-DD HH:MM:SS[.fffffff]`; arrivals are the delta from the first row over time_scale.
/// No prefix information. Same strictness as the Mooncake reader.
std::vector<Request> read_azure_trace(const std::string& path, std::int64_t max_context_tokens,
                                      double time_scale = 1.0);

/// By extension: .jsonl -> Mooncake, .csv -> Azure; anything else is an InputError.
std::vector<Request> read_trace(const std::string& path, std::int64_t max_context_tokens,
                                double time_scale = 1.0);

/// A request length: fixed (`min == max`), or uniform on [min, max] integers.
struct LengthDistribution {
  std::int64_t min_tokens = 1;
  std::int64_t max_tokens = 1;
};

/// "2048" (fixed) or "512-4096" (uniform integers); InputError naming `option` otherwise.
LengthDistribution parse_length_distribution(const std::string& text, const std::string& option);

struct SyntheticArrivals {
  double rate_per_s = 1.0;
  std::int64_t requests = 0;
  /// Coefficient of variation of the inter-arrival times: 1 is Poisson; > 1 is bursty, drawn from
  /// a two-phase hyperexponential with balanced means (same mean rate, clustered arrivals).
  double burstiness_cv = 1.0;
  LengthDistribution input, output;
  std::uint64_t seed = 1;
};

/// Draws requests one at a time (memory independent of the count). The generator is
/// std::mt19937_64 (its sequence is fixed by the standard) with the transforms written here, so
/// a seed gives the same requests with any standard library.
class SyntheticSource {
 public:
  /// InputError for a rate, count or cv out of range, or lengths beyond `max_context_tokens`.
  SyntheticSource(const SyntheticArrivals& spec, std::int64_t max_context_tokens);
  /// The next request; false when all were drawn.
  bool next(Request& out);

 private:
  double uniform01();  // in [0, 1)
  std::int64_t length(const LengthDistribution& d);
  SyntheticArrivals spec_;
  std::mt19937_64 rng_;
  std::int64_t drawn_ = 0;
  double now_s_ = 0;
  double p_fast_ = 1.0, rate_fast_ = 1.0, rate_slow_ = 1.0;  // hyperexponential phases
};

}  // namespace v4sim
