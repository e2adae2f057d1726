// How a number reads in a report table for people (Markdown, HTML): 1.139e+11 FLOP -> "114 GFLOP",
// 5299115008 B -> "4.94 GiB", 24000000000 tokens -> "24.0 B tokens", 174762624 USD ->
// "174,762,624". The CSV and JSON files keep the exact values (data_files.h).
#pragma once

#include <string>
#include <string_view>

namespace v4sim::report {

/// `cell` of a numeric column whose unit is `unit` (TableBlock::units), for people. Cells that are
/// not a plain number (text, "-", "12%", "3.1x") come back unchanged. FLOP and FLOP/s take SI
/// prefixes (k, M, G, T, P, E) with three significant digits; B (or bytes) binary ones (KiB, MiB,
/// GiB, TiB); token and tokens counts from 10 million up read in millions, billions or trillions
/// ("3.20 B tokens"; smaller ones, context lengths, stay exact); other whole numbers from 10,000 up
/// get thousands separators; everything else is unchanged.
std::string human_cell(std::string_view cell, std::string_view unit);

}  // namespace v4sim::report
