#include "kernels/precondition.h"

#include <stdexcept>
#include <string>
#include <string_view>

namespace v4sim::detail {

void precondition_failed(const char* kernel, const char* what, const char* file, int line) {
  // The path from kernels/ on: the build machine's source folder says nothing to a reader.
  std::string_view where(file);
  if (const std::size_t at = where.rfind("kernels/"); at != std::string_view::npos)
    where.remove_prefix(at);
  std::string msg(kernel);
  msg.append(": ").append(what).append(" (").append(where).append(":");
  msg.append(std::to_string(line)).append(")");
  throw std::invalid_argument(msg);
}

}  // namespace v4sim::detail
