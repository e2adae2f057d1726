#include "kernels/compressor.h"

#include <algorithm>

#include "kernels/linear.h"

namespace v4sim {

std::int64_t projection_width(const CompressorShape& s) {
  return (s.overlap ? 2 : 1) * s.head_dim;
}

std::int64_t entries_emitted(const CompressorShape& s) {
  return checked_add(s.start_pos, s.num_tokens) / s.ratio - s.start_pos / s.ratio;
}

std::int64_t tail_state_bytes(const CompressorShape& s, std::int64_t bytes_per_element) {
  return checked_mul(2 * (s.overlap ? 2 : 1), s.ratio, projection_width(s), bytes_per_element);
}

std::int64_t state_slots_read(const CompressorShape& s) {
  const std::int64_t slots = (s.overlap ? 2 : 1) * s.ratio;
  const std::int64_t first = s.start_pos / s.ratio;  // first entry emitted at t >= start_pos
  const std::int64_t end = (s.start_pos + s.num_tokens) / s.ratio;
  std::int64_t read = 0;
  for (std::int64_t i = first; i < end; ++i) {
    const std::int64_t first_token = s.overlap ? s.ratio * (i - 1) : s.ratio * i;
    if (first_token >= s.start_pos) break;  // later entries pool only this call's rows
    read = checked_add(read, std::min(s.start_pos - first_token, slots));
  }
  return read;
}

Cost cost(const CompressorShape& s) {
  const std::int64_t width = projection_width(s);
  const std::int64_t slots = (s.overlap ? 2 : 1) * s.ratio;
  const std::int64_t entries = entries_emitted(s);
  Cost c;
  c.flops_at(s.compute) = checked_add(checked_mul(2, 2, s.num_tokens, s.hidden, width),
                                      checked_mul(entries, 2, slots, s.head_dim));
  c.read(MemClass::weights) = checked_mul(2, weight_bytes(s.weight, width, s.hidden));
  c.read(MemClass::activations) = activation_bytes(s.compute, checked_mul(s.num_tokens, s.hidden));
  c.written(MemClass::kv_cache) =
      checked_mul(entries, kv_entry_bytes(s.out_format, s.head_dim, s.rope_dim));
  c.written(MemClass::state) = checked_mul(s.num_tokens, 2, width, 4);
  c.read(MemClass::state) = checked_mul(state_slots_read(s), 2, s.head_dim, 4);
  return c;
}

}  // namespace v4sim
