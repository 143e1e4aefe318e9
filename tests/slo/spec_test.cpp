// SLO definitions: exact percentages, windows, calendar periods in a time zone, the checks.
#include "slo/spec.h"

#include <gtest/gtest.h>

namespace leeway::slo {
namespace {

TimeUs at(const char* rfc3339) {
  return parse_rfc3339(rfc3339).value();
}

TEST(Percent, KeepsTheDecimalExactly) {
  auto p = parse_percent("99.9");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->billionths, 999'000'000);
  EXPECT_EQ(p->complement(), 0.001);  // the double nearest 0.001, as PromQL reads "0.001"
  EXPECT_EQ(p->complement_text(), "0.001");
  EXPECT_EQ(p->percent_text(), "99.9");
  EXPECT_EQ(parse_percent("99.95")->complement_text(), "0.0005");
  EXPECT_EQ(parse_percent("95")->percent_text(), "95");
  EXPECT_EQ(parse_percent("99.9999999")->billionths, 999'999'999);
  EXPECT_EQ(parse_percent("100", true)->billionths, 1'000'000'000);
}

TEST(Percent, RefusesWhatIsNotAPercentageBelow100) {
  for (const char* text :
       {"", "100", "0", "0.0", "99.", ".9", "99.99999999", "-1", "9e1", "1,5", "abc", "999"})
    EXPECT_FALSE(parse_percent(text)) << text;
  EXPECT_EQ(parse_percent("x").error().message,
            "expected a percentage above 0 and below 100 with at most 7 decimals, like 99.9");
}

TEST(Window, RollingOrCalendarMonth) {
  EXPECT_EQ(parse_window("30d", "")->rolling_us, 30 * kDayUs);
  EXPECT_EQ(parse_window("30d", "")->to_string(), "30d");
  auto month = parse_window("month", "Asia/Seoul");
  ASSERT_TRUE(month);
  EXPECT_TRUE(month->calendar());
  EXPECT_EQ(month->to_string(), "month in Asia/Seoul");
  EXPECT_EQ(parse_window("month", "Mars/Base").error().message,
            "unknown time zone \"Mars/Base\"; expected an IANA name like Asia/Seoul or UTC");
  for (const char* text : {"30s", "59m", "401d", "90s", "1h30s", "monthly", "30"})
    EXPECT_FALSE(parse_window(text, "UTC")) << text;
}

TEST(Period, RollingIsTheWholeMinutesBeforeNow) {
  Window w{30 * kDayUs, ""};
  Period p = budget_period(w, at("2026-11-25T10:04:05Z"));
  EXPECT_EQ(p.end_us, at("2026-11-25T10:04:00Z"));
  EXPECT_EQ(p.start_us, at("2026-10-26T10:04:00Z"));
}

TEST(Period, CalendarMonthInSeoulStartsAtLocalMidnight) {
  Window w = parse_window("month", "Asia/Seoul").value();
  // 2026-10-31T14:59Z is 23:59 on 31 October in Seoul (UTC+9, no daylight saving).
  Period october = budget_period(w, at("2026-10-31T14:59:00Z"));
  EXPECT_EQ(october.start_us, at("2026-09-30T15:00:00Z"));
  EXPECT_EQ(october.end_us, at("2026-10-31T15:00:00Z"));
  EXPECT_EQ((october.end_us - october.start_us) / kMinuteUs, 31 * 1440);
  Period november = budget_period(w, at("2026-10-31T15:00:00Z"));
  EXPECT_EQ(november.start_us, at("2026-10-31T15:00:00Z"));
  EXPECT_EQ(november.end_us, at("2026-11-30T15:00:00Z"));
}

TEST(Period, CalendarMonthAcrossADaylightSavingChange) {
  // Berlin leaves summer time on 25 October 2026: October has an hour more than 31 days.
  Window w = parse_window("month", "Europe/Berlin").value();
  Period october = budget_period(w, at("2026-10-15T12:00:00Z"));
  EXPECT_EQ(october.start_us, at("2026-09-30T22:00:00Z"));
  EXPECT_EQ(october.end_us, at("2026-10-31T23:00:00Z"));
  EXPECT_EQ((october.end_us - october.start_us) / kMinuteUs, 31 * 1440 + 60);
}

TEST(Spec, BurnWindowsAreTheStandardOnesAndTheAlertsOwn) {
  SloSpec spec;
  spec.alerts = default_burn_conditions();
  EXPECT_EQ(burn_windows(spec),
            std::vector<DurationUs>(kBurnWindowsUs.begin(), kBurnWindowsUs.end()));
  spec.alerts.push_back({Severity::kPage, 10, 90 * kMinuteUs, 10 * kMinuteUs});
  auto windows = burn_windows(spec);
  EXPECT_EQ(windows.size(), 9u);
  EXPECT_EQ(windows[1], 10 * kMinuteUs);
  EXPECT_EQ(window_name(90 * kMinuteUs), "90m");
  EXPECT_EQ(window_name(3 * kDayUs), "3d");
}

TEST(Spec, ChecksWhatTheConfigCannotSayAlone) {
  EXPECT_EQ(check_method(Sli::kAvailabilityMinutes, Method::kOccurrences),
            "availability_minutes counts minutes, each good or bad: its method is timeslices");
  EXPECT_EQ(check_method(Sli::kLatency, Method::kRatioTimeslices), "");
  EXPECT_EQ(check_threshold(250 * kMillisecondUs), "");
  EXPECT_EQ(check_threshold(300 * kMillisecondUs),
            "300ms is not a bound of the latency histogram that runs are counted in; one of "
            "5ms, 10ms, 25ms, 50ms, 100ms, 250ms, 500ms, 1s, 2.5s, 5s, 10s");
  EXPECT_EQ(check_condition({Severity::kPage, 14.4, 5 * kMinuteUs, kHourUs}),
            "the short window 1h must be shorter than the long window 5m");
  EXPECT_EQ(check_condition({Severity::kPage, 0, kHourUs, 5 * kMinuteUs}),
            "burn_rate: expected a number above 0, like 14.4");
  EXPECT_EQ(check_condition({Severity::kPage, 2, 31 * kDayUs, kDayUs}),
            "the long window 31d is over the longest allowed, 30d");
  EXPECT_EQ(check_condition({Severity::kPage, 2, kHourUs, 90 * kSecondUs}),
            "the long and short windows must be whole minutes");
}

}  // namespace
}  // namespace leeway::slo
