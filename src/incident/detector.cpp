// Replays each service's results in result-time order through the confirm/recover state per
// check and location, the quorum and the attribution. Replaying from the results, rather than
// updating in arrival order, is what makes late results land where they happened.
#include "incident/detector.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <tuple>

namespace leeway::incident {

std::string_view to_string(TimelineEvent::Kind kind) {
  switch (kind) {
    case TimelineEvent::Kind::kOpened:
      return "opened";
    case TimelineEvent::Kind::kLocationDown:
      return "location down";
    case TimelineEvent::Kind::kLocationBack:
      return "location back";
    case TimelineEvent::Kind::kAttributionChanged:
      return "attribution changed";
    case TimelineEvent::Kind::kChange:
      return "change recorded";
    case TimelineEvent::Kind::kResolved:
      return "resolved";
    case TimelineEvent::Kind::kReopened:
      return "reopened";
  }
  return "";
}

namespace {

// One check at one location, as the replay has seen it so far.
struct LocationState {
  int failures = 0;   // consecutive
  int successes = 0;  // consecutive
  bool down = false;  // confirmed
  TimeUs failing_since_us = 0;
  // The first success of the streak that is bringing it back (while down): it is back from
  // there, as it went down from its first failure.
  TimeUs recovering_since_us = 0;
  // Since when the quorum has been told it is up without a break, counting a streak that
  // recovered it from the streak's first up result; 0 while it is not told up. A degraded
  // result, a confirmed failure or a silence breaks it; a failure not yet confirmed does not.
  TimeUs up_since_us = 0;
  TimeUs awaited_since_us = 0;  // see LocationReport
  TimeUs last_us = 0;
  probe::Outcome shown = probe::Outcome::kUp;  // what the quorum is told
  probe::Stage stage = probe::Stage::kNone;
  std::size_t report = 0;  // its place in the check's reports, once it has a known result
};

// One of the service's checks as the replay has seen it so far: its state at each location,
// and its quorum's state as last taken. That state holds until one of its locations reports
// again (`stale`) or one falls silent (after `state_until_us`), so a step takes again only the
// quorum of the check it reports, not every check's.
struct CheckReplay {
  QuorumOptions quorum;
  std::map<std::string, LocationState> locations;  // by location
  // The latest word of each location with a known result (last_us set), by location: what the
  // quorum and the evidence are taken from, kept up to date rather than copied at each step.
  std::vector<LocationReport> reports;
  TimeUs latest_us = 0;  // the latest known result of any location
  CheckState state = CheckState::kUnknown;
  TimeUs state_until_us = 0;
  bool stale = true;
};

// A series' first result at or after `at_us`, and its first after `at_us`.
template <typename Series>
auto at_or_after(const Series& series, TimeUs at_us) {
  return std::lower_bound(series.begin(), series.end(), at_us,
                          [](const auto& result, TimeUs t) { return result.first < t; });
}
template <typename Series>
auto after(const Series& series, TimeUs at_us) {
  return std::upper_bound(series.begin(), series.end(), at_us,
                          [](TimeUs t, const auto& result) { return t < result.first; });
}

int severity(probe::Outcome o) {
  return o == probe::Outcome::kDown ? 2 : o == probe::Outcome::kDegraded ? 1 : 0;
}

bool is_bad(CheckState state) {
  return state == CheckState::kDown || state == CheckState::kDegraded;
}

Labels labels_of(const DetectorOptions& options, const std::string& location) {
  const auto it = options.locations.find(location);
  return it == options.locations.end() ? Labels{} : it->second.labels;
}

// Puts a location's state, just updated by a known result, into the check's reports.
void report(const DetectorOptions& options, CheckReplay& check, const LocationState& state,
            bool first) {
  if (!first) {
    LocationReport& r = check.reports[state.report];
    r.last_us = state.last_us;
    r.outcome = state.shown;
    r.stage = state.stage;
    r.awaited_since_us = state.awaited_since_us;
    return;
  }
  check.reports.clear();  // a new location among them: their places move
  for (auto& [location, s] : check.locations) {
    if (s.last_us == 0) continue;
    s.report = check.reports.size();
    check.reports.push_back(
        {location, labels_of(options, location), s.last_us, s.shown, s.stage, s.awaited_since_us});
  }
}

DurationUs silent_after_us(const CheckReplay& check) {
  return check.quorum.silent_after_intervals * check.quorum.interval_us;
}

// A result at `now_us` after a spell in which no location reported the check: every location
// that had not already fallen silent before the spell is awaited from now, so that those yet to
// report again are not lost the moment the first one is back (an incident that no location saw).
void resume(CheckReplay& check, TimeUs now_us) {
  const TimeUs spell_began_us = check.latest_us;
  for (auto& [location, s] : check.locations) {
    if (s.last_us == 0) continue;
    const bool lost =
        spell_began_us - std::max(s.last_us, s.awaited_since_us) > silent_after_us(check);
    if (lost) continue;
    s.awaited_since_us = now_us;
    check.reports[s.report].awaited_since_us = now_us;
  }
}

// Takes the check's quorum at `now_us`, and how long it holds: until a location that reports
// now falls silent (later results are not in sight: they make it stale).
void take_quorum(CheckReplay& check, TimeUs now_us) {
  check.state = quorum_state(check.reports, now_us, check.quorum);
  check.state_until_us = std::numeric_limits<TimeUs>::max();
  for (const LocationReport& report : check.reports) {
    // A reporting location falls silent, an awaited one is lost, this long after.
    const TimeUs until =
        std::max(*report.last_us, report.awaited_since_us) + silent_after_us(check);
    if (until >= now_us) check.state_until_us = std::min(check.state_until_us, until);
  }
  check.stale = false;
}

// When the service came back, at a step that left every check up: when the last location the
// quorum counts came back, by the dates its streak of successes gives (a location is back from
// the first success that confirms it, as it went down at its first failure). Never before an
// event already in the incident's timeline (a verdict taken while the successes came in, a
// reopening): a timeline that resolves and then changes its verdict would read backwards.
TimeUs back_since(const std::map<std::string, CheckReplay>& checks, const Incident& incident,
                  TimeUs now_us) {
  TimeUs back = 0;
  for (const auto& [name, check] : checks) {
    for (const auto& [location, s] : check.locations) {
      if (s.last_us == 0 || now_us - s.last_us > silent_after_us(check)) continue;  // not counted
      // Counted at an all-up step, it is told up, so up_since_us is set; 0 would mean "just now".
      back = std::max(back, s.up_since_us == 0 ? now_us : s.up_since_us);
    }
  }
  for (const TimelineEvent& e : incident.timeline) back = std::max(back, e.at_us);
  return back;
}

}  // namespace

struct Detector::Replay {
  std::map<std::string, CheckReplay> checks;  // by check: every check of the service with results
  std::vector<Incident> incidents;            // their timelines without changes, in event order
  bool open = false;                          // the last incident is open
  // When the first location changed state since the verdict was last taken; -1: none since.
  // Locations report at different moments within an interval, so a verdict taken halfway
  // through a change (one vantage of an ISP confirmed down, its neighbour not yet) would be
  // wrong for a moment: it waits until every reporting location has reported since.
  TimeUs unsettled_since_us = -1;
  // The last incident reopened since its verdict was taken: the new spell gets a verdict of its
  // own, with its own start and the changes before it, even when its name is the same.
  bool reopened_since_verdict = false;
  std::optional<StepKey> last;  // the last step replayed
  // Where each of the service's series (in Service::series' order) plays: its check's replay
  // and its location's state there, found once per replay rather than by name per step.
  std::vector<std::pair<CheckReplay*, LocationState*>> plays;
};

Detector::Detector(DetectorOptions options) : options_(std::move(options)) {}

std::size_t Detector::SeriesHash::operator()(const SeriesView& key) const {
  const std::size_t check = std::hash<std::string_view>{}(key.first);
  return check ^ (std::hash<std::string_view>{}(key.second) + 0x9e3779b97f4a7c15 + (check << 6) +
                  (check >> 2));
}

Detector::Track* Detector::track(const std::string& check, const std::string& location) {
  if (const auto found = series_.find(SeriesView{check, location}); found != series_.end()) {
    return &found->second;
  }
  const auto info = options_.checks.find(check);
  const auto at = options_.locations.find(location);
  const bool reference =
      at != options_.locations.end() &&
      std::count(at->second.reference_checks.begin(), at->second.reference_checks.end(), check) > 0;
  if (info == options_.checks.end() && !reference) return nullptr;
  SeriesEntry& entry = *series_.try_emplace({check, location}).first;
  Track& track = entry.second;
  if (info != options_.checks.end()) {
    Service& service = services_[info->second.service];
    service.id = info->second.service;
    service.series.push_back(&entry);
    track.service = &service;
    services_by_location_[location].insert(&service);
  }
  if (reference) track.watchers = &services_by_location_[location];
  return &track;
}

void Detector::add(std::span<const store::Committed> batch) {
  std::unordered_map<Service*, bool> touched;  // and whether its replay is rewound
  // A result that lands before a service's last replayed step rewinds its replay to the start.
  const auto lands = [&](Service& service, const StepKey& step, bool reference) {
    bool& rewound = touched[&service];
    if (!service.replay || !service.replay->last) return;
    const StepKey& last = *service.replay->last;
    if (reference ? std::get<0>(step) <= std::get<0>(last) : step <= last) rewound = true;
  };
  for (const store::Committed& c : batch) {
    const store::StoredResult& r = c.result;
    Track* track = this->track(r.check, r.location);
    if (!track) continue;
    Series& results = track->results;
    if (results.empty() || results.back().first < r.started_us) {
      results.emplace_back(r.started_us, Point{r.outcome, r.stage});
    } else if (const auto at = at_or_after(results, r.started_us); at->first != r.started_us) {
      results.insert(at, {r.started_us, Point{r.outcome, r.stage}});  // a late one
    } else {
      continue;  // seen before
    }
    const StepKey step{r.started_us, r.check, r.location};
    if (track->service) lands(*track->service, step, false);
    // A reference result changes the evidence of every service this location watches.
    if (track->watchers) {
      for (Service* service : *track->watchers) lands(*service, step, true);
    }
  }
  for (const auto& [service, rewound] : touched) {
    if (!service->replay || rewound) service->replay = std::make_shared<Replay>();
    advance(*service, *service->replay);
  }
}

void Detector::record_change(const std::string& service, const Change& change) {
  std::vector<Change>& changes = changes_[service];
  if (std::find(changes.begin(), changes.end(), change) != changes.end()) return;  // heard twice
  changes.push_back(change);
  // The incidents' change lists and sentences are taken as they replay.
  if (auto found = services_.find(service); found != services_.end() && found->second.replay) {
    found->second.replay = std::make_shared<Replay>();
    advance(found->second, *found->second.replay);
  }
}

TimeUs spell_start(const Incident& incident) {
  for (auto it = incident.timeline.rbegin(); it != incident.timeline.rend(); ++it) {
    if (it->kind == TimelineEvent::Kind::kReopened) return it->at_us;
  }
  return incident.opened_us;
}

std::vector<Incident> Detector::incidents() const {
  std::vector<Incident> all;
  for (const auto& [id, service] : services_) {
    if (!service.replay) continue;
    for (Incident incident : service.replay->incidents) {
      for (const Change& change : incident.changes.before) {
        incident.timeline.push_back({change.at_us, TimelineEvent::Kind::kChange,
                                     fmt::format("{}: {}", change.kind, change.description)});
      }
      std::stable_sort(incident.timeline.begin(), incident.timeline.end(),
                       [](const auto& a, const auto& b) { return a.at_us < b.at_us; });
      all.push_back(std::move(incident));
    }
  }
  return all;
}

ReferenceHealth Detector::references(const std::string& location, TimeUs now_us) const {
  const auto info = options_.locations.find(location);
  if (info == options_.locations.end() || info->second.reference_checks.empty()) {
    return ReferenceHealth::kNone;
  }
  bool any = false;
  for (const std::string& check : info->second.reference_checks) {
    const auto track = series_.find(SeriesView{check, location});
    if (track == series_.end()) continue;
    const Series& series = track->second.results;
    const auto later = after(series, now_us);
    if (later == series.begin()) continue;
    const auto& [at, point] = *std::prev(later);
    if (now_us - at > options_.silent_after_intervals * info->second.reference_interval_us) {
      continue;
    }
    if (point.outcome == probe::Outcome::kUp || point.outcome == probe::Outcome::kDegraded) {
      return ReferenceHealth::kUp;
    }
    any = any || point.outcome == probe::Outcome::kDown;
  }
  return any ? ReferenceHealth::kDown : ReferenceHealth::kNone;
}

bool Detector::has_results(const std::string& service) const {
  const auto found = services_.find(service);
  return found != services_.end() && found->second.replay;
}

bool Detector::has_open(const std::string& service) const {
  const auto found = services_.find(service);
  return found != services_.end() && found->second.replay && found->second.replay->open;
}

std::vector<std::string> Detector::forget(TimeUs before_us) {
  std::set<const Service*> quiet;  // services with nothing open nor able to reopen
  for (auto& [id, service] : services_) {
    const std::shared_ptr<Replay>& replay = service.replay;
    if (!replay || replay->open) continue;
    if (!replay->incidents.empty() &&
        *replay->incidents.back().resolved_us + options_.reopen_within_us >= before_us) {
      continue;
    }
    quiet.insert(&service);
    replay->incidents.clear();  // stored; a replay from what is kept does not meet them again
  }
  // References are shared by every service a location watches: kept as far back as any
  // service's kept results go, so that a replay from them sees the same reference health.
  TimeUs references_before_us = before_us;
  for (const auto& [key, track] : series_) {
    if (track.service && !quiet.count(track.service) && !track.results.empty()) {
      references_before_us = std::min(references_before_us, track.results.begin()->first);
    }
  }
  for (auto& [key, track] : series_) {
    if (track.service && !quiet.count(track.service)) continue;
    Series& series = track.results;
    series.erase(series.begin(),
                 at_or_after(series, track.service ? before_us : references_before_us));
    // A vector keeps its capacity: after an incident held a long stretch, give it back, or the
    // memory of the longest incident would stay for good.
    if (series.capacity() > 2 * series.size() + 16) series.shrink_to_fit();
  }
  std::vector<std::string> ids;
  for (const Service* service : quiet) ids.push_back(service->id);
  return ids;
}

void Detector::advance(const Service& service, Replay& r) const {
  struct Step {
    TimeUs at_us;
    const std::string* check;
    const std::string* location;
    Point point;
    CheckReplay* replay;   // the check's
    LocationState* state;  // the location's in the check's replay

    StepKey key() const { return {at_us, *check, *location}; }
  };
  std::vector<Step> steps;
  for (std::size_t i = 0; i < service.series.size(); ++i) {
    const auto& [key, track] = *service.series[i];
    if (i == r.plays.size()) {  // a series this replay has not met yet
      const auto [check, added] = r.checks.try_emplace(key.first);
      if (added) {
        check->second.quorum = {options_.checks.at(key.first).interval_us,
                                options_.silent_after_intervals, options_.down_when};
      }
      r.plays.emplace_back(&check->second, &check->second.locations[key.second]);
    }
    const auto [check, state] = r.plays[i];
    const Series& series = track.results;
    const auto from = r.last ? at_or_after(series, std::get<0>(*r.last)) : series.begin();
    for (auto it = from; it != series.end(); ++it) {
      const Step step{it->first, &key.first, &key.second, it->second, check, state};
      if (!r.last || step.key() > *r.last) steps.push_back(step);
    }
  }
  std::sort(steps.begin(), steps.end(),
            [](const Step& a, const Step& b) { return a.key() < b.key(); });
  if (steps.empty()) return;
  r.last = steps.back().key();
  const std::vector<Change> no_changes;
  const auto found_changes = changes_.find(service.id);
  const std::vector<Change>& changes =
      found_changes == changes_.end() ? no_changes : found_changes->second;

  std::vector<Incident>& incidents = r.incidents;
  Incident* open = r.open ? &incidents.back() : nullptr;
  TimeUs& unsettled_since_us = r.unsettled_since_us;

  for (const Step& step : steps) {
    std::vector<TimelineEvent> events;
    bool returned = false;  // the location reports again after falling silent
    LocationState& s = *step.state;
    // An unknown result is leeway's own failure: no evidence either way, so the location ages
    // toward silence instead.
    if (step.point.outcome != probe::Outcome::kUnknown) {
      CheckReplay& check = *step.replay;
      if (check.latest_us != 0 && step.at_us - check.latest_us > silent_after_us(check)) {
        resume(check, step.at_us);
      }
      check.latest_us = std::max(check.latest_us, step.at_us);
      const bool first = s.last_us == 0;
      // Back from a silence, it is seen up from its return, not from before it.
      returned = !first && step.at_us - s.last_us > silent_after_us(check);
      if (returned) s.up_since_us = 0;
      s.last_us = step.at_us;
      if (step.point.outcome == probe::Outcome::kDown) {
        if (s.failures++ == 0) s.failing_since_us = step.at_us;
        s.successes = 0;
        s.stage = step.point.stage;
        if (!s.down && s.failures >= options_.confirm) {
          s.down = true;
          events.push_back({s.failing_since_us, TimelineEvent::Kind::kLocationDown,
                            fmt::format("{} sees {} down ({})", *step.location, *step.check,
                                        probe::to_string(s.stage))});
        }
        if (s.down) {
          s.up_since_us = 0;
        } else if (s.up_since_us == 0) {
          s.up_since_us = step.at_us;  // one failure is not enough: still shown up
        }
      } else {
        s.failures = 0;
        if (s.down) {
          if (s.successes++ == 0) s.recovering_since_us = step.at_us;
          if (s.successes >= options_.recover) {
            s.down = false;
            events.push_back({s.recovering_since_us, TimelineEvent::Kind::kLocationBack,
                              fmt::format("{} sees {} up again", *step.location, *step.check)});
          }
        }
        if (step.point.outcome == probe::Outcome::kDegraded) {
          s.up_since_us = 0;
        } else if (s.up_since_us == 0) {
          s.up_since_us = step.at_us;
        }
      }
      s.shown = s.down                                            ? probe::Outcome::kDown
                : step.point.outcome == probe::Outcome::kDegraded ? probe::Outcome::kDegraded
                                                                  : probe::Outcome::kUp;
      report(options_, *step.replay, s, first);
      step.replay->stale = true;
    }

    // The service at this moment: each check's quorum.
    const TimeUs now = step.at_us;
    bool all_up = true, bad = false;
    for (auto& [name, check] : r.checks) {
      if (check.stale || now > check.state_until_us) take_quorum(check, now);
      bad = bad || is_bad(check.state);
      all_up = all_up && check.state == CheckState::kUp;
    }
    if (bad && !open) {
      // It opened when the first failure that the confirmations stand on happened.
      TimeUs first_failure = now;
      for (const auto& [name, check] : r.checks) {
        for (const auto& [location, state] : check.locations) {
          if (state.down) first_failure = std::min(first_failure, state.failing_since_us);
        }
      }
      // Failing again soon after it resolved is flapping: the same incident, reopened.
      if (!incidents.empty() &&
          first_failure - *incidents.back().resolved_us <= options_.reopen_within_us) {
        open = &incidents.back();
        open->resolved_us.reset();
        ++open->reopened;
        r.reopened_since_verdict = true;
        open->timeline.push_back({first_failure, TimelineEvent::Kind::kReopened,
                                  fmt::format("reopened: flapping ({} times)", open->reopened)});
      } else {
        incidents.emplace_back();
        open = &incidents.back();
        open->service = service.id;
        open->opened_us = first_failure;
        open->id = service.id + "@" + format_rfc3339(first_failure);
        open->timeline.push_back({first_failure, TimelineEvent::Kind::kOpened, "opened"});
      }
    }
    // A return from silence changes the evidence as a location down or back does: the vantages
    // of a silent ISP come back a moment apart, and the first back would leave the other alone.
    if ((!events.empty() || returned) && unsettled_since_us < 0) unsettled_since_us = now;
    if (!open) continue;
    open->timeline.insert(open->timeline.end(), events.begin(), events.end());
    if (bad) {
      // What each location sees of the service's checks, in check order.
      std::map<std::string, LocationEvidence> evidence;
      for (const auto& [name, check] : r.checks) {
        if (is_bad(check.state)) open->checks.insert(name);
        for (const LocationReport& report : check.reports) {
          LocationEvidence& e = evidence[report.location];
          e.location = report.location;
          e.labels = report.labels;
          e.checks.push_back(
              {name, report.outcome, report.stage, is_silent(report, now, check.quorum)});
        }
        for (const auto& [location, state] : check.locations) {
          if (state.down) open->locations[location].insert(state.stage);
          if (severity(state.shown) > severity(open->worst)) open->worst = state.shown;
        }
      }
      std::vector<LocationEvidence> locations;
      for (auto& [name, e] : evidence) {
        e.references = references(name, now);
        locations.push_back(e);
      }
      const bool settled = std::all_of(locations.begin(), locations.end(), [&](const auto& l) {
        return std::all_of(l.checks.begin(), l.checks.end(), [&](const CheckStatus& c) {
          return c.silent ||
                 r.checks.at(c.check).locations.at(l.location).last_us >= unsettled_since_us;
        });
      });
      if (!settled) continue;
      unsettled_since_us = -1;
      Verdict verdict = attribute(locations);
      // A verdict keeps the evidence it was first reached on: while an outage ends, the
      // references come back before the service does, and would tell the story backwards.
      if (verdict.name == open->verdict.name && !r.reopened_since_verdict) continue;
      r.reopened_since_verdict = false;
      open->timeline.push_back(
          {now, TimelineEvent::Kind::kAttributionChanged, "attribution: " + verdict.name});
      open->verdict = std::move(verdict);
      const TimeUs since = spell_start(*open);
      open->changes = correlate_changes(changes, since, open->verdict, options_.change_window_us);
      open->summary = describe(service.id, since, open->verdict, locations, open->changes);
    } else if (all_up) {
      unsettled_since_us = -1;
      open->resolved_us = back_since(r.checks, *open, now);
      open->timeline.push_back({*open->resolved_us, TimelineEvent::Kind::kResolved, "resolved"});
      open = nullptr;
    }
  }
  r.open = open != nullptr;
}

}  // namespace leeway::incident
