// Numbers in report tables for people (reports/human_units.h); the CSV/JSON keep exact values.
#include <gtest/gtest.h>

#include "reports/data_files.h"
#include "reports/human_units.h"

namespace v4sim::report {
namespace {

TEST(HumanUnits, FlopsBytesTokensAndPlainNumbers) {
  EXPECT_EQ(human_cell("1.139e+11", "FLOP"), "114 GFLOP");
  EXPECT_EQ(human_cell("113900000000", "FLOP"), "114 GFLOP");
  EXPECT_EQ(human_cell("2.913e+10", "FLOP"), "29.1 GFLOP");
  EXPECT_EQ(human_cell("999.96", "FLOP"), "1.00 kFLOP");
  EXPECT_EQ(human_cell("512", "FLOP"), "512 FLOP");
  EXPECT_EQ(human_cell("5299115008", "B"), "4.94 GiB");
  EXPECT_EQ(human_cell("196886528", "B"), "188 MiB");
  EXPECT_EQ(human_cell("656", "B"), "656 B");
  EXPECT_EQ(human_cell("286720000", "bytes"), "273 MiB");
  EXPECT_EQ(human_cell("24000000000", "token"), "24.0 B tokens");
  EXPECT_EQ(human_cell("800000000", "token"), "800 M tokens");
  EXPECT_EQ(human_cell("1048576", "tokens"), "1048576");  // context lengths stay exact
  EXPECT_EQ(human_cell("16384", "tokens"), "16384");
  EXPECT_EQ(human_cell("174762624", "USD"), "174,762,624");
  EXPECT_EQ(human_cell("1000000", ""), "1,000,000");
  EXPECT_EQ(human_cell("8192", ""), "8192");
  EXPECT_EQ(human_cell("0.0171", "USD"), "0.0171");
  EXPECT_EQ(human_cell("-20000", ""), "-20,000");
  for (const char* text : {"", "-", "12%", "3.1x", "n/a", "1e400", "nan", "4 GiB"})
    EXPECT_EQ(human_cell(text, "B"), text) << text;
}

TEST(HumanUnits, OnlyNumericColumnsChange) {
  TableBlock t;
  t.table.columns = {"model", "kv_bytes"};
  t.table.numeric = {false, true};
  t.units = {"", "B"};
  EXPECT_EQ(cell_for_people(t, 0, "5299115008"), "5299115008");
  EXPECT_EQ(cell_for_people(t, 1, "5299115008"), "4.94 GiB");
}

}  // namespace
}  // namespace v4sim::report
