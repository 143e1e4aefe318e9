// An incident against the contract's grades and targets: which grade (first rule that matches),
// whether it opened in business hours, and its response and recovery times against target.
#pragma once

#include <string_view>

#include "sla/contract.h"
#include "sla/evidence.h"
#include "sla/report.h"

namespace leeway::sla::detail {

// Whether `t` falls in the business hours, read in the zone `zone`.
bool in_business_hours(const BusinessHours& hours, std::string_view zone, TimeUs t);

struct GradeMatch {
  const Grade* grade = nullptr;  // none matched
  int rule = -1;
};

// The first grade with a rule that holds for the incident, lasting `duration_us`.
GradeMatch match_grade(const Contract& contract, const Incident& incident, DurationUs duration_us);

// Acknowledged within the grade's target? `horizon_us` is the report's as-of time (or the end of
// the month): a target not yet reached is pending, one passed without acknowledgement missed.
TargetCheck response_check(const Grade* grade, const Incident& incident, TimeUs horizon_us);
// Resolved within the grade's target? The same rules.
TargetCheck recovery_check(const Grade* grade, const Incident& incident, TimeUs horizon_us);

}  // namespace leeway::sla::detail
