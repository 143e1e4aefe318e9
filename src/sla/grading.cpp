// Grade rules, business hours and time targets.
#include "sla/grading.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/calendar.h"

namespace leeway::sla::detail {

namespace {

bool any_of_in(const std::vector<std::string>& wanted, const std::vector<std::string>& have) {
  return std::any_of(wanted.begin(), wanted.end(), [&](const std::string& w) {
    return std::find(have.begin(), have.end(), w) != have.end();
  });
}

bool rule_holds(const GradeRule& r, const Contract& contract, const Incident& incident,
                DurationUs duration_us) {
  if (r.min_duration_us && duration_us < *r.min_duration_us) return false;
  if (r.max_duration_us && duration_us >= *r.max_duration_us) return false;
  if (r.outcome && incident.worst != *r.outcome) return false;
  if (r.min_location_share && !incident.locations.at_least(*r.min_location_share)) return false;
  if (r.min_check_share && !incident.checks.at_least(*r.min_check_share)) return false;
  if (!r.services.empty() &&
      std::find(r.services.begin(), r.services.end(), incident.service) == r.services.end())
    return false;
  if (!r.checks.empty() && !any_of_in(r.checks, incident.checks_hit)) return false;
  if (!r.tags.empty() && !any_of_in(r.tags, incident.tags)) return false;
  if (r.business_hours && in_business_hours(contract.business_hours, contract.time_zone,
                                            incident.opened_us) != *r.business_hours)
    return false;
  return true;
}

TargetCheck against(std::optional<DurationUs> target_us, std::optional<TimeUs> done_us,
                    TimeUs opened_us, TimeUs horizon_us, std::int64_t extra) {
  TargetCheck check;
  check.target_us = target_us;
  if (done_us) check.actual_us = *done_us - opened_us;
  if (!target_us) return check;
  if (check.actual_us)
    check.result = *check.actual_us <= *target_us ? TargetResult::kMet : TargetResult::kMissed;
  else
    check.result =
        horizon_us - opened_us > *target_us ? TargetResult::kMissed : TargetResult::kPending;
  if (check.result == TargetResult::kMissed) check.extra_minor_units = extra;
  return check;
}

}  // namespace

bool in_business_hours(const BusinessHours& hours, std::string_view zone, TimeUs t) {
  LocalTime local = local_time(zone, t);
  if (!hours.days[static_cast<std::size_t>(local.weekday)]) return false;
  if (local.minute_of_day < hours.start_minute || local.minute_of_day >= hours.end_minute)
    return false;
  std::string date = fmt::format("{:04}-{:02}-{:02}", local.year, local.month, local.day);
  return std::find(hours.holidays.begin(), hours.holidays.end(), date) == hours.holidays.end();
}

GradeMatch match_grade(const Contract& contract, const Incident& incident, DurationUs duration_us) {
  for (const auto& grade : contract.grades)
    for (std::size_t i = 0; i < grade.rules.size(); ++i)
      if (rule_holds(grade.rules[i], contract, incident, duration_us))
        return GradeMatch{&grade, static_cast<int>(i)};
  return {};
}

TargetCheck response_check(const Grade* grade, const Incident& incident, TimeUs horizon_us) {
  std::optional<DurationUs> target = grade ? grade->respond_within_us : std::nullopt;
  std::int64_t extra = grade ? grade->missed_response_minor_units : 0;
  TargetCheck check =
      against(target, incident.acknowledged_us, incident.opened_us, horizon_us, extra);
  // An incident resolved without an acknowledgement was never responded to.
  if (target && !incident.acknowledged_us && incident.resolved_us) {
    check.result = TargetResult::kMissed;
    check.extra_minor_units = extra;
  }
  return check;
}

TargetCheck recovery_check(const Grade* grade, const Incident& incident, TimeUs horizon_us) {
  std::optional<DurationUs> target = grade ? grade->recover_within_us : std::nullopt;
  std::int64_t extra = grade ? grade->missed_recovery_minor_units : 0;
  return against(target, incident.resolved_us, incident.opened_us, horizon_us, extra);
}

}  // namespace leeway::sla::detail
