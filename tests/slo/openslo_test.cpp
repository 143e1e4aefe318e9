// OpenSLO import and export: OpenSLO's own published examples (tests/slo/openslo/README.md) read
// as leeway SLOs, their traps caught at their lines, and import(export(x)) == x for a config's
// SLOs, through the printed config too.
#include "slo/openslo.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/config.h"

namespace leeway::slo {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::filesystem::path kFixtures =
    std::filesystem::path(LEEWAY_SOURCE_DIR) / "tests" / "slo" / "openslo";

// Imports a fixture by its name, which messages carry.
OpenSloImport import_fixture(const std::string& name, const std::string& check = "") {
  std::ifstream in(kFixtures / name);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_FALSE(text.str().empty()) << name;
  return import_openslo(text.str(), name, check);
}

Ratio percent(const char* text) {
  return parse_percent(text, true).value();
}

TEST(OpenSloImport, OccurrencesOfAThresholdMetricBoundToACheckIsALatencySlo) {
  auto r = import_fixture("occurrences-slo.yaml", "home");
  ASSERT_TRUE(r.ok()) << r.errors.front();
  ASSERT_EQ(r.slos.size(), 1u);
  const SloSpec& s = r.slos[0];
  EXPECT_EQ(s.id, "search-slo");
  EXPECT_EQ(s.service, "web-shop");
  EXPECT_EQ(s.sli, Sli::kLatency);
  EXPECT_EQ(s.threshold_us, 500 * kMillisecondUs);
  EXPECT_EQ(s.objective, percent("99"));
  EXPECT_EQ(s.window, (Window{14 * kDayUs, ""}));
  EXPECT_EQ(s.method, Method::kOccurrences);
  EXPECT_THAT(s.checks, ElementsAre("web-shop/home"));
  EXPECT_EQ(s.alerts, default_burn_conditions());  // no alert policies: leeway's defaults
  EXPECT_THAT(r.warnings,
              ElementsAre("occurrences-slo.yaml:27: warning: value: 500 read as milliseconds, "
                          "the unit of leeway's run durations"));
}

TEST(OpenSloImport, AForeignMetricSourceWithoutACheckIsAnErrorAtItsLine) {
  auto r = import_fixture("occurrences-slo.yaml");
  EXPECT_TRUE(r.slos.empty());
  EXPECT_THAT(r.errors,
              ElementsAre("occurrences-slo.yaml:16: metricSource: type Any is not leeway's: bind "
                          "the SLI to a leeway check with --check ID, or write metricSource: "
                          "{type: leeway, spec: {check: ID}}"));
  auto multi = import_fixture("oslo-multi.yaml");
  EXPECT_THAT(multi.errors, ElementsAre(HasSubstr("oslo-multi.yaml:29: metricSource: type "
                                                  "CloudWatch is not leeway's")));
}

TEST(OpenSloImport, RatioTimeslicesOfARatioMetric) {
  auto r = import_fixture("ratio-timeslices.yaml", "web-shop/home");
  ASSERT_TRUE(r.ok()) << r.errors.front();
  ASSERT_EQ(r.slos.size(), 1u);
  EXPECT_EQ(r.slos[0].id, "main-page");
  EXPECT_EQ(r.slos[0].sli, Sli::kAvailabilityRuns);
  EXPECT_EQ(r.slos[0].method, Method::kRatioTimeslices);
  EXPECT_EQ(r.slos[0].objective, percent("99"));
  EXPECT_EQ(r.slos[0].window, (Window{14 * kDayUs, ""}));
  EXPECT_THAT(r.warnings, IsEmpty());
}

TEST(OpenSloImport, TimeslicesOverACalendarMonthWrittenAs1mIsAcceptedWithAWarning) {
  auto r = import_fixture("timeslices-slo.yaml", "home");
  ASSERT_TRUE(r.ok()) << r.errors.front();
  ASSERT_EQ(r.slos.size(), 2u);  // one per objective
  EXPECT_EQ(r.slos[0].id, "service-availability-internal-objective");
  EXPECT_EQ(r.slos[0].objective, percent("99.5"));
  EXPECT_EQ(r.slos[1].id, "service-availability-sla");
  EXPECT_EQ(r.slos[1].objective, percent("99"));
  for (const auto& s : r.slos) {
    EXPECT_EQ(s.window, (Window{0, "America/New_York"}));
    EXPECT_EQ(s.method, Method::kTimeslices);
    EXPECT_EQ(s.slice_target, percent("99"));
    EXPECT_THAT(s.checks, ElementsAre("web-availability/home"));
  }
  EXPECT_THAT(r.warnings,
              ElementsAre("timeslices-slo.yaml:27: warning: duration: 1m is one minute; a month "
                          "is 1M. Read as written for a rolling window, as 1M for a calendar one",
                          "timeslices-slo.yaml:30: warning: startTime: 2022-01-01 12:00:00: "
                          "leeway's months start at local midnight on the 1st; the time of day "
                          "is not kept"));
}

TEST(OpenSloImport, ARollingMinuteIsWarnedAboutAndTooShort) {
  auto r = import_openslo(R"(apiVersion: openslo/v1
kind: SLO
metadata: {name: up}
spec:
  service: shop
  indicator:
    spec:
      ratioMetric:
        good: {metricSource: {type: leeway, spec: {check: home}}}
        total: {metricSource: {type: leeway, spec: {check: home}}}
  timeWindow:
    - duration: 1m
      isRolling: true
  budgetingMethod: Occurrences
  objectives: [{target: 0.99}]
)",
                          "up.yaml");
  EXPECT_THAT(r.warnings,
              ElementsAre(HasSubstr("up.yaml:12: warning: duration: 1m is one minute")));
  EXPECT_THAT(r.errors, ElementsAre("up.yaml:12: duration: a rolling window in leeway is whole "
                                    "minutes from 1h to 400d, like 28d; got 1m"));
}

TEST(OpenSloImport, CalendarWindowsOtherThanAMonthAreErrors) {
  auto r = import_fixture("low-traffic-timeslices-slo.yaml", "home");
  EXPECT_THAT(r.errors, ElementsAre("low-traffic-timeslices-slo.yaml:25: duration: leeway's "
                                    "calendar windows are months (1M), got 1w"));
  auto rolling_month = import_fixture("oslo-slo-no-indicatorref-rolling-alerts.yaml", "home");
  EXPECT_THAT(rolling_month.errors,
              ElementsAre("oslo-slo-no-indicatorref-rolling-alerts.yaml:29: duration: a rolling "
                          "window in leeway is whole minutes from 1h to 400d, like 28d; got 1M",
                          "oslo-slo-no-indicatorref-rolling-alerts.yaml:36: alertPolicies: no "
                          "AlertPolicy named \"FooAlertPolicy\" in the file"));
}

TEST(OpenSloImport, ABurnRateConditionWithoutOpIsAnErrorAtItsLine) {
  auto policy = import_fixture("oslo-alert-policy-inline-cond.yaml");
  EXPECT_THAT(policy.errors,
              ElementsAre("oslo-alert-policy-inline-cond.yaml:18: condition: a burn-rate "
                          "condition needs op: gt (the alert fires while the burn rate is over "
                          "the threshold)"));
  auto inline_in_slo = import_fixture("missing-op.yaml");
  EXPECT_THAT(inline_in_slo.errors, ElementsAre(HasSubstr("missing-op.yaml:41: condition: a "
                                                          "burn-rate condition needs op: gt")));
  // Every error of a condition at once: its severity, its op, a window leeway cannot pair.
  auto condition = import_fixture("oslo-alert-condition.yaml");
  EXPECT_THAT(condition.errors,
              ElementsAre("oslo-alert-condition.yaml:8: severity: leeway raises page or ticket "
                          "alerts, got \"sev1\"",
                          HasSubstr("oslo-alert-condition.yaml:9: condition: a burn-rate "
                                    "condition needs op"),
                          HasSubstr("oslo-alert-condition.yaml:12: lookbackWindow: leeway pairs "
                                    "each long window with a short one")));
}

TEST(OpenSloImport, AlertAfterIsNotKeptAndSaysSo) {
  auto r = import_openslo(R"(apiVersion: openslo/v1
kind: SLO
metadata: {name: up}
spec:
  service: shop
  indicatorRef: runs
  timeWindow: [{duration: 30d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.999}]
  alertPolicies: [fast]
---
apiVersion: openslo/v1
kind: SLI
metadata: {name: runs}
spec:
  ratioMetric:
    good: {metricSource: {type: leeway, spec: {check: home}}}
    total: {metricSource: {type: leeway, spec: {check: home}}}
---
apiVersion: openslo/v1
kind: AlertPolicy
metadata: {name: fast}
spec:
  alertWhenNoData: false
  conditions:
    - kind: AlertCondition
      metadata: {name: fast}
      spec:
        severity: page
        condition: {kind: burnrate, op: gt, threshold: 6, lookbackWindow: 6h, alertAfter: 5m}
)",
                          "after.yaml");
  ASSERT_TRUE(r.ok()) << r.errors.front();
  EXPECT_THAT(r.slos.at(0).alerts,
              ElementsAre(BurnCondition{Severity::kPage, 6, 6 * kHourUs, 30 * kMinuteUs}));
  EXPECT_THAT(r.warnings,
              ElementsAre("after.yaml:30: warning: alertAfter 5m is not kept: leeway fires as "
                          "soon as the burn rate is over 6 in both 6h and 30m"));
}

TEST(OpenSloImport, AForeignThresholdThatIsNotALatencyBoundIsAnError) {
  auto r = import_fixture("oslo-multi.yaml", "home");
  EXPECT_THAT(r.errors, ElementsAre(HasSubstr("oslo-multi.yaml:17: op: a latency objective "
                                              "counts runs at most `value` ms long as good")));
}

TEST(OpenSloImport, ReferencedSliAndAlertPoliciesOfLeewayChecks) {
  auto r = import_fixture("leeway-refs.yaml");
  ASSERT_TRUE(r.ok()) << r.errors.front();
  EXPECT_THAT(r.warnings, IsEmpty());
  ASSERT_EQ(r.slos.size(), 1u);
  const SloSpec& s = r.slos[0];
  EXPECT_EQ(s.id, "shop-up");
  EXPECT_EQ(s.service, "shop");
  EXPECT_EQ(s.sli, Sli::kAvailabilityMinutes);
  EXPECT_EQ(s.method, Method::kTimeslices);
  EXPECT_EQ(s.objective, percent("99.9"));
  EXPECT_EQ(s.window, (Window{28 * kDayUs, ""}));
  EXPECT_THAT(s.checks, ElementsAre("shop/home", "shop/api"));
  EXPECT_THAT(s.alerts,
              ElementsAre(BurnCondition{Severity::kPage, 14.4, kHourUs, 5 * kMinuteUs},
                          BurnCondition{Severity::kTicket, 2, 18 * kHourUs, 90 * kMinuteUs}));
}

TEST(OpenSloImport, CheckNamesAServiceOrTheSlosOwn) {
  auto r = import_fixture("ratio-timeslices.yaml", "shop/home");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.slos[0].service, "shop");
  EXPECT_THAT(r.slos[0].checks, ElementsAre("shop/home"));
  auto bad = import_fixture("ratio-timeslices.yaml", "a/b/c");
  EXPECT_THAT(bad.errors, ElementsAre(HasSubstr("--check: expected NAME or SERVICE/NAME")));
}

TEST(OpenSloImport, WhatIsNotOpenSloV1IsRefused) {
  EXPECT_THAT(import_openslo("apiVersion: openslo/v1alpha\nkind: SLO\n", "a.yaml").errors,
              ElementsAre("a.yaml:1: apiVersion: expected openslo/v1, got \"openslo/v1alpha\""));
  EXPECT_THAT(import_openslo("apiVersion: openslo/v1\nkind: Pod\n", "a.yaml").errors,
              ElementsAre(HasSubstr("a.yaml:2: kind: expected SLO, SLI")));
  EXPECT_THAT(import_openslo("a: [\n", "a.yaml").errors, ElementsAre(HasSubstr("invalid YAML")));
  EXPECT_THAT(import_openslo("", "a.yaml").errors,
              ElementsAre("a.yaml: no SLO documents (kind: SLO) in the file"));
}

// A config with an SLO of every kind: each SLI, method and window, default and own alerts.
constexpr const char* kConfig = R"(services:
  - id: shop
    checks:
      - {name: home, target: "https://shop.example/"}
      - {name: search, target: "https://shop.example/search"}
    slos:
      - {id: up, sli: availability_minutes, objective: 99.9}
      - id: runs
        sli: availability_runs
        objective: 99.95
        window: month
        time_zone: Asia/Seoul
        checks: [home, search]
      - id: fast
        sli: latency
        threshold: 250ms
        objective: 99
        method: timeslices
        slice_target: 95
        window: 7d
        checks: [search]
        alerts:
          - {severity: page, burn_rate: 14.4, long: 1h, short: 5m}
          - {severity: ticket, burn_rate: 1.5, long: 2d, short: 3h}
      - id: ratio
        sli: availability_runs
        objective: 99.5
        method: ratio_timeslices
        window: 90m
  - id: api
    checks: [{name: health, target: "https://api.example/"}]
    slos:
      - {id: api-all, sli: availability_runs, objective: 99, method: timeslices, slice_target: 100}
)";

TEST(OpenSloRoundTrip, ImportOfExportIsTheConfigsSlos) {
  auto loaded = config::load_config_text(kConfig);
  ASSERT_TRUE(loaded.ok()) << loaded.errors.front().to_string();
  std::vector<SloSpec> slos = loaded.config->slos();
  ASSERT_EQ(slos.size(), 5u);
  std::string exported = export_openslo(slos);
  auto r = import_openslo(exported, "exported.yaml");
  ASSERT_TRUE(r.ok()) << r.errors.front() << "\n" << exported;
  EXPECT_THAT(r.warnings, IsEmpty());
  EXPECT_EQ(r.slos, slos) << exported;
}

TEST(OpenSloRoundTrip, ThePrintedConfigLoadsAsTheSameSlos) {
  auto loaded = config::load_config_text(kConfig);
  ASSERT_TRUE(loaded.ok());
  std::vector<SloSpec> slos = loaded.config->slos();
  auto r = import_openslo(export_openslo(slos), "exported.yaml");
  ASSERT_TRUE(r.ok());
  std::string printed = slos_config_yaml(r.slos, "exported.yaml");
  // Merged into a config that defines the services' checks, as the header comment asks.
  YAML::Node merged = YAML::Load(printed);
  YAML::Node original = YAML::Load(kConfig);
  for (std::size_t i = 0; i < merged["services"].size(); ++i)
    merged["services"][i]["checks"] = original["services"][i]["checks"];
  YAML::Emitter out;
  out << merged;
  auto reloaded = config::load_config_text(out.c_str());
  ASSERT_TRUE(reloaded.ok()) << reloaded.errors.front().to_string() << "\n" << printed;
  EXPECT_EQ(reloaded.config->slos(), slos) << printed;
}

}  // namespace
}  // namespace leeway::slo
