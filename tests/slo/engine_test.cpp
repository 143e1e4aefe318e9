// The engine against hand-computed tables: budgets in 30-day and calendar windows, windows that
// cross midnight and a month boundary in Seoul, a day without data, the three budgeting methods
// on one hour of data, late minutes, and the burn-rate alerts' life.
#include "slo/engine.h"

#include <gtest/gtest.h>

#include <map>

namespace leeway::slo {
namespace {

TimeUs at(const char* rfc3339) {
  return parse_rfc3339(rfc3339).value();
}

SloSpec spec(Sli sli, const char* objective, Window window, Method method) {
  SloSpec s;
  s.id = "shop-availability";
  s.service = "shop";
  s.sli = sli;
  s.objective = parse_percent(objective).value();
  s.window = std::move(window);
  s.method = method;
  s.slice_target = parse_percent("95").value();
  s.alerts = default_burn_conditions();
  EXPECT_EQ(check_spec(s), "");
  return s;
}

SloSpec minutes_slo(const char* objective, Window window) {
  return spec(Sli::kAvailabilityMinutes, objective, std::move(window), Method::kTimeslices);
}

// Sets every minute in [from, to) of SLO 0 to `counts`.
void fill(Engine& engine, TimeUs from, TimeUs to, MinuteCounts counts) {
  for (TimeUs m = from; m < to; m += kMinuteUs) ASSERT_TRUE(engine.set_minute(0, m, counts));
}

constexpr MinuteCounts kGoodMinute{1, 1};
constexpr MinuteCounts kBadMinute{0, 1};

TEST(Budget, ThirtyDaysAt999Are43Point2Minutes) {
  Engine engine({minutes_slo("99.9", Window{30 * kDayUs, ""})});
  TimeUs now = at("2026-11-30T00:00:00Z");
  fill(engine, now - 30 * kDayUs, now, kGoodMinute);
  engine.evaluate(now);
  const Budget& b = engine.status(0).budget;
  EXPECT_NEAR(b.total, 43.2, 1e-9);
  EXPECT_EQ(b.spent, 0);
  EXPECT_EQ(b.counted.minutes, 43200);
  EXPECT_EQ(b.counted.no_data_minutes(), 0);
  EXPECT_EQ(*b.remaining_ratio, 1.0);
  EXPECT_EQ(budget_unit(engine.specs()[0]), "minutes");
}

TEST(Budget, A31DayMonthAt999Is44Point64MinutesFromItsFirstMinute) {
  Engine engine({minutes_slo("99.9", parse_window("month", "UTC").value())});
  engine.evaluate(at("2026-10-01T00:00:00Z"));
  const Budget& b = engine.status(0).budget;
  EXPECT_NEAR(b.total, 44.64, 1e-9);
  EXPECT_EQ(b.minutes_to_come, 44640);
  EXPECT_EQ(b.counted.minutes, 0);
  EXPECT_EQ(*b.remaining_ratio, 1.0);

  // Ten bad minutes on the 3rd: 34.64 minutes remain. (A fresh engine: one that evaluated on
  // the 1st refuses minutes more than a day ahead of it.)
  engine = Engine({minutes_slo("99.9", parse_window("month", "UTC").value())});
  fill(engine, at("2026-10-01T00:00:00Z"), at("2026-10-03T12:00:00Z"), kGoodMinute);
  fill(engine, at("2026-10-03T12:00:00Z"), at("2026-10-03T12:10:00Z"), kBadMinute);
  engine.evaluate(at("2026-10-03T12:10:00Z"));
  const Budget& later = engine.status(0).budget;
  EXPECT_NEAR(later.total, 44.64, 1e-9);
  EXPECT_EQ(later.spent, 10);
  EXPECT_NEAR(later.remaining(), 34.64, 1e-9);
  EXPECT_NEAR(*later.remaining_ratio, 34.64 / 44.64, 1e-12);
}

TEST(Budget, AMonthBoundaryInSeoul) {
  Engine engine({minutes_slo("99.9", parse_window("month", "Asia/Seoul").value())});
  // October in Seoul (from 15:00 UTC on 30 September) with one bad minute at 23:59 KST on the
  // 31st, then half an hour of November.
  fill(engine, at("2026-09-30T15:00:00Z"), at("2026-10-31T14:59:00Z"), kGoodMinute);
  fill(engine, at("2026-10-31T14:59:00Z"), at("2026-10-31T15:00:00Z"), kBadMinute);
  fill(engine, at("2026-10-31T15:00:00Z"), at("2026-10-31T15:30:00Z"), kGoodMinute);

  engine.evaluate(at("2026-10-31T14:59:30Z"));  // 23:59:30 on 31 October in Seoul
  EXPECT_EQ(engine.status(0).budget.period.start_us, at("2026-09-30T15:00:00Z"));
  EXPECT_EQ(engine.status(0).budget.spent, 0);  // the bad minute is not over yet
  engine.evaluate(at("2026-10-31T14:59:59Z"));
  EXPECT_NEAR(engine.status(0).budget.total, 44.64, 1e-9);  // October has 31 days

  // At midnight in Seoul November's budget starts whole: 30 days, 43.2 minutes. The bad
  // minute was October's; the burn windows still see it.
  engine.evaluate(at("2026-10-31T15:30:00Z"));
  const SloStatus& s = engine.status(0);
  EXPECT_EQ(s.budget.period.start_us, at("2026-10-31T15:00:00Z"));
  EXPECT_NEAR(s.budget.total, 43.2, 1e-9);
  EXPECT_EQ(s.budget.spent, 0);
  EXPECT_EQ(s.budget.counted.minutes, 30);
  EXPECT_NEAR(*s.burn(kHourUs)->rate, 1.0 / 60 / 0.001, 1e-9);
  EXPECT_EQ(*s.burn(5 * kMinuteUs)->rate, 0);
}

TEST(Budget, ADayWithoutDataLeavesTheWindow) {
  Engine engine({minutes_slo("99.9", Window{30 * kDayUs, ""})});
  TimeUs now = at("2026-11-30T00:00:00Z");
  fill(engine, now - 30 * kDayUs, now - 10 * kDayUs, kGoodMinute);
  // 20 November: nothing (the daemon was stopped); its minutes stay unset.
  fill(engine, now - 9 * kDayUs, now, kGoodMinute);
  fill(engine, now - kHourUs, now - kHourUs + 3 * kMinuteUs, kBadMinute);
  engine.evaluate(now);
  const Budget& b = engine.status(0).budget;
  EXPECT_EQ(b.counted.no_data_minutes(), 1440);
  EXPECT_EQ(b.counted.data_minutes, 43200 - 1440);
  EXPECT_NEAR(b.total, 41.76, 1e-9);
  EXPECT_EQ(b.spent, 3);
  EXPECT_NEAR(b.remaining(), 38.76, 1e-9);
  // The 1d burn window of the 21st at midnight sees nothing: unknown, not 0.
  engine.evaluate(now);
  Engine empty_day({minutes_slo("99.9", Window{30 * kDayUs, ""})});
  fill(empty_day, now - 30 * kDayUs, now - 10 * kDayUs, kGoodMinute);
  empty_day.evaluate(now - 9 * kDayUs);
  EXPECT_FALSE(empty_day.status(0).burn(kDayUs)->rate);
  EXPECT_EQ(empty_day.status(0).burn(kDayUs)->sums.no_data_minutes(), 1440);
  EXPECT_TRUE(empty_day.status(0).burn(3 * kDayUs)->rate);
}

TEST(BurnRate, WindowsCrossMidnight) {
  Engine engine({minutes_slo("99.9", Window{30 * kDayUs, ""})});
  fill(engine, at("2026-11-24T00:00:00Z"), at("2026-11-25T23:50:00Z"), kGoodMinute);
  fill(engine, at("2026-11-25T23:50:00Z"), at("2026-11-26T00:00:00Z"), kBadMinute);
  fill(engine, at("2026-11-26T00:00:00Z"), at("2026-11-26T00:30:00Z"), kGoodMinute);
  engine.evaluate(at("2026-11-26T00:30:00Z"));
  const SloStatus& s = engine.status(0);
  // 1h: 23:30 to 00:30 holds the ten bad minutes: (10/60)/0.001.
  EXPECT_NEAR(*s.burn(kHourUs)->rate, 10.0 / 60 / 0.001, 1e-9);
  EXPECT_NEAR(*s.burn(kDayUs)->rate, 10.0 / 1440 / 0.001, 1e-9);
  EXPECT_EQ(*s.burn(30 * kMinuteUs)->rate, 0);
  // Budget: 0.001 x 2 days 30 minutes of data; ten spent. At the 1h rate of 166.7 the rest
  // lasts remaining_ratio x 30d / 166.7.
  double total = 0.001 * (2 * 1440 + 30);
  EXPECT_NEAR(s.budget.total, total, 1e-12);
  double left = (total - 10) / total;
  EXPECT_NEAR(*s.budget.remaining_ratio, left, 1e-12);
  EXPECT_EQ(*s.exhausted_at_us, at("2026-11-26T00:30:00Z"));  // overspent: already out
}

TEST(BurnRate, ExhaustionAtTheHourlyRate) {
  Engine engine({minutes_slo("99", Window{30 * kDayUs, ""})});
  TimeUs now = at("2026-11-30T00:00:00Z");
  fill(engine, now - 30 * kDayUs, now, kGoodMinute);
  fill(engine, now - 6 * kMinuteUs, now, kBadMinute);  // 6 of the last 60 minutes bad
  engine.evaluate(now);
  const SloStatus& s = engine.status(0);
  EXPECT_NEAR(*s.burn(kHourUs)->rate, 10, 1e-12);  // 10% bad against a 1% budget
  EXPECT_NEAR(s.budget.total, 432, 1e-9);
  // 426/432 of the budget lasts 30 days / 10 at this rate.
  double lasts_us = 426.0 / 432.0 * double(30 * kDayUs) / 10;
  EXPECT_NEAR(double(*s.exhausted_at_us - now), lasts_us, 2);
}

// The docs' worked example: one hour, objective 99%, slice target 95%. 56 minutes of 100 good
// runs; one busy minute of 1000 runs with 100 failures; three quiet minutes of 10 runs with 1
// failure each (90% good, like the busy one).
TEST(Methods, TheThreeBudgetingMethodsDifferOnOneHour) {
  TimeUs start = at("2026-11-25T10:00:00Z");
  auto run = [&](Method method) {
    Engine engine({spec(Sli::kAvailabilityRuns, "99", Window{kHourUs, ""}, method)});
    fill(engine, start, start + kHourUs, MinuteCounts{100, 100});
    EXPECT_TRUE(engine.set_minute(0, start + 10 * kMinuteUs, MinuteCounts{900, 1000}));
    for (int m : {50, 51, 52})
      EXPECT_TRUE(engine.set_minute(0, start + m * kMinuteUs, MinuteCounts{9, 10}));
    engine.evaluate(start + kHourUs);
    return engine.status(0).budget;
  };
  Budget occurrences = run(Method::kOccurrences);
  EXPECT_EQ(occurrences.counted.weight, 5630 + 1000);  // 56x100 + 1000 + 3x10 runs
  EXPECT_NEAR(occurrences.total, 66.3, 1e-9);          // 1% of the runs
  EXPECT_EQ(occurrences.spent, 103);
  EXPECT_NEAR(*occurrences.remaining_ratio, (66.3 - 103) / 66.3, 1e-12);  // -55%: overspent

  Budget timeslices = run(Method::kTimeslices);
  EXPECT_EQ(timeslices.counted.weight, 60);
  EXPECT_NEAR(timeslices.total, 0.6, 1e-12);                         // 1% of 60 minutes
  EXPECT_EQ(timeslices.spent, 4);                                    // four minutes under 95%
  EXPECT_NEAR(*timeslices.remaining_ratio, (0.6 - 4) / 0.6, 1e-12);  // -567%

  Budget ratio = run(Method::kRatioTimeslices);
  EXPECT_NEAR(ratio.total, 0.6, 1e-12);
  EXPECT_NEAR(ratio.spent, 0.4, 1e-12);                 // four minutes each 10% bad
  EXPECT_NEAR(*ratio.remaining_ratio, 1.0 / 3, 1e-12);  // a third left
}

TEST(Series, ALateMinuteReplacesItsCountsAndRecomputesOnlyItsWindows) {
  Engine engine(
      {spec(Sli::kAvailabilityRuns, "99.9", Window{30 * kDayUs, ""}, Method::kOccurrences)});
  TimeUs now = at("2026-11-30T00:00:00Z");
  fill(engine, now - 2 * kDayUs, now, MinuteCounts{10, 10});
  engine.evaluate(now);
  EXPECT_EQ(engine.status(0).budget.counted.weight, 2 * 1440 * 10);
  // An agent's spool arrives: the minute 3 hours ago had 4 more runs, all down.
  ASSERT_TRUE(engine.set_minute(0, now - 3 * kHourUs, MinuteCounts{10, 14}));
  engine.evaluate(now);
  const SloStatus& s = engine.status(0);
  EXPECT_EQ(s.budget.counted.weight, 2 * 1440 * 10 + 4);
  EXPECT_EQ(s.budget.spent, 4);
  EXPECT_EQ(*s.burn(kHourUs)->rate, 0);
  EXPECT_NEAR(*s.burn(6 * kHourUs)->rate, 4.0 / (360 * 10 + 4) / 0.001, 1e-9);
  // The same minute sent again changes nothing.
  ASSERT_TRUE(engine.set_minute(0, now - 3 * kHourUs, MinuteCounts{10, 14}));
  engine.evaluate(now);
  EXPECT_EQ(engine.status(0).budget.spent, 4);
  // Older than the window and the longest burn window: refused.
  EXPECT_FALSE(engine.set_minute(0, now - 31 * kDayUs, MinuteCounts{0, 1}));
  EXPECT_FALSE(engine.set_minute(0, now + 2 * kDayUs, MinuteCounts{0, 1}));
}

TEST(Series, SteadyHoursKeepOneValue) {
  MinuteSeries series(Counting(Method::kOccurrences, {}), 30 * kDayUs);
  TimeUs start = at("2026-11-01T00:00:00Z");
  for (TimeUs m = start; m < start + 30 * kDayUs; m += kMinuteUs)
    ASSERT_TRUE(series.set(m, MinuteCounts{6, 6}));
  series.settle();
  std::size_t steady = series.memory_bytes();
  EXPECT_LT(steady, 100'000u);  // 720 hours of one value each
  series.set(start + 90 * kMinuteUs, MinuteCounts{0, 6});
  series.settle();
  EXPECT_GT(series.memory_bytes(), steady);
  WindowSums all = series.sum(start, start + 30 * kDayUs);
  EXPECT_EQ(all.weight, 30 * 1440 * 6);
  EXPECT_EQ(all.bad, 6);
  EXPECT_EQ(series.sum(start + 89 * kMinuteUs, start + 91 * kMinuteUs).bad, 6);
  EXPECT_EQ(series.sum(start + 91 * kMinuteUs, start + 30 * kDayUs).bad, 0);
  // Put back, the hour is one value again.
  series.set(start + 90 * kMinuteUs, MinuteCounts{6, 6});
  series.settle();
  EXPECT_EQ(series.memory_bytes(), steady);
}

// Window sums (running sums over hours plus minutes at the edges) against a plain sum of
// minutes, through late minutes, minutes before the first hour, and dropped hours.
TEST(Series, WindowSumsMatchAPlainSumOfMinutes) {
  Counting counting(Method::kRatioTimeslices, {});
  MinuteSeries series(counting, 10 * kDayUs);
  std::map<TimeUs, MinuteCounts> plain;
  std::uint64_t seed = 7;
  auto next = [&seed](std::uint64_t n) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (seed >> 33) % n;
  };
  TimeUs base = at("2026-11-01T00:00:00Z");
  TimeUs dropped = 0;
  for (int round = 0; round < 40; ++round) {
    for (int i = 0; i < 200; ++i) {
      TimeUs m = base + TimeUs(next(3 * 1440)) * kMinuteUs + round * 30 * kMinuteUs;
      MinuteCounts c{std::uint32_t(next(3)), std::uint32_t(next(2)) * 2};
      if (m < dropped || !series.set(m, c)) continue;
      plain[m] = c;
    }
    if (round % 3 == 0) series.settle();
    if (round % 10 == 9) {
      dropped = (base + round * 60 * kMinuteUs) / kHourUs * kHourUs;
      series.drop_before(dropped);
      plain.erase(plain.begin(), plain.lower_bound(dropped));
    }
    for (int q = 0; q < 20; ++q) {
      TimeUs from = base + TimeUs(next(4 * 1440)) * kMinuteUs - kDayUs / 2;
      TimeUs to = from + TimeUs(next(2 * 1440) + 1) * kMinuteUs;
      WindowSums expected;
      for (auto it = plain.lower_bound(from); it != plain.end() && it->first < to; ++it)
        expected.add(counting.of(it->second));
      WindowSums got = series.sum(from, to);
      ASSERT_EQ(got.minutes, (to - from) / kMinuteUs);
      ASSERT_EQ(got.data_minutes, expected.data_minutes) << round << " " << q;
      ASSERT_NEAR(got.weight, expected.weight, 1e-9);
      ASSERT_NEAR(got.bad, expected.bad, 1e-9);
    }
  }
}

// The SRE workbook's page on a sudden outage: 100 runs a minute, 20% failing in minutes 60 to
// 89 (an hour of history before it). The slow pair fires first (at 62m the 6h window holds 62
// minutes: 40 of 6200 runs failed, over 6 x 0.1%); the fast pair joins, then the slow pair
// holds the alert alone, and it resolves once the 30m window is clear: one fire, one resolve.
// Evaluations at whole minutes, each before that minute's counts arrive.
TEST(Alerts, ASuddenOutagePagesOnceAndResolvesOnce) {
  Engine engine(
      {spec(Sli::kAvailabilityRuns, "99.9", Window{30 * kDayUs, ""}, Method::kOccurrences)});
  TimeUs t0 = at("2026-11-25T00:00:00Z");
  std::vector<AlertEvent> events;
  for (int minute = 0; minute <= 180; ++minute) {
    TimeUs now = t0 + minute * kMinuteUs;
    for (auto& e : engine.evaluate(now)) events.push_back(e);
    bool outage = minute >= 60 && minute < 90;
    ASSERT_TRUE(engine.set_minute(0, now, MinuteCounts{outage ? 80u : 100u, 100}));
  }
  // The ticket fires a minute before it (20 of 6100 runs is over 3 x 0.1% in 1d and 2h) and
  // outlives the three hours.
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].severity, Severity::kTicket);
  EXPECT_TRUE(events[0].firing);
  EXPECT_EQ(events[0].at_us, t0 + 61 * kMinuteUs);
  events.erase(events.begin());
  EXPECT_EQ(events[0].severity, Severity::kPage);
  EXPECT_TRUE(events[0].firing);
  EXPECT_EQ(events[0].at_us, t0 + 62 * kMinuteUs);
  EXPECT_EQ(events[0].condition->long_us, 6 * kHourUs);
  EXPECT_FALSE(events[1].firing);
  EXPECT_EQ(events[1].at_us, t0 + 120 * kMinuteUs);
}

// Leeway's rule for zero traffic (alerts.h): the outage above, then no runs at all for 110
// minutes (every location silent), then good runs again. Prometheus's ratios turn NaN when
// the 5m and 30m windows empty (at 120m) and its page resolves there; leeway keeps paging until
// a window pair can be judged, which the first good minute allows: it resolves at 201m.
TEST(Alerts, ZeroTrafficHoldsTheAlertUntilDataComes) {
  Engine engine(
      {spec(Sli::kAvailabilityRuns, "99.9", Window{30 * kDayUs, ""}, Method::kOccurrences)});
  TimeUs t0 = at("2026-11-25T00:00:00Z");
  std::vector<AlertEvent> pages;
  for (int minute = 0; minute <= 240; ++minute) {
    TimeUs now = t0 + minute * kMinuteUs;
    for (auto& e : engine.evaluate(now))
      if (e.severity == Severity::kPage) pages.push_back(e);
    if (minute == 150) {
      EXPECT_TRUE(engine.status(0).firing[0]);
      EXPECT_FALSE(engine.status(0).burn(5 * kMinuteUs)->rate);  // unknown, not 0
      EXPECT_FALSE(engine.status(0).burn(kHourUs)->rate);
    }
    if (minute >= 90 && minute < 200) continue;  // silence: no minute has data
    bool outage = minute >= 60 && minute < 90;
    ASSERT_TRUE(engine.set_minute(0, now, MinuteCounts{outage ? 80u : 100u, 100}));
  }
  ASSERT_EQ(pages.size(), 2u);
  EXPECT_EQ(pages[0].at_us, t0 + 62 * kMinuteUs);
  EXPECT_FALSE(pages[1].firing);
  EXPECT_EQ(pages[1].at_us, t0 + 201 * kMinuteUs);
}

}  // namespace
}  // namespace leeway::slo
