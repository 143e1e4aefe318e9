// The engine's inputs besides the contract: plain structs the caller fills from the store, the
// API or a simulation. The engine knows nothing of where they came from.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/time.h"
#include "sla/contract.h"

namespace leeway::sla {

// `part` of `whole`: 2 of 3 locations saw it. Kept as counts so shares compare exactly.
struct Share {
  std::int64_t part = 0;
  std::int64_t whole = 0;
  // part / whole >= p, exactly; false when whole is 0.
  bool at_least(Percentage p) const;
};

struct Incident {
  std::string id;
  std::string service;
  TimeUs opened_us = 0;
  std::optional<TimeUs> resolved_us;      // none: still open
  std::optional<TimeUs> acknowledged_us;  // none: nobody acknowledged it
  Share locations;                        // locations that saw it, of those that report
  Share checks;                           // checks of the service it hit, of all of them
  std::vector<std::string> checks_hit;    // check ids
  std::vector<std::string> tags;
  Outcome worst = Outcome::kDown;
  std::string attribution;  // "service", "network:kt", "dns", "vantage:x", ...
};

struct MaintenanceWindow {
  std::string id;
  TimeUs start_us = 0;
  TimeUs end_us = 0;
  std::vector<std::string> services;  // none: every service of the contract
  TimeUs announced_us = 0;
};

// Minutes taken out by hand; the reason and who did it are required and shown.
struct ManualExclusion {
  std::string id;
  TimeUs start_us = 0;
  TimeUs end_us = 0;
  std::vector<std::string> services;  // none: every service of the contract
  std::string reason;
  std::string by;
};

// A person's correction of an incident, kept beside the automatic value. For one incident and
// field the latest (by at_us) applies; every one is shown.
enum class ReclassifiedField { kGrade, kAttribution, kExclusion };
std::string_view field_name(ReclassifiedField field);  // "grade", "attribution", "exclusion"

struct Reclassification {
  std::string incident_id;
  ReclassifiedField field = ReclassifiedField::kGrade;
  // grade: a grade's name or "none"; attribution: the new attribution; exclusion: "excluded" or
  // "counted".
  std::string value;
  std::string by;
  std::string reason;
  TimeUs at_us = 0;
};

struct Evidence {
  std::vector<Incident> incidents;
  std::vector<MaintenanceWindow> maintenance;
  std::vector<ManualExclusion> manual_exclusions;
  std::vector<Reclassification> reclassifications;
  // When each service began to exist; a service missing here existed all month.
  std::map<std::string, TimeUs> service_started_us;
  // The report's as-of time: open incidents run to it and later minutes are not measured yet.
  // none: the month is over.
  std::optional<TimeUs> as_of_us;
};

}  // namespace leeway::sla
