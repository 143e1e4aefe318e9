// The routes of the records SLA accounting reads: maintenance windows, manual exclusions and
// reclassifications of incidents, written with a token and listed. The store is read and written
// on the HTTP server's workers, never on the loop.
#include <nlohmann/json.hpp>

#include "daemon/api_input.h"
#include "daemon/impl.h"
#include "daemon/sla_records.h"

namespace leeway::daemon {

namespace {

using nlohmann::json;

json window_json(const store::MaintenanceWindow& w) {
  return {{"id", w.id},
          {"start", format_rfc3339(w.start_us)},
          {"end", format_rfc3339(w.end_us)},
          {"start_us", w.start_us},
          {"end_us", w.end_us},
          {"services", w.services},
          {"announced", format_rfc3339(w.announced_us)},
          {"announced_us", w.announced_us},
          {"author", w.author},
          {"description", w.description},
          {"source", store::to_string(w.source)}};
}

json exclusion_json(const store::ManualExclusion& e) {
  return {{"id", e.id},
          {"start", format_rfc3339(e.start_us)},
          {"end", format_rfc3339(e.end_us)},
          {"start_us", e.start_us},
          {"end_us", e.end_us},
          {"services", e.services},
          {"reason", e.reason},
          {"author", e.author},
          {"at", format_rfc3339(e.at_us)}};
}

json reclassification_json(const store::Reclassification& r) {
  return {{"id", r.id},
          {"incident", r.incident_id},
          {"field", r.field},
          {"value", r.value},
          {"author", r.author},
          {"reason", r.reason},
          {"at", format_rfc3339(r.at_us)}};
}

// The service, from and to parameters of a listing.
Result<store::RangeQuery> range_query(const http::Request& r) {
  store::RangeQuery q;
  if (auto it = r.query.find("service"); it != r.query.end()) q.service = it->second;
  if (Status s = time_range(r, q.from_us, q.to_us); !s) return s.error();
  return q;
}

// The start, end and services of a body, as a window and an exclusion both have them.
Status read_range(const json& body, const std::vector<std::string>& known, TimeUs& start_us,
                  TimeUs& end_us, std::vector<std::string>& services) {
  auto start = time_field(body, "start", std::nullopt);
  if (!start) return start.error();
  auto end = time_field(body, "end", std::nullopt);
  if (!end) return end.error();
  auto ids = services_field(body, "services", known);
  if (!ids) return ids.error();
  start_us = *start;
  end_us = *end;
  services = std::move(*ids);
  return {};
}

}  // namespace

Status add_sla_records(json& incident, const store::StoredIncident& stored, store::SlaStore& sla,
                       TimeUs now_us) {
  store::RangeQuery q{stored.service, stored.opened_us, stored.resolved_us.value_or(now_us) + 1};
  auto windows = sla.windows(q);
  if (!windows) return windows.error();
  json overlapped = json::array();
  for (const auto& w : *windows) overlapped.push_back(window_json(w));
  incident["maintenance"] = std::move(overlapped);

  auto trail = sla.reclassifications(stored.id);
  if (!trail) return trail.error();
  const json automatic = {
      {"grade", incident.value("grade", json())},
      {"attribution", incident.contains("verdict") && incident["verdict"].is_object()
                          ? incident["verdict"].value("name", json())
                          : json()},
      {"exclusion", json()}};
  json reclassified = json::object();
  for (std::string_view field : store::kReclassifiableFields) {
    const std::string name(field);
    reclassified[name] = {{"automatic", automatic[name]}, {"manual", json()}};
  }
  for (const auto& r : store::in_force(*trail))
    reclassified[r.field]["manual"] = reclassification_json(r);
  incident["reclassified"] = std::move(reclassified);
  json all = json::array();
  for (const auto& r : *trail) all.push_back(reclassification_json(r));
  incident["reclassifications"] = std::move(all);
  return {};
}

std::vector<std::string> Daemon::Impl::service_ids() const {
  std::vector<std::string> ids;
  for (const auto& service : config->services) ids.push_back(service.id);
  return ids;
}

http::Work Daemon::Impl::add_maintenance(const http::Request& r) {
  auto body = body_object(r, false);
  if (!body) return answer(error_response(body.error()));
  store::MaintenanceWindow w;
  w.author = r.caller;
  w.source = store::MaintenanceWindow::Source::kApi;
  if (Status s = read_range(*body, service_ids(), w.start_us, w.end_us, w.services); !s)
    return answer(error_response(s.error()));
  auto announced = time_field(*body, "announced", clock.now_us());
  if (!announced) return answer(error_response(announced.error()));
  w.announced_us = *announced;
  auto description = text_field(*body, "description", false);
  if (!description) return answer(error_response(description.error()));
  w.description = std::move(*description);
  if (Status s = store::validate(w); !s) return answer(error_response(s.error()));
  return [w = std::move(w), &db = *sla_store] {
    auto added = db.add_window(w);
    if (!added) return error_response(added.error());
    return http::Response::json(window_json(*added), 201);
  };
}

http::Work Daemon::Impl::maintenance_json(const http::Request& r) {
  auto q = range_query(r);
  if (!q) return answer(error_response(q.error()));
  return [q = std::move(*q), &db = *sla_store] {
    auto found = db.windows(q);
    if (!found) return error_response(found.error());
    json windows = json::array();
    for (const auto& w : *found) windows.push_back(window_json(w));
    return http::Response::json({{"maintenance", windows}});
  };
}

http::Work Daemon::Impl::add_exclusion(const http::Request& r) {
  auto body = body_object(r, false);
  if (!body) return answer(error_response(body.error()));
  store::ManualExclusion e;
  e.author = r.caller;
  e.at_us = clock.now_us();
  if (Status s = read_range(*body, service_ids(), e.start_us, e.end_us, e.services); !s)
    return answer(error_response(s.error()));
  auto reason = text_field(*body, "reason", true);
  if (!reason) return answer(error_response(reason.error()));
  e.reason = std::move(*reason);
  if (Status s = store::validate(e); !s) return answer(error_response(s.error()));
  return [e = std::move(e), &db = *sla_store] {
    auto added = db.add_exclusion(e);
    if (!added) return error_response(added.error());
    return http::Response::json(exclusion_json(*added), 201);
  };
}

http::Work Daemon::Impl::exclusions_json(const http::Request& r) {
  auto q = range_query(r);
  if (!q) return answer(error_response(q.error()));
  return [q = std::move(*q), &db = *sla_store] {
    auto found = db.exclusions(q);
    if (!found) return error_response(found.error());
    json exclusions = json::array();
    for (const auto& e : *found) exclusions.push_back(exclusion_json(e));
    return http::Response::json({{"exclusions", exclusions}});
  };
}

http::Work Daemon::Impl::reclassify(const http::Request& r) {
  auto body = body_object(r, false);
  if (!body) return answer(error_response(body.error()));
  store::Reclassification c;
  c.incident_id = r.params.at(0);
  c.author = r.caller;
  c.at_us = clock.now_us();
  for (auto [name, out] : {std::pair{"field", &c.field}, std::pair{"value", &c.value},
                           std::pair{"reason", &c.reason}}) {
    auto text = text_field(*body, name, true);
    if (!text) return answer(error_response(text.error()));
    *out = std::move(*text);
  }
  if (Status s = store::validate(c); !s) return answer(error_response(s.error()));
  return [c = std::move(c), &incidents = *incident_store, &db = *sla_store] {
    if (auto found = incidents.incident(c.incident_id); !found)
      return error_response(found.error());
    auto stored = db.reclassify(c);
    if (!stored) return error_response(stored.error());
    return http::Response::json(reclassification_json(*stored), 201);
  };
}

std::vector<http::Route> Daemon::Impl::sla_record_routes() {
  using http::Request;
  return {
      {"GET", "/api/v1/maintenance", [this](const Request& r) { return maintenance_json(r); }},
      {"POST", "/api/v1/maintenance", [this](const Request& r) { return add_maintenance(r); },
       http::Access::kWrite},
      {"GET", "/api/v1/exclusions", [this](const Request& r) { return exclusions_json(r); }},
      {"POST", "/api/v1/exclusions", [this](const Request& r) { return add_exclusion(r); },
       http::Access::kWrite},
      {"POST", "/api/v1/incidents/{id}/reclassify",
       [this](const Request& r) { return reclassify(r); }, http::Access::kWrite},
  };
}

}  // namespace leeway::daemon
