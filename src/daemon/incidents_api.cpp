// The incident and change routes of the API: incidents listed and shown with their timeline,
// acknowledged and annotated; changes recorded by pipelines and people (each linked to the gate
// "go" it followed), and listed. The store is
// read and written on the HTTP server's workers, never on the loop.
#include <iostream>
#include <nlohmann/json.hpp>

#include "daemon/impl.h"
#include "incident/document.h"

namespace leeway::daemon {

namespace {

using nlohmann::json;

// An error as the API answers it, by its kind.
http::Response error_response(const Error& e) {
  switch (e.kind) {
    case ErrorKind::kNotFound:
      return http::Response::error(404, e.message);
    case ErrorKind::kInvalidArgument:
      return http::Response::error(400, e.message);
    case ErrorKind::kUnavailable:
      return http::Response::error(503, e.message);
    case ErrorKind::kInternal:
      break;
  }
  return http::Response::error(500, e.message);
}

// The optional from/to parameters.
Status time_range(const http::Request& r, TimeUs& from_us, TimeUs& to_us) {
  for (auto [name, out] : {std::pair{"from", &from_us}, std::pair{"to", &to_us}}) {
    if (auto it = r.query.find(name); it != r.query.end()) {
      auto t = parse_time_param(name, it->second);
      if (!t) return t.error();
      *out = *t;
    }
  }
  if (from_us >= to_us) return fail_as(ErrorKind::kInvalidArgument, "from must be before to");
  return {};
}

// A request body that must be a JSON object (or empty, when `empty_ok`).
Result<json> body_object(const http::Request& r, bool empty_ok) {
  if (empty_ok && r.body.find_first_not_of(" \t\r\n") == std::string::npos) return json::object();
  json body = json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return fail_as(ErrorKind::kInvalidArgument, "body: expected a JSON object");
  return body;
}

// A text field of a body: a string, when present; `required` says whether it must be.
Result<std::string> text_field(const json& body, const char* name, bool required) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) {
    if (required) return fail_as(ErrorKind::kInvalidArgument, name, ": required");
    return std::string();
  }
  if (!it->is_string()) return fail_as(ErrorKind::kInvalidArgument, name, ": expected a string");
  return it->get<std::string>();
}

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
  return [id = r.params.at(0), &db = *incident_store] {
    auto found = db.incident(id);
    if (!found) return error_response(found.error());
    json document = json::parse(found->document, nullptr, false);
    if (document.is_discarded())
      return http::Response::error(500, "incident " + id + ": its stored document is not JSON");
    return http::Response::json(incident::with_notes(std::move(document), found->notes));
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
  if (auto it = body->find("at"); it != body->end() && !it->is_null()) {
    const std::string at = it->is_string() ? it->get<std::string>() : it->dump();
    auto t = parse_time_param("at", at);
    if (!t) return answer(error_response(t.error()));
    c.at_us = *t;
  }
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
