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

/// A gnuplot single-quoted string literal of one_line(s), with ' doubled: 'it''s'. Inside single
/// quotes gnuplot does no backtick command substitution, no @macro expansion and no backslash
/// escapes; removing line breaks stops text from ending the command and starting a new one.
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
