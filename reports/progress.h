// A one-line progress display for long sweeps ("label: 37/120 (31%), 12 s elapsed, ~26 s left"),
// redrawn in place with a carriage return. Drawn only on a terminal: when stderr is piped or
// redirected to a file, nothing is written, so logs stay clean.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace v4sim::report {

class Progress {
 public:
  /// Progress on std::cerr, enabled only if stderr is a terminal (isatty).
  static Progress on_stderr(std::string label, std::int64_t total);

  /// Progress on `out`; `enabled` false makes every call a no-op. Redraws at most once per
  /// `min_redraw` (and always for the last step), so a fast sweep does not flood the terminal.
  Progress(std::ostream& out, bool enabled, std::string label, std::int64_t total,
           std::chrono::milliseconds min_redraw = std::chrono::milliseconds(100));
  ~Progress();
  Progress(Progress&&) noexcept;
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  Progress& operator=(Progress&&) = delete;

  /// Records `steps` more finished items (clamped to the total) and redraws if due.
  void advance(std::int64_t steps = 1);
  /// Draws the final state and ends the line; later calls do nothing. Also run by the destructor.
  void finish();

  bool enabled() const { return enabled_; }
  std::int64_t done() const { return done_; }

 private:
  void draw();

  std::ostream* out_;
  bool enabled_;
  bool finished_ = false;
  std::string label_;
  std::int64_t total_;
  std::int64_t done_ = 0;
  std::chrono::milliseconds min_redraw_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool drawn_ = false;
};

}  // namespace v4sim::report
