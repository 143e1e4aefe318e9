// The SLA engine's evidence from what leeway keeps: stored incidents (with their acks), the SLA
// store's maintenance windows, manual exclusions and reclassifications, and the first minute
// each service had results. The daemon fills `StoredEvidence` from its stores and `leeway
// simulate` from its replay, and both turn it into sla::Evidence here, so that the same
// timeline gives the same report either way.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "sla/evidence.h"
#include "sla/month.h"
#include "store/incident_store.h"
#include "store/sla_store.h"
#include "store/store.h"

namespace leeway::report {

struct StoredEvidence {
  std::vector<store::StoredIncident> incidents;  // with their notes (acks), when any
  std::vector<store::MaintenanceWindow> windows;
  std::vector<store::ManualExclusion> exclusions;
  std::vector<store::Reclassification> reclassifications;
  // Per service, the first minute any of its checks had a result, from kFirstMinuteLookbackUs
  // before the month to its end; a service without any result then is missing. Read only for
  // contracts that measure only the minutes a service existed.
  std::map<std::string, TimeUs> first_minute_us;
  std::optional<TimeUs> as_of_us;  // none: the month is over
};

// How far before the month the first minutes are looked for: a service with a result in this
// day existed when the month began.
inline constexpr DurationUs kFirstMinuteLookbackUs = kDayUs;

// The first minutes of the services of `config` from `results` (a replay's), as the daemon reads
// them from the store's rollups: the minutes of results from kFirstMinuteLookbackUs before
// `month` to its end.
std::map<std::string, TimeUs> first_minutes(const std::vector<store::Committed>& results,
                                            const config::Config& config,
                                            const sla::ReportMonth& month);

// A config's window as the SLA store keeps it (source config, author "config", no id yet).
store::MaintenanceWindow stored_window(const config::Maintenance& window);

// The incident as the SLA engine grades it: its times, the first ack among its notes, the share
// of the locations that run the service's checks that saw it and of the service's checks it hit
// (by `config`; a service the config no longer has counts what the incident saw), its worst
// outcome and its automatic attribution (the verdict's name).
sla::Incident sla_incident(const store::StoredIncident& stored, const config::Config& config);

// The engine's inputs. A service began at its first minute (one with a result in the lookback
// day existed all month); a service of the config without any result had not begun, so a
// contract that measures only existing minutes measures none of it.
sla::Evidence sla_evidence(const StoredEvidence& stored, const config::Config& config);

}  // namespace leeway::report
