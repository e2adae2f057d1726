#include "kernels/linear.h"

namespace v4sim {

std::int64_t activation_bytes(Precision p, std::int64_t n) {
  switch (p) {
    case Precision::fp32:
      return checked_mul(4, n);
    case Precision::bf16:
      return checked_mul(2, n);
    case Precision::fp8:
    case Precision::int8:
      return n;
    case Precision::fp4:
      return (n + 1) / 2;
  }
  return 0;
}

std::int64_t parameter_count(const LinearShape& s) {
  return checked_mul(s.in_features, s.out_features) / s.groups;
}

Cost cost(const LinearShape& s) {
  Cost c;
  c.flops_at(s.compute) = checked_mul(2, s.tokens, parameter_count(s));
  c.read(MemClass::weights) = checked_mul(
      s.groups, weight_bytes(s.weight, s.out_features / s.groups, s.in_features / s.groups));
  c.read(MemClass::activations) = activation_bytes(s.compute, checked_mul(s.tokens, s.in_features));
  c.written(MemClass::activations) =
      activation_bytes(Precision::bf16, checked_mul(s.tokens, s.out_features));
  return c;
}

}  // namespace v4sim
