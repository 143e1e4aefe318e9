// SLOs through a real `leeway serve` on loopback with a real SQLite store: the history the store
// holds at start is restored, the API and /metrics show budgets, burn rates and alerts, and the
// CLI (`leeway slo list`, `leeway slo show`) shows them as a user runs it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "config/config.h"
#include "core/clock.h"
#include "daemon/slos.h"
#include "store/incident_store.h"
#include "store/slo_store.h"
#include "store/store.h"
#include "support/daemon_test.h"
#include "support/http_client.h"
#include "support/http_server.h"
#include "support/process.h"

namespace leeway::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

class SlosTest : public DaemonTest {
 protected:
  SlosTest() : DaemonTest(LEEWAY_BINARY, "leeway-slos") {}

  void SetUp() override {
    DaemonTest::SetUp();
    // web answers; api fails. Each has an SLO of runs up over a rolling hour.
    std::ofstream(config_path())
        << "server:\n  listen: 127.0.0.1:" << api_port_ << "\n  store: " << store_path()
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

  // The store's history before the daemon starts: `minutes` whole minutes before now of 10 runs
  // each, the first `bad` runs down.
  void history(const std::string& check, int minutes, int bad) {
    auto db = store::open_store(store_path().string());
    ASSERT_TRUE(db) << db.error().message;
    const TimeUs now_minute = SystemClock().now_us() / kMinuteUs * kMinuteUs;
    std::vector<store::StoredResult> batch;
    for (int m = 1; m <= minutes; ++m) {
      for (int i = 0; i < 10; ++i) {
        store::StoredResult r;
        r.check = check;
        r.location = "local";
        r.started_us = now_minute - m * kMinuteUs + i * kSecondUs;
        r.total_us = 1000;
        r.outcome = int(batch.size()) < bad ? probe::Outcome::kDown : probe::Outcome::kUp;
        batch.push_back(r);
      }
    }
    ASSERT_TRUE((*db)->write(batch));
  }

  HttpServer target_;
};

TEST_F(SlosTest, TheHistoryIsRestoredAndShownInTheApiMetricsAndCli) {
  history("web/home", 30, 1);    // 1 bad run of 300: a third of a 1% budget of 3 runs
  history("api/home", 30, 300);  // every run bad: the page alert fires at start
  auto serve = start();

  json web = get("/api/v1/slos/web-runs");
  ASSERT_TRUE(web.is_object()) << log();
  EXPECT_EQ(web["service"], "web");
  EXPECT_EQ(web["unit"], "events");
  EXPECT_EQ(web["budget"]["spent"], 1.0);  // the daemon's own runs since are up
  EXPECT_GE(web["budget"]["total"].get<double>(), 3.0);
  EXPECT_GE(web["budget"]["minutes_without_data"].get<int>(), 28);  // 1h, 30 min of history
  EXPECT_EQ(web["alerts"][0], json({{"severity", "page"}, {"firing", false}}));
  EXPECT_EQ(get("/api/v1/slos")["slos"].size(), 2u);
  EXPECT_EQ(http_request(api_port_, "GET", "/api/v1/slos/nope").status, 404);

  json api = get("/api/v1/slos/api-runs");
  EXPECT_EQ(api["alerts"][0], json({{"severity", "page"}, {"firing", true}}));
  EXPECT_EQ(api["alert_events"][0]["state"], "fired");
  EXPECT_FALSE(api["exhausted_at"].is_null());  // already spent
  EXPECT_THAT(log(), HasSubstr("SLO api-runs: page alert fired"));

  std::string metrics = http_request(api_port_, "GET", "/metrics").body;
  EXPECT_THAT(metrics,
              HasSubstr("leeway_slo_alert_firing{slo=\"api-runs\",service=\"api\",severity="
                        "\"page\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("leeway_slo_burn_rate{slo=\"api-runs\",service=\"api\",window="
                                 "\"1h\"} 1000"));
  EXPECT_THAT(
      metrics,
      HasSubstr("leeway_slo_error_budget_remaining_ratio{slo=\"web-runs\",service=\"web\"}"));
  EXPECT_THAT(metrics, HasSubstr("leeway_slo_slices_total{slo=\"web-runs\",service=\"web\"}"));

  ProcessResult list = cli({"slo", "list"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("api-runs"));
  EXPECT_THAT(list.out, HasSubstr("page"));
  ProcessResult show = cli({"slo", "show", "web-runs"});
  EXPECT_EQ(show.exit_code, 0) << show.err;
  EXPECT_THAT(show.out, HasSubstr("1 spent"));
  EXPECT_THAT(show.out, HasSubstr("spent in incidents: 0 events"));
  EXPECT_THAT(show.out, HasSubstr("budget remaining over the window:\n  100% |#"));
  EXPECT_EQ(web["burn_down"].size(), 48u);
  EXPECT_EQ(web["burn_down"][0]["remaining_ratio"], 1.0);
  EXPECT_EQ(cli({"slo", "show", "nope"}).exit_code, 3);
}

TEST_F(SlosTest, TheGateHoldsADeployOnASpentBudgetAndLetsAFixGo) {
  history("web/home", 30, 1);
  history("api/home", 30, 300);
  auto serve = start();

  ProcessResult web = cli({"gate", "web"});
  EXPECT_EQ(web.exit_code, 0) << web.out << web.err;
  EXPECT_THAT(web.out, HasSubstr("go: deploy of web"));
  ProcessResult api = cli({"gate", "api"});
  EXPECT_EQ(api.exit_code, 1) << api.out << api.err;
  EXPECT_THAT(api.out, HasSubstr("SLO api-runs: the error budget is spent"));
  EXPECT_THAT(api.out, HasSubstr("its page burn-rate alert fires (the policy holds)"));
  ProcessResult fix = cli({"gate", "api", "--kind", "fix", "--json"});
  EXPECT_EQ(fix.exit_code, 0) << fix.out << fix.err;
  EXPECT_EQ(json::parse(fix.out)["decision"], "go");

  json decisions = get("/api/v1/services/api/gate/decisions")["decisions"];
  ASSERT_EQ(decisions.size(), 2u);  // newest first
  EXPECT_EQ(decisions[0]["kind"], "fix");
  EXPECT_EQ(decisions[1]["decision"], "hold");
  EXPECT_EQ(decisions[1]["asked_by"], "anonymous");
  EXPECT_EQ(http_request(api_port_, "GET", "/api/v1/services/nope/gate").status, 404);
  EXPECT_EQ(http_request(api_port_, "GET", "/api/v1/services/api/gate?kind=yolo").status, 400);
  serve.reset();
  // No daemon: unknown.
  EXPECT_EQ(cli({"gate", "web"}).exit_code, 3);
}

// The subscriber itself, on a real store: a late result recomputes the minute it falls in.
TEST_F(SlosTest, ALateResultRecomputesItsMinute) {
  history("web/home", 10, 0);
  auto cfg = config::load_config(config_path().string());
  ASSERT_TRUE(cfg.ok());
  const std::string path = store_path().string();
  auto db = store::open_store(path);
  auto incidents = store::open_incident_store(path);
  auto records = store::open_slo_store(path);
  ASSERT_TRUE(db && incidents && records);
  const TimeUs now = SystemClock().now_us();
  daemon::SloState slos(*cfg.config, {**db, **incidents, **records});
  ASSERT_TRUE(slos.restore(now));
  ASSERT_EQ(slos.view("web-runs")->status.budget.spent, 0);

  store::StoredResult late;
  late.check = "web/home";
  late.location = "elsewhere";
  late.started_us = now / kMinuteUs * kMinuteUs - 5 * kMinuteUs + 30 * kSecondUs;
  late.total_us = 1000;
  late.outcome = probe::Outcome::kDown;
  auto committed = (*db)->write(std::vector{late});
  ASSERT_TRUE(committed);
  slos.add(*committed);
  slos.evaluate(now + daemon::kEvaluateEveryUs);
  EXPECT_EQ(slos.view("web-runs")->status.budget.spent, 1);
  EXPECT_EQ(slos.view("web-runs")->status.budget.counted.weight, 101);
}

}  // namespace
}  // namespace leeway::testing
