// The detector fed by the results stream, with its incidents kept in the store. A replay from the
// store reaches the same incidents with the same ids ("<service>@<opened>"), so a restart writes
// over what it wrote before instead of opening new ones.
#include "incident/tracker.h"

#include <algorithm>
#include <limits>
#include <set>

#include "incident/document.h"

namespace leeway::incident {

namespace {

constexpr TimeUs kForever = std::numeric_limits<TimeUs>::max();
// How often the detector forgets old results (clock time).
constexpr DurationUs kForgetEveryUs = kMinuteUs;
// Incidents read back at most per query: far more than open at once.
constexpr std::size_t kMaxIncidents = 100'000;

// The longest interval of any check or reference: what silence and margins are counted in.
DurationUs longest_interval(const DetectorOptions& o) {
  DurationUs longest = 0;
  for (const auto& [id, check] : o.checks) longest = std::max(longest, check.interval_us);
  for (const auto& [id, location] : o.locations) {
    longest = std::max(longest, location.reference_interval_us);
  }
  return longest;
}

}  // namespace

Tracker::Tracker(TrackerOptions options, store::Store& results, store::IncidentStore& incidents,
                 const Clock& clock)
    : options_(std::move(options)),
      results_(results),
      incidents_(incidents),
      clock_(clock),
      detector_(options_.detector) {
  std::set<std::string> services;
  for (const auto& [id, check] : options_.detector.checks) services.insert(check.service);
  services_.assign(services.begin(), services.end());
}

DurationUs Tracker::margin_us() const {
  const DetectorOptions& o = options_.detector;
  return (std::max(o.confirm, o.recover) + o.silent_after_intervals + 1) * longest_interval(o);
}

Result<TimeUs> Tracker::replay_start(TimeUs start, const std::optional<std::string>& service) {
  const DurationUs margin = margin_us();
  const DurationUs reopen = options_.detector.reopen_within_us;
  // Early enough for every open incident and for the reopen window, and never inside an
  // incident (or just after one, where it could reopen), which a replay from its middle would
  // open again under another id.
  auto open = incidents_.incidents({.service = service, .state = "open", .limit = kMaxIncidents});
  if (!open) return open.error();
  for (const auto& i : *open) start = std::min(start, i.opened_us - margin);
  while (true) {
    auto across = incidents_.incidents({.service = service,
                                        .from_us = start - reopen - margin,
                                        .to_us = start,
                                        .limit = kMaxIncidents});
    if (!across) return across.error();
    if (across->empty()) break;
    for (const auto& i : *across) start = std::min(start, i.opened_us - margin);
  }
  return start;
}

Status Tracker::replay(const std::set<std::string>& checks, TimeUs start,
                       const std::optional<std::string>& service) {
  std::vector<store::Committed> replay;
  for (const std::string& check : checks) {
    store::ResultQuery q{.check = check,
                         .from_us = start,
                         .to_us = kForever,
                         .order = store::Order::kOldestFirst,
                         .limit = 10'000};
    do {
      auto page = results_.results(q);
      if (!page) return page.error();
      for (auto& r : page->results) replay.push_back({0, std::move(r)});
      q.cursor = page->next_cursor;
    } while (!q.cursor.empty());
  }
  // In time order, the detector replays each service once.
  std::stable_sort(replay.begin(), replay.end(), [](const auto& a, const auto& b) {
    return a.result.started_us < b.result.started_us;
  });
  detector_.add(replay);
  note(replay);

  // What the store holds from the replay's start on: what the replay no longer reaches is retired.
  auto stored =
      incidents_.incidents({.service = service, .from_us = start, .limit = kMaxIncidents});
  if (!stored) return stored.error();
  for (auto& i : *stored) {
    if (i.opened_us < start) continue;
    known_[i.id] = {i.service, i.opened_us, i.resolved_us, std::move(i.document)};
  }
  return {};
}

Result<std::int64_t> Tracker::restore() {
  std::lock_guard lock(mutex_);
  // Read first: a result committed while the rest is read comes again from the stream, and the
  // detector ignores what it has seen.
  const auto last_seq = results_.last_seq();
  if (!last_seq) return last_seq.error();
  const TimeUs now = clock_.now_us();
  auto start = replay_start(now - options_.detector.reopen_within_us - margin_us(), std::nullopt);
  if (!start) return start.error();

  auto changes = incidents_.changes(
      {.from_us = *start - options_.detector.change_window_us, .limit = kMaxIncidents});
  if (!changes) return changes.error();
  for (const auto& c : *changes) {
    detector_.record_change(c.service, {c.at_us, c.kind, c.description, c.improvement});
  }

  std::set<std::string> checks;
  for (const auto& [id, info] : options_.detector.checks) {
    checks.insert(id);
    kept_from_[info.service] = *start;
  }
  for (const auto& [id, location] : options_.detector.locations) {
    checks.insert(location.reference_checks.begin(), location.reference_checks.end());
  }
  if (Status s = replay(checks, *start, std::nullopt); !s) return s.error();
  update_status(sync());
  forgot_at_us_ = now;
  return *last_seq;
}

Status Tracker::reach_back(std::span<const store::Committed> batch) {
  std::map<std::string, TimeUs> late;  // by service: its earliest result the detector let go
  for (const auto& c : batch) {
    const auto check = options_.detector.checks.find(c.result.check);
    if (check == options_.detector.checks.end()) continue;
    const auto kept = kept_from_.find(check->second.service);
    if (kept == kept_from_.end() || c.result.started_us >= kept->second) continue;
    TimeUs& earliest = late.try_emplace(check->second.service, c.result.started_us).first->second;
    earliest = std::min(earliest, c.result.started_us);
  }
  for (const auto& [service, from_us] : late) {
    auto start = replay_start(from_us - margin_us(), service);
    if (!start) return start.error();
    // The service's checks, and the reference checks every location runs (their evidence).
    std::set<std::string> checks;
    for (const auto& [id, info] : options_.detector.checks) {
      if (info.service == service) checks.insert(id);
    }
    for (const auto& [id, location] : options_.detector.locations) {
      checks.insert(location.reference_checks.begin(), location.reference_checks.end());
    }
    if (Status s = replay(checks, *start, service); !s) return s;
    kept_from_[service] = *start;
  }
  return {};
}

void Tracker::add(std::span<const store::Committed> batch) {
  std::lock_guard lock(mutex_);
  // A late result from before what the detector keeps (an agent's spool after a long outage):
  // its service's results from then on come back from the store first, so that it replays
  // among the other locations' results of its time, as if it had arrived on time.
  const Status reached = reach_back(batch);
  detector_.add(batch);
  note(batch);
  const std::vector<Incident> all = sync();
  if (!reached) last_error_ = reached.error().message;
  const TimeUs now = clock_.now_us();
  // Only once everything is stored: what the detector forgets, the store must have.
  if (now - forgot_at_us_ >= kForgetEveryUs && last_error_.empty()) {
    for (const std::string& service : detector_.forget(now - options_.keep_us)) {
      TimeUs& kept = kept_from_[service];
      kept = std::max(kept, now - options_.keep_us);
    }
    std::set<std::string> kept;
    for (const Incident& i : detector_.incidents()) kept.insert(i.id);
    std::erase_if(known_, [&](const auto& k) { return !kept.count(k.first); });
    forgot_at_us_ = now;
  }
  update_status(all, batch);
}

void Tracker::note(std::span<const store::Committed> batch) {
  for (const auto& c : batch) {
    TimeUs& last = last_result_[c.result.location];
    last = std::max(last, c.result.started_us);
  }
}

void Tracker::record_change(const store::StoredChange& c) {
  std::lock_guard lock(mutex_);
  detector_.record_change(c.service, {c.at_us, c.kind, c.description, c.improvement});
  update_status(sync());
}

std::vector<Incident> Tracker::sync() {
  follow_moves();
  std::vector<Incident> all = detector_.incidents();
  std::set<std::string> ids;
  std::vector<store::StoredIncident> upserts;
  for (const Incident& i : all) {
    ids.insert(i.id);
    store::StoredIncident stored = to_stored(i);
    const auto known = known_.find(i.id);
    if (known == known_.end() || known->second.document != stored.document) {
      upserts.push_back(std::move(stored));
    }
  }
  // An incident the detector no longer has: late results moved its opening (a new id). Its acks
  // and notes go to the incident of the same service that now covers its time.
  std::vector<store::IncidentRetirement> retired;
  for (const auto& [id, known] : known_) {
    if (ids.count(id)) continue;
    store::IncidentRetirement r{id, ""};
    for (const Incident& i : all) {
      if (i.service == known.service && i.opened_us <= known.resolved_us.value_or(kForever) &&
          i.resolved_us.value_or(kForever) >= known.opened_us) {
        r.to_id = i.id;
        break;
      }
    }
    retired.push_back(std::move(r));
  }
  if (upserts.empty() && retired.empty()) return all;
  // On failure nothing is marked written: the next batch tries again.
  if (Status s = incidents_.write_incidents(upserts, retired); !s) {
    last_error_ = s.error().message;
    return all;
  }
  last_error_.clear();
  for (auto& u : upserts) {
    known_[u.id] = {u.service, u.opened_us, u.resolved_us, std::move(u.document)};
  }
  for (auto& r : retired) {
    known_.erase(r.id);
    if (!r.to_id.empty()) moves_pending_ = true;
  }
  follow_moves();
  return all;
}

void Tracker::follow_moves() {
  if (!moves_pending_) return;
  auto pending = incidents_.pending_moves();
  if (!pending) {
    last_error_ = pending.error().message;
    return;
  }
  for (const store::IncidentMove& m : *pending) {
    Status s = options_.moved ? options_.moved({m.from_id, m.to_id}) : Status{};
    if (s) s = incidents_.forget_move(m.id);
    if (!s) {
      last_error_ = s.error().message;
      return;  // a later move may start where this one ends: in order, or not at all
    }
  }
  moves_pending_ = false;
}

void Tracker::update_status(const std::vector<Incident>& all,
                            std::span<const store::Committed> batch) {
  std::vector<OpenIncident> open;
  for (const Incident& i : all) {
    if (!i.resolved_us) open.push_back({i.service, i.id, i.verdict.name});
  }
  const DetectorOptions& o = options_.detector;
  const TimeUs now = clock_.now_us();
  const DurationUs silent_after = o.silent_after_intervals * longest_interval(o);
  std::map<std::string, std::optional<bool>> location_up;
  for (const auto& [id, location] : o.locations) location_up[id] = std::nullopt;
  for (const auto& [location, last_us] : last_result_) {
    location_up[location] = now - last_us <= silent_after &&
                            detector_.references(location, now) != ReferenceHealth::kDown;
  }
  std::lock_guard lock(status_mutex_);
  // Without a batch (a restore, a change), every service is asked.
  if (batch.empty()) {
    for (const std::string& service : services_) {
      if (detector_.has_results(service)) with_results_.insert(service);
    }
  }
  // Once every service has had a result, a batch has nothing to add here.
  for (std::size_t i = 0; i < batch.size() && with_results_.size() < services_.size(); ++i) {
    const auto check = o.checks.find(batch[i].result.check);
    if (check != o.checks.end()) with_results_.insert(check->second.service);
  }
  open_ = std::move(open);
  location_up_ = std::move(location_up);
  status_error_ = last_error_;
}

TrackerStatus Tracker::status() const {
  TrackerStatus s;
  std::lock_guard lock(status_mutex_);
  for (const std::string& service : services_) s.open.emplace_hint(s.open.end(), service, 0);
  for (const OpenIncident& i : open_) {
    ++s.open[i.service];
    s.verdict[i.service] = {i.id, i.verdict};
  }
  // A service is up when it has results and nothing open.
  for (const std::string& service : services_) {
    std::optional<bool> up;
    if (s.open[service] > 0) {
      up = false;
    } else if (with_results_.contains(service)) {
      up = true;
    }
    s.service_up.emplace_hint(s.service_up.end(), service, up);
  }
  s.location_up = location_up_;
  s.last_error = status_error_;
  return s;
}

}  // namespace leeway::incident
