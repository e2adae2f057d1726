#include "reports/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <utility>

#include "reports/escape.h"

namespace v4sim::report {
namespace {

/// Longest label shown, so the line fits an 80-column terminal.
constexpr std::size_t kMaxLabelChars = 40;

std::string seconds_text(double s) {
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.0f s", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%.0f min %02.0f s", std::floor(s / 60), std::fmod(s, 60));
  } else {
    std::snprintf(buf, sizeof buf, "%.0f h %02.0f min", std::floor(s / 3600),
                  std::floor(std::fmod(s, 3600) / 60));
  }
  return buf;
}

}  // namespace

Progress Progress::on_stderr(std::string label, std::int64_t total) {
  return Progress(std::cerr, ::isatty(STDERR_FILENO) == 1, std::move(label), total);
}

Progress::Progress(std::ostream& out, bool enabled, std::string label, std::int64_t total,
                   std::chrono::milliseconds min_redraw)
    : out_(&out),
      enabled_(enabled),
      // The label may come from a scenario file: no control characters may reach the terminal.
      label_(one_line(label).substr(0, kMaxLabelChars)),
      total_(std::max<std::int64_t>(total, 0)),
      min_redraw_(min_redraw),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::Progress(Progress&& o) noexcept
    : out_(o.out_),
      enabled_(o.enabled_),
      finished_(o.finished_),
      label_(std::move(o.label_)),
      total_(o.total_),
      done_(o.done_),
      min_redraw_(o.min_redraw_),
      start_(o.start_),
      last_draw_(o.last_draw_),
      drawn_(o.drawn_) {
  o.finished_ = true;  // The moved-from object must not end the line a second time.
}

Progress::~Progress() {
  finish();
}

void Progress::advance(std::int64_t steps) {
  if (!enabled_ || finished_) return;
  done_ = std::clamp<std::int64_t>(done_ + std::max<std::int64_t>(steps, 0), 0, total_);
  const auto now = std::chrono::steady_clock::now();
  if (done_ == total_ || !drawn_ || now - last_draw_ >= min_redraw_) draw();
}

void Progress::finish() {
  if (!enabled_ || finished_) return;
  finished_ = true;
  draw();
  *out_ << '\n' << std::flush;
}

void Progress::draw() {
  const auto now = std::chrono::steady_clock::now();
  last_draw_ = now;
  drawn_ = true;
  const double elapsed_s = std::chrono::duration<double>(now - start_).count();
  const double fraction = total_ > 0 ? static_cast<double>(done_) / static_cast<double>(total_) : 1;
  // "\r" returns to the line start, ESC[K clears what a longer previous line left behind.
  *out_ << "\r\x1b[K" << label_ << ": " << done_ << '/' << total_ << " ("
        << static_cast<int>(fraction * 100) << "%), " << seconds_text(elapsed_s) << " elapsed";
  if (done_ > 0 && done_ < total_)
    *out_ << ", ~" << seconds_text(elapsed_s / fraction - elapsed_s) << " left";
  *out_ << std::flush;
}

}  // namespace v4sim::report
