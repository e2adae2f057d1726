// Running a command line from a test: its exit status and what it printed on standard output.
// The line's own redirections decide what else is captured ("2>&1", "2>/dev/null").
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace v4sim::test_support {

struct Outcome {
  int code = -1;  // exit status; -1 when the command could not start or did not exit normally
  std::string out;
};

/// Runs `line` with /bin/sh and reads its standard output to the end.
inline Outcome run_command(const std::string& line) {
  Outcome r;
  FILE* pipe = popen(line.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), buf.size(), pipe)) r.out += buf.data();
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace v4sim::test_support
