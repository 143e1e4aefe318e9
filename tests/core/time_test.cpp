#include "core/time.h"

#include <gtest/gtest.h>

#include "core/clock.h"

namespace leeway {
namespace {

TEST(ParseDuration, AcceptsUnitsAndCombinations) {
  EXPECT_EQ(*parse_duration("500us"), 500);
  EXPECT_EQ(*parse_duration("250ms"), 250'000);
  EXPECT_EQ(*parse_duration("30s"), 30 * kSecondUs);
  EXPECT_EQ(*parse_duration("1m30s"), 90 * kSecondUs);
  EXPECT_EQ(*parse_duration("1.5s"), 1'500'000);
  EXPECT_EQ(*parse_duration("2h"), 2 * kHourUs);
  EXPECT_EQ(*parse_duration("7d"), 7 * kDayUs);
}

TEST(ParseDuration, RejectsWithAMessageThatQuotesTheInput) {
  for (const char* bad :
       {"", "90x", "30", "s", "1m30", "-5s", "5 s", "99999999999999999999d", "200000000000000h"}) {
    auto d = parse_duration(bad);
    ASSERT_FALSE(d) << bad;
    EXPECT_EQ(d.error().message,
              std::string("expected a duration like 30s, 250ms or 1m30s, got \"") + bad + "\"");
  }
}

TEST(FormatDuration, IsCompact) {
  EXPECT_EQ(format_duration(850), "850us");
  EXPECT_EQ(format_duration(12'345), "12.3ms");
  EXPECT_EQ(format_duration(1'250'000), "1.25s");
  EXPECT_EQ(format_duration(200 * kSecondUs), "3m20s");
  EXPECT_EQ(format_duration(2 * kHourUs + 5 * kMinuteUs), "2h5m");
}

TEST(FormatRfc3339, IsUtcWithMicroseconds) {
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_rfc3339(1'795'000'000'123'456), "2026-11-18T11:06:40.123456Z");
  EXPECT_EQ(format_rfc3339(-1), "1969-12-31T23:59:59.999999Z");
}

TEST(ParseRfc3339, ReadsWhatFormatWrites) {
  EXPECT_EQ(parse_rfc3339("2026-11-18T11:06:40.123456Z"), 1'795'000'000'123'456);
  EXPECT_EQ(parse_rfc3339(format_rfc3339(-1)), -1);
  EXPECT_EQ(parse_rfc3339("2026-11-18T11:06:40Z"), 1'795'000'000'000'000);
  EXPECT_EQ(parse_rfc3339("2026-11-18T11:06:40.5Z"), 1'795'000'000'500'000);
}

TEST(ParseRfc3339, RejectsAnythingElse) {
  for (const char* bad : {"", "soon", "2026-11-18", "2026-11-18T11:06:40", "2026-11-18T11:06:40Zx",
                          "2026-11-18T11:06:40+01:00", "2026-13-01T00:00:00Z"})
    EXPECT_EQ(parse_rfc3339(bad), std::nullopt) << bad;
}

TEST(ParseRfc3339Offset, ReadsZAndNumericOffsetsAsUtc) {
  EXPECT_EQ(parse_rfc3339_offset("2026-11-18T11:06:40Z"), 1'795'000'000'000'000);
  EXPECT_EQ(parse_rfc3339_offset("2026-11-18T20:06:40+09:00"), 1'795'000'000'000'000);
  EXPECT_EQ(parse_rfc3339_offset("2026-11-18T06:06:40.5-05:00"), 1'795'000'000'500'000);
  for (const char* bad : {"", "2026-11-18T11:06:40", "2026-11-18T11:06:40+0900x",
                          "2026-11-18 11:06:40+09:00", "2026-11-18T11:06:40+09:00 "})
    EXPECT_EQ(parse_rfc3339_offset(bad), std::nullopt) << bad;
}

TEST(ManualClock, MovesOnlyWhenTold) {
  ManualClock clock(1000);
  EXPECT_EQ(clock.now_us(), 1000);
  clock.advance(kSecondUs);
  EXPECT_EQ(clock.now_us(), 1000 + kSecondUs);
  EXPECT_EQ(clock.monotonic_us(), 1000 + kSecondUs);
}

}  // namespace
}  // namespace leeway
