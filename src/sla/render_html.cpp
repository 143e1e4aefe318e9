// The report as one self-contained HTML file: inline CSS, no script, no outside resource, so a
// client can forward or print it as it is.
#include <fmt/format.h>

#include "sla/document.h"
#include "sla/render.h"

namespace leeway::sla {

namespace {

std::string escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

constexpr std::string_view kStyle = R"(
body { font: 10.5pt/1.4 system-ui, sans-serif; color: #111; margin: 2em; }
h1 { font-size: 16pt; margin: 0 0 .2em; }
h2 { font-size: 12.5pt; margin: 1.4em 0 .4em; break-after: avoid; }
p.period { color: #555; margin: 0 0 1em; }
table { border-collapse: collapse; width: 100%; font-size: 9pt; }
th, td { border: 1px solid #bbb; padding: .25em .45em; text-align: left; vertical-align: top; }
th { background: #eee; }
table.summary { width: auto; font-size: 10.5pt; }
table.summary th { font-weight: normal; white-space: nowrap; }
tr { break-inside: avoid; }
thead { display: table-header-group; }
@page { size: A4 landscape; margin: 12mm; }
@media print { body { margin: 0; } }
)";

}  // namespace

std::string render_html(const Report& report) {
  detail::Document d = detail::build_document(report);
  std::string out = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<h1>{}</h1>\n"
      "<p class=\"period\">{}</p>\n<table class=\"summary\">\n",
      escape(d.title), kStyle, escape(d.title), escape(d.subtitle));
  for (const auto& [label, value] : d.summary)
    out += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", escape(label), escape(value));
  out += "</table>\n";
  for (const auto& table : d.tables) {
    out += fmt::format("<h2>{}</h2>\n<table>\n<thead><tr>", escape(table.title));
    for (const auto& h : table.headers) out += fmt::format("<th>{}</th>", escape(h));
    out += "</tr></thead>\n<tbody>\n";
    for (const auto& row : table.rows) {
      out += "<tr>";
      for (const auto& c : row) out += fmt::format("<td>{}</td>", escape(c));
      out += "</tr>\n";
    }
    out += "</tbody>\n</table>\n";
  }
  if (!d.notes.empty()) {
    out += "<h2>Notes</h2>\n<ul>\n";
    for (const auto& n : d.notes) out += fmt::format("<li>{}</li>\n", escape(n));
    out += "</ul>\n";
  }
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace leeway::sla
