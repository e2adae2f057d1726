#include "reports/escape.h"

#include <cstdint>

namespace v4sim::report {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

/// Length of the valid UTF-8 sequence starting at s[i], or 0 if the bytes there are not one
/// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_length(std::string_view s, std::size_t i, std::uint32_t& cp) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  std::size_t n = 0;
  if (c < 0x80) {
    cp = c;
    return 1;
  } else if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(k) & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
  return n;
}

}  // namespace

std::string one_line(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t cp = 0;
    const std::size_t n = utf8_length(s, i, cp);
    if (n == 0) {
      out.append(kReplacement);
      ++i;
      continue;
    }
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
      out.push_back(' ');
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  return out;
}

std::string gnuplot_preamble() {
  std::string line(kGnuplotQuoteVariable);
  return line.append(" = \"'\"\n");
}

std::string gnuplot_quote(std::string_view s) {
  const std::string text = one_line(s);
  if (text.empty()) return "''";
  // A quote from the text never goes inside a literal: gnuplot 5.4 misreads its '' escape at the
  // start of a literal and twice in a row (a title "''x" or "a''b" is a syntax error), and a
  // quote written as the constant "'" makes gnuplot's macro scanner lose track of which parts of
  // the line are quoted, so @name inside a later literal would be expanded. The variable holding
  // a quote (gnuplot_preamble) avoids both.
  std::string out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t quote = text.find('\'', start);
    const std::string_view piece = std::string_view(text).substr(start, quote - start);
    if (!piece.empty()) out.append(out.empty() ? "" : " . ").append("'").append(piece).append("'");
    if (quote == std::string::npos) break;
    out.append(out.empty() ? "" : " . ").append(kGnuplotQuoteVariable);
    start = quote + 1;
  }
  return out;
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : one_line(s)) {
    switch (c) {
      case '&':
        out.append("&amp;");
        break;
      case '<':
        out.append("&lt;");
        break;
      case '>':
        out.append("&gt;");
        break;
      case '"':
        out.append("&quot;");
        break;
      case '\'':
        out.append("&#39;");
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string markdown_inline(std::string_view s) {
  static constexpr std::string_view kMarkup = "\\`*_[]<>|&~#";
  std::string out;
  for (char c : one_line(s)) {
    if (kMarkup.find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string markdown_line_start(std::string_view s) {
  std::string out = markdown_inline(s);
  // Leading spaces would make an indented code block or hide the marker behind them.
  const std::size_t start = out.find_first_not_of(' ');
  if (start == std::string::npos) return {};
  out.erase(0, start);
  if (out[0] == '-' || out[0] == '+' || out[0] == '=') {
    out.insert(0, 1, '\\');
  } else {
    std::size_t d = 0;
    while (d < out.size() && out[d] >= '0' && out[d] <= '9') ++d;
    // "1." or "1)" starts an ordered list only when a space or the end of the line follows.
    const bool marker = d > 0 && d < out.size() && (out[d] == '.' || out[d] == ')') &&
                        (d + 1 == out.size() || out[d + 1] == ' ');
    if (marker) out.insert(d, 1, '\\');
  }
  return out;
}

}  // namespace v4sim::report
