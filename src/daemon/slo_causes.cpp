// An SLO's budget by cause, and its burn-down, from the engine's minutes.
#include "daemon/slo_causes.h"

#include <algorithm>

namespace leeway::daemon {

namespace {

using nlohmann::json;

TimeUs floor_minute(TimeUs t) {
  TimeUs m = t / kMinuteUs * kMinuteUs;
  return m > t ? m - kMinuteUs : m;
}

}  // namespace

bool counts_against_service(const store::StoredIncident& incident) {
  return incident.verdict.rfind("vantage:", 0) != 0;
}

bool blames_network(const store::StoredIncident& incident) {
  return incident.verdict.rfind("network:", 0) == 0;
}

Causes causes_of(const slo::Engine& engine, std::size_t slo, TimeUs m,
                 std::span<const store::StoredIncident> incidents,
                 std::span<const store::StoredChange> changes, DurationUs change_window_us) {
  const slo::SloSpec& spec = engine.specs()[slo];
  const slo::Budget& budget = engine.status(slo).budget;
  const TimeUs start = budget.period.start_us;
  const TimeUs end = std::min(m, budget.period.end_us);
  Causes c;
  for (const auto& i : incidents) {
    if (!counts_against_service(i)) continue;
    // The whole minutes it touched: a minute is down when the service was down in it.
    TimeUs from = std::max(start, floor_minute(i.opened_us));
    TimeUs to = std::min(end, i.resolved_us ? floor_minute(*i.resolved_us) + kMinuteUs : end);
    if (from >= to) continue;
    IncidentSpend s{i.id, i.verdict, from, to, blames_network(i), true, 0};
    s.spends = !s.network || spec.network_spends_budget;
    s.spent = engine.sum(slo, from, to).bad;
    c.in_incidents += s.spent;
    if (s.network) c.by_network += s.spent;
    if (s.network) c.network_minutes += (to - from) / kMinuteUs;
    c.incidents.push_back(std::move(s));
  }
  std::sort(c.incidents.begin(), c.incidents.end(),
            [](const auto& a, const auto& b) { return a.from_us < b.from_us; });
  c.outside_incidents = std::max(0.0, budget.spent - c.in_incidents);
  for (const auto& change : changes) {
    if (change.service != spec.service) continue;
    TimeUs from = std::max(start, floor_minute(change.at_us));
    TimeUs to = std::min(end, floor_minute(change.at_us + change_window_us) + kMinuteUs);
    if (from >= to) continue;
    c.changes.push_back({change, to, engine.sum(slo, from, to).bad});
  }
  return c;
}

std::vector<BurnDownPoint> burn_down(const slo::Engine& engine, std::size_t slo, TimeUs m,
                                     int points) {
  const slo::Budget& budget = engine.status(slo).budget;
  const TimeUs start = budget.period.start_us;
  const TimeUs end = std::min(m, budget.period.end_us);
  std::vector<BurnDownPoint> out;
  if (points < 2 || end <= start) return out;
  const std::int64_t minutes = (end - start) / kMinuteUs;
  for (int p = 0; p < points; ++p) {
    TimeUs at = start + minutes * p / (points - 1) * kMinuteUs;
    BurnDownPoint point{at, std::nullopt};
    if (budget.total > 0) point.remaining_ratio = 1 - engine.sum(slo, start, at).bad / budget.total;
    out.push_back(point);
  }
  return out;
}

json causes_json(const Causes& c) {
  json incidents = json::array();
  for (const auto& s : c.incidents)
    incidents.push_back({{"id", s.id},
                         {"verdict", s.verdict},
                         {"from", format_rfc3339(s.from_us)},
                         {"to", format_rfc3339(s.to_us)},
                         {"minutes", (s.to_us - s.from_us) / kMinuteUs},
                         {"network", s.network},
                         {"spends_budget", s.spends},
                         {"spent", s.spent}});
  json changes = json::array();
  for (const auto& s : c.changes)
    changes.push_back({{"id", s.change.id},
                       {"at", format_rfc3339(s.change.at_us)},
                       {"kind", s.change.kind},
                       {"description", s.change.description},
                       {"improvement", s.change.improvement},
                       {"window_end", format_rfc3339(s.to_us)},
                       {"spent", s.spent}});
  return {{"incidents", incidents},
          {"in_incidents", c.in_incidents},
          {"by_network", c.by_network},
          {"network_minutes", c.network_minutes},
          {"outside_incidents", c.outside_incidents},
          {"changes", changes}};
}

json burn_down_json(const std::vector<BurnDownPoint>& points) {
  json out = json::array();
  for (const auto& p : points)
    out.push_back({{"at", format_rfc3339(p.at_us)},
                   {"remaining_ratio", p.remaining_ratio ? json(*p.remaining_ratio) : json()}});
  return out;
}

}  // namespace leeway::daemon
