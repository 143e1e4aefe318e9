// A report as text for people and programs: Markdown, one self-contained printable HTML file,
// CSV (one row per incident plus a summary row) and JSON (every figure with its sources).
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"
#include "sla/report.h"

namespace leeway::sla {

enum class Format { kMarkdown, kHtml, kCsv, kJson };

// "md", "html", "csv" or "json".
Result<Format> parse_format(std::string_view text);

std::string render_markdown(const Report& report);
std::string render_html(const Report& report);
std::string render_csv(const Report& report);
std::string render_json(const Report& report);

// The report in `format`.
std::string render(const Report& report, Format format);

}  // namespace leeway::sla
