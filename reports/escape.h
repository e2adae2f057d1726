// Escaping of untrusted text (titles, labels, names from scenario files) for each output format.
// One rule per format, so a string from a file is always shown as text and never interpreted:
// no gnuplot command runs, no HTML element or script appears, no Markdown markup takes effect, and
// no terminal escape sequence reaches a terminal.
#pragma once

#include <string>
#include <string_view>

namespace v4sim::report {

/// The text as one printable line: control characters (C0 including tab, CR and LF, DEL, and C1)
/// become spaces and bytes that are not valid UTF-8 become U+FFFD. Used before every other escape,
/// and for anything echoed to a terminal (error messages, progress lines).
std::string one_line(std::string_view s);

/// Name of the gnuplot string variable that holds a single quote (see gnuplot_preamble).
inline constexpr std::string_view kGnuplotQuoteVariable = "v4sim_quote";

/// The line every gnuplot script using gnuplot_quote must start with: it defines
/// kGnuplotQuoteVariable as "'". Kept on a line of its own because a quote inside a double-quoted
/// string confuses gnuplot's macro scanner for the rest of that line.
std::string gnuplot_preamble();

/// A gnuplot string expression for one_line(s), made of single-quoted literals joined by "." with
/// kGnuplotQuoteVariable for each quote in the text: it's -> 'it' . v4sim_quote . 's'. Inside
/// single quotes gnuplot does no backtick command substitution, no @macro expansion and no
/// backslash escapes; removing line breaks stops text from ending the command and starting
/// another. Usable wherever gnuplot takes a string expression (titles, labels, tic labels, key
/// entries), in a script that starts with gnuplot_preamble().
std::string gnuplot_quote(std::string_view s);

/// one_line(s) with & < > " ' replaced by entities: safe in HTML/XML text and quoted attributes.
std::string html_escape(std::string_view s);

/// one_line(s) for the middle of a Markdown line (table cells, after "## " or "- "): every
/// character that could start markup (\ ` * _ [ ] < > | & ~ #) gets a backslash, so "<script>"
/// renders as text and "|" does not split a table cell.
std::string markdown_inline(std::string_view s);

/// markdown_inline(s), plus escaping a leading block marker ("-", "+", "=", "1." or "1)") so text
/// that starts a line or a list item cannot turn into a list, heading rule or nested list.
std::string markdown_line_start(std::string_view s);

}  // namespace v4sim::report
