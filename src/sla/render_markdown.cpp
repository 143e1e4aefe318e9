// The report as Markdown (GitHub's tables).
#include <fmt/format.h>

#include "sla/document.h"
#include "sla/render.h"

namespace leeway::sla {

namespace {

// A table cell: no '|' or line break may end it early.
std::string cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string render_markdown(const Report& report) {
  detail::Document d = detail::build_document(report);
  std::string out = fmt::format("# {}\n\n{}\n\n", cell(d.title), cell(d.subtitle));
  out += "| figure | value |\n| --- | --- |\n";
  for (const auto& [label, value] : d.summary)
    out += fmt::format("| {} | {} |\n", cell(label), cell(value));
  for (const auto& table : d.tables) {
    out += fmt::format("\n## {}\n\n|", table.title);
    for (const auto& h : table.headers) out += fmt::format(" {} |", h);
    out += "\n|";
    for (std::size_t i = 0; i < table.headers.size(); ++i) out += " --- |";
    out += "\n";
    for (const auto& row : table.rows) {
      out += "|";
      for (const auto& c : row) out += fmt::format(" {} |", cell(c));
      out += "\n";
    }
  }
  if (!d.notes.empty()) {
    out += "\n## Notes\n\n";
    for (const auto& n : d.notes) out += fmt::format("- {}\n", cell(n));
  }
  return out;
}

}  // namespace leeway::sla
