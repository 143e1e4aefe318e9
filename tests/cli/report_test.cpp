// The monthly SLA report against a real `leeway serve` on a SQLite file: a scenario's results
// pushed through the agent API as if two vantage points had probed them, the report's figures
// against a table computed by hand, its formats and errors, `leeway report`, the same report
// from `leeway simulate`, and a closed month frozen: revision 2 only when a late result changes
// the inputs, with what changed, and revision 1 still served.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "agent/wire.h"
#include "core/clock.h"
#include "simulate/replay.h"
#include "support/daemon_test.h"
#include "support/token_hash.h"

namespace leeway::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

const std::map<std::string, std::string> kTokens = {{"seoul-kt", "token-of-seoul-kt-5c2e"},
                                                    {"busan-skb", "token-of-busan-skb-81af"}};

// Results every minute from two ISPs; the contract's month is October in Asia/Seoul
// (2026-09-30T15:00Z to 2026-10-31T15:00Z: 31 days, 44,640 minutes).
constexpr const char* kOutage = R"(config: leeway.yaml
from: 2026-10-10T00:00:00Z
to: 2026-10-10T02:00:00Z
failures:
  - service: web
    from: 2026-10-10T01:00:00Z
    to: 2026-10-10T01:45:00Z
    stage: connect
    cause: refused
)";

// Results of the same month that arrive after it was frozen: the next hours of the same day, with
// a second, shorter outage.
constexpr const char* kLateOutage = R"(config: leeway.yaml
from: 2026-10-10T02:00:00Z
to: 2026-10-10T03:30:00Z
failures:
  - service: web
    from: 2026-10-10T02:30:00Z
    to: 2026-10-10T02:40:00Z
    stage: connect
    cause: refused
)";

class ReportTest : public DaemonTest {
 protected:
  ReportTest() : DaemonTest(LEEWAY_BINARY, "leeway-report") {}

  void SetUp() override {
    DaemonTest::SetUp();
    std::ofstream(config_path())
        << "server:\n  listen: 127.0.0.1:" << api_port_ << "\n  store: " << store_path()
        << "\nlocations:\n"
        << "  - {id: seoul-kt, isp: kt, token: \"" << token_hash_text(kTokens.at("seoul-kt"))
        << "\"}\n"
        << "  - {id: busan-skb, isp: skb, token: \"" << token_hash_text(kTokens.at("busan-skb"))
        << "\"}\n"
        << "defaults:\n  interval: 60s\n  timeout: 5s\n"
        << "services:\n  - id: web\n    checks:\n      - name: home\n"
        << "        target: https://shop.example/\n        locations: [seoul-kt, busan-skb]\n"
        << R"(contracts:
  - id: web-2026
    customer: Example Trading
    services: [web]
    fee: "1000000"
    currency: KRW
    rounding: down
    time_zone: Asia/Seoul
    target: 99.9
    grades:
      - name: "1"
        when:
          - {min_duration: 30m}
        penalty: "100000"
      - name: "2"
        when:
          - {min_duration: 1m}
        penalty: "10000"
    credits:
      - {below: 99.9, credit: 10}
)";
    std::ofstream(dir_ / "outage.yaml") << kOutage;
    std::ofstream(dir_ / "late.yaml") << kLateOutage;
    serve_ = start();
  }

  void TearDown() override {
    serve_.reset();
    DaemonTest::TearDown();
  }

  // The scenario's results, pushed as its locations' agents would: ten minutes at a time, each
  // location in turn, so the daemon sees them much as they were probed.
  void push(const std::string& scenario) {
    auto loaded = simulate::load_scenario((dir_ / scenario).string());
    ASSERT_TRUE(loaded.ok()) << loaded.errors[0].to_string();
    std::map<std::pair<TimeUs, std::string>, json> batches;
    for (const auto& c : simulate::results_of(*loaded.scenario)) {
      json& results = batches[{c.result.started_us / (10 * kMinuteUs), c.result.location}];
      results.push_back(agent::result_to_json(c.result));
    }
    for (const auto& [key, results] : batches) {
      json batch = {{"batch", scenario + std::to_string(key.first) + key.second},
                    {"location", key.second},
                    {"sent_us", SystemClock::instance().now_us()},
                    {"results", results}};
      HttpReply r = post("/api/v1/agent/results", batch,
                         {{"Authorization", "Bearer " + kTokens.at(key.second)},
                          {"Content-Type", "application/json"}});
      ASSERT_EQ(r.status, 200) << r.body;
      pushed_ += static_cast<std::int64_t>(results.size());
    }
  }

  // Waits until the detector has had every result pushed (the stream counts a batch delivered
  // once the tracker stored its incidents), then expects `count` resolved incidents of web in
  // October.
  void wait_for_incidents(std::size_t count) {
    const std::string line = "leeway_subscriber_delivered_total{subscriber=\"detector\"} ";
    ASSERT_TRUE(wait_until([&] {
      const std::string metrics = http_request(api_port_, "GET", "/metrics").body;
      const std::size_t at = metrics.find(line);
      return at != std::string::npos && std::atoll(metrics.c_str() + at + line.size()) >= pushed_;
    })) << log();
    json list = get("/api/v1/incidents?from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z");
    ASSERT_EQ(list["incidents"].size(), count) << list.dump(2);
    for (const auto& i : list["incidents"]) EXPECT_EQ(i["state"], "resolved") << i.dump(2);
  }

  HttpReply raw(const std::string& query) {
    return http_request(api_port_, "GET", "/api/v1/contracts/web-2026/reports/2026-10" + query);
  }

  json report(const std::string& query = "") {
    HttpReply r = raw(query);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  // `leeway simulate ARGS`.
  ProcessResult simulate(std::vector<std::string> args) {
    args.insert(args.begin(), {LEEWAY_BINARY, "simulate"});
    return run_process(args);
  }

  std::unique_ptr<ChildProcess> serve_;
  std::int64_t pushed_ = 0;  // results pushed so far
};

// By hand: the results at 01:00 to 01:44 fail, those from 01:45 succeed. One incident from 01:00
// (the first failure) to 01:45 (the first of the two successes in a row that confirm the
// recovery: incidents.recover is 2), 45 minutes, so grade 1 (30 minutes or more): 100,000. 44,595
// of 44,640 minutes available is 99.8991% (99.89919..., rounded down), below 99.9%: the 10% tier,
// 100,000 of the 1,000,000 fee. Total 200,000.
TEST_F(ReportTest, AClosedMonthFromTheLiveData) {
  json contracts = get("/api/v1/contracts");
  ASSERT_EQ(contracts["contracts"].size(), 1u) << contracts.dump();
  EXPECT_EQ(contracts["contracts"][0]["id"], "web-2026");
  EXPECT_EQ(contracts["contracts"][0]["time_zone"], "Asia/Seoul");

  push("outage.yaml");
  wait_for_incidents(1);
  json r = report();
  EXPECT_EQ(r["month"], "2026-10");
  EXPECT_EQ(r["start"], "2026-09-30T15:00:00.000000Z");
  EXPECT_EQ(r["provisional"], false);
  EXPECT_EQ(r["minutes"]["month"], 44640);
  EXPECT_EQ(r["minutes"]["unavailable"], 45);
  EXPECT_EQ(r["minutes"]["excluded"], 0);
  EXPECT_EQ(r["availability"]["percent"], "99.8991");
  EXPECT_EQ(r["availability"]["target_met"], false);
  ASSERT_EQ(r["incidents"].size(), 1u) << r.dump(2);
  const json& incident = r["incidents"][0];
  EXPECT_EQ(incident["opened"], "2026-10-10T01:00:00.000000Z");
  EXPECT_EQ(incident["resolved"], "2026-10-10T01:45:00.000000Z");
  EXPECT_EQ(incident["grade"]["effective"], "1");
  EXPECT_EQ(incident["locations"], json({{"hit", 2}, {"of", 2}}));
  EXPECT_EQ(incident["penalty"]["minor_units"], 100000);
  EXPECT_EQ(r["credit"]["amount"]["minor_units"], 100000);
  EXPECT_EQ(r["total"]["minor_units"], 200000);
  // Every figure traces to what the API serves: the range names the incident it lists.
  ASSERT_EQ(r["unavailable"].size(), 1u);
  EXPECT_EQ(r["unavailable"][0]["incidents"], json::array({incident["id"]}));
  EXPECT_EQ(get("/api/v1/incidents/" + incident["id"].get<std::string>())["id"], incident["id"]);
  EXPECT_EQ(r["revision"]["number"], 1);

  // The other formats are the same frozen revision.
  HttpReply md = raw("?format=md");
  EXPECT_EQ(md.status, 200);
  EXPECT_THAT(md.body, HasSubstr("99.8991%"));
  EXPECT_THAT(md.body, HasSubstr("| Revision | 1, frozen "));
  HttpReply csv = raw("?format=csv");
  EXPECT_EQ(csv.status, 200);
  EXPECT_THAT(csv.body, HasSubstr(incident["id"].get<std::string>()));
  EXPECT_THAT(csv.body, HasSubstr(",KRW,1,\r\n"));  // the summary: revision 1, none before

  // `leeway report` prints what the API serves.
  ProcessResult printed = cli({"report", "web-2026", "--month", "2026-10", "--format", "json"});
  EXPECT_EQ(printed.exit_code, 0) << printed.err;
  EXPECT_EQ(json::parse(printed.out, nullptr, false), r);
  ProcessResult unknown = cli({"report", "nope", "--month", "2026-10"});
  EXPECT_EQ(unknown.exit_code, 3);
  EXPECT_THAT(unknown.err, HasSubstr("no such contract"));
}

TEST_F(ReportTest, BadRequestsNameWhatIsWrong) {
  auto status = [&](const std::string& target, const std::string& words) {
    HttpReply r = http_request(api_port_, "GET", target);
    json body = json::parse(r.body, nullptr, false);
    EXPECT_THAT(body.value("error", ""), HasSubstr(words)) << target << ": " << r.body;
    return r.status;
  };
  EXPECT_EQ(status("/api/v1/contracts/nope/reports/2026-10", "no such contract: \"nope\""), 404);
  EXPECT_EQ(status("/api/v1/contracts/web-2026/reports/2026-13", "month: expected a month"), 400);
  EXPECT_EQ(status("/api/v1/contracts/web-2026/reports/2099-01", "2099-01 has not started"), 400);
  EXPECT_EQ(status("/api/v1/contracts/web-2026/reports/2026-10?format=pdf", "format: "), 400);
  EXPECT_EQ(status("/api/v1/contracts/web-2026/reports/2026-10?revision=0", "revision: "), 400);
  EXPECT_EQ(status("/api/v1/contracts/web-2026/reports/2026-10?revision=7", "no revision 7"), 404);
}

// The same scenario through `leeway simulate` gives the same report as the daemon fed its
// results; only the daemon freezes it.
TEST_F(ReportTest, SimulateGivesTheDaemonsReport) {
  push("outage.yaml");
  wait_for_incidents(1);
  json live = report();
  ProcessResult simulated =
      simulate({(dir_ / "outage.yaml").string(), "--contract", "web-2026", "--format", "json"});
  ASSERT_EQ(simulated.exit_code, 0) << simulated.err;
  json j = json::parse(simulated.out, nullptr, false);
  ASSERT_EQ(j["reports"].size(), 1u) << simulated.out;
  json offline = j["reports"][0];
  EXPECT_EQ(offline["revision"], nullptr);
  live.erase("revision");
  offline.erase("revision");
  EXPECT_EQ(offline, live) << offline.dump(2) << "\n" << live.dump(2);

  ProcessResult md =
      simulate({(dir_ / "outage.yaml").string(), "--contract", "web-2026", "--format", "md"});
  EXPECT_EQ(md.exit_code, 0) << md.err;
  EXPECT_THAT(md.out, HasSubstr("99.8991%"));
  ProcessResult no_such = simulate({(dir_ / "outage.yaml").string(), "--contract", "x"});
  EXPECT_EQ(no_such.exit_code, 2);
  EXPECT_THAT(no_such.err, HasSubstr("no contract \"x\""));
}

// By hand, revision 2: a second incident, 02:30 (the first failure) to 02:40 (the first success),
// 10 minutes, grade 2 (10,000); 55 minutes unavailable, 44,585 of 44,640 is 99.8767%
// (99.87679...), still the 10% tier: 100,000 + 100,000 + 10,000.
TEST_F(ReportTest, ALateResultMakesAVisibleRevision) {
  push("outage.yaml");
  wait_for_incidents(1);
  json first = report();
  ASSERT_EQ(first["revision"]["number"], 1);
  const std::string sha = first["revision"]["inputs_sha256"];
  // Asked again with nothing new: the same frozen revision, not a new one.
  EXPECT_EQ(report(), first);

  push("late.yaml");
  wait_for_incidents(2);
  json second = report();
  EXPECT_EQ(second["revision"]["number"], 2) << second.dump(2);
  EXPECT_NE(second["revision"]["inputs_sha256"], sha);
  EXPECT_EQ(second["minutes"]["unavailable"], 55);
  EXPECT_EQ(second["availability"]["percent"], "99.8767");
  EXPECT_EQ(second["penalties"]["minor_units"], 110000);
  EXPECT_EQ(second["total"]["minor_units"], 210000);
  EXPECT_EQ(second["revision"]["previous"]["total"]["minor_units"], 200000);
  EXPECT_EQ(second["revision"]["previous"]["availability"], "99.8991");
  EXPECT_EQ(second["revision"]["previous"]["unavailable_minutes"], 45);
  ASSERT_EQ(second["revision"]["changes"].size(), 1u) << second.dump(2);
  EXPECT_EQ(second["revision"]["changes"][0],
            "incident " + second["incidents"][1]["id"].get<std::string>() + ": added");
  HttpReply md = raw("?format=md");
  EXPECT_THAT(md.body, HasSubstr("| Changed since revision 1 | total KRW 200,000 -> KRW 210,000"));
  HttpReply csv = raw("?format=csv");
  EXPECT_THAT(csv.body, HasSubstr(",KRW,2,200000\r\n"));

  // Revision 1 is still served as it was.
  EXPECT_EQ(report("?revision=1"), first);
  EXPECT_EQ(report()["revision"]["number"], 2);
}

}  // namespace
}  // namespace leeway::testing
