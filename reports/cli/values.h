// Parsers for command-line values and the shared output-format option. Every parser throws
// InputError naming the option and the offending text.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "sim/analytic.h"

namespace v4sim::cli {

enum class OutputFormat { table, json, csv };

/// "4096", "4k", "128K", "1m" (k = 1024, m = 1024^2). Positive, at most 2^40.
std::int64_t parse_context(std::string_view text, std::string_view option);
/// Comma-separated contexts: "4k,128k,1m".
std::vector<std::int64_t> parse_context_list(std::string_view text, std::string_view option);
/// Comma-separated names; empty items are an error.
std::vector<std::string> parse_name_list(std::string_view text, std::string_view option);
OutputFormat parse_output_format(std::string_view text);
/// "decode" or "prefill".
Phase parse_phase(std::string_view text);

/// "1.23 T", "456 G": a count with an SI prefix, for tables.
std::string si(double value, int digits = 3);
/// Bytes in binary units: "4.92 GiB".
std::string gib(double bytes, int digits = 3);
/// A ratio like "9.54x".
std::string times(double ratio, int digits = 3);

}  // namespace v4sim::cli
