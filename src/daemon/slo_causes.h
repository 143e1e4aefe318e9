// Where an SLO's budget went: by incident (with its attribution, the minutes blamed on a network
// apart) and by change (what was spent within the change window after each), and the budget
// remaining over the window for the burn-down `leeway slo show` draws. Pure functions over the
// engine's minutes. Internal to the daemon module.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "slo/engine.h"
#include "store/incident_store.h"

namespace leeway::daemon {

// What one incident spent of an SLO's budget in the period counted so far.
struct IncidentSpend {
  std::string id;
  std::string verdict;  // its attribution: "service", "network:kt", ...
  TimeUs from_us = 0;   // the whole minutes it covers in the period counted: [from, to)
  TimeUs to_us = 0;
  bool network = false;  // blamed on a network (`network:*`)
  bool spends = true;    // false: a network's minutes that the SLO leaves out of the window
  double spent = 0;      // in the SLO's unit (events or minutes)
};

// What an SLO spent in the change window after one change.
struct ChangeSpend {
  store::StoredChange change;
  TimeUs to_us = 0;  // the end of the window counted: the change window's, or the evaluation's
  double spent = 0;  // in the SLO's unit
};

struct Causes {
  std::vector<IncidentSpend> incidents;  // oldest first
  std::vector<ChangeSpend> changes;      // oldest first
  double in_incidents = 0;               // spent in incidents, network ones included
  double by_network = 0;                 // of it, in incidents blamed on a network
  // The minutes incidents blamed on a network covered; when the SLO does not let them spend
  // the budget, the bad ones among them left the window.
  std::int64_t network_minutes = 0;
  double outside_incidents = 0;  // the rest of the budget spent: no incident covers it
};

// The budget's cause at one SLO's last evaluation. `incidents` are the service's (a vantage's
// own ones are not the service's failures and are skipped), `changes` those that may touch the
// period; `m` the evaluation minute.
Causes causes_of(const slo::Engine& engine, std::size_t slo, TimeUs m,
                 std::span<const store::StoredIncident> incidents,
                 std::span<const store::StoredChange> changes, DurationUs change_window_us);

// Whether an incident's minutes are the service's failures (not a vantage's own), and whether a
// network is blamed for them.
bool counts_against_service(const store::StoredIncident& incident);
bool blames_network(const store::StoredIncident& incident);

struct BurnDownPoint {
  TimeUs at_us = 0;
  std::optional<double> remaining_ratio;  // none when the budget is unknown
};

// The budget remaining at `points` times evenly spread from the period's start to the
// evaluation minute `m` (the last one): the budget total less what was spent before each.
std::vector<BurnDownPoint> burn_down(const slo::Engine& engine, std::size_t slo, TimeUs m,
                                     int points);

nlohmann::json causes_json(const Causes& causes);
nlohmann::json burn_down_json(const std::vector<BurnDownPoint>& points);

}  // namespace leeway::daemon
