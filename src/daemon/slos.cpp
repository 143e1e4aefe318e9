// The daemon's SLO state: rollups of the SLOs' checks and the incidents of their services into
// engine minutes, the restore at start, and the alert events written to the SLO store.
#include "daemon/slos.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <iostream>
#include <set>

#include "daemon/impl.h"
#include "incident/quorum.h"
#include "slo/feed.h"

namespace leeway::daemon {

namespace {

using nlohmann::json;

// How far back an SLO reads at start: its window (a calendar month at most 31 days), or its
// longest burn window when that is longer.
DurationUs history_us(const slo::SloSpec& spec) {
  DurationUs span = spec.window.calendar() ? 31 * kDayUs : spec.window.rolling_us;
  for (DurationUs w : slo::burn_windows(spec)) span = std::max(span, w);
  return span;
}

// How many incidents of the SLOs' services one read takes at most.
constexpr std::size_t kMaxIncidents = 10'000;

// An alert event as the SLO store keeps it: with the condition met and every burn rate then.
store::StoredAlertEvent stored_event(const slo::AlertEvent& e, const slo::SloSpec& spec,
                                     const slo::SloStatus& status) {
  json rates = json::object();
  for (const auto& r : status.burn_rates)
    rates[slo::window_name(r.window_us)] = r.rate ? json(*r.rate) : json();
  json doc = {{"burn_rates", rates}, {"condition", nullptr}};
  if (e.condition)
    doc["condition"] = {{"burn_rate", e.condition->burn_rate},
                        {"long_window", slo::window_name(e.condition->long_us)},
                        {"short_window", slo::window_name(e.condition->short_us)}};
  return {0,
          e.slo,
          spec.service,
          std::string(slo::to_string(e.severity)),
          e.firing,
          e.at_us,
          slo::evaluation_minute(e.at_us),
          doc.dump()};
}

}  // namespace

SloState::SloState(const config::Config& cfg, SloStores stores)
    : stores_(stores), change_window_us_(cfg.incidents.change_window_us), engine_(cfg.slos()) {
  for (const auto& location : cfg.locations) labels_[location.id] = {location.isp, location.region};
  for (const auto& spec : engine_.specs()) history_us_ = std::max(history_us_, history_us(spec));
}

slo::MinuteCounts SloState::counts(const slo::SloSpec& spec,
                                   std::span<const store::MinuteRollup> rollups,
                                   const bool* network) const {
  slo::MinuteCounts c;
  if (spec.sli == slo::Sli::kAvailabilityMinutes) {
    // Time-based: a minute with data (some location judged a run of the SLO's checks) is bad
    // when an incident of the service covers it (the detector's confirmations, flapping and
    // attribution opened it) and, by the incident rules' quorum over that minute, a network saw
    // one of the checks down: more than half of the network's locations that reported the check
    // in the minute had none of its runs up or degraded. So one broken vantage beside a working
    // one in its ISP spends no budget, and a silent location, which reports nothing, neither
    // makes a minute bad nor gives it data.
    bool data = false, network_down = false;
    const TimeUs minute_us = rollups.empty() ? 0 : rollups.front().minute_us;
    std::vector<incident::LocationReport> reports;
    for (const auto& check : spec.checks) {
      reports.clear();
      for (const auto& r : rollups) {
        if (r.check != check || r.total == 0) continue;
        auto labels = labels_.find(r.location);
        reports.push_back({r.location,
                           labels == labels_.end() ? incident::Labels{} : labels->second, minute_us,
                           r.good + r.degraded == 0 ? probe::Outcome::kDown : probe::Outcome::kUp});
      }
      data = data || !reports.empty();
      network_down =
          network_down || incident::tally_quorum(reports, minute_us, {}).networks_down > 0;
    }
    c = slo::quorum_minute(data ? std::optional<bool>(network && network_down) : std::nullopt);
  } else {
    c = slo::runs_minute(spec, rollups);
  }
  // A network's bad minutes leave the window when the SLO says they do not spend its budget.
  if (network && *network && !spec.network_spends_budget && c.good < c.total)
    return slo::MinuteCounts{};
  return c;
}

Status SloState::read_minutes(std::size_t i, TimeUs from_us, TimeUs to_us) {
  const slo::SloSpec& spec = engine_.specs()[i];  // never changes: read without the lock
  std::map<TimeUs, std::vector<store::MinuteRollup>> by_minute;
  for (const auto& check : spec.checks) {
    auto rollups = stores_.results.rollups({.check = check, .from_us = from_us, .to_us = to_us});
    if (!rollups) return rollups.error();
    for (auto& r : *rollups) by_minute[r.minute_us].push_back(std::move(r));
  }
  const Cover& cover = cover_[spec.service];
  std::vector<std::pair<TimeUs, slo::MinuteCounts>> minutes;
  for (TimeUs m = from_us; m < to_us; m += kMinuteUs) {
    auto it = by_minute.find(m);
    auto covered = cover.find(m);
    minutes.emplace_back(
        m, it == by_minute.end()
               ? slo::MinuteCounts{}
               : counts(spec, it->second, covered == cover.end() ? nullptr : &covered->second));
  }
  std::lock_guard lock(mutex_);
  for (const auto& [m, c] : minutes) engine_.set_minute(i, m, c);
  return {};
}

Result<std::map<std::string, std::vector<store::StoredIncident>>> SloState::read_incidents(
    TimeUs now_us) {
  std::map<std::string, std::vector<store::StoredIncident>> out;
  for (const auto& spec : engine_.specs()) out[spec.service];
  auto found = stores_.incidents.incidents(
      {.from_us = now_us - history_us_ - kMinuteUs, .limit = kMaxIncidents});
  if (!found) return found.error();
  for (auto& i : *found) {
    auto it = out.find(i.service);
    if (it == out.end()) continue;
    i.document.clear();  // the API reads it from the incident store when it wants it
    it->second.push_back(std::move(i));
  }
  return out;
}

Status SloState::refresh_incidents(TimeUs now_us) {
  auto incidents = read_incidents(now_us);
  if (!incidents) return incidents.error();
  const TimeUs from = slo::evaluation_minute(now_us) - history_us_;
  const TimeUs until = slo::evaluation_minute(now_us) + kMinuteUs;  // the minute in progress too
  std::map<std::string, std::set<TimeUs>> changed;                  // by service
  for (const auto& [service, list] : *incidents) {
    Cover next;
    for (const auto& i : list) {
      if (!counts_against_service(i)) continue;
      const bool network = blames_network(i);
      TimeUs first = std::max(from, i.opened_us / kMinuteUs * kMinuteUs);
      TimeUs last = std::min(until, i.resolved_us ? *i.resolved_us + 1 : until);
      for (TimeUs m = first; m < last; m += kMinuteUs) {
        // A minute of two incidents is blamed on the network only when both blame it.
        auto [it, added] = next.emplace(m, network);
        if (!added) it->second = it->second && network;
      }
    }
    Cover& before = cover_[service];
    for (const auto& [m, network] : next) {
      auto it = before.find(m);
      if (it == before.end() || it->second != network) changed[service].insert(m);
    }
    for (const auto& [m, network] : before)
      if (!next.count(m)) changed[service].insert(m);
    before = std::move(next);
  }
  {
    std::lock_guard lock(mutex_);
    incidents_ = std::move(*incidents);
  }
  // The changed minutes again, a run of consecutive minutes at a time.
  for (const auto& [service, minutes] : changed) {
    for (std::size_t i = 0; i < engine_.specs().size(); ++i) {
      if (engine_.specs()[i].service != service) continue;
      for (auto it = minutes.begin(); it != minutes.end();) {
        TimeUs first = *it, last = *it;
        while (++it != minutes.end() && *it == last + kMinuteUs) last = *it;
        if (Status s = read_minutes(i, first, last + kMinuteUs); !s) return s;
      }
    }
  }
  return {};
}

Status SloState::restore(TimeUs now_us) {
  std::lock_guard update(update_mutex_);
  auto latest = stores_.slos.latest_alert_events();
  if (!latest) return latest.error();
  {
    std::lock_guard lock(mutex_);
    for (const auto& e : *latest) {
      auto i = engine_.find(e.slo);
      auto severity = slo::severity_from_string(e.severity);
      if (i && severity) engine_.restore_alert(*i, *severity, e.firing, e.at_us);
    }
  }
  // The cover first, so that every minute is read once with it.
  if (Status s = refresh_incidents(now_us); !s) return s;
  const TimeUs to_us = slo::evaluation_minute(now_us);
  for (std::size_t i = 0; i < engine_.specs().size(); ++i) {
    const auto& spec = engine_.specs()[i];
    if (Status s = read_minutes(i, to_us - history_us(spec), to_us); !s)
      return fail("SLO ", spec.id, ": ", s.error().message);
  }
  evaluate_locked(now_us);
  return {};
}

void SloState::add(std::span<const store::Committed> batch) {
  // The minutes the batch touched, per SLO; each is read again whole from the store, which
  // already holds the batch, so a late result recomputes only its own minute.
  std::set<std::pair<std::size_t, TimeUs>> touched;
  const auto& specs = engine_.specs();  // never changes: read without the lock
  for (const auto& c : batch) {
    const TimeUs minute = c.result.started_us / kMinuteUs * kMinuteUs;
    for (std::size_t i = 0; i < specs.size(); ++i) {
      const auto& checks = specs[i].checks;
      if (std::find(checks.begin(), checks.end(), c.result.check) != checks.end())
        touched.emplace(i, minute);
    }
  }
  std::lock_guard update(update_mutex_);
  for (const auto& [i, minute] : touched) {
    if (Status s = read_minutes(i, minute, minute + kMinuteUs); !s)
      std::cerr << "leeway serve: SLO " << specs[i].id << ": cannot read the minute "
                << format_rfc3339(minute) << ": " << s.error().message << "\n";
  }
}

void SloState::evaluate(TimeUs now_us) {
  std::lock_guard update(update_mutex_);
  evaluate_locked(now_us);
}

void SloState::evaluate_locked(TimeUs now_us) {
  // Incidents the store cannot give now are read at the next evaluation: the minutes keep the
  // cover they had.
  if (Status s = refresh_incidents(now_us); !s)
    std::cerr << "leeway serve: SLOs: cannot read the incidents: " << s.error().message << "\n";
  std::vector<slo::AlertEvent> events;
  {
    std::lock_guard lock(mutex_);
    events = engine_.evaluate(now_us);
    evaluated_ = true;
    for (const auto& e : events) {
      std::size_t i = *engine_.find(e.slo);
      unsaved_.push_back(stored_event(e, engine_.specs()[i], engine_.status(i)));
    }
  }
  for (const auto& e : events) {
    std::cerr << fmt::format(
        "leeway serve: SLO {}: {} alert {} at {}{}\n", e.slo, slo::to_string(e.severity),
        e.firing ? "fired" : "resolved", format_rfc3339(e.at_us),
        e.condition ? fmt::format(" (burn rate over {} in {} and {})", e.condition->burn_rate,
                                  slo::window_name(e.condition->long_us),
                                  slo::window_name(e.condition->short_us))
                    : "");
  }
  store_events();
}

void SloState::store_events() {
  while (!unsaved_.empty()) {
    auto stored = stores_.slos.add_alert_event(unsaved_.front());
    if (!stored) {
      std::cerr << "leeway serve: SLOs: cannot store " << unsaved_.size()
                << " alert events (tried again at the next evaluation): " << stored.error().message
                << "\n";
      return;
    }
    unsaved_.pop_front();
  }
}

std::vector<SloView> SloState::views() const {
  std::lock_guard lock(mutex_);
  std::vector<SloView> out;
  for (std::size_t i = 0; i < engine_.specs().size(); ++i)
    out.push_back({engine_.specs()[i], engine_.status(i), evaluated_});
  return out;
}

std::optional<SloView> SloState::view(std::string_view id) const {
  std::lock_guard lock(mutex_);
  auto i = engine_.find(id);
  if (!i) return std::nullopt;
  return SloView{engine_.specs()[*i], engine_.status(*i), evaluated_};
}

std::optional<Causes> SloState::causes(std::string_view id,
                                       std::span<const store::StoredChange> changes) const {
  std::lock_guard lock(mutex_);
  auto i = engine_.find(id);
  if (!i || !evaluated_) return std::nullopt;
  const slo::SloSpec& spec = engine_.specs()[*i];
  auto incidents = incidents_.find(spec.service);
  std::span<const store::StoredIncident> list;
  if (incidents != incidents_.end()) list = incidents->second;
  return causes_of(engine_, *i, slo::evaluation_minute(engine_.status(*i).at_us), list, changes,
                   change_window_us_);
}

std::vector<BurnDownPoint> SloState::burn_down(std::string_view id, int points) const {
  std::lock_guard lock(mutex_);
  auto i = engine_.find(id);
  if (!i || !evaluated_) return {};
  return daemon::burn_down(engine_, *i, slo::evaluation_minute(engine_.status(*i).at_us), points);
}

// The daemon's wiring: the start config's SLOs, their subscription to the results stream after
// the restore (the stream brings what is stored from the restore's sequence on; a minute read
// twice is set twice, to the same counts), and their evaluation every 10 s on the SLO worker,
// where the stores' reads and writes do not hold up the loop.
Status Daemon::Impl::subscribe_slos() {
  slos = std::make_unique<SloState>(*config, SloStores{*store, *incident_store, *slo_store});
  if (config->slos().empty()) return {};
  auto after = store->last_seq();
  if (!after) return fail("SLOs: cannot read the store: ", after.error().message);
  if (Status s = slos->restore(clock.now_us()); !s)
    return fail("SLOs: cannot restore from the store: ", s.error().message);
  slo_timer = clock.make_timer(io);
  evaluate_slos_at(clock.now_us() / kEvaluateEveryUs * kEvaluateEveryUs + kEvaluateEveryUs);
  return ingest.subscribe({.name = "slo", .after_seq = *after},
                          [this](ingest::Batch batch) { slos->add(batch); });
}

void Daemon::Impl::evaluate_slos_at(TimeUs due_us) {
  slo_timer->arm_at(due_us, [this, due_us] {
    const TimeUs now_us = clock.now_us();
    boost::asio::post(slo_worker, [this, now_us] { slos->evaluate(now_us); });
    // The next multiple of 10 s after now: a clock that jumped does not replay the gap.
    evaluate_slos_at(std::max(due_us, now_us / kEvaluateEveryUs * kEvaluateEveryUs) +
                     kEvaluateEveryUs);
  });
}

}  // namespace leeway::daemon
