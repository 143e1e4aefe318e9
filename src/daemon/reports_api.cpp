// The SLA routes: the configured contracts, and a contract's monthly report built from the
// stores (incidents with their acks, maintenance windows, manual exclusions, reclassifications,
// the services' first minutes) by the SLA engine, on the HTTP server's workers. A closed month's
// first report is frozen with the hash of its inputs; a later request recomputes it and stores a
// new revision, with what changed, only when the inputs did.
#include <charconv>
#include <nlohmann/json.hpp>

#include "daemon/api_input.h"
#include "daemon/impl.h"
#include "report/evidence.h"
#include "report/revision.h"
#include "sla/engine.h"
#include "sla/render.h"

namespace leeway::daemon {

namespace {

using nlohmann::json;

// The most incidents of one service in one month a report reads; beyond it the report is refused
// rather than computed from a part.
constexpr std::size_t kMaxIncidents = 100'000;
// Windows and exclusions overlapping one month.
constexpr std::size_t kMaxRecords = 100'000;

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

http::Response frozen_response(const store::FrozenReport& r, sla::Format format) {
  const std::string* body = &r.json;
  if (format == sla::Format::kMarkdown) body = &r.markdown;
  if (format == sla::Format::kHtml) body = &r.html;
  if (format == sla::Format::kCsv) body = &r.csv;
  http::Response out = http::Response::text(*body, content_type(format));
  out.headers.emplace_back("X-Leeway-Report-Revision", std::to_string(r.revision));
  return out;
}

// What one report request needs, taken on the loop.
struct ReportRequest {
  std::shared_ptr<const config::Config> config;
  sla::Contract contract;
  sla::ReportMonth month;
  sla::Format format = sla::Format::kJson;
  std::optional<int> revision;
  TimeUs now_us = 0;
};

// The first minute each covered service had a result, from a day before the month on.
Status read_first_minutes(const ReportRequest& q, store::Store& db, report::StoredEvidence& out) {
  for (const auto& service : q.config->services) {
    if (std::find(q.contract.services.begin(), q.contract.services.end(), service.id) ==
        q.contract.services.end())
      continue;
    for (const auto& check : service.checks) {
      store::RollupQuery rq{check.id, std::nullopt,
                            q.month.start_us - report::kFirstMinuteLookbackUs, q.month.end_us,
                            true};
      auto rollups = db.rollups(rq);
      if (!rollups) return rollups.error();
      for (const auto& m : *rollups) {
        if (m.total == 0) continue;
        auto [it, added] = out.first_minute_us.emplace(service.id, m.minute_us);
        if (!added) it->second = std::min(it->second, m.minute_us);
        break;
      }
    }
  }
  return {};
}

// The report's inputs from the stores.
Result<report::StoredEvidence> gather(const ReportRequest& q, store::Store& db,
                                      store::IncidentStore& incidents, store::SlaStore& sla) {
  report::StoredEvidence out;
  if (q.now_us < q.month.end_us) out.as_of_us = q.now_us;
  for (const auto& service : q.contract.services) {
    store::IncidentQuery iq{service, std::nullopt, q.month.start_us, q.month.end_us, kMaxIncidents};
    auto listed = incidents.incidents(iq);
    if (!listed) return listed.error();
    if (listed->size() >= kMaxIncidents)
      return fail("service ", service, " has more than ", std::to_string(kMaxIncidents),
                  " incidents in the month; the report is refused rather than computed from a "
                  "part of them");
    for (auto& incident : *listed) {
      if (incident.acks > 0) {
        auto whole = incidents.incident(incident.id);
        if (!whole) return whole.error();
        incident.notes = std::move(whole->notes);
      }
      auto trail = sla.reclassifications(incident.id);
      if (!trail) return trail.error();
      out.reclassifications.insert(out.reclassifications.end(), trail->begin(), trail->end());
      out.incidents.push_back(std::move(incident));
    }
  }
  store::RangeQuery rq{std::nullopt, q.month.start_us, q.month.end_us, kMaxRecords};
  auto windows = sla.windows(rq);
  if (!windows) return windows.error();
  auto exclusions = sla.exclusions(rq);
  if (!exclusions) return exclusions.error();
  if (windows->size() >= kMaxRecords || exclusions->size() >= kMaxRecords)
    return fail("more than ", std::to_string(kMaxRecords),
                " maintenance windows or exclusions overlap the month; the report is refused "
                "rather than computed from a part of them");
  out.windows = std::move(*windows);
  out.exclusions = std::move(*exclusions);
  if (q.contract.measurement.only_existing_minutes)
    if (Status s = read_first_minutes(q, db, out); !s) return s.error();
  return out;
}

// The previous revision's figures, from its stored JSON.
void previous_figures(const store::FrozenReport& previous, sla::Revision& v) {
  const json j = json::parse(previous.json, nullptr, false);
  if (!j.is_object()) return;  // written by this daemon: never expected
  const json total = j.value("total", json::object());
  if (total.is_object() && total.contains("minor_units"))
    v.previous_total_minor_units = total["minor_units"].get<std::int64_t>();
  v.previous_availability = j.value("availability", json::object()).value("percent", "unknown");
  const json minutes = j.value("minutes", json::object());
  v.previous_unavailable_minutes = minutes.value("unavailable", std::int64_t{0});
  v.previous_excluded_minutes = minutes.value("excluded", std::int64_t{0});
}

// A closed month: the latest frozen revision when the inputs are those it was computed from,
// else a new revision with what changed, stored before it is served.
Result<store::FrozenReport> freeze(const ReportRequest& q, sla::Report report,
                                   const sla::Evidence& evidence, store::SlaStore& sla) {
  const std::string label = q.month.label();
  const json inputs = report::canonical_inputs(evidence);
  const std::string text = report::canonical_text(inputs);
  const std::string sha = report::sha256_hex(text);
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto latest = sla.frozen_report(q.contract.id, label, std::nullopt);
    if (!latest) return latest.error();
    if (*latest && (*latest)->inputs_sha256 == sha) return **latest;
    sla::Revision v;
    v.inputs_sha256 = sha;
    v.frozen_us = q.now_us;
    if (*latest) {
      v.number = (*latest)->revision + 1;
      v.changes = report::input_changes(json::parse((*latest)->inputs, nullptr, false), inputs);
      previous_figures(**latest, v);
    }
    report.revision = v;
    store::FrozenReport frozen{q.contract.id,
                               label,
                               v.number,
                               sha,
                               text,
                               v.frozen_us,
                               sla::render_json(report),
                               sla::render_markdown(report),
                               sla::render_html(report),
                               sla::render_csv(report)};
    auto stored = sla.add_frozen_report(frozen);
    if (!stored) return stored.error();
    if (*stored) return frozen;
    // Another request stored this revision first: read it again.
  }
  return fail("the report of ", q.contract.id, " for ", label,
              " kept changing while it was frozen; ask again");
}

http::Response build_report(const ReportRequest& q, store::Store& db,
                            store::IncidentStore& incidents, store::SlaStore& sla) {
  const bool closed = q.now_us >= q.month.end_us;
  if (q.revision) {
    auto stored = sla.frozen_report(q.contract.id, q.month.label(), q.revision);
    if (!stored) return error_response(stored.error());
    if (!*stored)
      return http::Response::error(
          404, "revision: no revision " + std::to_string(*q.revision) + " of " + q.contract.id +
                   "'s report for " + q.month.label() +
                   (closed ? "" : " (the month is not over: only a closed month is frozen)"));
    return frozen_response(**stored, q.format);
  }
  auto stored = gather(q, db, incidents, sla);
  if (!stored) return error_response(stored.error());
  const sla::Evidence evidence = report::sla_evidence(*stored, *q.config);
  sla::Report report = sla::compute_report(q.contract, q.month, evidence);
  if (!closed) return http::Response::text(sla::render(report, q.format), content_type(q.format));
  auto frozen = freeze(q, std::move(report), evidence, sla);
  if (!frozen) return error_response(frozen.error());
  return frozen_response(*frozen, q.format);
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
  ReportRequest q;
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
  return [q = std::move(q), &db = *store, &incidents = *incident_store, &sla = *sla_store] {
    return build_report(q, db, incidents, sla);
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
