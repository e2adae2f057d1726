// Bad input, from a file or the command line. The message names the place (file:line:column), the
// field and the offending value; the CLI prints it and exits with code 2.
#pragma once

#include <stdexcept>
#include <string>

namespace v4sim {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace v4sim
