// Incidents, their acknowledgements and notes, and recorded changes, behind one interface with a
// SQLite and a PostgreSQL implementation, opened from the same URI as the result store. The store
// knows an incident only by its indexed fields and a JSON document that the incident module
// writes and reads: the store does not depend on src/incident/.
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

// An acknowledgement or a note on an incident, by a person (an API token's name).
struct IncidentNote {
  enum class Kind { kAck, kNote };
  Kind kind = Kind::kNote;
  TimeUs at_us = 0;  // when it was written (the daemon's clock)
  std::string author;
  std::string text;  // empty for an ack without words

  bool operator==(const IncidentNote&) const = default;
};
std::string_view to_string(IncidentNote::Kind kind);

struct StoredIncident {
  std::string id;  // "<service>@<opened>"
  std::string service;
  TimeUs opened_us = 0;
  std::optional<TimeUs> resolved_us;  // none while open
  std::string state;                  // "open" or "resolved"
  std::string verdict;                // the verdict's name: "service", "network:kt", ...
  std::string summary;                // the verdict in one sentence
  std::string document;               // the whole incident with its timeline, as JSON
  // Read only (upsert ignores them): acks and notes, oldest first. A listing leaves them empty
  // and counts the acks in `acks`.
  std::vector<IncidentNote> notes;
  int acks = 0;

  bool operator==(const StoredIncident&) const = default;
};

// Which incidents to list: those that overlap [from_us, to_us) (opened before to_us and not
// resolved before from_us), newest first.
struct IncidentQuery {
  std::optional<std::string> service;
  std::optional<std::string> state;
  TimeUs from_us = std::numeric_limits<TimeUs>::min();
  TimeUs to_us = std::numeric_limits<TimeUs>::max();
  std::size_t limit = 1000;
};

// An incident that a replay no longer produces (late results moved its opening, so its id
// changed): it is deleted, and its acks and notes go to `to_id` when that is set.
struct IncidentRetirement {
  std::string id;
  std::string to_id;
};

// An incident whose id changed, recorded in the same transaction as its retirement, until what
// other stores keep under its old id (its reclassifications, in the SLA store) has followed it:
// a crash between the write and the follow leaves the move recorded, to be followed after the
// restart. Following must be idempotent (a crash may come before it is forgotten).
struct IncidentMove {
  std::int64_t id = 0;  // given by the store; later moves have higher ids
  std::string from_id;
  std::string to_id;

  bool operator==(const IncidentMove&) const = default;
};

// A deploy, a config change, an infrastructure event, posted by a pipeline or a person.
struct StoredChange {
  std::int64_t id = 0;  // given by the store
  std::string service;
  TimeUs at_us = 0;  // when the change was made
  std::string kind;  // "deploy", "config", ...
  std::string description;
  bool improvement = false;  // made to improve the service
  std::string recorded_by;   // the API token's name

  bool operator==(const StoredChange&) const = default;
};

// Which changes to list: [from_us, to_us), oldest first.
struct ChangeQuery {
  std::optional<std::string> service;
  TimeUs from_us = std::numeric_limits<TimeUs>::min();
  TimeUs to_us = std::numeric_limits<TimeUs>::max();
  std::size_t limit = 1000;
};

// Thread-safe; every call may block on I/O: call it from a worker, never from an event loop.
class IncidentStore {
 public:
  virtual ~IncidentStore() = default;

  // In one transaction: inserts or replaces each incident (by id, keeping its acks and notes),
  // then retires those given, recording an IncidentMove for each that has a `to_id`.
  virtual Status write_incidents(std::span<const StoredIncident> incidents,
                                 std::span<const IncidentRetirement> retired = {}) = 0;

  virtual Result<std::vector<StoredIncident>> incidents(const IncidentQuery& query) = 0;

  // The moves not yet forgotten, oldest first (a move from an incident that itself moved before
  // comes after that move).
  virtual Result<std::vector<IncidentMove>> pending_moves() = 0;

  // Forgets a move once what follows the incident has followed; forgetting one twice is not an
  // error.
  virtual Status forget_move(std::int64_t id) = 0;

  // One incident with its acks and notes; kNotFound when there is none with this id.
  virtual Result<StoredIncident> incident(std::string_view id) = 0;

  // Appends an ack or a note; kNotFound when there is no incident with this id.
  virtual Status add_note(std::string_view incident_id, const IncidentNote& note) = 0;

  // Stores a change and returns it with its id.
  virtual Result<StoredChange> record_change(StoredChange change) = 0;

  virtual Result<std::vector<StoredChange>> changes(const ChangeQuery& query) = 0;

  // "sqlite:PATH" or the URI without its password, for logs.
  virtual std::string describe() const = 0;
};

// Opens (creating and migrating if needed) the incident tables of the database a URI names, as
// open_store() reads it, on a connection of its own. Errors name the URI and cause.
Result<std::unique_ptr<IncidentStore>> open_incident_store(std::string_view uri);

}  // namespace leeway::store
