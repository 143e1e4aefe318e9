// The records that SLA accounting reads besides incidents and minutes: maintenance windows,
// manual reclassifications of incidents and manual exclusions, behind one interface with a
// SQLite and a PostgreSQL implementation, opened from the same URI as the result store (tables
// of their own, with their own schema version). Records are kept, never rewritten (only the
// incident a reclassification names follows that incident's new id): a later reclassification
// supersedes an earlier one, and both stay in the audit trail.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"

namespace leeway::store {

// Planned work on services, with the time it was announced (a contract may exclude only windows
// announced long enough before they start). Checks keep running during one: only the
// accounting changes.
struct MaintenanceWindow {
  enum class Source { kConfig, kApi };
  std::int64_t id = 0;  // given by the store
  TimeUs start_us = 0;
  TimeUs end_us = 0;                  // after start_us
  std::vector<std::string> services;  // service ids, at least one
  TimeUs announced_us = 0;
  std::string author;  // the API token's name, or "config"
  std::string description;
  Source source = Source::kApi;

  bool operator==(const MaintenanceWindow&) const = default;
};
std::string_view to_string(MaintenanceWindow::Source source);

// A person's correction of one field of an incident's automatic values, with the reason.
struct Reclassification {
  std::int64_t id = 0;      // given by the store; later ones have higher ids
  std::string incident_id;  // as the incident store knows it
  std::string field;        // one of kReclassifiableFields
  std::string value;        // grade: the grade's name; attribution: a verdict name; exclusion:
                            // "excluded" or "counted"
  std::string author;       // the API token's name
  std::string reason;       // required
  TimeUs at_us = 0;         // when it was made (the daemon's clock)

  bool operator==(const Reclassification&) const = default;
};
inline constexpr std::string_view kReclassifiableFields[] = {"grade", "attribution", "exclusion"};

// Minutes that a person excludes from SLA accounting, with the reason.
struct ManualExclusion {
  std::int64_t id = 0;  // given by the store
  TimeUs start_us = 0;
  TimeUs end_us = 0;                  // after start_us
  std::vector<std::string> services;  // service ids, at least one
  std::string reason;                 // required
  std::string author;                 // the API token's name
  TimeUs at_us = 0;                   // when it was recorded

  bool operator==(const ManualExclusion&) const = default;
};

// A closed month's report of one contract as it was frozen: one row per revision, never
// rewritten. Revision 1 is the first report computed after the month ended; each later one was
// stored because the inputs' hash differed from the revision before.
struct FrozenReport {
  std::string contract_id;
  std::string month;  // "2026-10", in the contract's zone
  int revision = 1;
  std::string inputs_sha256;  // hex
  std::string inputs;         // the inputs in canonical form (JSON), to say what changed later
  TimeUs frozen_us = 0;       // when it was stored (the daemon's clock)
  // The report as served, in each format.
  std::string json;
  std::string markdown;
  std::string html;
  std::string csv;

  bool operator==(const FrozenReport&) const = default;
};

// Which windows or exclusions to list: those of `service` (when set) that overlap
// [from_us, to_us), oldest start first.
struct RangeQuery {
  std::optional<std::string> service;
  TimeUs from_us = std::numeric_limits<TimeUs>::min();
  TimeUs to_us = std::numeric_limits<TimeUs>::max();
  std::size_t limit = 1000;
};

// kInvalidArgument naming the field at fault ("end: must be after start"), or ok. The stores
// refuse what these refuse, so bad input is never stored.
Status validate(const MaintenanceWindow& window);
Status validate(const Reclassification& reclassification);
Status validate(const ManualExclusion& exclusion);

// The reclassifications in force: of each field, the latest of `trail` (oldest first, as
// reclassifications() returns it), in the order of kReclassifiableFields.
std::vector<Reclassification> in_force(const std::vector<Reclassification>& trail);

// Thread-safe; every call may block on I/O: call it from a worker, never from an event loop.
class SlaStore {
 public:
  virtual ~SlaStore() = default;

  // Stores a window (of either source) and returns it with its id.
  virtual Result<MaintenanceWindow> add_window(MaintenanceWindow window) = 0;

  // Makes the config's windows those given, in one transaction: windows unchanged keep their
  // ids, those no longer given go, new ones are added; windows from the API are untouched.
  virtual Status sync_config_windows(std::span<const MaintenanceWindow> windows) = 0;

  virtual Result<std::vector<MaintenanceWindow>> windows(const RangeQuery& query) = 0;

  // Appends a reclassification and returns it with its id.
  virtual Result<Reclassification> reclassify(Reclassification reclassification) = 0;

  // An incident's id changed (late results moved its opening): its reclassifications follow it
  // to `to_id`, as its acks and notes do, each otherwise as it was made.
  virtual Status move_reclassifications(std::string_view from_id, std::string_view to_id) = 0;

  // The audit trail of one incident, oldest first.
  virtual Result<std::vector<Reclassification>> reclassifications(std::string_view incident_id) = 0;

  // Stores a manual exclusion and returns it with its id.
  virtual Result<ManualExclusion> add_exclusion(ManualExclusion exclusion) = 0;

  virtual Result<std::vector<ManualExclusion>> exclusions(const RangeQuery& query) = 0;

  // Stores a revision of a frozen report: true, or false (and nothing written) when that
  // contract, month and revision is stored already (another request froze it first).
  virtual Result<bool> add_frozen_report(const FrozenReport& report) = 0;

  // The given revision of a contract's month, or its latest when `revision` is none; none when
  // there is no such revision.
  virtual Result<std::optional<FrozenReport>> frozen_report(std::string_view contract_id,
                                                            std::string_view month,
                                                            std::optional<int> revision) = 0;

  // "sqlite:PATH" or the URI without its password, for logs.
  virtual std::string describe() const = 0;
};

// Opens (creating and migrating if needed) the SLA tables of the database a URI names, as
// open_store() reads it, on a connection of its own. Errors name the URI and cause.
Result<std::unique_ptr<SlaStore>> open_sla_store(std::string_view uri);

}  // namespace leeway::store
