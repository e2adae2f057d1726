// How much of the kernel suite and the host measurements to run.
//   full   every case at production shapes (minutes)
//   quick  a subset at production shapes that finishes in under a minute on a 2-core machine
//   smoke  every code path at toy shapes in about a second (for tests; its numbers mean nothing)
#pragma once

#include <string_view>

namespace v4sim::bench {

enum class SuiteMode { smoke, quick, full };

std::string_view to_string(SuiteMode m);

}  // namespace v4sim::bench
