// Months and local times in IANA zones.
#include "core/calendar.h"

#include <gtest/gtest.h>

namespace leeway {
namespace {

TimeUs at(std::string_view text) {
  return parse_rfc3339(text).value();
}

TEST(Calendar, MonthAtTheLocalBoundary) {
  // 2026-10-31T15:00Z is midnight of 1 November in Seoul (UTC+9).
  EXPECT_EQ(month_at("Asia/Seoul", at("2026-10-31T14:59:59Z")), (YearMonth{2026, 10}));
  EXPECT_EQ(month_at("Asia/Seoul", at("2026-10-31T15:00:00Z")), (YearMonth{2026, 11}));
  EXPECT_EQ(month_at("UTC", at("2026-10-31T15:00:00Z")), (YearMonth{2026, 10}));
  EXPECT_EQ(next_month({2026, 12}), (YearMonth{2027, 1}));
}

TEST(Calendar, LocalTimeHasTheWeekdayAndMinuteOfDay) {
  // Monday 2026-10-05 10:30 in Seoul.
  LocalTime t = local_time("Asia/Seoul", at("2026-10-05T01:30:00Z"));
  EXPECT_EQ(t.weekday, 1);
  EXPECT_EQ(t.day, 5);
  EXPECT_EQ(t.minute_of_day, 10 * 60 + 30);
  // New York on the night the clocks go back: 05:30Z and 06:30Z are both 01:30 local.
  EXPECT_EQ(local_time("America/New_York", at("2026-11-01T05:30:00Z")).minute_of_day, 90);
  EXPECT_EQ(local_time("America/New_York", at("2026-11-01T06:30:00Z")).minute_of_day, 90);
  EXPECT_FALSE(known_time_zone("Asia/Busan"));
  EXPECT_TRUE(known_time_zone("Europe/Berlin"));
}

}  // namespace
}  // namespace leeway
