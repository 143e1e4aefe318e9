// The month a report covers: a calendar month in the contract's IANA time zone, as a UTC range
// of whole minutes. A month with a clock change has 60 minutes fewer (spring) or more (autumn).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/calendar.h"
#include "core/result.h"
#include "core/time.h"

namespace leeway::sla {

struct ReportMonth {
  YearMonth month;
  std::string time_zone;  // IANA name, e.g. "Asia/Seoul"
  TimeUs start_us = 0;    // the first local midnight of the month, in UTC
  TimeUs end_us = 0;      // the first local midnight of the next month, in UTC

  // Minutes in [start_us, end_us): 40,320 for 28 days, 44,640 for 31; ±60 with a clock change.
  std::int64_t minutes() const { return (end_us - start_us) / kMinuteUs; }
  // "2026-10".
  std::string label() const;
  // Whether `t` falls inside the month.
  bool holds(TimeUs t) const { return t >= start_us && t < end_us; }
};

// "2026-10" as a YearMonth (years 1970 to 9999).
Result<YearMonth> parse_year_month(std::string_view text);

// The month `m` in the zone named `time_zone`, or an error naming an unknown zone.
Result<ReportMonth> report_month(std::string_view time_zone, YearMonth m);

}  // namespace leeway::sla
