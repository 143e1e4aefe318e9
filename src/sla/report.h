// The report model: every figure of a contract's month, each with what it came from (incident
// ids, minute ranges, window ids), so a client can recompute it. Renderers (render.h) only
// format it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/time.h"
#include "sla/contract.h"
#include "sla/evidence.h"
#include "sla/money.h"
#include "sla/month.h"

namespace leeway::sla {

// A duration for a report: its non-zero parts, "2d", "1h30m", "45s", "0s".
std::string duration_text(DurationUs us);

// Why minutes left the accounting. When reasons overlap a minute is counted once, under the
// first reason in this order.
enum class ExclusionReason { kMaintenance, kNetwork, kCustomer, kManual, kReclassified };
std::string_view reason_name(ExclusionReason reason);  // "maintenance", "network", ...

// [start_us, end_us) on whole UTC minutes.
struct MinuteRange {
  TimeUs start_us = 0;
  TimeUs end_us = 0;
  std::int64_t minutes() const { return (end_us - start_us) / kMinuteUs; }
};

struct ExcludedRange {
  std::string service;
  MinuteRange range;
  ExclusionReason reason;
  std::vector<std::string> sources;  // "maintenance:mw-1", "incident:42", "manual:ex-3"
};

struct UnavailableRange {
  std::string service;
  MinuteRange range;
  std::vector<std::string> incidents;  // ids of the incidents down in it
};

// One service's minutes: month = not_measured + measured; measured = excluded + counted;
// counted = available + unavailable.
struct MinuteCounts {
  std::int64_t month = 0;
  std::int64_t not_measured = 0;  // before the service existed, or after the as-of time
  std::int64_t measured = 0;
  std::int64_t excluded = 0;
  std::int64_t unavailable = 0;
  std::int64_t counted() const { return measured - excluded; }
  std::int64_t available() const { return counted() - unavailable; }
};

struct ServiceMinutes {
  std::string service;
  MinuteCounts minutes;
};

// available / counted, exact. Unknown when no minute was counted.
struct Availability {
  std::int64_t available = 0;
  std::int64_t counted = 0;
  bool known() const { return counted > 0; }
  // Whether it is at least p, exactly. REQUIRES: known().
  bool at_least(Percentage p) const;
  // Four decimals of a percentage, rounded down so the text never claims a tier the exact
  // figure misses: 44,635 of 44,640 is "99.9887". "unknown" when not known.
  std::string text() const;
};

enum class TargetResult { kNone, kMet, kMissed, kPending };
std::string_view target_result_name(TargetResult result);  // "none", "met", "missed", "pending"

// A response or recovery time against its grade's target.
struct TargetCheck {
  std::optional<DurationUs> target_us;
  std::optional<DurationUs> actual_us;  // none: not acknowledged / not resolved (yet)
  TargetResult result = TargetResult::kNone;
  std::int64_t extra_minor_units = 0;  // owed because it was missed
};

struct IncidentLine {
  Incident incident;
  DurationUs duration_us = 0;  // to resolution, or to the as-of time while open
  bool open = false;
  // The grade: automatic (the first rule that matched), reclassified, effective.
  std::string grade_auto;  // "" when no grade matched
  int rule_index = -1;     // index of the matching rule within the grade
  std::string rule_text;
  std::optional<std::string> grade_reclassified;
  std::string grade;
  std::string attribution;  // effective; incident.attribution is the automatic one
  bool attribution_reclassified = false;
  std::optional<ExclusionReason> excluded;  // why its minutes and penalty left the accounting
  std::string exclusion_note;
  bool counts_as_downtime = false;  // its outcome and scope make minutes unavailable
  bool charged = false;             // its penalty belongs to this month (else note says which)
  std::string charge_note;
  std::int64_t unavailable_minutes = 0;  // in this month, shared minutes counted for each
  std::int64_t penalty_minor_units = 0;  // the grade's, when charged and not excluded
  TargetCheck response;
  TargetCheck recovery;
  std::int64_t total_minor_units = 0;  // penalty + extras
  std::vector<Reclassification> trail;
};

struct MaintenanceLine {
  MaintenanceWindow window;
  bool honoured = false;  // excluded from the accounting
  std::string note;       // why, e.g. "announced 2d before it started; the contract needs 5d"
  std::int64_t excluded_minutes = 0;  // the minutes counted under it (first reason)
};

struct CreditLine {
  std::optional<std::size_t> tier;  // index into the contract's credits; none: no tier applies
  std::string text;                 // the tier's words, or why none applies
  Percentage credit;
  std::int64_t amount_minor_units = 0;
};

// A closed month's report is stored frozen; when its inputs change afterwards (a late result, a
// reclassification), a new revision is stored and served with what changed: never a silent
// change. Set by whoever stores reports (the daemon), not by compute_report.
struct Revision {
  int number = 1;
  std::string inputs_sha256;  // hex SHA-256 of the evidence in canonical form
  TimeUs frozen_us = 0;       // when this revision was stored
  // Against the previous revision (empty in the first): what differs in the inputs, one line
  // each, and the previous figures.
  std::vector<std::string> changes;
  std::optional<std::int64_t> previous_total_minor_units;
  std::string previous_availability;  // its Availability::text()
  std::int64_t previous_unavailable_minutes = 0;
  std::int64_t previous_excluded_minutes = 0;
};

struct Report {
  std::string contract_id;
  std::string customer;
  std::string currency;
  Rounding rounding = Rounding::kHalfUp;
  ReportMonth month;
  std::optional<TimeUs> as_of_us;  // set when the month was not over: a provisional report
  std::int64_t fee_minor_units = 0;

  MinuteCounts minutes;  // service-minutes over every covered service
  std::vector<std::pair<ExclusionReason, std::int64_t>> excluded_by_reason;
  std::vector<ServiceMinutes> services;
  std::vector<UnavailableRange> unavailable;
  std::vector<ExcludedRange> excluded;
  Availability availability;
  Percentage target;
  bool target_met = false;

  std::vector<IncidentLine> incidents;
  std::vector<MaintenanceLine> maintenance;
  std::vector<ManualExclusion> manual_exclusions;
  std::vector<std::string> notes;  // inputs ignored and why

  CreditLine credit;
  std::int64_t penalties_minor_units = 0;       // grade penalties of charged incidents
  std::int64_t missed_targets_minor_units = 0;  // response and recovery extras
  std::int64_t total_before_cap_minor_units = 0;
  std::optional<std::int64_t> cap_minor_units;
  std::int64_t total_minor_units = 0;
  bool cap_binds = false;

  std::optional<Revision> revision;  // none: not frozen (the month is not over, or not stored)

  Money money(std::int64_t minor_units) const { return Money{minor_units, currency}; }
};

}  // namespace leeway::sla
