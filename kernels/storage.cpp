#include "kernels/storage.h"

#include <array>
#include <utility>

#include "kernels/cost.h"

namespace v4sim {
namespace {

constexpr std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return (a + b - 1) / b;
}

constexpr std::array<std::pair<WeightFormat, std::string_view>, 6> kWeightNames = {{
    {WeightFormat::fp32, "fp32"},
    {WeightFormat::bf16, "bf16"},
    {WeightFormat::fp8_block128_ue8m0, "fp8_block128_ue8m0"},
    {WeightFormat::fp8_block128_fp32, "fp8_block128_fp32"},
    {WeightFormat::mxfp4, "mxfp4"},
    {WeightFormat::int8_channel, "int8_channel"},
}};

constexpr std::array<std::pair<KvEntryFormat, std::string_view>, 5> kKvNames = {{
    {KvEntryFormat::bf16, "bf16"},
    {KvEntryFormat::v4_fp8_sparse, "v4_fp8_sparse"},
    {KvEntryFormat::v32_fp8_sparse, "v32_fp8_sparse"},
    {KvEntryFormat::mxfp4, "mxfp4"},
    {KvEntryFormat::fp8_fp32_scale, "fp8_fp32_scale"},
}};

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E e) {
  for (const auto& [v, name] : table)
    if (v == e) return name;
  return "?";
}

template <class E, std::size_t N>
bool parse(const std::array<std::pair<E, std::string_view>, N>& table, std::string_view text,
           E& out) {
  for (const auto& [v, name] : table) {
    if (name == text) {
      out = v;
      return true;
    }
  }
  return false;
}

}  // namespace

std::string_view to_string(WeightFormat f) {
  return name_of(kWeightNames, f);
}
bool parse_weight_format(std::string_view text, WeightFormat& out) {
  return parse(kWeightNames, text, out);
}
std::string_view to_string(KvEntryFormat f) {
  return name_of(kKvNames, f);
}
bool parse_kv_entry_format(std::string_view text, KvEntryFormat& out) {
  return parse(kKvNames, text, out);
}

std::int64_t weight_bytes(WeightFormat f, std::int64_t rows, std::int64_t cols) {
  const std::int64_t n = checked_mul(rows, cols);  // scale counts below are smaller than n
  switch (f) {
    case WeightFormat::fp32:
      return checked_mul(4, n);
    case WeightFormat::bf16:
      return checked_mul(2, n);
    case WeightFormat::fp8_block128_ue8m0:
      return n + ceil_div(rows, 128) * ceil_div(cols, 128);
    case WeightFormat::fp8_block128_fp32:
      return checked_add(n, 4 * ceil_div(rows, 128) * ceil_div(cols, 128));
    case WeightFormat::mxfp4:
      return ceil_div(n, 2) + rows * ceil_div(cols, 32);
    case WeightFormat::int8_channel:
      return checked_add(n, checked_mul(4, rows));
  }
  return 0;
}

std::int64_t kv_entry_bytes(KvEntryFormat f, std::int64_t dim, std::int64_t rope_dim) {
  const std::int64_t nope = dim - rope_dim;
  switch (f) {
    case KvEntryFormat::bf16:
      return 2 * dim;
    case KvEntryFormat::v4_fp8_sparse:
      return nope + 8 * ceil_div(ceil_div(nope, 64), 8) + 2 * rope_dim;
    case KvEntryFormat::v32_fp8_sparse:
      return nope + 4 * ceil_div(nope, 128) + 2 * rope_dim;
    case KvEntryFormat::mxfp4:
      return ceil_div(dim, 2) + ceil_div(dim, 32);
    case KvEntryFormat::fp8_fp32_scale:
      return dim + 4 * ceil_div(dim, 128);
  }
  return 0;
}

double weight_bytes_per_element(WeightFormat f) {
  return static_cast<double>(weight_bytes(f, 128, 128)) / (128.0 * 128.0);
}

}  // namespace v4sim
