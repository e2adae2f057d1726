#include "reports/output_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

#include "models/config/input_error.h"
#include "reports/escape.h"

namespace v4sim::report {
namespace fs = std::filesystem;

namespace {

std::string shown(const fs::path& p) {
  return one_line(p.string());
}

[[noreturn]] void fail(std::string_view what, const fs::path& p, int err) {
  std::string msg(what);
  msg.append(" ").append(shown(p)).append(": ").append(std::strerror(err));
  throw std::runtime_error(msg);
}

/// The process umask, read without changing it (calling umask() to read it would race with other
/// threads creating files). Falls back to the common 022 where /proc is not available.
mode_t current_umask() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Umask:", 0) == 0)
      return static_cast<mode_t>(std::stoul(line.substr(6), nullptr, 8));
  }
  return 022;
}

/// A path in `dir` for a temporary twin of `name`: ".<name>.<kind>-XXXXXX" (template for mk*temp).
std::string temp_template(const fs::path& target, std::string_view kind) {
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string name = ".";
  name.append(target.filename().string()).append(".").append(kind).append("-XXXXXX");
  return (dir / name).string();
}

class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

void sync_dir(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // Durability only; the rename itself already happened.
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

fs::path make_temp_sibling_file(const fs::path& path) {
  std::string tmpl = temp_template(path, "tmp");
  const int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) fail("cannot create a temporary file next to", path, errno);
  // mkostemp makes the file private (0600); the program writing it keeps the mode.
  const int rc = ::fchmod(fd, 0666 & ~current_umask());
  const int err = errno;
  ::close(fd);
  if (rc != 0) {
    ::unlink(tmpl.c_str());
    fail("cannot set permissions of", tmpl, err);
  }
  return tmpl;
}

void rename_into_place(const fs::path& from, const fs::path& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    const int err = errno;
    std::string msg = "cannot rename ";
    msg.append(shown(from))
        .append(" to ")
        .append(shown(to))
        .append(": ")
        .append(std::strerror(err));
    throw std::runtime_error(msg);
  }
}

void write_file_atomic(const fs::path& path, std::string_view content) {
  std::string tmpl = temp_template(path, "tmp");
  const int raw_fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (raw_fd < 0) fail("cannot create a temporary file to write", path, errno);
  FdCloser fd(raw_fd);
  const fs::path tmp = tmpl;
  try {
    struct stat old {};
    const mode_t mode =
        ::stat(path.c_str(), &old) == 0 ? (old.st_mode & 07777) : (0666 & ~current_umask());
    if (::fchmod(raw_fd, mode) != 0) fail("cannot set permissions of", tmp, errno);
    std::size_t done = 0;
    while (done < content.size()) {
      const ssize_t n = ::write(raw_fd, content.data() + done, content.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("cannot write", path, errno);
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(raw_fd) != 0) fail("cannot flush", path, errno);
    if (::close(fd.release()) != 0) fail("cannot close", path, errno);
    rename_into_place(tmp, path);
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
  sync_dir(path.parent_path());
}

namespace {

/// Checks that `target` may be replaced; true if it exists.
bool check_replaceable(const fs::path& target) {
  std::error_code ec;
  const fs::file_status st = fs::status(target, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) fail("cannot inspect", target, ec.value());
  if (!fs::exists(st)) return false;
  if (!fs::is_directory(st)) {
    std::string msg = "output folder ";
    msg.append(shown(target)).append(" exists and is not a folder; choose another path");
    throw InputError(msg);
  }
  const bool empty = fs::is_empty(target, ec);
  if (ec) fail("cannot list", target, ec.value());
  if (!empty && !fs::exists(target / kOutputMarker, ec)) {
    std::string msg = "output folder ";
    msg.append(shown(target))
        .append(" is not empty and was not written by v4sim (no ")
        .append(kOutputMarker)
        .append(" file); refusing to replace it. Choose a new or empty folder");
    throw InputError(msg);
  }
  return true;
}

/// Puts `staging` where `target` is. With RENAME_EXCHANGE the two swap in one step; `staging`
/// then holds the old content. Otherwise the old folder is moved aside first and restored if the
/// second rename fails. Returns the folder holding the old content (empty path if none).
fs::path swap_into_place(const fs::path& staging, const fs::path& target, bool exists) {
  if (!exists) {
    rename_into_place(staging, target);
    return {};
  }
  if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0)
    return staging;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) {
    const int err = errno;
    std::string msg = "cannot swap ";
    msg.append(shown(staging)).append(" into place at ").append(shown(target)).append(": ");
    msg.append(std::strerror(err));
    throw std::runtime_error(msg);
  }
  std::string old_tmpl = temp_template(target, "old");
  if (!::mkdtemp(old_tmpl.data())) fail("cannot create a temporary folder next to", target, errno);
  const fs::path old = fs::path(old_tmpl) / "content";
  rename_into_place(target, old);
  try {
    rename_into_place(staging, target);
  } catch (...) {
    std::rename(old.c_str(), target.c_str());
    std::error_code ignored;
    fs::remove(old.parent_path(), ignored);
    throw;
  }
  return old.parent_path();
}

}  // namespace

void replace_dir_atomically(const fs::path& target,
                            const std::function<void(const fs::path& staging)>& fill) {
  if (target.empty() || target.filename().empty() || target.filename() == "." ||
      target.filename() == "..") {
    std::string msg = "output folder ";
    msg.append(shown(target)).append(" must name a folder (not end in /, . or ..)");
    throw InputError(msg);
  }
  const bool exists = check_replaceable(target);
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) fail("cannot create folder", parent, ec.value());

  std::string tmpl = temp_template(target, "new");
  if (!::mkdtemp(tmpl.data())) fail("cannot create a temporary folder next to", target, errno);
  const fs::path staging = tmpl;
  try {
    // mkdtemp makes the folder private (0700); give it what a plain mkdir would, or keep the mode
    // of the folder being replaced.
    struct stat target_stat {};
    const mode_t mode = exists && ::stat(target.c_str(), &target_stat) == 0
                            ? (target_stat.st_mode & 07777)
                            : (0777 & ~current_umask());
    if (::chmod(staging.c_str(), mode) != 0) fail("cannot set permissions of", staging, errno);
    fill(staging);
    write_file_atomic(staging / kOutputMarker,
                      "This folder was written by v4sim and is replaced as a whole when the same "
                      "output is written again.\n");
    sync_dir(staging);
    const fs::path old = swap_into_place(staging, target, exists);
    sync_dir(parent);
    if (!old.empty()) fs::remove_all(old, ec);  // Best effort: the new content is in place.
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(staging, ignored);
    throw;
  }
}

}  // namespace v4sim::report
