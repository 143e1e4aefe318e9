// The daemon's SLO state: rollups of the SLOs' checks into engine minutes, the restore at start,
// and the alert events and gate decisions kept for the API.
#include "daemon/slos.h"

#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <set>

#include "daemon/impl.h"
#include "slo/feed.h"

namespace leeway::daemon {

namespace {

// How far back an SLO reads at start: its window (a calendar month at most 31 days), or its
// longest burn window when that is longer.
DurationUs history_us(const slo::SloSpec& spec) {
  DurationUs span = spec.window.calendar() ? 31 * kDayUs : spec.window.rolling_us;
  for (DurationUs w : slo::burn_windows(spec)) span = std::max(span, w);
  return span;
}

template <typename T>
void keep(std::deque<T>& kept, T item) {
  kept.push_back(std::move(item));
  while (kept.size() > SloState::kMaxKept) kept.pop_front();
}

}  // namespace

SloState::SloState(const config::Config& cfg, store::Store& store)
    : store_(store), down_when_(cfg.incidents.down_when), engine_(cfg.slos()) {}

slo::MinuteCounts SloState::counts(const slo::SloSpec& spec,
                                   std::span<const store::MinuteRollup> rollups) const {
  if (spec.sli != slo::Sli::kAvailabilityMinutes) return slo::runs_minute(spec, rollups);
  // Time-based: a location is down in the minute when none of its judged runs of the SLO's
  // checks was up or degraded; the minute is down by the incident rules' quorum over the
  // locations that reported. No location reported: no data.
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> by_location;  // good, total
  for (const auto& r : rollups) {
    if (std::find(spec.checks.begin(), spec.checks.end(), r.check) == spec.checks.end()) continue;
    auto& [good, total] = by_location[r.location];
    good += r.good + r.degraded;
    total += r.total;
  }
  int reporting = 0, down = 0;
  for (const auto& [location, gt] : by_location) {
    if (gt.second == 0) continue;
    ++reporting;
    if (gt.first == 0) ++down;
  }
  if (reporting == 0) return slo::quorum_minute(std::nullopt);
  bool is_down = down_when_.is_count ? down >= down_when_.networks
                                     : double(down) > down_when_.fraction * reporting;
  return slo::quorum_minute(is_down);
}

Result<slo::MinuteCounts> SloState::read_minute(const slo::SloSpec& spec, TimeUs minute_us) {
  std::vector<store::MinuteRollup> all;
  for (const auto& check : spec.checks) {
    auto rollups =
        store_.rollups({.check = check, .from_us = minute_us, .to_us = minute_us + kMinuteUs});
    if (!rollups) return rollups.error();
    all.insert(all.end(), rollups->begin(), rollups->end());
  }
  return counts(spec, all);
}

Status SloState::restore(TimeUs now_us) {
  const TimeUs to_us = slo::evaluation_minute(now_us);
  // Read outside the lock: the store may take seconds for a month of minutes.
  std::vector<std::vector<std::pair<TimeUs, slo::MinuteCounts>>> minutes;
  for (const auto& spec : engine_.specs()) {
    const TimeUs from_us = to_us - history_us(spec);
    std::map<TimeUs, std::vector<store::MinuteRollup>> by_minute;
    for (const auto& check : spec.checks) {
      auto rollups = store_.rollups({.check = check, .from_us = from_us, .to_us = to_us});
      if (!rollups) return fail("SLO ", spec.id, ": ", rollups.error().message);
      for (auto& r : *rollups) by_minute[r.minute_us].push_back(std::move(r));
    }
    auto& out = minutes.emplace_back();
    for (const auto& [minute, rollups] : by_minute) out.emplace_back(minute, counts(spec, rollups));
  }
  {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < minutes.size(); ++i)
      for (const auto& [minute, c] : minutes[i]) engine_.set_minute(i, minute, c);
  }
  evaluate(now_us);
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
  for (const auto& [i, minute] : touched) {
    auto m = read_minute(specs[i], minute);
    if (!m) {
      std::cerr << "leeway serve: SLO " << specs[i].id << ": cannot read the minute "
                << format_rfc3339(minute) << ": " << m.error().message << "\n";
      continue;
    }
    std::lock_guard lock(mutex_);
    engine_.set_minute(i, minute, *m);
  }
}

void SloState::evaluate(TimeUs now_us) {
  std::vector<slo::AlertEvent> events;
  {
    std::lock_guard lock(mutex_);
    events = engine_.evaluate(now_us);
    evaluated_ = true;
    for (const auto& e : events) keep(events_, e);
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

std::vector<slo::AlertEvent> SloState::events(std::string_view id) const {
  std::lock_guard lock(mutex_);
  std::vector<slo::AlertEvent> out;
  for (const auto& e : events_)
    if (id.empty() || e.slo == id) out.push_back(e);
  return out;
}

void SloState::record(GateDecision decision) {
  std::lock_guard lock(mutex_);
  keep(decisions_, std::move(decision));
}

std::vector<GateDecision> SloState::decisions(std::string_view service) const {
  std::lock_guard lock(mutex_);
  std::vector<GateDecision> out;
  for (const auto& d : decisions_)
    if (d.service == service) out.push_back(d);
  return out;
}

// The daemon's wiring: the start config's SLOs, their subscription to the results stream after
// the restore (the stream brings what is stored from the restore's sequence on; a minute read
// twice is set twice, to the same counts), and their evaluation every 10 s.
Status Daemon::Impl::subscribe_slos() {
  slos = std::make_unique<SloState>(*config, *store);
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
    slos->evaluate(now_us);
    // The next multiple of 10 s after now: a clock that jumped does not replay the gap.
    evaluate_slos_at(std::max(due_us, now_us / kEvaluateEveryUs * kEvaluateEveryUs) +
                     kEvaluateEveryUs);
  });
}

}  // namespace leeway::daemon
