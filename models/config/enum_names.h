// Enum names from one table: an enum's `to_string` and its parser read the same array of names,
// indexed by the enumerator's value, so the two cannot drift. Beside each table, a static_assert
// compares its size with the enum's last enumerator + 1 (enumerators numbered from 0 in order).
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace v4sim::config {

/// The name of `e` in `names`.
template <class E, std::size_t N>
std::string_view enum_name(const std::array<std::string_view, N>& names, E e) {
  return names.at(static_cast<std::size_t>(e));
}

/// The enumerator named `text` in `names`, or nothing.
template <class E, std::size_t N>
std::optional<E> parse_enum(const std::array<std::string_view, N>& names, std::string_view text) {
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == text) return static_cast<E>(i);
  return std::nullopt;
}

}  // namespace v4sim::config
