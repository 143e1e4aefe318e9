// The SLA routes: the configured contracts, and a contract's monthly report (report/monthly.h:
// built from the stores by the SLA engine, frozen once the month is over, a new revision when
// its inputs change) on the HTTP server's workers.
#include <charconv>
#include <nlohmann/json.hpp>

#include "daemon/api_input.h"
#include "daemon/impl.h"
#include "report/monthly.h"

namespace leeway::daemon {

namespace {

using nlohmann::json;

json contract_json(const sla::Contract& c) {
  return {{"id", c.id},
          {"customer", c.customer},
          {"services", c.services},
          {"fee", {{"minor_units", c.fee.minor_units}, {"text", sla::format_money(c.fee)}}},
          {"currency", c.fee.currency},
          {"time_zone", c.time_zone},
          {"target", sla::format_percentage(c.measurement.target)},
          {"reports", "/api/v1/contracts/" + c.id + "/reports/{YYYY-MM}"}};
}

std::string content_type(sla::Format format) {
  switch (format) {
    case sla::Format::kMarkdown:
      return "text/markdown; charset=utf-8";
    case sla::Format::kHtml:
      return "text/html; charset=utf-8";
    case sla::Format::kCsv:
      return "text/csv; charset=utf-8";
    case sla::Format::kJson:
      break;
  }
  return "application/json";
}

http::Response build_report(const report::MonthlyRequest& q, const report::Stores& stores) {
  auto report = report::monthly_report(q, stores);
  if (!report) return error_response(report.error());
  http::Response out = http::Response::text(report->body, content_type(q.format));
  if (report->revision)
    out.headers.emplace_back("X-Leeway-Report-Revision", std::to_string(*report->revision));
  return out;
}

Result<int> revision_param(const std::string& text) {
  int n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || p != text.data() + text.size() || n < 1)
    return fail_as(ErrorKind::kInvalidArgument,
                   "revision: expected a revision number from 1 up, got \"", text, "\"");
  return n;
}

}  // namespace

http::Work Daemon::Impl::contract_report(const http::Request& r) {
  report::MonthlyRequest q;
  q.config = config;
  const sla::Contract* contract = config->find_contract(r.params.at(0));
  if (contract == nullptr)
    return answer(http::Response::error(404, "no such contract: \"" + r.params.at(0) + "\""));
  q.contract = *contract;
  auto month = sla::parse_year_month(r.params.at(1));
  if (!month) return answer(http::Response::error(400, "month: " + month.error().message));
  auto in_zone = sla::report_month(contract->time_zone, *month);
  if (!in_zone) return answer(http::Response::error(400, "month: " + in_zone.error().message));
  q.month = *in_zone;
  q.now_us = clock.now_us();
  if (q.now_us < q.month.start_us)
    return answer(http::Response::error(400, "month: " + q.month.label() + " has not started in " +
                                                 contract->time_zone + " (it starts at " +
                                                 format_rfc3339(q.month.start_us) + ")"));
  if (auto it = r.query.find("format"); it != r.query.end()) {
    auto format = sla::parse_format(it->second);
    if (!format) return answer(http::Response::error(400, "format: " + format.error().message));
    q.format = *format;
  }
  if (auto it = r.query.find("revision"); it != r.query.end()) {
    auto n = revision_param(it->second);
    if (!n) return answer(error_response(n.error()));
    q.revision = *n;
  }
  return [q = std::move(q), stores = report::Stores{*store, *incident_store, *sla_store}] {
    return build_report(q, stores);
  };
}

std::vector<http::Route> Daemon::Impl::report_routes() {
  using http::Request;
  return {
      {"GET", "/api/v1/contracts",
       [this](const Request&) {
         json contracts = json::array();
         for (const auto& c : config->contracts) contracts.push_back(contract_json(c));
         return http::Response::json({{"contracts", contracts}});
       }},
      {"GET", "/api/v1/contracts/{id}/reports/{month}",
       [this](const Request& r) { return contract_report(r); }},
  };
}

}  // namespace leeway::daemon
