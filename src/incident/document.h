// An incident as the store keeps it and the API shows it: its indexed fields and one JSON
// document with the verdict, its evidence, the changes before it and the timeline.
#pragma once

#include <nlohmann/json.hpp>

#include "incident/detector.h"
#include "store/incident_store.h"

namespace leeway::incident {

// "open" or "resolved".
std::string_view state_of(const Incident& incident);

// The whole incident as JSON: times both as RFC 3339 and as microseconds, the verdict with its
// confidence and evidence, the changes in the window before it opened with a sentence that says
// so when there were none, the timeline in time order, and `grade` (null: the SLA engine grades).
nlohmann::json to_json(const Incident& incident);

// The incident as the store keeps it, with to_json() as its document.
store::StoredIncident to_stored(const Incident& incident);

// The document with the acks and notes that people added since, merged into its timeline in time
// order, and listed under "notes"; "acknowledged" says whether anyone did.
nlohmann::json with_notes(nlohmann::json document, const std::vector<store::IncidentNote>& notes);

}  // namespace leeway::incident
