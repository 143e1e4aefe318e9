// The SLA records an incident's JSON shows (src/daemon/sla_records_api.cpp): the maintenance
// windows it overlaps and its reclassifications beside the automatic values. Internal to the
// daemon module.
#pragma once

#include <nlohmann/json.hpp>

#include "store/incident_store.h"
#include "store/sla_store.h"

namespace leeway::daemon {

// Adds "maintenance" (the windows of the incident's service that overlap it, open until
// `now_us` while it is open), "reclassified" (per field: the automatic value and the one in
// force) and "reclassifications" (the audit trail, oldest first) to `incident`.
Status add_sla_records(nlohmann::json& incident, const store::StoredIncident& stored,
                       store::SlaStore& sla, TimeUs now_us);

}  // namespace leeway::daemon
