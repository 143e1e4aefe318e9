// `leeway simulate` as a user runs it: the shipped scenarios give their verdicts, in text and in
// JSON, and a bad scenario exits 2 with its file:line:column.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/process.h"

namespace leeway::testing {
namespace {

using ::testing::HasSubstr;

ProcessResult leeway(std::vector<std::string> args) {
  args.insert(args.begin(), LEEWAY_BINARY);
  return run_process(args);
}

std::string scenario(const std::string& name) {
  return std::string(LEEWAY_SOURCE_DIR) + "/examples/scenarios/" + name;
}

TEST(SimulateCommand, EveryShippedScenarioGivesItsVerdict) {
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"isp-outage.yaml", "verdict: network:kt"},
      {"deploy-outage.yaml", "verdict: service"},
      {"maintenance-announced.yaml", "verdict: service"},
      {"maintenance-late.yaml", "verdict: service"},
  };
  std::size_t checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(scenario(""))) {
    const std::string name = entry.path().filename().string();
    auto it = std::find_if(expected.begin(), expected.end(),
                           [&](const auto& e) { return e.first == name; });
    ASSERT_NE(it, expected.end()) << name << ": a shipped scenario this test does not know";
    ProcessResult r = leeway({"simulate", entry.path().string()});
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_THAT(r.out, HasSubstr(", 1 incident\n")) << name;
    EXPECT_THAT(r.out, HasSubstr(it->second)) << name << ":\n" << r.out;
    ++checked;
  }
  EXPECT_EQ(checked, expected.size());
}

TEST(SimulateCommand, TextShowsTheDeployAndTheMaintenanceWindow) {
  ProcessResult deploy = leeway({"simulate", scenario("deploy-outage.yaml")});
  EXPECT_THAT(deploy.out, HasSubstr("likely cause: deploy \"v2.3: new checkout\""));
  EXPECT_THAT(deploy.out, HasSubstr("checks: shop/checkout, shop/home"));
  ProcessResult late = leeway({"simulate", scenario("maintenance-late.yaml")});
  EXPECT_THAT(late.out,
              HasSubstr("maintenance: 2026-10-11T02:00:00.000000Z to 2026-10-11T03:00:00.000000Z, "
                        "announced 2026-10-11T00:00:00.000000Z (2h0m before it started): database "
                        "upgrade (short notice)\n"));
}

// What each shipped scenario costs under its config's contract shop-ops (October in Seoul,
// 44,640 minutes; grade 1 from 30 minutes down: 3,000,000; grade 2 from 1 minute: 300,000; 10%
// credit below 99.9%; carriers' faults and maintenance announced 3 days ahead excluded), by hand.
// An incident opens at its first failure and resolves at the first of the two successes in a row
// that confirm the recovery, so failures over [from, to) at every interval make an incident of
// exactly to - from. A partial minute counts.
// Availability is rounded down to 4 decimals: 1 - minutes / 44,640.
TEST(SimulateCommand, WhatEachScenarioCostsUnderAContract) {
  struct Cost {
    std::string name;
    int unavailable;
    int excluded;
    std::string availability;
    std::int64_t total;
    nlohmann::json excluded_as;
  };
  const std::vector<Cost> expected = {
      // kt's DNS, 11:16:40 to 11:48:00: minutes 11:16 to 11:47, 32, excluded as a carrier's
      // fault (the partial 11:16 counts; nothing of 11:48).
      {"isp-outage.yaml", 0, 32, "100.0000", 0, "network"},
      // 14:04:00 to 14:21:00, 17m0s: grade 2; 17 minutes, 44,623 of 44,640 is 99.96191...%.
      {"deploy-outage.yaml", 17, 0, "99.9619", 300'000, nullptr},
      // 02:10:00 to 02:40:10 inside the window 02:00 to 03:00 announced 7 days before: the
      // window's 60 minutes leave the month and the incident costs nothing.
      {"maintenance-announced.yaml", 0, 60, "100.0000", 0, "maintenance"},
      // The same, announced 2 hours before: 02:10:00 to 02:40:00, 30m0s, grade 1 (30 minutes or
      // more: the boundary counts); 30 minutes, 44,610 of 44,640 is 99.93279...%, no credit.
      {"maintenance-late.yaml", 30, 0, "99.9327", 3'000'000, nullptr},
  };
  for (const Cost& c : expected) {
    ProcessResult r =
        leeway({"simulate", scenario(c.name), "--contract", "shop-ops", "--format", "json"});
    ASSERT_EQ(r.exit_code, 0) << c.name << ": " << r.err;
    const nlohmann::json j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j["reports"].size(), 1u) << c.name;
    const nlohmann::json& report = j["reports"][0];
    EXPECT_EQ(report["month"], "2026-10") << c.name;
    EXPECT_EQ(report["minutes"]["month"], 44640) << c.name;
    EXPECT_EQ(report["minutes"]["unavailable"], c.unavailable) << c.name;
    EXPECT_EQ(report["minutes"]["excluded"], c.excluded) << c.name;
    EXPECT_EQ(report["availability"]["percent"], c.availability) << c.name;
    EXPECT_EQ(report["total"]["minor_units"], c.total) << c.name;
    ASSERT_EQ(report["incidents"].size(), 1u) << c.name;
    EXPECT_EQ(report["incidents"][0]["excluded"], c.excluded_as) << c.name;
  }
}

std::string draft() {
  return std::string(LEEWAY_SOURCE_DIR) + "/examples/drafts/shop-ops.yaml";
}

// The same outages under the draft in examples/drafts/shop-ops.yaml (grade 1 from 15 minutes
// down: 5,000,000; 10% credit below 99.95%; cap 30%, 4,500,000; a day's notice), by hand; its
// only contract, so --contract is not needed.
TEST(SimulateCommand, ADraftContractFromItsOwnFile) {
  struct Cost {
    std::string name;
    std::int64_t before_cap;
    std::int64_t total;
  };
  const std::vector<Cost> expected = {
      // 17m10s: grade 1; 18 minutes, 99.9596%, no credit; 5,000,000 capped.
      {"deploy-outage.yaml", 5'000'000, 4'500'000},
      // Announced a week ahead, a day's notice is enough: excluded.
      {"maintenance-announced.yaml", 0, 0},
      // Announced 2 hours ahead: 30m10s, grade 1; 31 minutes, 99.9305%: 10% credit, 1,500,000.
      {"maintenance-late.yaml", 6'500'000, 4'500'000},
  };
  for (const Cost& c : expected) {
    ProcessResult r =
        leeway({"simulate", scenario(c.name), "--contracts", draft(), "--format", "json"});
    ASSERT_EQ(r.exit_code, 0) << c.name << ": " << r.err;
    const nlohmann::json j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j["reports"].size(), 1u) << c.name;
    EXPECT_EQ(j["reports"][0]["contract"], "shop-ops-draft") << c.name;
    EXPECT_EQ(j["reports"][0]["total_before_cap"]["minor_units"], c.before_cap) << c.name;
    EXPECT_EQ(j["reports"][0]["total"]["minor_units"], c.total) << c.name;
  }
  ProcessResult md = leeway({"simulate", scenario("deploy-outage.yaml"), "--contracts", draft(),
                             "--contract", "shop-ops-draft", "--format", "md"});
  EXPECT_EQ(md.exit_code, 0) << md.err;
  EXPECT_THAT(md.out, HasSubstr("# SLA report 2026-10: shop-ops-draft"));
  // The config's own contract is not among the draft's.
  ProcessResult own = leeway({"simulate", scenario("deploy-outage.yaml"), "--contracts", draft(),
                              "--contract", "shop-ops"});
  EXPECT_EQ(own.exit_code, 2);
  EXPECT_EQ(own.err, "leeway simulate: " + draft() +
                         ": the file has no contract \"shop-ops\" (it has shop-ops-draft)\n");
}

// A contracts file that is wrong says where, as a config does; nothing is simulated.
TEST(SimulateCommand, ABadContractsFileExits2WithFileAndLine) {
  const std::string path = ::testing::TempDir() + "/drafts.yaml";
  const auto simulate = [&](const std::string& text, std::vector<std::string> more = {}) {
    std::ofstream(path) << text;
    std::vector<std::string> args{"simulate", scenario("deploy-outage.yaml"), "--contracts", path};
    args.insert(args.end(), more.begin(), more.end());
    return leeway(args);
  };
  const std::string contract =
      "  - id: a\n    customer: A\n    services: [shop]\n    fee: \"100\"\n    currency: KRW\n"
      "    target: 99.9\n";
  ProcessResult unknown = simulate(
      "contracts:\n" + std::string(contract).replace(contract.find("[shop]"), 6, "[shoop]"));
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(unknown.out, "");
  EXPECT_EQ(unknown.err, path +
                             ":4:16: services: unknown service \"shoop\"; did you mean "
                             "`shop`?\n");
  ProcessResult section = simulate("defaults:\n  interval: 10s\ncontracts:\n" + contract);
  EXPECT_EQ(section.exit_code, 2);
  EXPECT_EQ(section.err, path +
                             ":1:1: defaults: a contracts file holds contracts: (and include:) "
                             "only; this section belongs in the config\n");
  ProcessResult none = simulate("contracts: []\n");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_EQ(none.err, path + ": contracts: none in this file\n");
  std::string two = contract + contract;
  two.replace(two.rfind("id: a"), 5, "id: b");
  ProcessResult unnamed = simulate("contracts:\n" + two);
  EXPECT_EQ(unnamed.exit_code, 2);
  EXPECT_EQ(unnamed.err,
            "leeway simulate: " + path + ": name one of its contracts with --contract: a, b\n");
  EXPECT_EQ(simulate("contracts:\n" + two, {"--contract", "b"}).exit_code, 0);
  ProcessResult missing =
      leeway({"simulate", scenario("deploy-outage.yaml"), "--contracts", path + ".nope"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err, path + ".nope: cannot read: No such file or directory\n");
}

TEST(SimulateCommand, JsonCarriesIncidentsAndWindows) {
  ProcessResult r =
      leeway({"simulate", scenario("maintenance-announced.yaml"), "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.at("incidents").size(), 1u);
  const nlohmann::json& i = j.at("incidents")[0];
  EXPECT_EQ(i.at("verdict").at("name"), "service");
  EXPECT_EQ(i.at("opened"), "2026-10-11T02:10:00.000000Z");
  ASSERT_EQ(i.at("maintenance").size(), 1u);
  EXPECT_EQ(i.at("maintenance")[0].at("notice_s"), 7 * 24 * 3600);
  EXPECT_EQ(j.at("maintenance").size(), 1u);
}

TEST(SimulateCommand, ABadScenarioExits2WithFileAndLine) {
  const std::string path = ::testing::TempDir() + "/bad-scenario.yaml";
  std::ofstream(path)
      << "config: " << std::string(LEEWAY_SOURCE_DIR)
      << "/examples/multi-isp.yaml\nfrom: 2026-10-05T11:00:00Z\nto: +1h\n"
         "failures:\n  - service: shop\n    from: +1m\n    to: +2m\n    stage: http\n";
  ProcessResult r = leeway({"simulate", path});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, path +
                       ":8:12: stage: expected dns, connect, tls, send, status, body or "
                       "timeout, got \"http\"\n");
  ProcessResult missing = leeway({"simulate", path + ".nope"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err, path + ".nope: cannot read: No such file or directory\n");
  EXPECT_EQ(leeway({"simulate", path, "--format", "xml"}).exit_code, 3);
}

}  // namespace
}  // namespace leeway::testing
