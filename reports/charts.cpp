#include "reports/charts.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <tuple>

#include <gnuplot-iostream.h>

#include "models/config/input_error.h"
#include "reports/escape.h"
#include "reports/file_names.h"
#include "reports/output_dir.h"

extern char** environ;

namespace v4sim::report {
namespace fs = std::filesystem;

namespace {

/// Okabe-Ito colours: distinguishable with the common forms of colour blindness.
constexpr std::array<const char*, 8> kColours = {"#0072B2", "#E69F00", "#009E73", "#D55E00",
                                                 "#CC79A7", "#56B4E9", "#000000", "#F0E442"};
/// Filled circle, square, triangle, diamond, pentagon, then open ones: the point shape changes
/// when the colours repeat, so more than eight series stay distinguishable.
constexpr std::array<int, 10> kPointTypes = {7, 5, 9, 13, 15, 6, 4, 8, 12, 14};

/// Longest category label on the x axis; longer ones are shortened (with a warning).
constexpr std::size_t kMaxCategoryChars = 32;

/// Longest gnuplot message kept in an error.
constexpr std::size_t kMaxMessageChars = 600;

std::string chart_label(const Chart& c) {
  std::string s = "chart '";
  s.append(one_line(c.name.empty() ? c.title : c.name)).append("'");
  return s;
}

[[noreturn]] void bad_chart(const Chart& c, std::string_view what) {
  std::string msg = chart_label(c);
  msg.append(": ").append(what);
  throw InputError(msg);
}

/// A double as gnuplot reads it back exactly (17 significant digits).
std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

/// The points of one series that can be drawn, and a warning about the ones that cannot.
struct Kept {
  std::vector<double> x, y;
};

Kept keep_drawable(const Chart& c, const Series& s, std::vector<std::string>& warnings) {
  Kept k;
  std::vector<std::size_t> non_finite, non_positive;
  for (std::size_t i = 0; i < s.x.size(); ++i) {
    const double x = s.x[i], y = s.y[i];
    if (!std::isfinite(x) || !std::isfinite(y)) {
      non_finite.push_back(i);
    } else if ((c.x.log && x <= 0) || (c.y.log && y <= 0)) {
      non_positive.push_back(i);
    } else {
      k.x.push_back(x);
      k.y.push_back(y);
    }
  }
  auto warn = [&](const std::vector<std::size_t>& idx, std::string_view why) {
    if (idx.empty()) return;
    std::string w = chart_label(c);
    w.append(", series '").append(one_line(s.name)).append("': skipped ");
    w.append(std::to_string(idx.size())).append(idx.size() == 1 ? " point" : " points");
    w.append(" (").append(why).append("; index");
    for (std::size_t j = 0; j < idx.size() && j < 5; ++j)
      w.append(j ? ", " : " ").append(std::to_string(idx[j]));
    if (idx.size() > 5) w.append(", ...");
    w.append(")");
    warnings.push_back(w);
  };
  warn(non_finite, "NaN or infinite value");
  warn(non_positive, "value <= 0 on a log axis");
  return k;
}

/// Code points in a UTF-8 string (one_line output is valid UTF-8).
std::size_t glyphs(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

/// one_line(text) cut to at most `max_glyphs` characters, ending in an ellipsis when cut.
std::string shortened(std::string_view text, std::size_t max_glyphs) {
  const std::string line = one_line(text);
  if (glyphs(line) <= max_glyphs) return line;
  std::string out;
  std::size_t n = 0;
  for (char c : line) {
    const bool starts_glyph = (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    if (starts_glyph && ++n > max_glyphs - 1) break;
    out.push_back(c);
  }
  return out.append("\u2026");
}

/// A gnuplot string expression showing `text` on at most `max_lines` lines of about `max_chars`
/// characters, broken at spaces (gnuplot does not wrap titles; a long one would be cut off at the
/// image edge). Each line is a single-quoted literal; they are joined with a "\n" constant, which
/// is the only double-quoted string in the script and holds no text from the chart.
std::string gnuplot_wrapped(std::string_view text, std::size_t max_chars, std::size_t max_lines) {
  std::vector<std::string> lines(1);
  std::istringstream words(one_line(text));
  for (std::string word; words >> word;) {
    std::string& line = lines.back();
    if (!line.empty() && glyphs(line) + 1 + glyphs(word) > max_chars) {
      lines.emplace_back(word);
    } else {
      line.append(line.empty() ? "" : " ").append(word);
    }
  }
  if (lines.size() > max_lines) {
    lines.resize(max_lines);
    lines.back().append(" \u2026");  // The full text is in the report's caption.
  }
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i)
    out.append(i ? " . \"\\n\" . " : "").append(gnuplot_quote(lines[i]));
  return out;
}

/// Tick labels at powers of two over [lo, hi], 1024-based: 4K, 512K, 1M.
std::string binary_tics(double lo, double hi) {
  const int k0 = static_cast<int>(std::floor(std::log2(lo)));
  const int k1 = static_cast<int>(std::ceil(std::log2(hi)));
  const int step = std::max(1, (k1 - k0 + 11) / 12);  // At most about a dozen ticks.
  static constexpr std::array<const char*, 7> kSuffix = {"", "K", "M", "G", "T", "P", "E"};
  std::string out = "(";
  for (int k = k0; k <= k1; k += step) {
    std::string label;
    if (k >= 0 && k < 70) {
      const int p = k / 10;
      label =
          std::to_string(std::uint64_t{1} << (k - 10 * p)) + kSuffix[static_cast<std::size_t>(p)];
    } else {
      label = num(std::ldexp(1.0, k));
    }
    out.append(k == k0 ? "" : ", ").append(gnuplot_quote(label)).append(" ");
    out.append(num(std::ldexp(1.0, k)));
  }
  return out + ")";
}

/// "label (unit)" in at most about `max_glyphs` characters: a long label is shortened before the
/// unit is, so the unit stays on the axis.
std::string axis_title(const Axis& a, std::size_t max_glyphs) {
  const std::string unit = shortened(a.unit, std::max<std::size_t>(max_glyphs / 2, 8));
  const std::size_t unit_glyphs = unit.empty() ? 0 : glyphs(unit) + 3;
  std::string s =
      shortened(a.label, std::max<std::size_t>(max_glyphs - std::min(max_glyphs, unit_glyphs), 8));
  if (!unit.empty()) s.append(s.empty() ? "" : " ").append("(").append(unit).append(")");
  return s;
}

/// Axis commands: label with unit, log scale, tick style, range.
void set_axis(std::ostream& gp, const Axis& a, char name, double lo, double hi, bool have_range,
              std::size_t max_chars) {
  // A second line of the rotated y label would run into the tick labels: one line there. Two
  // lines under the x axis, with slack for where the words break.
  const std::size_t lines = name == 'y' ? 1 : 2;
  gp << "set " << name << "label "
     << gnuplot_wrapped(axis_title(a, lines == 1 ? max_chars : max_chars * 3 / 2), max_chars, lines)
     << "\n";
  if (a.log) gp << "set logscale " << name << " 10\n";
  switch (a.ticks) {
    case Axis::Ticks::Auto:
      break;
    case Axis::Ticks::Binary:
      if (a.log && have_range) {
        const double k0 = std::floor(std::log2(lo)), k1 = std::ceil(std::log2(hi));
        gp << "set " << name << "tics " << binary_tics(lo, hi) << "\n";
        gp << "set " << name << "range [" << num(std::exp2(k0)) << ":" << num(std::exp2(k1))
           << "]\n";
        break;
      }
      [[fallthrough]];  // On a linear axis powers of two would bunch up: SI prefixes instead.
    case Axis::Ticks::Si:
      gp << "set format " << name << (a.log ? " '%.0s%c'" : " '%.1s%c'") << "\n";
      break;
  }
}

/// Bars as boxes [xlow, xhigh] x [ylow, yhigh], side by side within each x position. On a log x
/// axis the geometry is laid out in log space so bars keep equal visual widths.
struct BarBox {
  double x, y, xlow, xhigh, ylow, yhigh;
};

std::vector<std::vector<BarBox>> layout_bars(const Chart& c, const std::vector<Kept>& kept,
                                             double y_floor) {
  auto to_axis = [&](double v) { return c.x.log ? std::log10(v) : v; };
  auto from_axis = [&](double v) { return c.x.log ? std::pow(10.0, v) : v; };
  std::vector<double> pos;
  for (const Kept& k : kept)
    for (double x : k.x) pos.push_back(to_axis(x));
  std::sort(pos.begin(), pos.end());
  pos.erase(std::unique(pos.begin(), pos.end()), pos.end());
  // Groups take 80% of the closest spacing between x positions (categories are 1 apart; a lone
  // position on a log axis gets a factor of 2 either side).
  double gap = c.x.log && pos.size() < 2 ? 0.3 : 1.0;
  if (pos.size() > 1 && c.categories.empty()) {
    gap = pos[1] - pos[0];
    for (std::size_t i = 2; i < pos.size(); ++i) gap = std::min(gap, pos[i] - pos[i - 1]);
  }
  const double group = 0.8 * gap;
  const double width = group / static_cast<double>(kept.size());
  std::vector<std::vector<BarBox>> out(kept.size());
  for (std::size_t s = 0; s < kept.size(); ++s) {
    for (std::size_t i = 0; i < kept[s].x.size(); ++i) {
      const double p = to_axis(kept[s].x[i]);
      const double left = p - group / 2 + static_cast<double>(s) * width;
      const double y = kept[s].y[i];
      out[s].push_back({from_axis(left + width / 2), y, from_axis(left), from_axis(left + width),
                        std::min(y_floor, y), std::max(y_floor, y)});
    }
  }
  return out;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void remove_quietly(const fs::path& p) {
  std::error_code ignored;
  fs::remove(p, ignored);
}

/// Runs `gnuplot -d <script>` in the script's folder, with stdin from /dev/null and stdout+stderr
/// into `log`; returns the wait status. No shell is involved, so no path or text is ever parsed as
/// a shell command; running in the output folder lets the script name its files by their plain
/// names, whatever characters the folder's path holds.
int run_gnuplot(const std::string& program, const fs::path& script, const fs::path& log) {
  const fs::path log_abs = fs::absolute(log), dir_abs = fs::absolute(script).parent_path();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_abs.c_str(), O_WRONLY | O_TRUNC, 0);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addchdir_np(&actions, dir_abs.c_str());
  std::string arg0 = program, arg1 = "-d", arg2 = script.filename().string();
  std::array<char*, 4> argv = {arg0.data(), arg1.data(), arg2.data(), nullptr};
  // The script is UTF-8 ("set encoding utf8"). gnuplot converts its text to the locale's charset
  // with iconv, which fails under the C/POSIX locale of a bare environment (env -i, a fresh
  // Debian without locales) and warns per chart. Its locale is therefore fixed, whatever ours is:
  // C.UTF-8 is built into glibc (2.35+) and shipped by Debian's libc-bin, and its numbers use '.'.
  std::vector<std::string> env_text;
  for (char** e = environ; e && *e; ++e) {
    const std::string_view kv(*e);
    if (kv.starts_with("LC_") || kv.starts_with("LANG=") || kv.starts_with("LANGUAGE=")) continue;
    env_text.emplace_back(kv);
  }
  env_text.emplace_back("LC_ALL=C.UTF-8");
  std::vector<char*> envp;
  for (std::string& kv : env_text) envp.push_back(kv.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    std::string msg = "cannot run '";
    msg.append(one_line(program)).append("' to draw charts: ").append(std::strerror(rc));
    msg.append(" (install gnuplot, e.g. Debian's gnuplot-nox)");
    throw std::runtime_error(msg);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("waiting for gnuplot failed");
  }
  return status;
}

void check_png(const Chart& c, const fs::path& file, const std::string& bytes) {
  const std::optional<PngSize> size = png_size(bytes);
  if (!size || size->width == 0 || size->height == 0) {
    std::string msg = "gnuplot wrote no valid PNG for ";
    msg.append(chart_label(c)).append(" (").append(one_line(file.string())).append(")");
    throw std::runtime_error(msg);
  }
}

void check_svg(const Chart& c, const fs::path& file, const std::string& text) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  const bool ok = lower.find("<svg") != std::string::npos &&
                  lower.find("</svg>") != std::string::npos &&
                  lower.find("<script") == std::string::npos;
  if (!ok) {
    std::string msg = "gnuplot wrote no valid SVG for ";
    msg.append(chart_label(c)).append(" (").append(one_line(file.string())).append(")");
    throw std::runtime_error(msg);
  }
}

}  // namespace

std::optional<PngSize> png_size(std::string_view b) {
  static constexpr std::string_view kSignature = "\x89PNG\r\n\x1a\n";
  // Signature (8), IHDR length (4) and type (4), then width and height, big-endian.
  if (b.size() < 24 || b.substr(0, 8) != kSignature || b.substr(12, 4) != "IHDR") return {};
  auto be32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
    return v;
  };
  return PngSize{be32(16), be32(20)};
}

void check_chart(const Chart& c) {
  if (c.series.empty()) bad_chart(c, "has no series");
  if (c.y.unit.empty()) bad_chart(c, "the y axis needs a unit");
  if (c.x.unit.empty() && c.categories.empty()) bad_chart(c, "the x axis needs a unit");
  if (!c.categories.empty() && c.x.log) bad_chart(c, "categories cannot be on a log x axis");
  const double n = static_cast<double>(c.categories.size());
  for (const Series& s : c.series) {
    std::string where = "series '";
    where.append(one_line(s.name)).append("'");
    if (s.x.size() != s.y.size()) {
      where.append(" has ").append(std::to_string(s.x.size())).append(" x values but ");
      where.append(std::to_string(s.y.size())).append(" y values");
      bad_chart(c, where);
    }
    if (c.categories.empty()) continue;
    for (double x : s.x) {
      if (std::isfinite(x) && (x != std::floor(x) || x < 0 || x >= n)) {
        where.append(": x value ").append(num(x)).append(" is not a category index 0..");
        where.append(std::to_string(c.categories.size() - 1));
        bad_chart(c, where);
      }
    }
  }
}

DrawnChart draw_chart(const Chart& c, const fs::path& dir, const std::string& stem,
                      const ChartStyle& style) {
  if (!is_valid_stem(stem)) bad_chart(c, "invalid file name for the chart");
  check_chart(c);
  DrawnChart out;
  out.stem = stem;
  out.png = dir / (stem + ".png");
  out.svg = dir / (stem + ".svg");

  std::vector<Kept> kept;
  std::size_t drawable = 0;
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY;
  for (const Series& s : c.series) {
    kept.push_back(keep_drawable(c, s, out.warnings));
    drawable += kept.back().x.size();
    for (double x : kept.back().x) x_lo = std::min(x_lo, x), x_hi = std::max(x_hi, x);
    for (double y : kept.back().y) y_lo = std::min(y_lo, y);
  }
  if (drawable == 0)
    bad_chart(c, "has no drawable point (all NaN, infinite or <= 0 on a log axis)");

  const bool bars = c.kind == Chart::Kind::Bars;
  // Bars start at 0, or on a log y axis at the decade below the smallest value.
  double y_floor = 0;
  if (bars && c.y.log) {
    y_floor = std::pow(10.0, std::floor(std::log10(y_lo)));
    if (y_floor >= y_lo) y_floor /= 10;
  }
  std::vector<std::vector<BarBox>> boxes;
  if (bars) {
    boxes = layout_bars(c, kept, y_floor);
    for (const auto& series_boxes : boxes)
      for (const BarBox& b : series_boxes)
        x_lo = std::min(x_lo, b.xlow), x_hi = std::max(x_hi, b.xhigh);
  }

  const fs::path script = make_temp_sibling_file(dir / (stem + ".gp"));
  const fs::path log = make_temp_sibling_file(dir / (stem + ".log"));
  const fs::path png_tmp = make_temp_sibling_file(out.png);
  const fs::path svg_tmp = make_temp_sibling_file(out.svg);
  auto cleanup = [&] {
    for (const fs::path& p : {script, log, png_tmp, svg_tmp}) remove_quietly(p);
  };
  try {
    {
      // ">file" makes gnuplot-iostream write the script to a file instead of a pipe.
      Gnuplot gp(">" + script.string());
      gp << "# " << chart_label(c) << ", drawn by v4sim\n";
      gp << "set encoding utf8\n" << gnuplot_preamble();
      for (std::size_t s = 0; s < kept.size(); ++s) {
        // Data blocks hold numbers only (written by gnuplot-iostream at 19 significant digits),
        // ended by "e"; both terminals below plot the same blocks.
        gp << "$s" << s << " << e\n";
        if (bars) {
          std::vector<std::tuple<double, double, double, double, double, double>> rows;
          for (const BarBox& b : boxes[s])
            rows.emplace_back(b.x, b.y, b.xlow, b.xhigh, b.ylow, b.yhigh);
          gp.send1d(rows);
        } else {
          std::vector<std::pair<double, double>> rows;
          for (std::size_t i = 0; i < kept[s].x.size(); ++i)
            rows.emplace_back(kept[s].x[i], kept[s].y[i]);
          gp.send1d(rows);
        }
      }
      // Characters per line that fit the narrower image: DejaVu Sans averages about 0.6 em per
      // character; 80% of the width leaves the margins free.
      const double width_px = std::min(style.png_width_px, style.svg_width_px);
      auto fits = [&](int pt) {
        return static_cast<std::size_t>(0.8 * width_px / (0.6 * pt * 96 / 72));
      };
      const int title_pt = style.font_size_pt + 3;
      gp << "set title " << gnuplot_wrapped(c.title, fits(title_pt), 3) << " font '," << title_pt
         << "'\n";
      set_axis(gp, c.x, 'x', x_lo, x_hi, true, fits(style.font_size_pt));
      set_axis(gp, c.y, 'y', 0, 0, false, fits(style.font_size_pt) * 6 / 10);
      const std::size_t max_key_chars = fits(style.font_size_pt) * 8 / 10;
      if (!c.categories.empty()) {
        gp << "set xtics (";
        std::size_t longest = 0;
        for (std::size_t i = 0; i < c.categories.size(); ++i) {
          const std::string label = shortened(c.categories[i], kMaxCategoryChars);
          if (label != one_line(c.categories[i])) {
            std::string w = chart_label(c);
            out.warnings.push_back(w.append(": category shortened to '").append(label).append("'"));
          }
          gp << (i ? ", " : "") << gnuplot_quote(label) << " " << i;
          longest = std::max(longest, glyphs(label));
        }
        gp << ")\n";
        if (longest * c.categories.size() > 80) gp << "set xtics rotate by 30 right\n";
        gp << "set xrange [-0.6:" << num(static_cast<double>(c.categories.size()) - 0.4) << "]\n";
      } else if (bars && !c.x.log) {
        const double pad = 0.02 * (x_hi - x_lo);
        gp << "set xrange [" << num(x_lo - pad) << ":" << num(x_hi + pad) << "]\n";
      }
      if (bars && c.y.log) gp << "set yrange [" << num(y_floor) << ":*]\n";
      if (bars && !c.y.log) gp << "set yrange [" << (y_lo < 0 ? "*" : "0") << ":*]\n";
      // Vertical grid lines would cut through bars.
      gp << "set grid " << (bars ? "" : "xtics ") << "ytics lt 1 lw 1 lc rgb '#dddddd'\n";
      gp << "set border 3 lw 1.2\nset tics nomirror out\n";
      // Room right of the plot for half of the last x tick label ("10000" was clipped by the
      // image edge under gnuplot's automatic margin).
      gp << "set rmargin 4\n";
      gp << "set key below horizontal noautotitle height 1.5\n";
      gp << "set style fill solid 0.85 noborder\n";

      std::ostringstream plot;
      plot << "plot ";
      for (std::size_t s = 0; s < kept.size(); ++s) {
        const char* colour = kColours[s % kColours.size()];
        plot << (s ? ", " : "") << "$s" << s;
        if (bars) {
          plot << " using 1:2:3:4:5:6 with boxxyerror lc rgb '" << colour << "'";
        } else {
          plot << " using 1:2 with linespoints lw 2 ps 1.2 pt "
               << kPointTypes[s % kPointTypes.size()] << " lc rgb '" << colour << "'";
        }
        // gnuplot leaves out the whole key when one entry is wider than the plot.
        const std::string name = shortened(c.series[s].name, max_key_chars);
        if (name != one_line(c.series[s].name)) {
          std::string w = chart_label(c);
          w.append(": series name shortened in the legend to '").append(name).append("'");
          out.warnings.push_back(w);
        }
        plot << " title " << gnuplot_quote(name);
      }
      const std::string font = gnuplot_quote(style.font + "," + std::to_string(style.font_size_pt));
      auto terminal = [&](std::string_view name, int w, int h) {
        std::ostringstream t;
        t << "set terminal " << name << " size " << w << "," << h << " font " << font
          << " noenhanced background '#ffffff'";
        return t.str();
      };
      gp << "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n  "
         << terminal("pngcairo", style.png_width_px, style.png_height_px) << " linewidth 1.2\n"
         << "} else {\n  " << terminal("png", style.png_width_px, style.png_height_px) << "\n}\n";
      gp << "set output " << gnuplot_quote(png_tmp.filename().string()) << "\n"
         << plot.str() << "\n";
      gp << terminal("svg", style.svg_width_px, style.svg_height_px) << "\n";
      gp << "set output " << gnuplot_quote(svg_tmp.filename().string()) << "\n"
         << plot.str() << "\n";
      gp << "unset output\n";
      gp.flush();
      if (!gp) {
        std::string msg = "cannot write the gnuplot script ";
        throw std::runtime_error(msg.append(one_line(script.string())));
      }
    }
    const int status = run_gnuplot(style.gnuplot, script, log);
    const std::string messages = read_file(log);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::string msg = "gnuplot failed drawing ";
      msg.append(chart_label(c))
          .append(": ")
          .append(one_line(messages).substr(0, kMaxMessageChars));
      throw std::runtime_error(msg);
    }
    // gnuplot names the script in its messages; say the chart's own script name, never the
    // random temporary one, so a warning reads the same on every run.
    const std::string tmp_name = script.filename().string(), stable_name = stem + ".gp";
    std::istringstream lines(messages);
    for (std::string line; std::getline(lines, line);) {
      if (line.find_first_not_of(" \t^") == std::string::npos) continue;
      for (std::size_t at = line.find(tmp_name); at != std::string::npos;
           at = line.find(tmp_name, at + stable_name.size()))
        line.replace(at, tmp_name.size(), stable_name);
      std::string w = chart_label(c);
      out.warnings.push_back(w.append(": gnuplot: ").append(one_line(line)));
    }
    const std::string png_bytes = read_file(png_tmp);
    check_png(c, out.png, png_bytes);
    out.svg_text = read_file(svg_tmp);
    check_svg(c, out.svg, out.svg_text);
    rename_into_place(png_tmp, out.png);
    rename_into_place(svg_tmp, out.svg);
    if (style.keep_script) rename_into_place(script, dir / (stem + ".gp"));
  } catch (...) {
    cleanup();
    throw;
  }
  cleanup();
  return out;
}

}  // namespace v4sim::report
