// The records SLA accounting reads, through a real `leeway serve` on loopback: maintenance
// windows from the config and the API (shown on the incidents they overlap), reclassifications
// with their audit trail beside the automatic values, manual exclusions, errors that name the
// field, a reload and a restart that keep what they should, and the CLI as a user runs it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/time.h"
#include "support/daemon_test.h"
#include "support/http_client.h"
#include "support/http_server.h"
#include "support/process.h"

namespace leeway::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

TimeUs now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class SlaRecordsTest : public DaemonTest {
 protected:
  SlaRecordsTest() : DaemonTest(LEEWAY_BINARY, "leeway-sla-records") {}

  void SetUp() override {
    DaemonTest::SetUp();
    // A config window around now, written with an offset; a second one next week.
    const TimeUs now = now_us();
    write_config({"  - start: " + format_rfc3339(now - kHourUs) +
                      "\n    end: " + format_rfc3339(now + kHourUs) +
                      "\n    services: web\n    announced: 2026-01-01T09:00:00+09:00\n"
                      "    description: database upgrade\n",
                  "  - start: " + format_rfc3339(now + 7 * kDayUs) +
                      "\n    end: " + format_rfc3339(now + 7 * kDayUs + kHourUs) +
                      "\n    services: [web, api]\n    announced: 2026-01-02T00:00:00Z\n"});
    std::ofstream(dir_ / "token") << kApiToken << "\n";
  }

  // web/home fails at the status stage, so an incident opens.
  void write_config(const std::vector<std::string>& windows) {
    std::ofstream config(config_path());
    config << "server:\n  listen: 127.0.0.1:" << api_port_ << "\n  store: " << store_path()
           << "\n  api_tokens:\n    - name: ops\n      hash: " << kApiTokenHash
           << "\ndefaults:\n  interval: 1s\n  timeout: 500ms\n"
           << "services:\n  - id: web\n    checks:\n      - name: home\n        target: "
           << target_.url("/status/503") << "\n  - id: api\n";
    if (!windows.empty()) config << "maintenance:\n";
    for (const auto& w : windows) config << w;
  }

  HttpServer target_;
};

std::vector<std::string> descriptions(const json& windows) {
  std::vector<std::string> out;
  for (const auto& w : windows) out.push_back(w["description"]);
  return out;
}

TEST_F(SlaRecordsTest, MaintenanceWindowsFromTheConfigAndTheApi) {
  auto serve = start();
  json listed = get("/api/v1/maintenance");
  ASSERT_EQ(listed["maintenance"].size(), 2u) << listed.dump();
  json first = listed["maintenance"][0];
  EXPECT_EQ(first["source"], "config");
  EXPECT_EQ(first["author"], "config");
  EXPECT_EQ(first["services"], json::array({"web"}));
  EXPECT_EQ(first["announced"], "2026-01-01T00:00:00.000000Z");  // +09:00 read as UTC

  // Writes need the token; the window is stored with the token's name.
  json window = {{"start", "2031-12-01T02:00:00+09:00"},
                 {"end", "2031-12-01T04:00:00+09:00"},
                 {"services", {"api"}},
                 {"announced", "2031-11-20T00:00:00Z"},
                 {"description", "network switch swap"}};
  EXPECT_EQ(post("/api/v1/maintenance", window, {}).status, 401);
  HttpReply added = post("/api/v1/maintenance", window);
  ASSERT_EQ(added.status, 201) << added.body;
  json a = json::parse(added.body);
  EXPECT_EQ(a["start"], "2031-11-30T17:00:00.000000Z");
  EXPECT_EQ(a["author"], "ops");
  EXPECT_EQ(a["source"], "api");
  // Announced defaults to now.
  const TimeUs before = now_us();
  HttpReply unannounced = post(
      "/api/v1/maintenance",
      {{"start", "2027-01-01T00:00:00Z"}, {"end", "2027-01-01T01:00:00Z"}, {"services", "web"}});
  ASSERT_EQ(unannounced.status, 201) << unannounced.body;
  EXPECT_GE(json::parse(unannounced.body)["announced_us"].get<TimeUs>(), before);

  // Bad input: 400 naming the field; nothing stored.
  auto refused = [&](json body) { return post("/api/v1/maintenance", body); };
  json backwards = window;
  backwards["end"] = "2031-12-01T01:00:00+09:00";
  EXPECT_EQ(refused(backwards).body, R"({"error":"end: must be after start"})");
  json stranger = window;
  stranger["services"] = {"api", "shop"};
  EXPECT_EQ(refused(stranger).body, R"({"error":"services: no such service: \"shop\""})");
  json undated = window;
  undated.erase("start");
  EXPECT_EQ(refused(undated).status, 400);
  EXPECT_EQ(refused(undated).body, R"({"error":"start: required"})");
  json garbled = window;
  garbled["announced"] = "last week";
  EXPECT_THAT(refused(garbled).body, HasSubstr("announced: expected a time like"));
  EXPECT_EQ(http_request(api_port_, "POST", "/api/v1/maintenance", "[", api_auth()).status, 400);
  EXPECT_EQ(get("/api/v1/maintenance")["maintenance"].size(), 4u);

  // Listings by service and overlap.
  EXPECT_EQ(get("/api/v1/maintenance?service=api")["maintenance"].size(), 2u);
  EXPECT_EQ(descriptions(get("/api/v1/maintenance?from=2031-12-01T00:00:00%2B09:00&to="
                             "2031-12-01T03:00:00%2B09:00")["maintenance"]),
            std::vector<std::string>{"network switch swap"});
  EXPECT_EQ(http_request(api_port_, "GET", "/api/v1/maintenance?from=soon").status, 400);

  // The open incident of web lists the config window it overlaps, and only that one; checks
  // kept running: the incident opened inside the window.
  const std::string id = open_incident();
  json incident = get("/api/v1/incidents/" + path_segment(id));
  EXPECT_EQ(descriptions(incident["maintenance"]), std::vector<std::string>{"database upgrade"});
}

TEST_F(SlaRecordsTest, ReclassificationsKeepAnAuditTrailBesideTheAutomaticValues) {
  auto serve = start();
  const std::string id = open_incident();
  const std::string path = "/api/v1/incidents/" + path_segment(id);
  json incident = get(path);
  EXPECT_EQ(incident["reclassified"]["attribution"]["automatic"], "unknown");
  EXPECT_TRUE(incident["reclassified"]["grade"]["manual"].is_null());
  EXPECT_EQ(incident["reclassifications"], json::array());

  json grade = {{"field", "grade"}, {"value", "2"}, {"reason", "only the search was down"}};
  EXPECT_EQ(post(path + "/reclassify", grade, {}).status, 401);
  ASSERT_EQ(post(path + "/reclassify", grade).status, 201);
  HttpReply network = post(
      path + "/reclassify",
      {{"field", "attribution"}, {"value", "network:kt"}, {"reason", "KT's nationwide outage"}});
  ASSERT_EQ(network.status, 201) << network.body;
  EXPECT_EQ(json::parse(network.body)["author"], "ops");
  grade["value"] = "1";
  grade["reason"] = "payments failed too";
  ASSERT_EQ(post(path + "/reclassify", grade).status, 201);

  // Errors name the field; an unknown incident is a 404.
  EXPECT_EQ(post(path + "/reclassify", {{"field", "grade"}, {"value", "1"}}).body,
            R"({"error":"reason: required"})");
  EXPECT_EQ(post(path + "/reclassify", {{"field", "colour"}, {"value", "1"}, {"reason", "r"}}).body,
            R"({"error":"field: expected grade, attribution or exclusion, got \"colour\""})");
  EXPECT_EQ(
      post(path + "/reclassify", {{"field", "exclusion"}, {"value", "maybe"}, {"reason", "r"}})
          .status,
      400);
  EXPECT_EQ(post("/api/v1/incidents/web@nope/reclassify", grade).status, 404);

  incident = get(path);
  EXPECT_EQ(incident["reclassified"]["grade"]["manual"]["value"], "1");
  EXPECT_EQ(incident["reclassified"]["grade"]["manual"]["reason"], "payments failed too");
  EXPECT_EQ(incident["reclassified"]["attribution"]["automatic"], "unknown");
  EXPECT_EQ(incident["reclassified"]["attribution"]["manual"]["value"], "network:kt");
  ASSERT_EQ(incident["reclassifications"].size(), 3u);  // the superseded one stays
  EXPECT_EQ(incident["reclassifications"][0]["value"], "2");
  EXPECT_EQ(incident["verdict"]["name"], "unknown");  // the automatic value is unchanged
}

TEST_F(SlaRecordsTest, ManualExclusionsNeedAReason) {
  auto serve = start();
  json exclusion = {{"start", "2026-11-03T00:00:00Z"},
                    {"end", "2026-11-03T00:30:00Z"},
                    {"services", {"web", "api"}},
                    {"reason", "the customer's firewall blocked us"}};
  EXPECT_EQ(post("/api/v1/exclusions", exclusion, {}).status, 401);
  HttpReply added = post("/api/v1/exclusions", exclusion);
  ASSERT_EQ(added.status, 201) << added.body;
  EXPECT_EQ(json::parse(added.body)["author"], "ops");
  json silent = exclusion;
  silent["reason"] = "";
  EXPECT_EQ(post("/api/v1/exclusions", silent).body, R"({"error":"reason: required: say why"})");
  json listed = get("/api/v1/exclusions?service=api");
  ASSERT_EQ(listed["exclusions"].size(), 1u);
  EXPECT_EQ(listed["exclusions"][0]["reason"], "the customer's firewall blocked us");
  EXPECT_EQ(get("/api/v1/exclusions?from=2026-11-04T00:00:00Z")["exclusions"].size(), 0u);
}

TEST_F(SlaRecordsTest, AReloadSyncsTheConfigsWindowsAndARestartKeepsEverything) {
  auto serve = start();
  const std::string id = open_incident();
  const std::string path = "/api/v1/incidents/" + path_segment(id);
  ASSERT_EQ(post("/api/v1/maintenance", {{"start", "2027-01-01T00:00:00Z"},
                                         {"end", "2027-01-01T01:00:00Z"},
                                         {"services", "api"},
                                         {"description", "from the API"}})
                .status,
            201);
  ASSERT_EQ(post(path + "/reclassify", {{"field", "exclusion"},
                                        {"value", "excluded"},
                                        {"reason", "inside the announced window"}})
                .status,
            201);
  ASSERT_EQ(post("/api/v1/exclusions", {{"start", "2026-11-03T00:00:00Z"},
                                        {"end", "2026-11-03T00:30:00Z"},
                                        {"services", "web"},
                                        {"reason", "agreed with the customer"}})
                .status,
            201);
  json before = get("/api/v1/maintenance");
  ASSERT_EQ(before["maintenance"].size(), 3u);

  // The same config again (a restart): nothing changes, ids included.
  serve->signal(SIGTERM);
  EXPECT_EQ(serve->wait(), 0) << log();
  serve = start();
  EXPECT_EQ(get("/api/v1/maintenance"), before);
  EXPECT_EQ(get(path)["reclassifications"].size(), 1u);
  EXPECT_EQ(get("/api/v1/exclusions")["exclusions"].size(), 1u);

  // A reload without the config's windows removes them; the API's stays.
  write_config({});
  serve->signal(SIGHUP);
  EXPECT_TRUE(wait_until([&] {
    return descriptions(get("/api/v1/maintenance")["maintenance"]) ==
           std::vector<std::string>{"from the API"};
  })) << get("/api/v1/maintenance").dump()
      << log();
  EXPECT_EQ(get(path)["maintenance"], json::array());
}

TEST_F(SlaRecordsTest, TheCliRecordsAndListsThem) {
  auto serve = start();
  const std::string id = open_incident();
  const std::string token = (dir_ / "token").string();

  ProcessResult added =
      cli({"maintenance", "add", "--start", "2031-12-01T02:00:00+09:00", "--end",
           "2031-12-01T04:00:00+09:00", "--service", "web", "--service", "api", "--announced",
           "2031-11-20T00:00:00Z", "--description", "swap", "--token-file", token});
  EXPECT_EQ(added.exit_code, 0) << added.err;
  EXPECT_EQ(added.out,
            "recorded maintenance window 3 for web,api: 2031-11-30T17:00:00.000000Z to "
            "2031-11-30T19:00:00.000000Z, announced 2031-11-20T00:00:00.000000Z\n");
  ProcessResult backwards =
      cli({"maintenance", "add", "--start", "2031-12-01T02:00:00Z", "--end", "2031-12-01T01:00:00Z",
           "--service", "web", "--token-file", token});
  EXPECT_EQ(backwards.exit_code, 3);
  EXPECT_THAT(backwards.err, HasSubstr("answered HTTP 400: {\"error\":\"end: must be after start"));
  ProcessResult list = cli({"maintenance", "list", "--service", "api"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("ID    START"));
  EXPECT_THAT(list.out, HasSubstr("  swap\n"));
  EXPECT_THAT(list.out, ::testing::Not(HasSubstr("database upgrade")));

  ProcessResult excluded =
      cli({"exclusion", "add", "--start", "2026-11-03T00:00:00Z", "--end", "2026-11-03T00:30:00Z",
           "--service", "web", "--reason", "agreed with the customer", "--token-file", token});
  EXPECT_EQ(excluded.exit_code, 0) << excluded.err;
  EXPECT_THAT(excluded.out, ::testing::StartsWith("recorded exclusion 1 for web: "));
  EXPECT_THAT(cli({"exclusion", "list"}).out, HasSubstr("  agreed with the customer\n"));

  ProcessResult reclassified = cli({"incident", "reclassify", id, "--field", "grade", "--value",
                                    "1", "--reason", "payments failed too", "--token-file", token});
  EXPECT_EQ(reclassified.exit_code, 0) << reclassified.err;
  EXPECT_EQ(reclassified.out,
            "reclassified " + id + ": grade is 1 (payments failed too, by ops)\n");
  ProcessResult wrong = cli({"incident", "reclassify", id, "--field", "colour", "--value", "1",
                             "--reason", "r", "--token-file", token});
  EXPECT_NE(wrong.exit_code, 0);

  ProcessResult one = cli({"incident", id});
  EXPECT_EQ(one.exit_code, 0) << one.err;
  EXPECT_THAT(one.out, HasSubstr("grade: 1 (automatic: -), set by ops at "));
  EXPECT_THAT(one.out, HasSubstr("maintenance 1: "));
  EXPECT_THAT(one.out, HasSubstr(": database upgrade\n"));
}

}  // namespace
}  // namespace leeway::testing
