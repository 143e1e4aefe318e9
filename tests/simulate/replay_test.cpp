// The shipped scenarios (examples/scenarios/) replayed through the daemon's detector: each gives
// the verdict it was written to show, at the results' times, whatever order the results arrive in.
#include "simulate/replay.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace leeway::simulate {
namespace {

Scenario example(const std::string& name) {
  LoadResult r = load_scenario(std::string(LEEWAY_SOURCE_DIR) + "/examples/scenarios/" + name);
  if (!r.ok()) throw std::runtime_error(r.errors[0].to_string());
  return std::move(*r.scenario);
}

TimeUs at(const char* text) {
  return *parse_rfc3339(text);
}

TEST(Replay, AnIspOutageIsThatIspsNetwork) {
  const Scenario s = example("isp-outage.yaml");
  const Replay r = replay(s);
  // 1 h at 2 s: the shop from 4 vantages, the reference from those 4 and the server's own.
  EXPECT_EQ(r.results, 1800u * 4 + 1800u * 5);
  ASSERT_EQ(r.incidents.size(), 1u);
  const incident::Incident& i = r.incidents[0];
  EXPECT_EQ(i.service, "shop");
  EXPECT_EQ(i.opened_us, at("2026-10-05T11:16:40Z"));
  ASSERT_TRUE(i.resolved_us.has_value());
  // kt fails until 11:48:00: back at its first success, 11:48:00 (confirmed by the second, 2 s on).
  EXPECT_EQ(*i.resolved_us, at("2026-10-05T11:48:00Z"));
  EXPECT_EQ(i.verdict.name, "network:kt");
  EXPECT_EQ(i.verdict.failing, (std::vector<std::string>{"kt-1", "kt-2"}));
  EXPECT_FALSE(i.changes.likely_cause.has_value());
  EXPECT_NE(i.summary.find("nothing was deployed in the 60 minutes before"), std::string::npos)
      << i.summary;
}

TEST(Replay, AServiceWideOutageNamesTheDeployBeforeIt) {
  const Replay r = replay(example("deploy-outage.yaml"));
  ASSERT_EQ(r.incidents.size(), 1u);
  const incident::Incident& i = r.incidents[0];
  EXPECT_EQ(i.opened_us, at("2026-10-05T14:04:00Z"));
  EXPECT_EQ(i.verdict.name, "service");
  EXPECT_EQ(i.checks, (std::set<std::string>{"shop/checkout", "shop/home"}));
  ASSERT_TRUE(i.changes.likely_cause.has_value());
  EXPECT_EQ(i.changes.likely_cause->description, "v2.3: new checkout");
  EXPECT_EQ(i.changes.likely_cause->at_us, at("2026-10-05T14:00:00Z"));
}

TEST(Replay, MaintenanceWindowsAreShownOnTheIncidentsTheyOverlap) {
  for (const char* name : {"maintenance-announced.yaml", "maintenance-late.yaml"}) {
    SCOPED_TRACE(name);
    const Scenario s = example(name);
    const Replay r = replay(s);
    ASSERT_EQ(r.incidents.size(), 1u);
    const incident::Incident& i = r.incidents[0];
    EXPECT_EQ(i.opened_us, at("2026-10-11T02:10:00Z"));
    EXPECT_EQ(i.verdict.name, "service");
    EXPECT_EQ(i.changes.before.size(), 0u);
    const std::vector<config::Maintenance> windows = maintenance_during(s, i);
    ASSERT_EQ(windows.size(), 1u);
    EXPECT_EQ(windows[0].start_us, at("2026-10-11T02:00:00Z"));
  }
  EXPECT_EQ(example("maintenance-announced.yaml").maintenance[0].announced_us,
            at("2026-10-04T02:00:00Z"));
  EXPECT_EQ(example("maintenance-late.yaml").maintenance[0].announced_us,
            at("2026-10-11T00:00:00Z"));
}

// A late result makes the detector replay the service from its start, so the shuffled examples
// come in two large batches (each lands all over the hour), and a small scenario one at a time.
TEST(Replay, ArrivalOrderDoesNotMatter) {
  for (const char* name : {"isp-outage.yaml", "deploy-outage.yaml"}) {
    SCOPED_TRACE(name);
    const Scenario s = example(name);
    std::vector<store::Committed> results = results_of(s);
    const std::vector<incident::Incident> in_order = detect(s, results);
    ASSERT_FALSE(in_order.empty());
    std::shuffle(results.begin(), results.end(), std::mt19937(11));
    EXPECT_EQ(detect(s, results, results.size() / 2 + 1), in_order);
  }
}

TEST(Replay, OneLateResultAtATime) {
  LoadResult loaded = load_scenario_text(R"(from: 2026-10-05T11:00:00Z
to: +4m
failures:
  - {service: web, locations: [a], from: +1m, to: +2m30s, stage: connect, cause: timeout}
reference_failures:
  - {locations: [a], from: +1m, to: +2m30s, stage: connect, cause: timeout}
changes:
  - {service: web, at: +30s, description: v2}
defaults: {interval: 10s, timeout: 5s, locations: [a, b, c]}
locations: [{id: a, isp: kt}, {id: b, isp: skb}, {id: c, isp: lgu}]
references: [{name: dns, target: "dns://1.1.1.1/example.com", locations: [a, b, c]}]
services:
  - id: web
    checks: [{name: home, target: "http://web.example/"}]
)",
                                         "s.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.errors[0].to_string();
  const Scenario& s = *loaded.scenario;
  std::vector<store::Committed> results = results_of(s);
  const std::vector<incident::Incident> in_order = detect(s, results);
  ASSERT_EQ(in_order.size(), 1u);
  EXPECT_EQ(in_order[0].verdict.name, "network:kt");
  EXPECT_EQ(in_order[0].changes.before.size(), 1u);
  std::shuffle(results.begin(), results.end(), std::mt19937(5));
  EXPECT_EQ(detect(s, results, 1), in_order);
}

TEST(Replay, ASilentLocationSendsNothingAndALaterFaultWins) {
  LoadResult loaded = load_scenario_text(R"(from: 2026-10-05T11:00:00Z
to: +1m
silences:
  - locations: [b]
    from: +20s
    to: +40s
failures:
  - service: web
    from: +0s
    to: +1m
    stage: connect
  - service: web
    locations: [a]
    from: +30s
    to: +1m
    outcome: degraded
defaults: {interval: 10s, timeout: 5s, locations: [a, b]}
locations: [{id: a}, {id: b}]
services:
  - id: web
    checks: [{name: home, target: "http://web.example/"}]
)",
                                         "s.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.errors[0].to_string();
  std::vector<std::string> seen;
  for (const auto& c : results_of(*loaded.scenario)) {
    seen.push_back(format_rfc3339(c.result.started_us).substr(17, 2) + " " + c.result.location +
                   " " + std::string(probe::to_string(c.result.outcome)));
  }
  const std::vector<std::string> expected = {
      "00 a down",     "00 b down",     "10 a down", "10 b down",     "20 a down",
      "30 a degraded", "40 a degraded", "40 b down", "50 a degraded", "50 b down"};
  EXPECT_EQ(seen, expected);
}

}  // namespace
}  // namespace leeway::simulate
