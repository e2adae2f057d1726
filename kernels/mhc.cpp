#include "kernels/mhc.h"

namespace v4sim {
namespace {
std::int64_t mixing_rows(const MhcShape& s) {
  return s.head ? s.streams : (2 + s.streams) * s.streams;
}
}  // namespace

std::int64_t parameter_count(const MhcShape& s) {
  const std::int64_t rows = mixing_rows(s);
  return checked_add(checked_mul(rows, s.streams, s.hidden), rows + (s.head ? 1 : 3));
}

Cost cost(const MhcShape& s) {
  const std::int64_t n = s.streams, d = s.hidden, rows = mixing_rows(s);
  std::int64_t macs = checked_add(checked_mul(rows, n, d), checked_mul(n, d));  // mix + collapse
  if (!s.head) macs = checked_add(macs, checked_mul(n, n + 1, d));              // expand
  Cost c;
  c.flops_at(Precision::fp32) = checked_mul(2, s.tokens, macs);
  c.read(MemClass::weights) = checked_mul(4, parameter_count(s));
  // Operands, BF16, each once: the streams X (n*D) are read and the collapsed x (D) written;
  // around a sublayer the expand also reads the sublayer output f (D) and writes X' (n*D).
  const std::int64_t nd = checked_mul(n, d);
  c.read(MemClass::activations) = checked_mul(2, s.tokens, s.head ? nd : nd + d);
  c.written(MemClass::activations) = checked_mul(2, s.tokens, s.head ? d : nd + d);
  return c;
}

}  // namespace v4sim
