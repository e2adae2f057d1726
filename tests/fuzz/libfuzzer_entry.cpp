// libFuzzer's entry point for one target, chosen at compile time (V4SIM_FUZZ_TARGET=<name>).
#include "tests/fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  v4sim::fuzz::V4SIM_FUZZ_TARGET(v4sim::fuzz::Bytes(data, size));
  return 0;
}
