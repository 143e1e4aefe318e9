// Months and local times in IANA zones, on howardhinnant date's tz library.
#include "core/calendar.h"

#include <date/tz.h>

#include <chrono>
#include <string>

namespace leeway {

namespace {

using Us = std::chrono::microseconds;

const date::time_zone* zone_named(std::string_view name) {
  return date::locate_zone(std::string(name));
}

TimeUs to_us(date::sys_time<Us> t) {
  return t.time_since_epoch().count();
}

}  // namespace

bool known_time_zone(std::string_view name) {
  try {
    zone_named(name);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

YearMonth next_month(YearMonth m) {
  return m.month == 12 ? YearMonth{m.year + 1, 1} : YearMonth{m.year, m.month + 1};
}

MonthSpan month_span(std::string_view zone_name, YearMonth m) {
  const date::time_zone* zone = zone_named(zone_name);
  auto first = date::year(m.year) / date::month(unsigned(m.month)) / 1;
  YearMonth n = next_month(m);
  auto next = date::year(n.year) / date::month(unsigned(n.month)) / 1;
  auto start = zone->to_sys(date::local_days(first), date::choose::earliest);
  auto end = zone->to_sys(date::local_days(next), date::choose::earliest);
  return MonthSpan{to_us(std::chrono::time_point_cast<Us>(start)),
                   to_us(std::chrono::time_point_cast<Us>(end))};
}

YearMonth month_at(std::string_view zone, TimeUs t) {
  LocalTime local = local_time(zone, t);
  return YearMonth{local.year, local.month};
}

LocalTime local_time(std::string_view zone_name, TimeUs t) {
  const date::time_zone* zone = zone_named(zone_name);
  auto local = zone->to_local(date::sys_time<Us>(Us(t)));
  auto day = date::floor<date::days>(local);
  date::year_month_day ymd{day};
  LocalTime out;
  out.weekday = static_cast<int>(date::weekday(day).c_encoding());
  out.year = static_cast<int>(ymd.year());
  out.month = static_cast<int>(unsigned(ymd.month()));
  out.day = static_cast<int>(unsigned(ymd.day()));
  out.minute_of_day =
      static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(local - day).count());
  return out;
}

}  // namespace leeway
