// report.html: one self-contained page (inline CSS, charts inline as SVG, tables as HTML tables)
// that opens anywhere without network access. It loads no external resource and runs no script:
// all report text is HTML-escaped, every SVG is checked before it is inlined, and a
// Content-Security-Policy forbids scripts and remote loads even if something slipped through.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "reports/charts.h"
#include "reports/file_names.h"
#include "reports/report.h"

namespace v4sim::report {

/// The <svg> element of an SVG document, ready to inline: XML declaration, DOCTYPE and comments
/// before it removed, every id and reference to one (href="#..", url(#..)) prefixed with
/// `id_prefix` so charts on one page cannot pick up each other's definitions, and the first
/// <title> set to `title`. Throws std::runtime_error naming `what` if the text is not a single SVG
/// element or holds active or external content (script, foreignObject, iframe, object, embed,
/// image, on* event attributes, javascript: or external href/url references).
std::string inline_svg(std::string_view svg, std::string_view id_prefix, std::string_view title,
                       std::string_view what);

/// `charts[s][i]` is the drawn sections[s].charts[i] (its SVG text, stem and warnings are used).
std::string to_html(const Report& r, const FileStems& stems,
                    const std::vector<std::vector<DrawnChart>>& charts);

}  // namespace v4sim::report
