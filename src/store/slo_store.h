// What the SLO engine and the deploy gate must not forget over a restart: burn-rate alert events
// (fired, resolved) and the gate's decisions, behind one interface with a SQLite and a PostgreSQL
// implementation, opened from the same URI as the result store. Its tables have their own schema
// version (slo_schema), so their migrations never meet those of the other tables. The store
// knows an event's burn rates only as a JSON document the daemon writes and reads.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"

namespace leeway::store {

// A burn-rate alert of an SLO that fired or resolved.
struct StoredAlertEvent {
  std::int64_t id = 0;  // given by the store, increasing
  std::string slo;
  std::string service;
  std::string severity;  // "page" or "ticket"
  bool firing = false;   // true: fired; false: resolved
  TimeUs at_us = 0;      // the evaluation that fired or resolved it
  TimeUs data_us = 0;    // the end of the minutes it judged (the data's time)
  // The condition met and the burn rates then, as JSON: {"condition": {...}, "burn_rates": {...}}.
  std::string document;

  bool operator==(const StoredAlertEvent&) const = default;
};

// Which alert events to list: newest first, those with an id below `before_id` (a page's cursor).
struct AlertEventQuery {
  std::optional<std::string> slo;
  std::int64_t before_id = std::numeric_limits<std::int64_t>::max();
  std::size_t limit = 100;
};

// One answer of the deploy gate to "may we ship SERVICE now?".
struct StoredDecision {
  std::int64_t id = 0;  // given by the store, increasing
  std::string service;
  TimeUs at_us = 0;
  std::string asked_by;                // the API token's name, or "anonymous"
  std::string kind;                    // deploy, fix or rollback
  std::string decision;                // go, hold or unknown
  std::vector<std::string> reasons;    // one sentence each, without line breaks
  std::optional<std::int64_t> change;  // the change recorded after this "go", once linked

  bool operator==(const StoredDecision&) const = default;
};

// Which decisions to list: newest first, those with an id below `before_id` (a page's cursor).
struct DecisionQuery {
  std::optional<std::string> service;
  std::int64_t before_id = std::numeric_limits<std::int64_t>::max();
  std::size_t limit = 100;
};

// Thread-safe; every call may block on I/O: call it from a worker, never from an event loop.
class SloStore {
 public:
  virtual ~SloStore() = default;

  // Stores an alert event and returns it with its id.
  virtual Result<StoredAlertEvent> add_alert_event(StoredAlertEvent event) = 0;
  virtual Result<std::vector<StoredAlertEvent>> alert_events(const AlertEventQuery& query) = 0;
  // The latest event of each (SLO, severity): the alert states to restore after a restart.
  virtual Result<std::vector<StoredAlertEvent>> latest_alert_events() = 0;

  // Stores a decision and returns it with its id. REQUIRES: no reason holds a line break.
  virtual Result<StoredDecision> add_decision(StoredDecision decision) = 0;
  virtual Result<std::vector<StoredDecision>> decisions(const DecisionQuery& query) = 0;
  // Links a change of `service` to the latest "go" for it, made in [from_us, to_us], that no
  // change is linked to yet; returns that decision, or none when there is no such "go".
  virtual Result<std::optional<StoredDecision>> link_change(std::string_view service,
                                                            std::int64_t change_id, TimeUs from_us,
                                                            TimeUs to_us) = 0;
  // The decision a change is linked to, if any.
  virtual Result<std::optional<StoredDecision>> decision_of_change(std::int64_t change_id) = 0;

  // "sqlite:PATH" or the URI without its password, for logs.
  virtual std::string describe() const = 0;
};

// Opens (creating and migrating if needed) the SLO tables of the database a URI names, as
// open_store() reads it, on a connection of its own. Errors name the URI and cause.
Result<std::unique_ptr<SloStore>> open_slo_store(std::string_view uri);

}  // namespace leeway::store
