// How one incident is shown to a person: its verdict with the evidence, the changes before it
// and the timeline, from the incident's JSON document (incident/document.h), as the daemon's API
// serves it and `leeway simulate` makes it.
#pragma once

#include <nlohmann/json.hpp>

namespace leeway::cli {

// Prints the incident to stdout; its text is escaped for the terminal.
void print_incident(const nlohmann::json& incident);

}  // namespace leeway::cli
