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
