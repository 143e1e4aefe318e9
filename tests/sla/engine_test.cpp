// The SLA engine against hand-computed tables. Each test writes its table and arithmetic above
// it; minutes are service-minutes, availability is (counted - unavailable) / counted shown to
// four decimals rounded down.
#include "sla/engine.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>

namespace leeway::sla {
namespace {

TimeUs at(std::string_view text) {
  return parse_rfc3339(text).value();
}

Percentage pct(std::string_view text) {
  return parse_percentage(text).value();
}

// One service, KRW 10,000,000 a month, 99.9% target, tiers of 10%, 25% and 100%.
Contract base_contract(std::string zone = "UTC") {
  Contract c;
  c.id = "ops";
  c.customer = "ACME";
  c.services = {"web"};
  c.fee = Money{10'000'000, "KRW"};
  c.time_zone = std::move(zone);
  c.measurement.target = pct("99.9");
  c.credits = {{pct("99.9"), pct("99"), pct("10")},
               {pct("99"), pct("95"), pct("25")},
               {pct("95"), pct("0"), pct("100")}};
  return c;
}

Incident down(std::string id, std::string_view from, std::string_view to) {
  Incident in;
  in.id = std::move(id);
  in.service = "web";
  in.opened_us = at(from);
  in.resolved_us = at(to);
  in.locations = {3, 3};
  in.checks = {1, 1};
  in.attribution = "service";
  return in;
}

Report run(const Contract& c, int year, int month, const Evidence& e) {
  EXPECT_TRUE(validate(c)) << validate(c).error().message;
  return compute_report(c, report_month(c.time_zone, YearMonth{year, month}).value(), e);
}

// One 60-minute outage in months of each length (UTC):
//   month     minutes  unavailable  available  availability (x 10^6, rounded down)
//   2026-02   40,320   60           40,260     998,511 -> 99.8511  tier [99, 99.9): 10%
//   2028-02   41,760   60           41,700     998,563 -> 99.8563
//   2026-11   43,200   60           43,140     998,611 -> 99.8611
//   2026-10   44,640   60           44,580     998,655 -> 99.8655
// Credit: 10% of KRW 10,000,000 = 1,000,000.
TEST(Engine, MonthsOf28To31Days) {
  struct Row {
    int year, month;
    std::int64_t minutes;
    std::string text;
  };
  for (const Row& row : {Row{2026, 2, 40'320, "99.8511"}, Row{2028, 2, 41'760, "99.8563"},
                         Row{2026, 11, 43'200, "99.8611"}, Row{2026, 10, 44'640, "99.8655"}}) {
    std::string day = fmt::format("{:04}-{:02}-10", row.year, row.month);
    Evidence e;
    e.incidents = {down("i1", day + "T10:00:00Z", day + "T11:00:00Z")};
    Report r = run(base_contract(), row.year, row.month, e);
    SCOPED_TRACE(day);
    EXPECT_EQ(r.minutes.month, row.minutes);
    EXPECT_EQ(r.minutes.unavailable, 60);
    EXPECT_EQ(r.minutes.available(), row.minutes - 60);
    EXPECT_EQ(r.availability.text(), row.text);
    EXPECT_EQ(r.credit.tier, std::size_t{0});
    EXPECT_EQ(r.credit.amount_minor_units, 1'000'000);
    ASSERT_EQ(r.unavailable.size(), 1u);
    EXPECT_EQ(r.unavailable[0].incidents, std::vector<std::string>{"i1"});
    EXPECT_EQ(r.incidents.at(0).unavailable_minutes, 60);
  }
}

// America/New_York, a 30-minute outage each month:
//   2026-03: 05:00Z 1 March to 04:00Z 1 April; 31 x 1,440 - 60 = 44,580 minutes;
//            44,550 / 44,580 = 0.999327... -> 99.9327, above 99.9: no credit.
//   2026-11: 04:00Z 1 November to 05:00Z 1 December; 30 x 1,440 + 60 = 43,260 minutes;
//            43,230 / 43,260 = 0.999306... -> 99.9306.
// The outage at 01:30 local on 1 November happens twice on the clock; it is one UTC range.
TEST(Engine, NewYorkMonthsWithAClockChange) {
  Contract c = base_contract("America/New_York");
  Evidence march;
  march.incidents = {down("m", "2026-03-08T07:00:00Z", "2026-03-08T07:30:00Z")};
  Report r = run(c, 2026, 3, march);
  EXPECT_EQ(r.minutes.month, 44'580);
  EXPECT_EQ(r.minutes.unavailable, 30);
  EXPECT_EQ(r.availability.text(), "99.9327");
  EXPECT_FALSE(r.credit.tier);
  EXPECT_TRUE(r.target_met);

  Evidence november;
  november.incidents = {down("n", "2026-11-01T05:30:00Z", "2026-11-01T06:00:00Z")};
  r = run(c, 2026, 11, november);
  EXPECT_EQ(r.minutes.month, 43'260);
  EXPECT_EQ(r.availability.text(), "99.9306");
}

// Tier bounds are exact. 10 services in November (UTC): 10 x 43,200 = 432,000 minutes.
//   432 unavailable: 431,568 / 432,000 = 99.9% exactly: not "less than 99.9%": no credit, target
//                    met.
//   433 unavailable: 431,567 / 432,000 = 99.89976...%: less than 99.9% but at least 99%: 10%.
// One service, November: 43,200 minutes.
//   432 unavailable: 42,768 / 43,200 = 99% exactly: "less than 99.9% but at least 99%": 10%.
//   433 unavailable: 42,767 / 43,200 = 98.9976...%: "less than 99% but at least 95%": 25%.
TEST(Engine, AvailabilityExactlyAtATierBound) {
  Contract ten = base_contract();
  ten.services.clear();
  for (int i = 0; i < 10; ++i) ten.services.push_back(fmt::format("s{}", i));
  auto outage = [](int minutes) {
    Incident in = down("i", "2026-11-03T00:00:00Z", "2026-11-03T00:00:00Z");
    in.service = "s0";
    in.resolved_us = in.opened_us + minutes * kMinuteUs;
    return in;
  };
  Evidence e;
  e.incidents = {outage(432)};
  Report r = run(ten, 2026, 11, e);
  EXPECT_EQ(r.minutes.month, 432'000);
  EXPECT_EQ(r.availability.text(), "99.9000");
  EXPECT_FALSE(r.credit.tier);
  EXPECT_TRUE(r.target_met);
  e.incidents = {outage(433)};
  r = run(ten, 2026, 11, e);
  EXPECT_EQ(r.availability.text(), "99.8997");
  EXPECT_EQ(r.credit.tier, std::size_t{0});
  EXPECT_FALSE(r.target_met);

  Contract one = base_contract();
  Incident in = outage(432);
  in.service = "web";
  e.incidents = {in};
  r = run(one, 2026, 11, e);
  EXPECT_EQ(r.availability.text(), "99.0000");
  EXPECT_EQ(r.credit.tier, std::size_t{0});
  EXPECT_EQ(r.credit.text, "less than 99.9% but at least 99%: 10% of the fee");
  in.resolved_us = *in.resolved_us + kMinuteUs;
  e.incidents = {in};
  r = run(one, 2026, 11, e);
  EXPECT_EQ(r.availability.text(), "98.9976");
  EXPECT_EQ(r.credit.tier, std::size_t{1});
  EXPECT_EQ(r.credit.amount_minor_units, 2'500'000);
}

// Grades with fixed penalties and a cap of 30% (KRW 3,000,000):
//   grade 1: down 30 min or more: KRW 2,000,000 each
//   i1  60 min  grade 1  2,000,000
//   i2  45 min  grade 1  2,000,000
//   i3  10 min  none     0
//   unavailable 115 of 44,640: 99.7423% -> tier 10%: 1,000,000
//   before cap 5,000,000; cap 3,000,000 binds; total 3,000,000.
TEST(Engine, ACapThatBinds) {
  Contract c = base_contract();
  Grade g1;
  g1.name = "1";
  g1.rules = {GradeRule{.min_duration_us = 30 * kMinuteUs, .outcome = Outcome::kDown}};
  g1.penalty_minor_units = 2'000'000;
  c.grades = {g1};
  c.cap = pct("30");
  Evidence e;
  e.incidents = {down("i1", "2026-10-01T01:00:00Z", "2026-10-01T02:00:00Z"),
                 down("i2", "2026-10-02T01:00:00Z", "2026-10-02T01:45:00Z"),
                 down("i3", "2026-10-03T01:00:00Z", "2026-10-03T01:10:00Z")};
  Report r = run(c, 2026, 10, e);
  EXPECT_EQ(r.minutes.unavailable, 115);
  EXPECT_EQ(r.availability.text(), "99.7423");
  EXPECT_EQ(r.incidents.at(0).grade, "1");
  EXPECT_EQ(r.incidents.at(0).rule_text, "duration >= 30m and down");
  EXPECT_EQ(r.incidents.at(2).grade, "");
  EXPECT_EQ(r.penalties_minor_units, 4'000'000);
  EXPECT_EQ(r.credit.amount_minor_units, 1'000'000);
  EXPECT_EQ(r.total_before_cap_minor_units, 5'000'000);
  EXPECT_EQ(r.cap_minor_units, 3'000'000);
  EXPECT_TRUE(r.cap_binds);
  EXPECT_EQ(r.total_minor_units, 3'000'000);
}

// An incident from 2026-10-31T23:30Z to 2026-11-01T00:45Z (UTC contract, penalty 500,000):
//   October:  30 unavailable minutes (23:30-24:00); charged: opened in October.
//   November: 45 unavailable minutes (00:00-00:45); listed, not charged.
// Charged in the resolved month instead, the penalty moves to November.
TEST(Engine, AnIncidentCrossingAMonthBoundary) {
  Contract c = base_contract();
  Grade g;
  g.name = "2";
  g.rules = {GradeRule{}};
  g.penalty_minor_units = 500'000;
  c.grades = {g};
  Evidence e;
  e.incidents = {down("x", "2026-10-31T23:30:00Z", "2026-11-01T00:45:00Z")};
  Report october = run(c, 2026, 10, e);
  Report november = run(c, 2026, 11, e);
  EXPECT_EQ(october.minutes.unavailable, 30);
  EXPECT_EQ(november.minutes.unavailable, 45);
  ASSERT_EQ(october.incidents.size(), 1u);
  ASSERT_EQ(november.incidents.size(), 1u);
  EXPECT_TRUE(october.incidents[0].charged);
  EXPECT_EQ(october.penalties_minor_units, 500'000);
  EXPECT_FALSE(november.incidents[0].charged);
  EXPECT_EQ(november.incidents[0].charge_note, "charged in 2026-10, the month it opened");
  EXPECT_EQ(november.penalties_minor_units, 0);
  EXPECT_EQ(november.incidents[0].duration_us, 75 * kMinuteUs);

  c.charge_in = ChargeIn::kResolvedMonth;
  EXPECT_EQ(run(c, 2026, 10, e).penalties_minor_units, 0);
  EXPECT_EQ(run(c, 2026, 11, e).penalties_minor_units, 500'000);
}

// Overlapping exclusions on 2026-10-05 (UTC), minutes counted once:
//   maintenance mw  02:00-04:00  announced 7 days before (notice 5d): excluded  120
//   manual      ex  03:00-05:00  overlaps mw 03:00-04:00                          60 more
//   incident    i   03:30-06:00  down; 03:30-05:00 excluded, 05:00-06:00 unavailable 60
//   excluded 180 (maintenance 120, manual 60); measured 44,640; counted 44,460;
//   availability 44,400 / 44,460 = 99.8650%.
TEST(Engine, OverlappingExclusionsCountOnce) {
  Contract c = base_contract();
  c.exclusions.maintenance_notice_us = 5 * kDayUs;
  Evidence e;
  e.maintenance = {MaintenanceWindow{"mw",
                                     at("2026-10-05T02:00:00Z"),
                                     at("2026-10-05T04:00:00Z"),
                                     {"web"},
                                     at("2026-09-28T02:00:00Z")}};
  e.manual_exclusions = {ManualExclusion{"ex",
                                         at("2026-10-05T03:00:00Z"),
                                         at("2026-10-05T05:00:00Z"),
                                         {},
                                         "customer's DNS move",
                                         "kim"}};
  e.incidents = {down("i", "2026-10-05T03:30:00Z", "2026-10-05T06:00:00Z")};
  Report r = run(c, 2026, 10, e);
  EXPECT_EQ(r.minutes.excluded, 180);
  ASSERT_EQ(r.excluded_by_reason.size(), 2u);
  EXPECT_EQ(r.excluded_by_reason[0], (std::pair{ExclusionReason::kMaintenance, std::int64_t{120}}));
  EXPECT_EQ(r.excluded_by_reason[1], (std::pair{ExclusionReason::kManual, std::int64_t{60}}));
  EXPECT_EQ(r.minutes.unavailable, 60);
  EXPECT_EQ(r.minutes.counted(), 44'460);
  EXPECT_EQ(r.availability.text(), "99.8650");
  ASSERT_EQ(r.excluded.size(), 3u);  // 02-03 mw; 03-04 mw and ex; 04-05 ex
  EXPECT_EQ(r.excluded[1].sources, (std::vector<std::string>{"maintenance:mw", "manual:ex"}));
  EXPECT_EQ(r.excluded[1].reason, ExclusionReason::kMaintenance);
  EXPECT_EQ(r.unavailable.at(0).range.start_us, at("2026-10-05T05:00:00Z"));
  EXPECT_EQ(r.incidents.at(0).unavailable_minutes, 60);
  EXPECT_TRUE(r.maintenance.at(0).honoured);
  EXPECT_EQ(r.maintenance.at(0).excluded_minutes, 120);
}

// A window announced 2 days before it starts, under a 5-day notice rule, is not excluded:
//   mw 02:00-04:00 on 2026-10-05, incident i 02:00-03:00 inside it.
//   excluded 0; unavailable 60; the report says why.
TEST(Engine, ALateAnnouncedWindowIsNotExcluded) {
  Contract c = base_contract();
  c.exclusions.maintenance_notice_us = 5 * kDayUs;
  Evidence e;
  e.maintenance = {MaintenanceWindow{"mw",
                                     at("2026-10-05T02:00:00Z"),
                                     at("2026-10-05T04:00:00Z"),
                                     {},
                                     at("2026-10-03T02:00:00Z")}};
  e.incidents = {down("i", "2026-10-05T02:00:00Z", "2026-10-05T03:00:00Z")};
  Report r = run(c, 2026, 10, e);
  EXPECT_EQ(r.minutes.excluded, 0);
  EXPECT_EQ(r.minutes.unavailable, 60);
  ASSERT_EQ(r.maintenance.size(), 1u);
  EXPECT_FALSE(r.maintenance[0].honoured);
  EXPECT_EQ(r.maintenance[0].note,
            "not excluded: announced 2d before it started; the contract needs 5d");
  EXPECT_FALSE(r.incidents[0].excluded);

  // Announced in time, the incident inside it is excluded with its minutes and its penalty.
  e.maintenance[0].announced_us = at("2026-09-30T00:00:00Z");
  r = run(c, 2026, 10, e);
  EXPECT_EQ(r.minutes.excluded, 120);
  EXPECT_EQ(r.minutes.unavailable, 0);
  EXPECT_EQ(r.incidents[0].excluded, ExclusionReason::kMaintenance);
}

// Grades in Asia/Seoul business hours (Mon-Fri 09:00-18:00 KST = 00:00-09:00 UTC):
//   a  Mon 2026-10-05 10:00 KST (01:00Z), 20 min  -> grade 1 (business hours, >= 10 min)
//   b  Mon 2026-10-05 19:00 KST (10:00Z), 20 min  -> grade 2 (after hours)
//   c  Sat 2026-10-10 10:00 KST (01:00Z), 20 min  -> grade 2 (weekend)
//   d  Fri 2026-10-09 10:00 KST, 20 min, a holiday (Hangul Day) -> grade 2
//   penalties 1,000,000 + 3 x 300,000 = 1,900,000
TEST(Engine, AGradeRuleThatDependsOnBusinessHours) {
  Contract c = base_contract("Asia/Seoul");
  c.business_hours.holidays = {"2026-10-09"};
  Grade g1{"1", {GradeRule{.min_duration_us = 10 * kMinuteUs, .business_hours = true}}, 1'000'000};
  Grade g2{"2", {GradeRule{}}, 300'000};
  c.grades = {g1, g2};
  Evidence e;
  e.incidents = {down("a", "2026-10-05T01:00:00Z", "2026-10-05T01:20:00Z"),
                 down("b", "2026-10-05T10:00:00Z", "2026-10-05T10:20:00Z"),
                 down("c", "2026-10-10T01:00:00Z", "2026-10-10T01:20:00Z"),
                 down("d", "2026-10-09T01:00:00Z", "2026-10-09T01:20:00Z")};
  Report r = run(c, 2026, 10, e);
  std::map<std::string, std::string> grades;
  for (const auto& line : r.incidents) grades[line.incident.id] = line.grade;
  EXPECT_EQ(grades,
            (std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}, {"c", "2"}, {"d", "2"}}));
  EXPECT_EQ(r.incidents[0].rule_text, "duration >= 10m and opened in business hours");
  EXPECT_EQ(r.penalties_minor_units, 1'900'000);
}

// Carrier faults, reclassification, partial minutes and time targets (UTC, October):
//   n  network:kt 60 min; the contract excludes network:*: 60 minutes excluded (network), no
//      penalty
//   s  service 20 min, reclassified to grade 1 by lee; automatic grade 2 shown beside it;
//      acknowledged after 20 min against 15 min: missed, +100,000; resolved in 20 min
//      against 1h: met
//   b  a 20 s blip at 05:00:10: counts one minute when partial minutes count, none otherwise
//   penalties: s 1,000,000 + 100,000 missed response
TEST(Engine, NetworkExclusionReclassificationAndTargets) {
  Contract c = base_contract();
  c.exclusions.network = true;
  Grade g1{
      "1",    {GradeRule{.min_duration_us = kHourUs}}, 1'000'000, 15 * kMinuteUs, 100'000, kHourUs,
      200'000};
  Grade g2{"2", {GradeRule{.min_duration_us = kMinuteUs}}, 300'000};
  c.grades = {g1, g2};
  Evidence e;
  Incident n = down("n", "2026-10-07T01:00:00Z", "2026-10-07T02:00:00Z");
  n.attribution = "network:kt";
  Incident s = down("s", "2026-10-08T01:00:00Z", "2026-10-08T01:20:00Z");
  s.acknowledged_us = at("2026-10-08T01:20:00Z");
  Incident b = down("b", "2026-10-09T05:00:10Z", "2026-10-09T05:00:30Z");
  e.incidents = {n, s, b};
  e.reclassifications = {Reclassification{"s", ReclassifiedField::kGrade, "1", "lee",
                                          "payment was down", at("2026-10-08T09:00:00Z")},
                         Reclassification{"zz", ReclassifiedField::kGrade, "1", "lee", "typo",
                                          at("2026-10-08T09:00:00Z")}};
  Report r = run(c, 2026, 10, e);
  ASSERT_EQ(r.incidents.size(), 3u);
  EXPECT_EQ(r.incidents[0].excluded, ExclusionReason::kNetwork);
  EXPECT_EQ(r.incidents[0].penalty_minor_units, 0);
  EXPECT_EQ(r.incidents[0].grade_auto, "1");
  EXPECT_EQ(r.incidents[1].grade_auto, "2");
  EXPECT_EQ(r.incidents[1].grade_reclassified, "1");
  EXPECT_EQ(r.incidents[1].grade, "1");
  EXPECT_EQ(r.incidents[1].response.result, TargetResult::kMissed);
  EXPECT_EQ(r.incidents[1].recovery.result, TargetResult::kMet);
  EXPECT_EQ(r.incidents[1].total_minor_units, 1'100'000);
  EXPECT_EQ(r.incidents[2].grade, "");
  EXPECT_EQ(r.minutes.excluded, 60);
  EXPECT_EQ(r.minutes.unavailable, 21);
  EXPECT_EQ(r.penalties_minor_units, 1'000'000);
  EXPECT_EQ(r.missed_targets_minor_units, 100'000);
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_EQ(r.notes[0], "reclassification of incident zz by lee ignored: no such incident");

  c.measurement.partial_minutes_count = false;
  EXPECT_EQ(run(c, 2026, 10, e).minutes.unavailable, 20);
}

// A service that began on 2026-10-11T00:00Z, measured only while it existed:
//   21 days x 1,440 = 30,240 measured minutes; 10,800 + 3,600 = 14,400 not measured;
//   a 60-minute outage: 30,180 / 30,240 = 99.8015%.
// As of 2026-10-21T00:00Z with an open incident since 2026-10-20T23:00Z:
//   10 days measured (14,400), 60 unavailable: 14,340 / 14,400 = 99.5833%.
TEST(Engine, DenominatorOfExistingMinutesAndAnAsOfTime) {
  Contract c = base_contract();
  c.measurement.only_existing_minutes = true;
  Evidence e;
  e.service_started_us = {{"web", at("2026-10-11T00:00:00Z")}};
  e.incidents = {down("i", "2026-10-12T00:00:00Z", "2026-10-12T01:00:00Z")};
  Report r = run(c, 2026, 10, e);
  EXPECT_EQ(r.minutes.measured, 30'240);
  EXPECT_EQ(r.minutes.not_measured, 14'400);
  EXPECT_EQ(r.availability.text(), "99.8015");

  Incident open = down("o", "2026-10-20T23:00:00Z", "2026-10-20T23:00:00Z");
  open.resolved_us.reset();
  e.incidents = {open};
  e.as_of_us = at("2026-10-21T00:00:00Z");
  r = run(c, 2026, 10, e);
  EXPECT_EQ(r.minutes.measured, 14'400);
  EXPECT_EQ(r.minutes.unavailable, 60);
  EXPECT_EQ(r.availability.text(), "99.5833");
  EXPECT_TRUE(r.incidents.at(0).open);
  EXPECT_EQ(r.as_of_us, e.as_of_us);
}

}  // namespace
}  // namespace leeway::sla

namespace leeway::sla {
namespace {

// What makes a minute unavailable, and grade conditions over checks, tags and shares (UTC,
// October, 44,640 minutes):
//   d  degraded 30 min, 3 of 3 locations      unavailable only when degraded counts
//   p  down 40 min, 1 of 4 locations (25%)     unavailable only without a 50% location rule
//   k  down 10 min, hit web/pay, tag "db"      grade "crit" (check web/pay)
//   t  down 10 min, tag "db", 2 of 4 checks    grade "data" (tag db and checks >= 50%)
//   o  down 10 min, 1 of 4 checks              no grade
//   penalties: crit 100 + data 10 = 110
//   down only, min 50% locations: 10 + 10 + 10 = 30 unavailable
//   down or degraded, no location rule: 30 + 40 + 30 = 100 unavailable
TEST(Engine, MeasurementRulesAndGradeConditions) {
  Contract c = base_contract();
  c.measurement.min_location_share = pct("50");
  c.grades = {Grade{"crit", {GradeRule{.checks = {"web/pay"}}}, 100},
              Grade{"data", {GradeRule{.min_check_share = pct("50"), .tags = {"db"}}}, 10}};
  Incident d = down("d", "2026-10-02T00:00:00Z", "2026-10-02T00:30:00Z");
  d.worst = Outcome::kDegraded;
  Incident p = down("p", "2026-10-03T00:00:00Z", "2026-10-03T00:40:00Z");
  p.locations = {1, 4};
  Incident k = down("k", "2026-10-04T00:00:00Z", "2026-10-04T00:10:00Z");
  k.checks_hit = {"web/home", "web/pay"};
  k.tags = {"db"};
  Incident t = down("t", "2026-10-05T00:00:00Z", "2026-10-05T00:10:00Z");
  t.tags = {"db"};
  t.checks = {2, 4};
  Incident o = down("o", "2026-10-06T00:00:00Z", "2026-10-06T00:10:00Z");
  o.checks = {1, 4};
  Evidence e;
  e.incidents = {d, p, k, t, o};
  Report r = run(c, 2026, 10, e);
  EXPECT_EQ(r.minutes.unavailable, 30);
  std::map<std::string, std::string> grades;
  for (const auto& line : r.incidents) grades[line.incident.id] = line.grade;
  EXPECT_EQ(grades["k"], "crit");
  EXPECT_EQ(grades["t"], "data");
  EXPECT_EQ(grades["o"], "");
  EXPECT_EQ(r.penalties_minor_units, 100 + 10);  // k and t

  c.measurement.min_location_share.reset();
  c.measurement.degraded_counts = true;
  EXPECT_EQ(run(c, 2026, 10, e).minutes.unavailable, 100);
}

}  // namespace
}  // namespace leeway::sla
