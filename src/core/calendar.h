// Calendar months and local times in a named IANA time zone, as UTC microseconds: the one place
// that turns "October 2026 in Asia/Seoul" into an instant range (SLO budgets, SLA reports).
#pragma once

#include <string_view>

#include "core/time.h"

namespace leeway {

// Whether `name` is a time zone in the system's IANA database.
bool known_time_zone(std::string_view name);

// A month of the Gregorian calendar: year and month 1..12.
struct YearMonth {
  int year = 0;
  int month = 0;
  bool operator==(const YearMonth&) const = default;
  auto operator<=>(const YearMonth&) const = default;
};

// The month after `m`.
YearMonth next_month(YearMonth m);

// [start, end) in UTC microseconds of month `m` in `zone`: from its first local midnight to the
// next month's. A local midnight that a clock change skips maps to the moment of the change.
// REQUIRES: known_time_zone(zone).
struct MonthSpan {
  TimeUs start_us = 0;
  TimeUs end_us = 0;
};
MonthSpan month_span(std::string_view zone, YearMonth m);

// The month in `zone` that holds the instant `t`. REQUIRES: known_time_zone(zone).
YearMonth month_at(std::string_view zone, TimeUs t);

// The local wall-clock time of `t` in `zone`: weekday (0 Sunday .. 6 Saturday), date and
// minutes since local midnight. REQUIRES: known_time_zone(zone).
struct LocalTime {
  int weekday = 0;
  int year = 0;
  int month = 0;
  int day = 0;
  int minute_of_day = 0;
};
LocalTime local_time(std::string_view zone, TimeUs t);

}  // namespace leeway
