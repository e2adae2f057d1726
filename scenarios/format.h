// Number and label formatting shared by the scenario runners: how a value reads in a report table
// or sentence. Plain functions, no state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/economics.h"

namespace v4sim::scenario_format {

/// printf-style formatting of one number ("%.4g" by default).
std::string num(double v, const char* format = "%.4g");
/// USD for sentences: whole dollars with thousands separators from 100 ("$1,234,567"), cents
/// below ("$13.75"), three significant digits below 0.1 ("$0.0145"); "-$" when negative.
std::string usd(double v);
/// Millions/billions in words for sentences: 5e10 -> "50 billion", 1.5e6 -> "1.5 million".
std::string count(double v);
/// Context lengths as engineers write them: 8192 -> "8K", 1048576 -> "1M", 200000 -> "200000".
std::string context_label(std::int64_t tokens);
/// "a, b and c".
std::string join_words(const std::vector<std::string>& items);
/// A file-name stem from free text: lower-case letters and digits, other runs as one '-'
/// ("Document analysis (200K)" -> "document-analysis-200k"); "x" when nothing is left.
std::string slug(const std::string& text);
/// The price basis in words: "rental (...)" or "TCO: purchase price amortised over 4 years, ...".
std::string price_basis(const PriceAssumptions& p);
/// max / min of the positive finite values (1 when fewer than two): whether a chart needs log y.
double positive_span(const std::vector<double>& values);

}  // namespace v4sim::scenario_format
