// An SLA contract as data: what it covers, how minutes are measured, how incidents are graded
// and charged, the credit tiers, the cap and the exclusions. The config's `contracts:` entries
// are these; the engine (engine.h) applies one to a month of evidence.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "sla/money.h"

namespace leeway::sla {

// An incident's worst state: down, or degraded (failing from fewer networks than the quorum).
enum class Outcome { kDown, kDegraded };
std::string_view outcome_name(Outcome outcome);  // "down", "degraded"

// What makes a minute unavailable and which minutes count.
struct Measurement {
  bool degraded_counts = false;  // a degraded incident's minutes are unavailable too
  // true: a minute any downtime touches is unavailable, so a 20 s blip costs a minute; false:
  // only minutes wholly inside a downtime are, so a downtime shorter than a minute costs none
  // (the clouds' "Downtime Minute"). Exclusion ranges turn into minutes by the same rule.
  bool partial_minutes_count = true;
  // true: only the minutes a service existed in are measured; false: every minute of the month.
  bool only_existing_minutes = false;
  // An incident makes minutes unavailable only when at least this share of the locations saw
  // it; none: every incident the detector opened (its quorum already decided).
  std::optional<Percentage> min_location_share;
  Percentage target{999'000};  // availability the contract promises
};

// Working hours in the contract's zone, for grade rules that depend on them.
struct BusinessHours {
  std::array<bool, 7> days{false, true, true, true, true, true, false};  // Sunday first
  int start_minute = 9 * 60;          // minutes since local midnight, inclusive
  int end_minute = 18 * 60;           // exclusive
  std::vector<std::string> holidays;  // local dates "2026-10-03", not business days
};

// One rule of a grade: every condition that is set must hold. An incident's duration is
// resolved - opened (for an open incident, up to the report's as-of time).
struct GradeRule {
  std::optional<DurationUs> min_duration_us;  // at least
  std::optional<DurationUs> max_duration_us;  // less than
  std::optional<Outcome> outcome;             // none: down or degraded
  std::optional<Percentage> min_location_share;
  std::optional<Percentage> min_check_share;
  std::vector<std::string> services;   // any of them (none: any service)
  std::vector<std::string> checks;     // the incident hit any of these checks
  std::vector<std::string> tags;       // the incident carries any of these tags
  std::optional<bool> business_hours;  // it opened inside (true) or outside (false) them

  // "duration >= 30m and locations >= 100% and down", or "any incident".
  std::string describe() const;
};

// A grade: its rules (any one matches), its fixed penalty per incident, and its response and
// recovery targets with the extra amount owed when one is missed.
struct Grade {
  std::string name;
  std::vector<GradeRule> rules;
  std::int64_t penalty_minor_units = 0;
  std::optional<DurationUs> respond_within_us;  // acknowledged within
  std::int64_t missed_response_minor_units = 0;
  std::optional<DurationUs> recover_within_us;  // resolved within
  std::int64_t missed_recovery_minor_units = 0;
};

// A credit tier: availability in [at_least, below) earns `credit` of the monthly fee, as the
// clouds write "less than 99.99% but at least 99.0%: 10%".
struct CreditTier {
  Percentage below;
  Percentage at_least;  // 0 for the lowest tier
  Percentage credit;

  // "less than 99.99% but at least 99%: 10% of the fee".
  std::string describe() const;
};

// What leaves the accounting, each with its reason in the report.
struct Exclusions {
  bool maintenance = true;               // announced maintenance windows are excluded
  DurationUs maintenance_notice_us = 0;  // announced at least this long before they start
  bool network = false;                  // incidents attributed to a carrier (`network:*`)
  // Attributions the customer owns ("dependency:customer-db", "location:*"): a trailing '*'
  // matches any rest.
  std::vector<std::string> customer_attributions;
};

// Which month charges an incident that crosses a month boundary (its minutes split anyway).
enum class ChargeIn { kOpenedMonth, kResolvedMonth };

struct Contract {
  std::string id;
  std::string customer;
  std::vector<std::string> services;
  Money fee;
  Rounding rounding = Rounding::kHalfUp;
  std::string time_zone = "UTC";
  Measurement measurement;
  BusinessHours business_hours;
  std::vector<Grade> grades;        // first match wins
  std::vector<CreditTier> credits;  // disjoint
  std::optional<Percentage> cap;    // the month's total is at most this share of the fee
  Exclusions exclusions;
  ChargeIn charge_in = ChargeIn::kOpenedMonth;
};

// Whether `attribution` matches `pattern` ("network:*" matches "network:kt").
bool attribution_matches(std::string_view pattern, std::string_view attribution);

// Checks what the types cannot: a known currency and zone, services and grades named once,
// credit tiers with at_least < below that do not overlap, rules with min < max. The error names
// the field.
Result<void> validate(const Contract& contract);

}  // namespace leeway::sla
