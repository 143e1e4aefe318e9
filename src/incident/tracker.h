// The detector as a subscriber of the results stream: it feeds every committed result to the
// Detector, writes each incident that changed to the incident store, and after a restart rebuilds
// what it knew from the stores, so that an incident is never opened twice.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>

#include "core/clock.h"
#include "incident/detector.h"
#include "store/incident_store.h"
#include "store/store.h"

namespace leeway::incident {

struct TrackerOptions {
  DetectorOptions detector;
  // Results kept in memory for a service with nothing open: enough for results a little late
  // (an agent's next push, its spool after a blip) to land among them. Older ones are forgotten;
  // they stay in the store, which a later result (an agent's spool after an outage) reads them
  // back from. At 10,000 checks every 10 s, a minute kept is about 1.4 MB: 10 minutes were 14 MB
  // of the daemon's 88 (bench/scale.sh).
  DurationUs keep_us = 3 * kMinuteUs;
  // Called for each incident whose id changed (late results moved its opening), once the store
  // moved its acks and notes and recorded the move (store::IncidentMove): the daemon makes its
  // reclassifications (in the SLA store) follow too. Must be idempotent: a move is forgotten
  // only after it returned, so a crash in between calls it again after the restart, as it calls
  // it for a move recorded just before a crash. A failure is tried again at the next batch.
  // None: nothing else follows.
  std::function<Status(const store::IncidentRetirement& moved)> moved;
};

// What /metrics and `leeway status` show, as of the last batch.
struct TrackerStatus {
  std::map<std::string, int> open;  // incidents open per service (every configured service)
  // Per service with an incident open: its id and verdict ("network:kt").
  std::map<std::string, std::pair<std::string, std::string>> verdict;
  // Per service: up (no incident open), down, or none before any of its results arrived.
  std::map<std::string, std::optional<bool>> service_up;
  // Per location: reporting recently and not cut off from its reference targets; none before
  // any of its results arrived.
  std::map<std::string, std::optional<bool>> location_up;
  std::string last_error;  // the last failed write to the incident store; empty if none
};

// Thread-safe: the stream's thread calls add(), the API's workers record_change(), anyone
// status().
class Tracker {
 public:
  // The stores and the clock must outlive the tracker.
  Tracker(TrackerOptions options, store::Store& results, store::IncidentStore& incidents,
          const Clock& clock);

  // Rebuilds the detector's state from the stores: the changes, and the results from before the
  // oldest open incident (and the reopen window) on, so that every incident it replays gets the
  // id it had. Returns the seq to subscribe after. Call once, before add().
  Result<std::int64_t> restore();

  // A batch of committed results (the stream's handler).
  void add(std::span<const store::Committed> batch);

  // A change stored for a service: the incidents after it, within the change window, list it.
  void record_change(const store::StoredChange& change);

  TrackerStatus status() const;

 private:
  // What the store holds of an incident this tracker knows.
  struct Known {
    std::string service;
    TimeUs opened_us = 0;
    std::optional<TimeUs> resolved_us;
    std::string document;
  };

  // Notes which locations have results, and when the latest was.
  // REQUIRES: mutex_.
  void note(std::span<const store::Committed> batch);
  // Writes the incidents that changed since the last write, and retires those that are gone.
  // Returns every incident the detector has (a copy with the timelines: taken once per batch).
  // REQUIRES: mutex_.
  std::vector<Incident> sync();
  // From `all`, sync()'s incidents, and the batch just added (its services have results now).
  // A batch costs what it holds, its open incidents and the locations: status() assembles the
  // per-service maps, not every batch. REQUIRES: mutex_.
  void update_status(const std::vector<Incident>& all,
                     std::span<const store::Committed> batch = {});
  // Runs options_.moved for the moves the store holds, oldest first, forgetting each that
  // followed; stops at the first failure. REQUIRES: mutex_.
  void follow_moves();
  // Results this long before an incident are replayed with it: enough for its confirmations.
  DurationUs margin_us() const;
  // Where a replay that must reach `start` begins: before any incident open or overlapping it
  // (of `service`, or of every service). REQUIRES: mutex_.
  Result<TimeUs> replay_start(TimeUs start, const std::optional<std::string>& service);
  // Replays the checks' results from `start` on (what the detector has is ignored), and learns
  // what the store holds of the incidents from `start` on. REQUIRES: mutex_.
  Status replay(const std::set<std::string>& checks, TimeUs start,
                const std::optional<std::string>& service);
  // Reads back from the store the results of each service that a result in the batch is
  // older than the detector keeps. REQUIRES: mutex_.
  Status reach_back(std::span<const store::Committed> batch);

  const TrackerOptions options_;
  store::Store& results_;
  store::IncidentStore& incidents_;
  const Clock& clock_;

  std::mutex mutex_;
  Detector detector_;
  std::map<std::string, Known> known_;         // by incident id
  std::map<std::string, TimeUs> last_result_;  // by location: its latest result's time
  std::map<std::string, TimeUs> kept_from_;    // by service: the detector has its results since
  TimeUs forgot_at_us_ = 0;                    // the clock when forget() last ran
  std::string last_error_;
  // The store may hold moves to follow: at the start (a crash may have left some) and after a
  // retirement with a successor.
  bool moves_pending_ = true;

  // What status() is made of. Apart, so that status() never waits for the store.
  struct OpenIncident {
    std::string service, id, verdict;
  };
  mutable std::mutex status_mutex_;
  std::vector<std::string> services_;  // every configured service, once, sorted; constant
  std::vector<OpenIncident> open_;
  std::set<std::string, std::less<>> with_results_;  // services any result of arrived for
  std::map<std::string, std::optional<bool>> location_up_;
  std::string status_error_;
};

}  // namespace leeway::incident
