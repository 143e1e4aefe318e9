// Incidents and changes through a real `leeway serve` on loopback: the API (list, show, ack,
// notes, changes, errors by kind), /metrics, a restart that keeps the incident, and the CLI
// (`leeway incidents`, `leeway incident`, `leeway change record`, `leeway status`) as a user runs
// it against the daemon.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/daemon_test.h"
#include "support/http_client.h"
#include "support/http_server.h"
#include "support/process.h"

namespace leeway::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

class IncidentsTest : public DaemonTest {
 protected:
  IncidentsTest() : DaemonTest(LEEWAY_BINARY, "leeway-incidents") {}

  void SetUp() override {
    DaemonTest::SetUp();
    // web/home fails at the status stage; the location still reaches its reference target.
    std::ofstream(config_path())
        << "server:\n  listen: 127.0.0.1:" << api_port_ << "\n  store: " << store_path()
        << "\n  api_tokens:\n    - name: ops\n      hash: " << kApiTokenHash
        << "\ndefaults:\n  interval: 1s\n  timeout: 500ms\n"
        << "incidents:\n  confirm: 2\n  change_window: 30m\n"
        << "references:\n  - name: other-site\n    target: " << target_.url("/ok") << "\n"
        << "services:\n  - id: web\n    checks:\n      - name: home\n        target: "
        << target_.url("/status/503") << "\n";
    std::ofstream(dir_ / "token") << kApiToken << "\n";
  }

  HttpServer target_;
};

TEST_F(IncidentsTest, TheApiListsShowsAcknowledgesAndAnnotatesIncidents) {
  auto serve = start();
  const std::string id = open_incident();
  ASSERT_THAT(id, ::testing::StartsWith("web@"));
  const std::string path = "/api/v1/incidents/" + path_segment(id);

  json list = get("/api/v1/incidents?service=web&state=open");
  ASSERT_EQ(list["incidents"].size(), 1u);
  EXPECT_EQ(list["incidents"][0]["verdict"], "unknown");  // one location: too little evidence
  EXPECT_EQ(list["incidents"][0]["acknowledged"], false);
  EXPECT_EQ(get("/api/v1/incidents?service=api")["incidents"].size(), 0u);
  EXPECT_EQ(get("/api/v1/incidents?to=1")["incidents"].size(), 0u);

  json one = get(path);
  EXPECT_EQ(one["id"], id);
  EXPECT_EQ(one["state"], "open");
  EXPECT_EQ(one["verdict"]["name"], "unknown");
  EXPECT_EQ(one["verdict"]["reason"], "only one location reports (local)");
  EXPECT_EQ(one["checks"], json::array({"web/home"}));
  EXPECT_EQ(one["locations"][0]["stages"], json::array({"status"}));
  EXPECT_EQ(one["changes"]["text"], "nothing was deployed in the 30 minutes before");
  EXPECT_EQ(one["timeline"][0]["kind"], "opened");
  EXPECT_TRUE(one["grade"].is_null());

  // Writes need the token, and are answered by the kind of error.
  EXPECT_EQ(post(path + "/ack", json::object(), {}).status, 401);
  HttpReply ack = post(path + "/ack", json::object());
  EXPECT_EQ(ack.status, 201) << ack.body;
  EXPECT_EQ(json::parse(ack.body)["author"], "ops");
  EXPECT_EQ(post(path + "/notes", {{"text", "the upstream returns 503"}}).status, 201);
  EXPECT_EQ(post(path + "/notes", json::object()).body, R"({"error":"text: required"})");
  EXPECT_EQ(post("/api/v1/incidents/web@nope/ack", json::object()).status, 404);
  EXPECT_EQ(post("/api/v1/incidents/web@nope/ack", json::object()).body,
            R"({"error":"no such incident: \"web@nope\""})");
  EXPECT_EQ(http_request(api_port_, "GET", "/api/v1/incidents/web@nope").status, 404);
  EXPECT_EQ(http_request(api_port_, "GET", "/api/v1/incidents?state=sad").body,
            R"({"error":"state: expected open or resolved, got \"sad\""})");
  EXPECT_EQ(http_request(api_port_, "GET", "/api/v1/incidents?from=soon").status, 400);

  one = get(path);
  EXPECT_EQ(one["acknowledged"], true);
  ASSERT_EQ(one["notes"].size(), 2u);
  EXPECT_EQ(one["notes"][1]["text"], "the upstream returns 503");
  std::vector<std::string> kinds;
  for (const json& e : one["timeline"]) kinds.push_back(e["kind"]);
  EXPECT_THAT(kinds, ::testing::Contains("acknowledged"));
  EXPECT_THAT(kinds, ::testing::Contains("note added"));
  EXPECT_EQ(one["timeline"].back()["text"], "note by ops: the upstream returns 503");

  // A deploy recorded after the fact, two minutes before it opened: the incident names it.
  const std::int64_t opened_s = one["opened_us"].get<std::int64_t>() / 1'000'000;
  HttpReply change = post("/api/v1/changes", {{"service", "web"},
                                              {"kind", "deploy"},
                                              {"description", "v2.3 checkout"},
                                              {"improvement", true},
                                              {"at", std::to_string(opened_s - 120)}});
  ASSERT_EQ(change.status, 201) << change.body;
  EXPECT_EQ(json::parse(change.body)["recorded_by"], "ops");
  ASSERT_TRUE(wait_until([&] { return get(path)["changes"]["before"].size() == 1; }));
  one = get(path);
  EXPECT_EQ(one["changes"]["before"][0]["description"], "v2.3 checkout");
  EXPECT_THAT(one["changes"]["text"].get<std::string>(), HasSubstr("v2.3 checkout"));
  json changes = get("/api/v1/changes?service=web");
  ASSERT_EQ(changes["changes"].size(), 1u);
  EXPECT_EQ(changes["changes"][0]["improvement"], true);
  EXPECT_EQ(
      post("/api/v1/changes", {{"service", "nope"}, {"kind", "deploy"}, {"description", "x"}}).body,
      R"({"error":"service: no such service: \"nope\""})");
  EXPECT_EQ(post("/api/v1/changes", {{"service", "web"}, {"description", "x"}}).body,
            R"({"error":"kind: required"})");
  EXPECT_EQ(post("/api/v1/changes",
                 {{"service", "web"}, {"kind", "deploy"}, {"description", "x"}, {"at", "later"}})
                .status,
            400);
  EXPECT_EQ(http_request(api_port_, "POST", "/api/v1/changes", "not json", api_auth()).body,
            R"({"error":"body: expected a JSON object"})");

  const std::string metrics = http_request(api_port_, "GET", "/metrics").body;
  EXPECT_THAT(metrics, HasSubstr("leeway_incidents_open{service=\"web\"} 1\n"));
  EXPECT_THAT(metrics, HasSubstr("leeway_service_up{service=\"web\"} 0\n"));
  EXPECT_THAT(metrics, HasSubstr("leeway_location_reachable{location=\"local\"} 1\n"));
  EXPECT_THAT(metrics, HasSubstr("leeway_incident_verdict{service=\"web\",id=\"" + id +
                                 "\",verdict=\"unknown\"} 1\n"));
  EXPECT_THAT(metrics, HasSubstr("leeway_incident_store_up 1\n"));

  // A restart rebuilds the detector from the store: the same incident, still acknowledged.
  serve->signal(SIGTERM);
  EXPECT_EQ(serve->wait(), 0) << log();
  serve = start();
  const std::string again = open_incident();
  EXPECT_EQ(again, id);
  EXPECT_EQ(get("/api/v1/incidents")["incidents"].size(), 1u);
  EXPECT_EQ(get(path)["acknowledged"], true);
}

TEST_F(IncidentsTest, TheCliListsShowsAndRecordsChanges) {
  auto serve = start();
  const std::string id = open_incident();

  ProcessResult recorded =
      cli({"change", "record", "--service", "web", "--kind", "deploy", "--description",
           "v2.4 cache", "--improvement", "--token-file", (dir_ / "token").string()});
  EXPECT_EQ(recorded.exit_code, 0) << recorded.err;
  EXPECT_THAT(recorded.out, ::testing::StartsWith("recorded change 1 to web at "));
  ProcessResult refused = cli({"change", "record", "--service", "nope", "--kind", "deploy",
                               "--description", "x", "--token-file", (dir_ / "token").string()});
  EXPECT_EQ(refused.exit_code, 3);
  EXPECT_THAT(refused.err, HasSubstr("answered HTTP 400: {\"error\":\"service: no such service"));
  ProcessResult no_token =
      cli({"change", "record", "--service", "web", "--kind", "deploy", "--description", "x"});
  EXPECT_EQ(no_token.exit_code, 3);
  EXPECT_THAT(no_token.err, HasSubstr("an API token is needed"));

  ProcessResult list = cli({"incidents"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("STATE     OPENED"));
  EXPECT_THAT(list.out, HasSubstr(id));
  EXPECT_THAT(list.out, HasSubstr("only one location reports (local)"));
  EXPECT_EQ(cli({"incidents", "--state", "resolved"}).out, "no incidents\n");

  ProcessResult one = cli({"incident", id});
  EXPECT_EQ(one.exit_code, 0) << one.err;
  EXPECT_THAT(one.out, HasSubstr("verdict: unknown (confidence 0.00)"));
  EXPECT_THAT(one.out, HasSubstr("reason: only one location reports (local)"));
  EXPECT_THAT(one.out, HasSubstr("changes: nothing was deployed in the 30 minutes before"));
  EXPECT_THAT(one.out, HasSubstr("local sees web/home down (status)"));
  ProcessResult missing = cli({"incident", "web@nope"});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_THAT(missing.err, HasSubstr("answered HTTP 404"));

  ProcessResult status = cli({"status"});
  EXPECT_EQ(status.exit_code, 2) << status.err;
  EXPECT_THAT(status.out, HasSubstr("INCIDENT " + id + "  verdict unknown\n"));
}

}  // namespace
}  // namespace leeway::testing
