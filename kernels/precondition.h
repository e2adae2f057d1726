// Preconditions of the reference kernels: a bad shape or argument throws std::invalid_argument
// "<kernel>: <what> (kernels/<file>.cpp:<line>)", so a failure names the kernel, the rule it broke
// and where that rule is checked.
#pragma once

namespace v4sim::detail {

[[noreturn]] void precondition_failed(const char* kernel, const char* what, const char* file,
                                      int line);

}  // namespace v4sim::detail

/// Throws std::invalid_argument naming `kernel`, `what` and this file and line unless `ok`.
#define V4SIM_REQUIRE(kernel, ok, what)                                                \
  do {                                                                                 \
    if (!(ok)) ::v4sim::detail::precondition_failed(kernel, what, __FILE__, __LINE__); \
  } while (false)
