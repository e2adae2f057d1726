// report.md: the report as GitHub-flavoured Markdown. Tables become Markdown tables (numeric
// columns right-aligned), charts are linked as their PNG files (with a link to the SVG), and each
// section ends with its assumptions and its inputs with sources. All report text is escaped
// (escape.h), so it shows as written and never as markup or raw HTML.
#pragma once

#include <string>
#include <vector>

#include "reports/charts.h"
#include "reports/file_names.h"
#include "reports/report.h"

namespace v4sim::report {

/// `charts[s][i]` is the drawn sections[s].charts[i] (its stem and warnings are used).
std::string to_markdown(const Report& r, const FileStems& stems,
                        const std::vector<std::vector<DrawnChart>>& charts);

}  // namespace v4sim::report
