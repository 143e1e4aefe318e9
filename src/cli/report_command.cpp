// `leeway report CONTRACT --month YYYY-MM [--format md|html|csv|json] [--revision N]`: a
// contract's monthly SLA report from a running daemon, printed as the daemon renders it. A
// closed month's report is frozen; a later revision says what changed.
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/http.h"
#include "core/text.h"

namespace leeway::cli {

namespace {

struct ReportOptions {
  std::string contract;
  std::string month;
  std::string format = "md";
  int revision = 0;
  std::string server = "http://127.0.0.1:8080";
};

// Markdown for a terminal: each line made safe (a customer's name could hold escape codes).
std::string safe_lines(const std::string& text) {
  std::string out;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    out += terminal_safe(std::string_view(text).substr(at, end - at)) + "\n";
    at = end + 1;
  }
  return out;
}

int run_report(const ReportOptions& o) {
  std::string url = o.server + "/api/v1/contracts/" + path_segment(o.contract) + "/reports/" +
                    path_segment(o.month) + "?format=" + o.format;
  if (o.revision > 0) url += "&revision=" + std::to_string(o.revision);
  auto body = http_get(url);
  if (!body) {
    std::cerr << "leeway report: " << body.error().message << "\n";
    return kExitUnknown;
  }
  // HTML, CSV and JSON go to a file or a program as they are (JSON escapes control
  // characters itself); Markdown is read on a terminal.
  std::cout << (o.format == "md" ? safe_lines(*body) : *body);
  if (!body->empty() && body->back() != '\n') std::cout << "\n";
  return 0;
}

}  // namespace

Runner setup_report(CLI::App& sub) {
  auto o = std::make_shared<ReportOptions>();
  sub.add_option("contract", o->contract, "the contract's id (config `contracts:`)")->required();
  sub.add_option("--month", o->month, "the month, e.g. 2026-10, in the contract's time zone")
      ->required();
  sub.add_option("--format", o->format, "md, html (one printable file), csv or json")
      ->check(CLI::IsMember({"md", "html", "csv", "json"}))
      ->capture_default_str();
  sub.add_option("--revision", o->revision, "an earlier revision of a closed month's report")
      ->check(CLI::PositiveNumber);
  sub.add_option("--server", o->server, "the daemon's base URL")->capture_default_str();
  sub.footer(
      "Computes the report from what the daemon stores: incidents, maintenance windows, manual\n"
      "exclusions and reclassifications. A month that is not over is provisional (as of now);\n"
      "a closed month's first report is frozen, and a later change of its inputs (a late\n"
      "result, a reclassification) makes a new revision that says what changed.\n"
      "Exit codes: 0 printed; 3 no such contract or month, bad usage, or no daemon.");
  return [o] { return run_report(*o); };
}

}  // namespace leeway::cli
