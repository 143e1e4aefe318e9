// The format names and the one switch over them.
#include <fmt/format.h>

#include "sla/render.h"

namespace leeway::sla {

Result<Format> parse_format(std::string_view text) {
  if (text == "md" || text == "markdown") return Format::kMarkdown;
  if (text == "html") return Format::kHtml;
  if (text == "csv") return Format::kCsv;
  if (text == "json") return Format::kJson;
  return fail(fmt::format("unknown format \"{}\"; expected md, html, csv or json", text));
}

std::string render(const Report& report, Format format) {
  switch (format) {
    case Format::kMarkdown:
      return render_markdown(report);
    case Format::kHtml:
      return render_html(report);
    case Format::kCsv:
      return render_csv(report);
    case Format::kJson:
      return render_json(report);
  }
  return "";
}

}  // namespace leeway::sla
