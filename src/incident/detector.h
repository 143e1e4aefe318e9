// The incident detector: fed the results the store committed, in any arrival order (late ones
// from an agent's spool included), it keeps each check's results per location by result time
// and says which incidents each service had: opened and resolved at the results' times, never
// at arrival times, with the affected checks and locations, the attribution and a timeline.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/time.h"
#include "incident/attribution.h"
#include "incident/quorum.h"
#include "store/store.h"

namespace leeway::incident {

struct CheckInfo {
  std::string service;
  DurationUs interval_us = 30 * kSecondUs;
};

struct LocationInfo {
  Labels labels;
  // The checks this location runs against its reference targets (another site, a public
  // resolver). Their results count toward the location's reference health, not toward a service.
  std::vector<std::string> reference_checks;
  DurationUs reference_interval_us = 30 * kSecondUs;  // how often they run
};

struct DetectorOptions {
  std::map<std::string, CheckInfo> checks;        // by check id; others' results are ignored
  std::map<std::string, LocationInfo> locations;  // by location id; unlisted ones are unlabelled
  int confirm = 2;  // a location sees a check down after this many consecutive failures
  int recover = 2;  // and back up after this many consecutive successes
  int silent_after_intervals = 3;
  DownWhen down_when;
  DurationUs change_window_us = kDefaultChangeWindowUs;
  // A service that fails again this soon after its incident resolved is flapping: the incident
  // is reopened rather than a new one opened, so a lossy link is one incident, not a storm.
  DurationUs reopen_within_us = 5 * kMinuteUs;
};

struct TimelineEvent {
  enum class Kind {
    kOpened,
    kLocationDown,
    kLocationBack,
    kAttributionChanged,
    kChange,
    kResolved,
    kReopened,  // it failed again soon after it resolved: flapping
  };
  TimeUs at_us = 0;
  Kind kind = Kind::kOpened;
  std::string text;  // e.g. "kt-1 sees shop-web/home down (dns)", "attribution: network:kt"

  bool operator==(const TimelineEvent&) const = default;
};
std::string_view to_string(TimelineEvent::Kind kind);

struct Incident {
  std::string id;  // "<service>@<opened, RFC 3339>": the same on every replay
  std::string service;
  TimeUs opened_us = 0;               // when the first failure that opened it happened
  std::optional<TimeUs> resolved_us;  // none while open
  int reopened = 0;  // times it failed again within reopen_within_us of resolving: flapping
  std::set<std::string> checks;  // every check that was down or degraded during it
  // Every location that saw one of its checks down, with the failing stages it saw.
  std::map<std::string, std::set<probe::Stage>> locations;
  probe::Outcome worst = probe::Outcome::kDegraded;
  Verdict verdict;  // the latest attribution, taken again for each spell (opening or reopening)
  ChangeCorrelation changes;  // those before the current spell began
  std::string summary;        // describe()'s sentence for the latest verdict, "since" the spell
  std::vector<TimelineEvent> timeline;  // in time order

  bool operator==(const Incident&) const = default;
};

// When the incident's current spell of failure began: its opening, or its latest reopening.
TimeUs spell_start(const Incident& incident);

// Not thread-safe: one subscriber thread feeds it. It keeps the results it is fed until forget();
// results in time order extend a service's replay, a late one replays the service's history (as
// far back as it keeps) from the start.
class Detector {
 public:
  explicit Detector(DetectorOptions options);

  // Takes a batch of committed results in any order. A result seen before (same check,
  // location and start time) is ignored, so a replay from the store after a restart is harmless.
  void add(std::span<const store::Committed> batch);

  // Records a change for a service; incidents list it when it falls in their change window. The
  // same change again is ignored.
  void record_change(const std::string& service, const Change& change);

  // Every incident so far (since the last forget()), by service then opening time: the same
  // whatever order the results arrived in.
  std::vector<Incident> incidents() const;

  // Bounds memory: for each service with nothing open and no incident resolved within
  // reopen_within_us of `before_us`, drops its results before `before_us` and its incidents
  // (the caller has stored them), and returns its id. Reference results go as far as no kept
  // service needs them.
  std::vector<std::string> forget(TimeUs before_us);

  // Whether the service has an incident open now.
  bool has_open(const std::string& service) const;

  // Whether any result of the service's checks has arrived (forget() does not change it).
  bool has_results(const std::string& service) const;

  // A location's reference health at `now_us`: its reference checks' latest results, if recent.
  ReferenceHealth references(const std::string& location, TimeUs now_us) const;

 private:
  struct Point {
    probe::Outcome outcome;
    probe::Stage stage;
  };
  // One check at one location, in result time order. A vector rather than a map: results
  // mostly arrive in time order, and a map's node would be four times a result's size.
  using Series = std::vector<std::pair<TimeUs, Point>>;
  using SeriesKey = std::pair<std::string, std::string>;  // (check, location)
  // A SeriesKey looked up without copying its strings, e.g. a result's.
  using SeriesView = std::pair<std::string_view, std::string_view>;
  struct SeriesHash {
    using is_transparent = void;
    std::size_t operator()(const SeriesView& key) const;
  };
  struct SeriesEqual {
    using is_transparent = void;
    bool operator()(const SeriesView& a, const SeriesView& b) const { return a == b; }
  };
  // (time, check, location), viewing the check and location of a series' key (which lasts).
  using StepKey = std::tuple<TimeUs, std::string_view, std::string_view>;
  // One service's replay so far: results that arrive in time order extend it, one that lands
  // earlier starts it again from the first result.
  struct Replay;
  struct Service;
  // One check at one location: its results, and what add() needs of it, found once when its
  // first result arrives rather than by name for each result.
  struct Track {
    Series results;
    Service* service = nullptr;  // the check's; none for a reference check that is only that
    // When the check is one of the location's reference checks: the services whose checks run
    // at the location (a reference result changes their evidence).
    const std::set<Service*>* watchers = nullptr;
  };
  using SeriesEntry = std::pair<const SeriesKey, Track>;
  struct Service {
    std::string id;
    std::vector<const SeriesEntry*> series;  // of its checks, in the order first met
    std::shared_ptr<Replay> replay;          // none before add() first replays it
  };

  // The (check, location)'s track, made at its first result; none when the check is neither a
  // configured check nor one of the location's reference checks (its results are ignored).
  Track* track(const std::string& check, const std::string& location);
  // Replays the service's results after the replay's last step.
  void advance(const Service& service, Replay& replay) const;

  DetectorOptions options_;
  // Entries are never erased, and an unordered_map's nodes stay put: pointers to them last.
  std::unordered_map<SeriesKey, Track, SeriesHash, SeriesEqual> series_;
  // What a batch needs, so that its work is in proportion to what it touched, not to the fleet:
  // each service's series, and the services whose checks each location runs.
  std::map<std::string, Service> services_;  // by id; std::map's nodes stay put too
  std::map<std::string, std::set<Service*>> services_by_location_;
  std::map<std::string, std::vector<Change>> changes_;  // by service
};

}  // namespace leeway::incident
