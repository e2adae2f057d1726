// Progress lines: drawn in place on a terminal, nothing at all when stderr is a pipe.
#include "reports/progress.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <sstream>

namespace v4sim::report {
namespace {

TEST(Progress, DisabledWritesNothing) {
  std::ostringstream out;
  {
    Progress p(out, false, "sweep", 3);
    p.advance();
    p.advance(2);
    p.finish();
  }
  EXPECT_EQ(out.str(), "");
}

TEST(Progress, EnabledRedrawsInPlaceAndEndsTheLine) {
  std::ostringstream out;
  {
    Progress p(out, true, "sweep\x1b]0;evil\a", 4, std::chrono::milliseconds(0));
    p.advance();
    p.advance(2);
    EXPECT_EQ(p.done(), 3);
    p.advance(10);  // Clamped to the total.
    EXPECT_EQ(p.done(), 4);
  }  // The destructor finishes.
  const std::string s = out.str();
  EXPECT_NE(s.find("\r\x1b[Ksweep ]0;evil : 1/4 (25%)"), std::string::npos) << s;
  EXPECT_NE(s.find("3/4 (75%)"), std::string::npos) << s;
  EXPECT_NE(s.find("4/4 (100%)"), std::string::npos) << s;
  EXPECT_EQ(s.back(), '\n');
  EXPECT_EQ(s.find('\a'), std::string::npos) << "control characters from the label are removed";
}

TEST(Progress, RateLimitedRedraws) {
  std::ostringstream out;
  Progress p(out, true, "fast", 1000, std::chrono::hours(1));
  for (int i = 0; i < 1000; ++i) p.advance();
  p.finish();
  std::size_t draws = 0;
  for (char c : out.str()) draws += c == '\r';
  EXPECT_LE(draws, 3u) << "first step, last step and finish only";
}

/// Runs a sweep's progress in a child whose stderr is `fd`; returns what the child wrote.
std::string child_output(int write_fd, int read_fd) {
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(write_fd, STDERR_FILENO);
    {
      Progress p = Progress::on_stderr("child sweep", 2);
      p.advance();
      p.advance();
    }
    _exit(0);
  }
  close(write_fd);
  int status = 0;
  waitpid(pid, &status, 0);
  std::string out;
  std::array<char, 4096> buf{};
  fcntl(read_fd, F_SETFL, O_NONBLOCK);
  for (ssize_t n; (n = read(read_fd, buf.data(), buf.size())) > 0;) out.append(buf.data(), n);
  close(read_fd);
  return out;
}

TEST(Progress, SilentWhenStderrIsAPipe) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  EXPECT_EQ(child_output(fds[1], fds[0]), "");
}

TEST(Progress, DrawsWhenStderrIsATerminal) {
  int master = -1, slave = -1;
  if (openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) GTEST_SKIP() << "no pty available";
  const std::string out = child_output(slave, master);
  EXPECT_NE(out.find("child sweep: 2/2 (100%)"), std::string::npos) << out;
}

}  // namespace
}  // namespace v4sim::report
