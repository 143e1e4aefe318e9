// compute_report: the incidents and windows decided one by one, then every service's minutes
// swept, then the money.
#include "sla/engine.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/calendar.h"
#include "sla/grading.h"
#include "sla/minutes.h"

namespace leeway::sla {

namespace {

using detail::Span;

bool covers_service(const std::vector<std::string>& services, const std::string& service) {
  return services.empty() || std::find(services.begin(), services.end(), service) != services.end();
}

bool covered(const Contract& contract, const std::vector<std::string>& services) {
  return services.empty() || std::any_of(services.begin(), services.end(), [&](const auto& s) {
           return covers_service(contract.services, s);
         });
}

// What the engine works from, built once.
struct Work {
  const Contract& contract;
  const ReportMonth& month;
  const Evidence& evidence;
  TimeUs horizon_us;  // the as-of time, or the month's end
  Report report;
};

void decide_maintenance(Work& w) {
  const Exclusions& ex = w.contract.exclusions;
  for (const auto& window : w.evidence.maintenance) {
    if (!covered(w.contract, window.services)) continue;
    if (window.end_us <= w.month.start_us || window.start_us >= w.month.end_us) continue;
    MaintenanceLine line{window};
    DurationUs notice = window.start_us - window.announced_us;
    if (!ex.maintenance) {
      line.note = "the contract does not exclude maintenance";
    } else if (notice < ex.maintenance_notice_us) {
      line.note = fmt::format(
          "not excluded: announced {} before it started{}; the contract "
          "needs {}",
          duration_text(std::max<DurationUs>(notice, 0)), notice < 0 ? " (after it started)" : "",
          duration_text(ex.maintenance_notice_us));
    } else {
      line.honoured = true;
      line.note = fmt::format("excluded: announced {} before it started", duration_text(notice));
    }
    w.report.maintenance.push_back(std::move(line));
  }
  for (const auto& manual : w.evidence.manual_exclusions) {
    if (!covered(w.contract, manual.services)) continue;
    if (manual.end_us <= w.month.start_us || manual.start_us >= w.month.end_us) continue;
    w.report.manual_exclusions.push_back(manual);
  }
}

// The latest reclassification of each field, by incident id; every one in the trail.
std::map<std::string, std::vector<Reclassification>> reclassifications_by_incident(Work& w) {
  std::map<std::string, std::vector<Reclassification>> out;
  for (const auto& r : w.evidence.reclassifications) out[r.incident_id].push_back(r);
  for (auto& [id, list] : out)
    std::stable_sort(list.begin(), list.end(),
                     [](const auto& a, const auto& b) { return a.at_us < b.at_us; });
  return out;
}

const Reclassification* latest(const std::vector<Reclassification>& trail,
                               ReclassifiedField field) {
  for (auto it = trail.rbegin(); it != trail.rend(); ++it)
    if (it->field == field) return &*it;
  return nullptr;
}

// Whether [start, end) lies inside one honoured maintenance window or manual exclusion of the
// service; the reason and the window's id when it does.
std::optional<std::pair<ExclusionReason, std::string>> inside_window(const Work& w,
                                                                     const std::string& service,
                                                                     TimeUs start, TimeUs end) {
  for (const auto& line : w.report.maintenance)
    if (line.honoured && covers_service(line.window.services, service) &&
        start >= line.window.start_us && end <= line.window.end_us)
      return std::pair{ExclusionReason::kMaintenance, line.window.id};
  for (const auto& manual : w.report.manual_exclusions)
    if (covers_service(manual.services, service) && start >= manual.start_us &&
        end <= manual.end_us)
      return std::pair{ExclusionReason::kManual, manual.id};
  return std::nullopt;
}

void decide_exclusion(const Work& w, IncidentLine& line, const Reclassification* reclassified,
                      TimeUs end_us) {
  const Exclusions& ex = w.contract.exclusions;
  if (reclassified != nullptr) {
    if (reclassified->value == "excluded") {
      line.excluded = ExclusionReason::kReclassified;
      line.exclusion_note =
          fmt::format("excluded by {}: {}", reclassified->by, reclassified->reason);
    } else {
      line.exclusion_note =
          fmt::format("counted by {}: {}", reclassified->by, reclassified->reason);
    }
    return;
  }
  if (ex.network && attribution_matches("network:*", line.attribution)) {
    line.excluded = ExclusionReason::kNetwork;
    line.exclusion_note =
        fmt::format("a carrier fault ({}), which the contract excludes", line.attribution);
    return;
  }
  for (const auto& pattern : ex.customer_attributions) {
    if (!attribution_matches(pattern, line.attribution)) continue;
    line.excluded = ExclusionReason::kCustomer;
    line.exclusion_note =
        fmt::format("a cause the customer owns ({} matches {})", line.attribution, pattern);
    return;
  }
  if (auto window = inside_window(w, line.incident.service, line.incident.opened_us, end_us)) {
    line.excluded = window->first;
    line.exclusion_note =
        fmt::format("wholly inside {} window {}", reason_name(window->first), window->second);
  }
}

void decide_charge(const Work& w, IncidentLine& line) {
  const Incident& in = line.incident;
  std::optional<TimeUs> charged_at = in.opened_us;
  std::string which = "opened";
  if (w.contract.charge_in == ChargeIn::kResolvedMonth) {
    charged_at = in.resolved_us;
    which = "resolved";
  }
  if (!charged_at) {
    line.charge_note = "charged in the month it resolves; still open";
    return;
  }
  YearMonth charge_month = month_at(w.contract.time_zone, *charged_at);
  line.charged = charge_month == w.month.month;
  if (!line.charged)
    line.charge_note = fmt::format("charged in {:04}-{:02}, the month it {}", charge_month.year,
                                   charge_month.month, which);
}

void decide_incidents(Work& w) {
  auto trails = reclassifications_by_incident(w);
  std::set<std::string> seen;
  const Measurement& m = w.contract.measurement;
  for (const auto& in : w.evidence.incidents) {
    if (!covers_service(w.contract.services, in.service) || in.opened_us >= w.horizon_us) continue;
    TimeUs end = in.resolved_us.value_or(w.horizon_us);
    bool overlaps = end > w.month.start_us && in.opened_us < w.month.end_us;
    IncidentLine line{in};
    decide_charge(w, line);
    if (!overlaps && !line.charged) continue;
    seen.insert(in.id);
    line.open = !in.resolved_us;
    line.duration_us = end - in.opened_us;
    if (auto it = trails.find(in.id); it != trails.end()) line.trail = it->second;

    detail::GradeMatch match = detail::match_grade(w.contract, in, line.duration_us);
    if (match.grade != nullptr) {
      line.grade_auto = match.grade->name;
      line.rule_index = match.rule;
      line.rule_text = match.grade->rules[static_cast<std::size_t>(match.rule)].describe();
    }
    const Grade* grade = match.grade;
    line.grade = line.grade_auto;
    if (const Reclassification* r = latest(line.trail, ReclassifiedField::kGrade)) {
      auto named = std::find_if(w.contract.grades.begin(), w.contract.grades.end(),
                                [&](const Grade& g) { return g.name == r->value; });
      if (named != w.contract.grades.end() || r->value == "none") {
        line.grade_reclassified = r->value;
        grade = named != w.contract.grades.end() ? &*named : nullptr;
        line.grade = grade != nullptr ? grade->name : "";
      } else {
        w.report.notes.push_back(fmt::format(
            "incident {}: reclassification to grade \"{}\" by {} ignored: the contract has no "
            "such grade",
            in.id, r->value, r->by));
      }
    }
    line.attribution = in.attribution;
    if (const Reclassification* r = latest(line.trail, ReclassifiedField::kAttribution)) {
      line.attribution = r->value;
      line.attribution_reclassified = true;
    }
    decide_exclusion(w, line, latest(line.trail, ReclassifiedField::kExclusion), end);
    line.counts_as_downtime =
        (in.worst == Outcome::kDown || m.degraded_counts) &&
        (!m.min_location_share || in.locations.at_least(*m.min_location_share));

    line.response = detail::response_check(grade, in, w.horizon_us);
    line.recovery = detail::recovery_check(grade, in, w.horizon_us);
    if (line.charged && !line.excluded && grade != nullptr) {
      line.penalty_minor_units = grade->penalty_minor_units;
      line.total_minor_units = line.penalty_minor_units + line.response.extra_minor_units +
                               line.recovery.extra_minor_units;
    } else {
      line.response.extra_minor_units = 0;
      line.recovery.extra_minor_units = 0;
    }
    w.report.incidents.push_back(std::move(line));
  }
  std::sort(w.report.incidents.begin(), w.report.incidents.end(),
            [](const IncidentLine& a, const IncidentLine& b) {
              return std::tie(a.incident.opened_us, a.incident.id) <
                     std::tie(b.incident.opened_us, b.incident.id);
            });
  for (const auto& r : w.evidence.reclassifications)
    if (!seen.count(r.incident_id) &&
        std::none_of(w.evidence.incidents.begin(), w.evidence.incidents.end(),
                     [&](const Incident& in) { return in.id == r.incident_id; }))
      w.report.notes.push_back(fmt::format(
          "reclassification of incident {} by {} ignored: no such incident", r.incident_id, r.by));
}

// Every service's spans, swept; the ranges and counts go into the report.
void sweep(Work& w) {
  const Measurement& m = w.contract.measurement;
  std::map<std::string, std::vector<Span>> spans;
  for (const auto& s : w.contract.services) spans[s];
  auto add = [&](const std::vector<std::string>& services, TimeUs start, TimeUs end, Span span) {
    auto minutes = detail::to_minutes(w.month.start_us, start, end, m.partial_minutes_count);
    span.first = minutes.first;
    span.last = minutes.last;
    for (auto& [service, list] : spans)
      if (covers_service(services, service)) list.push_back(span);
  };
  for (const auto& line : w.report.maintenance)
    if (line.honoured)
      add(line.window.services, line.window.start_us, line.window.end_us,
          Span{0, 0, true, ExclusionReason::kMaintenance, "maintenance:" + line.window.id});
  for (const auto& manual : w.report.manual_exclusions)
    add(manual.services, manual.start_us, manual.end_us,
        Span{0, 0, true, ExclusionReason::kManual, "manual:" + manual.id});
  for (const auto& line : w.report.incidents) {
    if (!line.counts_as_downtime) continue;
    const Incident& in = line.incident;
    Span span{0, 0, line.excluded.has_value(), line.excluded.value_or(ExclusionReason{}),
              line.excluded ? "incident:" + in.id : in.id};
    add({in.service}, in.opened_us, in.resolved_us.value_or(w.horizon_us), std::move(span));
  }

  std::int64_t month_minutes = w.month.minutes();
  std::int64_t horizon_minute =
      detail::to_minutes(w.month.start_us, w.month.start_us, w.horizon_us, false).last;
  std::map<std::string, std::int64_t> incident_minutes;
  std::map<ExclusionReason, std::int64_t> by_reason;
  std::map<std::string, std::int64_t> window_minutes;
  MinuteCounts& total = w.report.minutes;
  auto at = [&](std::int64_t minute) { return w.month.start_us + minute * kMinuteUs; };
  for (const auto& [service, list] : spans) {
    std::int64_t first = 0;
    if (auto it = w.evidence.service_started_us.find(service);
        it != w.evidence.service_started_us.end() && m.only_existing_minutes)
      first = std::clamp<std::int64_t>(
          detail::to_minutes(w.month.start_us, it->second, it->second, false).first, 0,
          month_minutes);
    detail::Sweep swept =
        detail::sweep_minutes(month_minutes, first, std::min(horizon_minute, month_minutes), list);
    for (const auto& r : swept.ranges) {
      MinuteRange range{at(r.first), at(r.last)};
      if (r.excluded) {
        by_reason[r.reason] += range.minutes();
        for (const auto& source : r.sources)
          if (source.starts_with("maintenance:"))
            window_minutes[source.substr(12)] += range.minutes();
        w.report.excluded.push_back(ExcludedRange{service, range, r.reason, r.sources});
      } else {
        for (const auto& id : r.sources) incident_minutes[id] += range.minutes();
        w.report.unavailable.push_back(UnavailableRange{service, range, r.sources});
      }
    }
    total.month += swept.counts.month;
    total.not_measured += swept.counts.not_measured;
    total.measured += swept.counts.measured;
    total.excluded += swept.counts.excluded;
    total.unavailable += swept.counts.unavailable;
    w.report.services.push_back(ServiceMinutes{service, swept.counts});
  }
  for (auto& line : w.report.incidents)
    line.unavailable_minutes = incident_minutes[line.incident.id];
  for (auto& line : w.report.maintenance) line.excluded_minutes = window_minutes[line.window.id];
  for (const auto& [reason, minutes] : by_reason)
    w.report.excluded_by_reason.emplace_back(reason, minutes);
}

void account_money(Work& w) {
  Report& r = w.report;
  const Contract& c = w.contract;
  r.availability = Availability{r.minutes.available(), r.minutes.counted()};
  r.target_met = r.availability.known() && r.availability.at_least(r.target);
  if (!r.availability.known()) {
    r.credit.text = "no tier: no minute was counted, so availability is unknown";
  } else {
    for (std::size_t i = 0; i < c.credits.size(); ++i) {
      const CreditTier& tier = c.credits[i];
      if (r.availability.at_least(tier.below) || !r.availability.at_least(tier.at_least)) continue;
      r.credit.tier = i;
      r.credit.text = tier.describe();
      r.credit.credit = tier.credit;
      r.credit.amount_minor_units = percent_of(c.fee, tier.credit, c.rounding).minor_units;
    }
    if (!r.credit.tier)
      r.credit.text = c.credits.empty() ? "the contract has no credit tiers"
                                        : "no tier: availability is above every tier";
  }
  for (const auto& line : r.incidents) {
    r.penalties_minor_units += line.penalty_minor_units;
    r.missed_targets_minor_units +=
        line.response.extra_minor_units + line.recovery.extra_minor_units;
  }
  r.total_before_cap_minor_units =
      r.credit.amount_minor_units + r.penalties_minor_units + r.missed_targets_minor_units;
  r.total_minor_units = r.total_before_cap_minor_units;
  if (c.cap) {
    r.cap_minor_units = percent_of(c.fee, *c.cap, c.rounding).minor_units;
    r.cap_binds = r.total_before_cap_minor_units > *r.cap_minor_units;
    r.total_minor_units = std::min(r.total_before_cap_minor_units, *r.cap_minor_units);
  }
}

}  // namespace

Report compute_report(const Contract& contract, const ReportMonth& month,
                      const Evidence& evidence) {
  TimeUs horizon = month.end_us;
  if (evidence.as_of_us && *evidence.as_of_us < month.end_us)
    horizon = std::max(*evidence.as_of_us, month.start_us);
  Work w{contract, month, evidence, horizon, {}};
  Report& r = w.report;
  r.contract_id = contract.id;
  r.customer = contract.customer;
  r.currency = contract.fee.currency;
  r.rounding = contract.rounding;
  r.month = month;
  if (horizon < month.end_us) r.as_of_us = horizon;
  r.fee_minor_units = contract.fee.minor_units;
  r.target = contract.measurement.target;
  decide_maintenance(w);
  decide_incidents(w);
  sweep(w);
  account_money(w);
  return std::move(w.report);
}

}  // namespace leeway::sla
