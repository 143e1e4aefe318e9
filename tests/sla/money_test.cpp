// Money, percentages, rounding rules and report months, from hand-computed values.
#include "sla/money.h"

#include <gtest/gtest.h>

#include "sla/month.h"

namespace leeway::sla {
namespace {

Percentage pct(std::string_view text) {
  return parse_percentage(text).value();
}

TEST(Money, FormatsByTheCurrencysMinorUnits) {
  EXPECT_EQ(format_money({1'234'000, "KRW"}), "KRW 1,234,000");
  EXPECT_EQ(format_money({1'234'000, "KRW"}, true), "₩1,234,000");
  EXPECT_EQ(format_money({1234, "USD"}), "USD 12.34");
  EXPECT_EQ(format_money({5, "USD"}, true), "$0.05");
  EXPECT_EQ(format_money({-100, "EUR"}), "-EUR 1.00");
  EXPECT_EQ(format_money({0, "JPY"}), "JPY 0");
}

TEST(Money, ParsesMajorUnitsWithoutMoreDecimalsThanTheCurrencyHas) {
  EXPECT_EQ(parse_money("12.34", find_currency("USD").value()).value(), (Money{1234, "USD"}));
  EXPECT_EQ(parse_money("12.3", find_currency("USD").value()).value(), (Money{1230, "USD"}));
  EXPECT_EQ(parse_money("1500000", find_currency("KRW").value()).value(),
            (Money{1'500'000, "KRW"}));
  EXPECT_FALSE(parse_money("1500000.5", find_currency("KRW").value()));
  EXPECT_FALSE(parse_money("1.234", find_currency("USD").value()));
  EXPECT_FALSE(parse_money("-3", find_currency("USD").value()));
  EXPECT_EQ(find_currency("XXX").error().message.substr(0, 22), "unknown currency \"XXX\"");
}

TEST(Percentage, IsExactToFourDecimals) {
  EXPECT_EQ(pct("99.99").millionths, 999'900);
  EXPECT_EQ(pct("99.9999%").millionths, 999'999);
  EXPECT_EQ(pct("100").millionths, 1'000'000);
  EXPECT_EQ(format_percentage(pct("99.95")), "99.95%");
  EXPECT_EQ(format_percentage(pct("10")), "10%");
  EXPECT_FALSE(parse_percentage("99.99999"));
  EXPECT_FALSE(parse_percentage("100.01"));
  EXPECT_FALSE(parse_percentage("abc"));
}

// Rounding of a percentage of a fee:
//   KRW 3,333,333 x 10%   = 333,333.3 won   -> half_up 333,333  down 333,333  up 333,334
//   KRW 1,234,565 x 10%   = 123,456.5 won   -> half_up 123,457  half_even 123,456
//   USD 1,234.55 x 12.5%  = 15,431.875 cents -> half_up 15,432  down 15,431  up 15,432
//   USD 1.25 x 10%        = 12.5 cents      -> half_up 13  half_even 12  down 12  up 13
//   USD 1.35 x 10%        = 13.5 cents      -> half_even 14 (to the even cent)
TEST(Percentage, OfAnAmountRoundsByTheNamedRule) {
  Money krw{3'333'333, "KRW"};
  EXPECT_EQ(percent_of(krw, pct("10"), Rounding::kHalfUp).minor_units, 333'333);
  EXPECT_EQ(percent_of(krw, pct("10"), Rounding::kDown).minor_units, 333'333);
  EXPECT_EQ(percent_of(krw, pct("10"), Rounding::kUp).minor_units, 333'334);
  Money half{1'234'565, "KRW"};
  EXPECT_EQ(percent_of(half, pct("10"), Rounding::kHalfUp).minor_units, 123'457);
  EXPECT_EQ(percent_of(half, pct("10"), Rounding::kHalfEven).minor_units, 123'456);
  Money usd{123'455, "USD"};
  EXPECT_EQ(percent_of(usd, pct("12.5"), Rounding::kHalfUp).minor_units, 15'432);
  EXPECT_EQ(percent_of(usd, pct("12.5"), Rounding::kDown).minor_units, 15'431);
  EXPECT_EQ(percent_of(usd, pct("12.5"), Rounding::kUp).minor_units, 15'432);
  EXPECT_EQ(format_money(percent_of(usd, pct("12.5"), Rounding::kHalfUp)), "USD 154.32");
  Money cents{125, "USD"};
  EXPECT_EQ(percent_of(cents, pct("10"), Rounding::kHalfUp).minor_units, 13);
  EXPECT_EQ(percent_of(cents, pct("10"), Rounding::kHalfEven).minor_units, 12);
  EXPECT_EQ(percent_of(cents, pct("10"), Rounding::kDown).minor_units, 12);
  EXPECT_EQ(percent_of(cents, pct("10"), Rounding::kUp).minor_units, 13);
  EXPECT_EQ(percent_of(Money{135, "USD"}, pct("10"), Rounding::kHalfEven).minor_units, 14);
  EXPECT_EQ(parse_rounding("half_even").value(), Rounding::kHalfEven);
  EXPECT_FALSE(parse_rounding("nearest"));
}

// Minutes of a month: days x 1,440, and 60 fewer or more in a month with a clock change.
//   2026-02 UTC               28 d  40,320
//   2028-02 UTC               29 d  41,760
//   2026-11 Asia/Seoul        30 d  43,200  from 2026-10-31T15:00Z
//   2026-10 UTC               31 d  44,640
//   2026-03 America/New_York  31 d  44,640 - 60 = 44,580 (clocks go forward on 8 March)
//   2026-11 America/New_York  30 d  43,200 + 60 = 43,260 (clocks go back on 1 November)
TEST(Month, HasTheMinutesOfItsDaysAndClockChanges) {
  auto minutes = [](std::string_view zone, int y, int m) {
    return report_month(zone, YearMonth{y, m}).value().minutes();
  };
  EXPECT_EQ(minutes("UTC", 2026, 2), 40'320);
  EXPECT_EQ(minutes("UTC", 2028, 2), 41'760);
  EXPECT_EQ(minutes("Asia/Seoul", 2026, 11), 43'200);
  EXPECT_EQ(minutes("UTC", 2026, 10), 44'640);
  EXPECT_EQ(minutes("America/New_York", 2026, 3), 44'580);
  EXPECT_EQ(minutes("America/New_York", 2026, 11), 43'260);
  ReportMonth seoul = report_month("Asia/Seoul", YearMonth{2026, 11}).value();
  EXPECT_EQ(format_rfc3339(seoul.start_us), "2026-10-31T15:00:00.000000Z");
  EXPECT_EQ(format_rfc3339(seoul.end_us), "2026-11-30T15:00:00.000000Z");
  EXPECT_EQ(seoul.label(), "2026-11");
  ReportMonth march = report_month("America/New_York", YearMonth{2026, 3}).value();
  EXPECT_EQ(format_rfc3339(march.start_us), "2026-03-01T05:00:00.000000Z");
  EXPECT_EQ(format_rfc3339(march.end_us), "2026-04-01T04:00:00.000000Z");
  EXPECT_FALSE(report_month("Mars/Olympus", YearMonth{2026, 1}));
  EXPECT_EQ(parse_year_month("2026-10").value(), (YearMonth{2026, 10}));
  EXPECT_FALSE(parse_year_month("2026-13"));
  EXPECT_FALSE(parse_year_month("2026-1"));
}

}  // namespace
}  // namespace leeway::sla
