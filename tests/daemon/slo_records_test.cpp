// What the SLOs and the gate keep over a restart of a real `leeway serve` on a SQLite file: the
// alert events (a page already firing does not fire again), the gate's decisions with who asked,
// paged newest first, and a change recorded after a "go" linked to it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "store/store.h"
#include "support/daemon_test.h"
#include "support/http_client.h"
#include "support/http_server.h"
#include "support/process.h"

namespace leeway::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

class SloRecordsTest : public DaemonTest {
 protected:
  SloRecordsTest() : DaemonTest(LEEWAY_BINARY, "leeway-slo-records") {}

  void SetUp() override {
    DaemonTest::SetUp();
    // web answers; api fails. Each has an SLO of runs up over a rolling hour.
    std::ofstream(config_path())
        << "server:\n  listen: 127.0.0.1:" << api_port_ << "\n  store: " << store_path()
        << "\n  api_tokens:\n    - name: deployer\n      hash: " << kApiTokenHash
        << "\ndefaults:\n  interval: 1s\n  timeout: 500ms\n"
        << "services:\n"
        << "  - id: web\n    checks:\n      - name: home\n        target: " << target_.url("/ok")
        << "\n    slos:\n      - id: web-runs\n        sli: availability_runs\n"
        << "        objective: 99\n        window: 1h\n"
        << "  - id: api\n    checks:\n      - name: home\n        target: "
        << target_.url("/status/503")
        << "\n    slos:\n      - id: api-runs\n        sli: availability_runs\n"
        << "        objective: 99.9\n        window: 1h\n";
  }

  // 30 minutes before now of 10 runs each, all down or all up.
  void history(const std::string& check, probe::Outcome outcome) {
    auto db = store::open_store(store_path().string());
    ASSERT_TRUE(db) << db.error().message;
    const TimeUs now_minute = SystemClock().now_us() / kMinuteUs * kMinuteUs;
    std::vector<store::StoredResult> batch;
    for (int m = 1; m <= 30; ++m) {
      for (int i = 0; i < 10; ++i) {
        store::StoredResult r;
        r.check = check;
        r.location = "local";
        r.started_us = now_minute - m * kMinuteUs + i * kSecondUs;
        r.total_us = 1000;
        r.outcome = outcome;
        batch.push_back(r);
      }
    }
    ASSERT_TRUE((*db)->write(batch));
  }

  json record_change(const std::string& service) {
    HttpReply r = http_request(
        api_port_, "POST", "/api/v1/changes",
        json{{"service", service}, {"kind", "deploy"}, {"description", "v2"}}.dump(), api_auth());
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  HttpServer target_;
};

TEST_F(SloRecordsTest, AlertEventsAndDecisionsOutliveARestartAndAFiringAlertDoesNotFireAgain) {
  history("api/home", probe::Outcome::kDown);
  auto serve = start();
  json api = get("/api/v1/slos/api-runs");
  ASSERT_EQ(api["alert_events"].size(), 2u) << api.dump();  // page and ticket fired at start
  json fired = api["alert_events"][1];
  EXPECT_EQ(fired["severity"], "page");
  EXPECT_EQ(fired["state"], "fired");
  EXPECT_EQ(fired["condition"]["long_window"], "1h");
  EXPECT_NEAR(fired["burn_rates"]["1h"].get<double>(), 1000, 1e-6);
  EXPECT_FALSE(fired["data_until"].is_null());
  EXPECT_EQ(get("/api/v1/services/api/gate", api_auth())["asked_by"], "deployer");
  EXPECT_EQ(get("/api/v1/services/api/gate")["asked_by"], "anonymous");
  stop(serve);

  serve = start();
  api = get("/api/v1/slos/api-runs");
  EXPECT_EQ(api["alert_events"].size(), 2u) << api.dump();
  EXPECT_EQ(api["alerts"][0], json({{"severity", "page"}, {"firing", true}}));
  const std::string second_start = log();
  EXPECT_EQ(second_start.find("page alert fired"), second_start.rfind("page alert fired"))
      << "fired again after the restart:\n"
      << second_start;
  json decisions = get("/api/v1/services/api/gate/decisions")["decisions"];
  ASSERT_EQ(decisions.size(), 2u);
  EXPECT_EQ(decisions[0]["asked_by"], "anonymous");
  EXPECT_EQ(decisions[1]["asked_by"], "deployer");
  EXPECT_EQ(decisions[1]["decision"], "hold");
  EXPECT_THAT(decisions[1]["reasons"][0].get<std::string>(), HasSubstr("budget is spent"));
}

TEST_F(SloRecordsTest, AChangeAfterAGoIsLinkedToItAndDecisionsPage) {
  history("web/home", probe::Outcome::kUp);
  auto serve = start();
  json first = get("/api/v1/services/web/gate");
  ASSERT_EQ(first["decision"], "go") << log();
  json go = get("/api/v1/services/web/gate", api_auth());
  ASSERT_EQ(go["decision"], "go");
  json change = record_change("web");
  ASSERT_TRUE(change["gate_decision"].is_object()) << change.dump();
  EXPECT_EQ(change["gate_decision"]["id"], go["id"]);
  EXPECT_EQ(change["gate_decision"]["asked_by"], "deployer");
  // The latest go is taken: the next change gets the one before; then none is left.
  json second = record_change("web");
  EXPECT_EQ(second["gate_decision"]["id"], first["id"]);
  EXPECT_TRUE(record_change("web")["gate_decision"].is_null());
  EXPECT_TRUE(record_change("api")["gate_decision"].is_null());

  json page = get("/api/v1/services/web/gate/decisions?limit=1");
  ASSERT_EQ(page["decisions"].size(), 1u);
  EXPECT_EQ(page["decisions"][0]["id"], go["id"]);
  EXPECT_EQ(page["decisions"][0]["change"], change["id"]);
  json next =
      get("/api/v1/services/web/gate/decisions?limit=1&before=" + page["next_before"].dump());
  ASSERT_EQ(next["decisions"].size(), 1u);
  EXPECT_EQ(next["decisions"][0]["id"], first["id"]);
  EXPECT_EQ(next["decisions"][0]["change"], second["id"]);
  EXPECT_EQ(http_request(api_port_, "GET", "/api/v1/services/web/gate/decisions?limit=0").status,
            400);

  json changes = get("/api/v1/changes?service=web")["changes"];
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0]["gate_decision"]["id"], go["id"]);
  EXPECT_EQ(changes[1]["gate_decision"]["id"], first["id"]);
  EXPECT_TRUE(changes[2]["gate_decision"].is_null());
}

}  // namespace
}  // namespace leeway::testing
