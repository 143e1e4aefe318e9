// The incident and change routes of the API: incidents listed and shown with their timeline and
// SLA records (sla_records.h), acknowledged and annotated; changes recorded by pipelines and
// people (each linked to the gate "go" it followed), and listed. The stores are read and written
// on the HTTP server's workers, never on the loop.
#include <iostream>
#include <nlohmann/json.hpp>

#include "daemon/api_input.h"
#include "daemon/impl.h"
#include "daemon/sla_records.h"
#include "incident/document.h"

namespace leeway::daemon {

namespace {

using nlohmann::json;

// How long before a change a "go" of the gate may be that the change is linked to.
constexpr DurationUs kGoLinksWithinUs = kHourUs;

// A change, with the gate decision it is linked to (none when it went without asking).
json change_json(const store::StoredChange& c,
                 const std::optional<store::StoredDecision>& decision) {
  return {{"id", c.id},
          {"service", c.service},
          {"at", format_rfc3339(c.at_us)},
          {"at_us", c.at_us},
          {"kind", c.kind},
          {"description", c.description},
          {"improvement", c.improvement},
          {"recorded_by", c.recorded_by},
          {"gate_decision", decision ? decision_json(*decision) : json()}};
}

}  // namespace

http::Work Daemon::Impl::incidents_json(const http::Request& r) {
  store::IncidentQuery q;
  if (auto it = r.query.find("service"); it != r.query.end()) q.service = it->second;
  if (auto it = r.query.find("state"); it != r.query.end()) {
    if (it->second != "open" && it->second != "resolved")
      return answer(http::Response::error(
          400, "state: expected open or resolved, got \"" + it->second + "\""));
    q.state = it->second;
  }
  if (Status s = time_range(r, q.from_us, q.to_us); !s) return answer(error_response(s.error()));
  return [q = std::move(q), &db = *incident_store] {
    auto found = db.incidents(q);
    if (!found) return error_response(found.error());
    json incidents = json::array();
    for (const auto& i : *found) {
      incidents.push_back(
          {{"id", i.id},
           {"service", i.service},
           {"state", i.state},
           {"opened", format_rfc3339(i.opened_us)},
           {"resolved", i.resolved_us ? json(format_rfc3339(*i.resolved_us)) : json()},
           {"verdict", i.verdict},
           {"summary", i.summary},
           {"acknowledged", i.acks > 0}});
    }
    return http::Response::json({{"incidents", incidents}});
  };
}

http::Work Daemon::Impl::incident_json(const http::Request& r) {
  return [id = r.params.at(0), now_us = clock.now_us(), &db = *incident_store, &sla = *sla_store] {
    auto found = db.incident(id);
    if (!found) return error_response(found.error());
    json document = json::parse(found->document, nullptr, false);
    if (document.is_discarded())
      return http::Response::error(500, "incident " + id + ": its stored document is not JSON");
    json shown = incident::with_notes(std::move(document), found->notes);
    if (Status s = add_sla_records(shown, *found, sla, now_us); !s)
      return error_response(s.error());
    return http::Response::json(shown);
  };
}

http::Work Daemon::Impl::add_note(const http::Request& r, store::IncidentNote::Kind kind) {
  const bool ack = kind == store::IncidentNote::Kind::kAck;
  auto body = body_object(r, ack);
  if (!body) return answer(error_response(body.error()));
  auto text = text_field(*body, "text", !ack);
  if (!text) return answer(error_response(text.error()));
  if (!ack && text->empty()) return answer(http::Response::error(400, "text: a note needs words"));
  store::IncidentNote note{kind, clock.now_us(), r.caller, std::move(*text)};
  return [id = r.params.at(0), note = std::move(note), &db = *incident_store] {
    if (Status s = db.add_note(id, note); !s) return error_response(s.error());
    return http::Response::json({{"incident", id},
                                 {"kind", store::to_string(note.kind)},
                                 {"at", format_rfc3339(note.at_us)},
                                 {"author", note.author},
                                 {"text", note.text}},
                                201);
  };
}

http::Work Daemon::Impl::record_change(const http::Request& r) {
  auto body = body_object(r, false);
  if (!body) return answer(error_response(body.error()));
  store::StoredChange c;
  c.recorded_by = r.caller;
  c.at_us = clock.now_us();
  for (auto [name, out] : {std::pair{"service", &c.service}, std::pair{"kind", &c.kind},
                           std::pair{"description", &c.description}}) {
    auto text = text_field(*body, name, true);
    if (!text) return answer(error_response(text.error()));
    if (text->empty())
      return answer(http::Response::error(400, std::string(name) + ": must not be empty"));
    *out = std::move(*text);
  }
  bool known = false;
  for (const auto& service : config->services) known = known || service.id == c.service;
  if (!known)
    return answer(http::Response::error(400, "service: no such service: \"" + c.service + "\""));
  if (auto it = body->find("improvement"); it != body->end() && !it->is_null()) {
    if (!it->is_boolean())
      return answer(http::Response::error(400, "improvement: expected true or false"));
    c.improvement = it->get<bool>();
  }
  auto at = time_field(*body, "at", c.at_us);
  if (!at) return answer(error_response(at.error()));
  c.at_us = *at;
  return [this, c = std::move(c)] {
    auto recorded = incident_store->record_change(c);
    if (!recorded) return error_response(recorded.error());
    // Stored first: a tracker rebuilt meanwhile reads it back from the store.
    current_tracker()->record_change(*recorded);
    // The latest "go" before it that no change took yet: the gate's answer this change followed.
    auto linked = slo_store->link_change(recorded->service, recorded->id,
                                         recorded->at_us - kGoLinksWithinUs, recorded->at_us);
    if (!linked) {
      std::cerr << "leeway serve: change " << recorded->id
                << " is stored but not linked to a gate decision: " << linked.error().message
                << "\n";
      linked = std::optional<store::StoredDecision>();
    }
    return http::Response::json(change_json(*recorded, *linked), 201);
  };
}

http::Work Daemon::Impl::changes_json(const http::Request& r) {
  store::ChangeQuery q;
  if (auto it = r.query.find("service"); it != r.query.end()) q.service = it->second;
  if (Status s = time_range(r, q.from_us, q.to_us); !s) return answer(error_response(s.error()));
  return [q = std::move(q), &db = *incident_store, &decisions = *slo_store] {
    auto found = db.changes(q);
    if (!found) return error_response(found.error());
    json changes = json::array();
    for (const auto& c : *found) {
      auto decision = decisions.decision_of_change(c.id);
      if (!decision) return error_response(decision.error());
      changes.push_back(change_json(c, *decision));
    }
    return http::Response::json({{"changes", changes}});
  };
}

std::vector<http::Route> Daemon::Impl::incident_routes() {
  using http::Request;
  using Kind = store::IncidentNote::Kind;
  return {
      {"GET", "/api/v1/incidents", [this](const Request& r) { return incidents_json(r); }},
      {"GET", "/api/v1/incidents/{id}", [this](const Request& r) { return incident_json(r); }},
      {"POST", "/api/v1/incidents/{id}/ack",
       [this](const Request& r) { return add_note(r, Kind::kAck); }, http::Access::kWrite},
      {"POST", "/api/v1/incidents/{id}/notes",
       [this](const Request& r) { return add_note(r, Kind::kNote); }, http::Access::kWrite},
      {"GET", "/api/v1/changes", [this](const Request& r) { return changes_json(r); }},
      {"POST", "/api/v1/changes", [this](const Request& r) { return record_change(r); },
       http::Access::kWrite},
  };
}

}  // namespace leeway::daemon
