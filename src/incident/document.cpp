// The incident document: what the store keeps of an incident, and what the API shows.
#include "incident/document.h"

#include <algorithm>

namespace leeway::incident {

namespace {

using nlohmann::json;

json time_json(std::optional<TimeUs> t) {
  return t ? json(format_rfc3339(*t)) : json();
}

json change_json(const Change& c) {
  return {{"at", format_rfc3339(c.at_us)},
          {"at_us", c.at_us},
          {"kind", c.kind},
          {"description", c.description},
          {"improvement", c.improvement}};
}

json stages_json(const auto& stages) {
  json out = json::array();
  for (probe::Stage s : stages) out.push_back(s == probe::Stage::kNone ? "unknown" : to_string(s));
  return out;
}

}  // namespace

std::string_view state_of(const Incident& incident) {
  return incident.resolved_us ? "resolved" : "open";
}

json to_json(const Incident& i) {
  json locations = json::array();
  for (const auto& [location, stages] : i.locations) {
    locations.push_back({{"location", location}, {"stages", stages_json(stages)}});
  }
  const Verdict& v = i.verdict;
  json verdict = {{"name", v.name},
                  {"subject", v.subject},
                  {"confidence", v.confidence},
                  {"reason", v.reason.empty() ? json() : json(v.reason)},
                  {"evidence", v.evidence},
                  {"failing", v.failing},
                  {"silent", v.silent},
                  {"reachable", v.reachable},
                  {"failing_stages", stages_json(v.failing_stages)}};
  json before = json::array();
  for (const Change& c : i.changes.before) before.push_back(change_json(c));
  json changes = {
      {"window_s", i.changes.window_us / kSecondUs},
      {"before", before},
      {"likely_cause", i.changes.likely_cause ? change_json(*i.changes.likely_cause) : json()},
      {"text", describe_changes(i.changes, spell_start(i))}};
  json timeline = json::array();
  for (const TimelineEvent& e : i.timeline) {
    timeline.push_back({{"at", format_rfc3339(e.at_us)},
                        {"at_us", e.at_us},
                        {"kind", to_string(e.kind)},
                        {"text", e.text}});
  }
  return {{"id", i.id},
          {"service", i.service},
          {"state", state_of(i)},
          {"opened", format_rfc3339(i.opened_us)},
          {"opened_us", i.opened_us},
          {"resolved", time_json(i.resolved_us)},
          {"resolved_us", i.resolved_us ? json(*i.resolved_us) : json()},
          {"reopened", i.reopened},
          {"checks", i.checks},
          {"locations", locations},
          {"worst", to_string(i.worst)},
          {"verdict", verdict},
          {"summary", i.summary},
          {"changes", changes},
          {"grade", json()},
          {"timeline", timeline}};
}

store::StoredIncident to_stored(const Incident& i) {
  store::StoredIncident s;
  s.id = i.id;
  s.service = i.service;
  s.opened_us = i.opened_us;
  s.resolved_us = i.resolved_us;
  s.state = state_of(i);
  s.verdict = i.verdict.name;
  s.summary = i.summary;
  s.document = to_json(i).dump(-1, ' ', false, json::error_handler_t::replace);
  return s;
}

json with_notes(json document, const std::vector<store::IncidentNote>& notes) {
  json listed = json::array();
  json& timeline = document["timeline"];
  bool acknowledged = false;
  for (const store::IncidentNote& n : notes) {
    acknowledged = acknowledged || n.kind == store::IncidentNote::Kind::kAck;
    json note = {{"at", format_rfc3339(n.at_us)},
                 {"at_us", n.at_us},
                 {"kind", store::to_string(n.kind)},
                 {"author", n.author},
                 {"text", n.text}};
    listed.push_back(note);
    const bool ack = n.kind == store::IncidentNote::Kind::kAck;
    std::string text = (ack ? "acknowledged by " : "note by ") + n.author;
    if (!n.text.empty()) text += ": " + n.text;
    timeline.push_back({{"at", note["at"]},
                        {"at_us", n.at_us},
                        {"kind", ack ? "acknowledged" : "note added"},
                        {"text", text}});
  }
  // Stable: at the same moment, what the detector saw comes before what people wrote.
  std::stable_sort(timeline.begin(), timeline.end(), [](const json& a, const json& b) {
    return a["at_us"].get<TimeUs>() < b["at_us"].get<TimeUs>();
  });
  document["notes"] = listed;
  document["acknowledged"] = acknowledged;
  return document;
}

}  // namespace leeway::incident
