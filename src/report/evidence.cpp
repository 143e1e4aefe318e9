// Stored records into the SLA engine's plain inputs: the one conversion the daemon and `leeway
// simulate` share.
#include "report/evidence.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

namespace leeway::report {

namespace {

using nlohmann::json;

// What an incident's scope is a share of: the locations that run a service's checks, and its
// checks.
struct ServiceScope {
  std::int64_t locations = 0;
  std::int64_t checks = 0;
};

std::optional<ServiceScope> scope_of(const config::Config& config, const std::string& id) {
  for (const auto& service : config.services) {
    if (service.id != id) continue;
    std::set<std::string> locations;
    for (const auto& check : service.checks)
      locations.insert(check.locations.begin(), check.locations.end());
    return ServiceScope{static_cast<std::int64_t>(locations.size()),
                        static_cast<std::int64_t>(service.checks.size())};
  }
  return std::nullopt;
}

std::vector<std::string> strings(const json& doc, const char* key) {
  std::vector<std::string> out;
  if (auto it = doc.find(key); it != doc.end() && it->is_array())
    for (const auto& v : *it)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

// The ids of the locations an incident document lists ({"location": id, "stages": [...]}).
std::size_t locations_seen(const json& doc) {
  std::set<std::string> ids;
  if (auto it = doc.find("locations"); it != doc.end() && it->is_array())
    for (const auto& l : *it)
      if (l.is_object() && l.contains("location") && l["location"].is_string())
        ids.insert(l["location"].get<std::string>());
  return ids.size();
}

// A start after any month, far enough from the limit for the engine's minute arithmetic.
constexpr TimeUs kNeverBegan = std::numeric_limits<TimeUs>::max() / 4;

sla::ReclassifiedField field_of(const std::string& name) {
  if (name == "attribution") return sla::ReclassifiedField::kAttribution;
  if (name == "exclusion") return sla::ReclassifiedField::kExclusion;
  return sla::ReclassifiedField::kGrade;  // the store accepts only these three
}

}  // namespace

std::map<std::string, TimeUs> first_minutes(const std::vector<store::Committed>& results,
                                            const config::Config& config,
                                            const sla::ReportMonth& month) {
  std::map<std::string, std::string> service_of;  // check id -> service id
  for (const auto& service : config.services)
    for (const auto& check : service.checks) service_of[check.id] = service.id;
  std::map<std::string, TimeUs> out;
  for (const auto& c : results) {
    const TimeUs minute =
        c.result.started_us - ((c.result.started_us % kMinuteUs) + kMinuteUs) % kMinuteUs;
    if (minute < month.start_us - kFirstMinuteLookbackUs || minute >= month.end_us) continue;
    auto service = service_of.find(c.result.check);
    if (service == service_of.end()) continue;  // a reference check
    auto [it, added] = out.emplace(service->second, minute);
    if (!added) it->second = std::min(it->second, minute);
  }
  return out;
}

store::MaintenanceWindow stored_window(const config::Maintenance& m) {
  return {0,
          m.start_us,
          m.end_us,
          m.services,
          m.announced_us,
          "config",
          m.description,
          store::MaintenanceWindow::Source::kConfig};
}

namespace {

sla::Incident incident_in(const store::StoredIncident& stored,
                          const std::optional<ServiceScope>& scope) {
  sla::Incident in;
  in.id = stored.id;
  in.service = stored.service;
  in.opened_us = stored.opened_us;
  in.resolved_us = stored.resolved_us;
  in.attribution = stored.verdict;
  for (const auto& note : stored.notes)
    if (note.kind == store::IncidentNote::Kind::kAck &&
        (!in.acknowledged_us || note.at_us < *in.acknowledged_us))
      in.acknowledged_us = note.at_us;
  // Written by the incident module; a document that does not parse keeps the indexed fields.
  const json doc = json::parse(stored.document, nullptr, false);
  const json fields = doc.is_object() ? doc : json::object();
  in.checks_hit = strings(fields, "checks");
  in.worst = fields.value("worst", std::string("down")) == "degraded" ? sla::Outcome::kDegraded
                                                                      : sla::Outcome::kDown;
  const auto seen = static_cast<std::int64_t>(locations_seen(fields));
  const auto hit = static_cast<std::int64_t>(in.checks_hit.size());
  in.locations = {seen, seen};
  in.checks = {hit, hit};
  if (scope) {
    in.locations.whole = std::max(seen, scope->locations);
    in.checks.whole = std::max(hit, scope->checks);
  }
  return in;
}

}  // namespace

sla::Incident sla_incident(const store::StoredIncident& stored, const config::Config& config) {
  return incident_in(stored, scope_of(config, stored.service));
}

sla::Evidence sla_evidence(const StoredEvidence& stored, const config::Config& config) {
  sla::Evidence e;
  std::map<std::string, std::optional<ServiceScope>> scopes;  // each service's, worked out once
  for (const auto& incident : stored.incidents) {
    auto it = scopes.find(incident.service);
    if (it == scopes.end())
      it = scopes.emplace(incident.service, scope_of(config, incident.service)).first;
    e.incidents.push_back(incident_in(incident, it->second));
  }
  for (const auto& w : stored.windows)
    e.maintenance.push_back(
        {std::to_string(w.id), w.start_us, w.end_us, w.services, w.announced_us});
  for (const auto& x : stored.exclusions)
    e.manual_exclusions.push_back(
        {std::to_string(x.id), x.start_us, x.end_us, x.services, x.reason, x.author});
  for (const auto& r : stored.reclassifications)
    e.reclassifications.push_back(
        {r.incident_id, field_of(r.field), r.value, r.author, r.reason, r.at_us});
  for (const auto& service : config.services) {
    auto it = stored.first_minute_us.find(service.id);
    e.service_started_us[service.id] =
        it != stored.first_minute_us.end() ? it->second : kNeverBegan;
  }
  e.as_of_us = stored.as_of_us;
  return e;
}

}  // namespace leeway::report
