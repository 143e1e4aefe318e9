// The server side of vantage agents against a real `leeway serve` on loopback: per-location
// tokens (401, 403), the check list with its ETag and long poll across a reload, each refusal of
// a bad batch with the index and field it names, a retried batch stored once, and location
// health in the API, /metrics and `leeway status`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "agent/wire.h"
#include "core/clock.h"
#include "http/auth.h"
#include "support/fixtures.h"
#include "support/http_client.h"
#include "support/peers.h"
#include "support/process.h"
#include "support/token_hash.h"

namespace leeway::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kTokenA = "token-of-seoul-kt-4b1d";
constexpr const char* kTokenB = "token-of-busan-skb-93ce";

HttpHeaders bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
}

class AgentApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_test_dir("leeway-agent-api");
    port_ = closed_port();
    std::ofstream(dir_ / "busan.hash") << token_hash_text(kTokenB) << "\n";
    write_config("");
    serve_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{LEEWAY_BINARY, "serve", "-c", (dir_ / "leeway.yaml").string()},
        (dir_ / "serve.log").string());
    ASSERT_TRUE(wait_until([&] { return http_request(port_, "GET", "/healthz").status == 200; }))
        << log();
  }
  void TearDown() override {
    serve_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Checks that run only at the agent locations (nothing local), plus `more`.
  void write_config(const std::string& more) {
    std::ofstream(dir_ / "leeway.yaml")
        << "server:\n  listen: 127.0.0.1:" << port_
        << "\n  store: " << (dir_ / "leeway.db").string()
        << "\n  api_tokens:\n    - name: ops\n      hash: " << token_hash_text("ops-token") << "\n"
        << "locations:\n"
        << "  - id: seoul-kt\n    isp: kt\n    token: \"" << token_hash_text(kTokenA) << "\"\n"
        << "  - id: busan-skb\n    isp: skb\n    token_file: busan.hash\n"
        << "defaults:\n  interval: 10s\n  timeout: 2s\n"
        << "services:\n  - id: web\n    checks:\n"
        << "      - name: home\n        target: https://shop.example/\n"
        << "        locations: [seoul-kt, busan-skb]\n        header: \"X-A: 1\"\n"
        << "        expect_status: [200, 301-302]\n"
        << "      - name: seoul-only\n        target: tcp://db.example:5432\n"
        << "        locations: [seoul-kt]\n"
        << more;
  }

  HttpReply post(const std::string& token, const json& body) {
    return http_request(port_, "POST", "/api/v1/agent/results", body.dump(), bearer(token));
  }

  json batch(const std::string& id, const json& results, TimeUs sent_us = 0) {
    if (sent_us == 0) sent_us = SystemClock::instance().now_us();
    return {{"batch", id}, {"location", "seoul-kt"}, {"sent_us", sent_us}, {"results", results}};
  }

  json result(const std::string& check, TimeUs started_us) {
    store::StoredResult r;
    r.check = check;
    r.started_us = started_us;
    r.total_us = 1234;
    r.outcome = probe::Outcome::kDown;
    r.stage = probe::Stage::kConnect;
    r.error = "connection refused";
    r.dns_us = 10;
    return agent::result_to_json(r);
  }

  json get(const std::string& target) {
    HttpReply r = http_request(port_, "GET", target);
    return json::parse(r.body.empty() ? "null" : r.body, nullptr, false);
  }

  std::string log() { return read_file(dir_ / "serve.log"); }

  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> serve_;
};

std::string header(const HttpReply& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  return "";
}

TEST_F(AgentApiTest, TokensArePerLocation) {
  HttpReply none = http_request(port_, "GET", "/api/v1/agent/checks");
  EXPECT_EQ(none.status, 401);
  EXPECT_THAT(header(none, "WWW-Authenticate"), HasSubstr("Bearer"));
  EXPECT_EQ(http_request(port_, "GET", "/api/v1/agent/checks", "", bearer("wrong")).status, 401);
  // The API's write token is not an agent's.
  EXPECT_EQ(http_request(port_, "GET", "/api/v1/agent/checks", "", bearer("ops-token")).status,
            401);
  EXPECT_EQ(post("wrong", batch("b1", json::array())).status, 401);
  // Busan's token (from its token_file) pushing as Seoul.
  HttpReply as_other = post(kTokenB, batch("b1", json::array({result("web/home", 1)})));
  EXPECT_EQ(as_other.status, 403);
  EXPECT_THAT(as_other.body, HasSubstr("busan-skb"));
  EXPECT_EQ(
      http_request(port_, "GET", "/api/v1/agent/checks?location=seoul-kt", "", bearer(kTokenB))
          .status,
      403);
  // No token ever reaches the log.
  EXPECT_THAT(log(), ::testing::Not(HasSubstr(kTokenA)));
  EXPECT_THAT(log(), ::testing::Not(HasSubstr(kTokenB)));
}

TEST_F(AgentApiTest, ChecksComeWithAnETagAndTheLongPollFollowsAReload) {
  HttpReply first = http_request(port_, "GET", "/api/v1/agent/checks", "", bearer(kTokenA));
  ASSERT_EQ(first.status, 200) << first.body;
  std::string etag = header(first, "ETag");
  ASSERT_FALSE(etag.empty());
  auto list = agent::check_list_from_json(json::parse(first.body));
  ASSERT_TRUE(list) << list.error().message;
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, "web/home");
  EXPECT_EQ((*list)[0].interval_us, 10 * kSecondUs);
  EXPECT_EQ((*list)[0].spec.timeout_us, 2 * kSecondUs);
  EXPECT_EQ((*list)[0].spec.http.headers.size(), 1u);
  EXPECT_EQ((*list)[0].spec.http.expect_status.size(), 2u);
  EXPECT_EQ((*list)[1].spec.kind, probe::Kind::kTcp);
  HttpReply busan = http_request(port_, "GET", "/api/v1/agent/checks", "", bearer(kTokenB));
  EXPECT_EQ(json::parse(busan.body)["checks"].size(), 1u);

  HttpHeaders same = bearer(kTokenA);
  same.emplace_back("If-None-Match", etag);
  EXPECT_EQ(http_request(port_, "GET", "/api/v1/agent/checks", "", same).status, 304);
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(http_request(port_, "GET", "/api/v1/agent/checks?wait=1", "", same).status, 304);
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(900));
  EXPECT_EQ(http_request(port_, "GET", "/api/v1/agent/checks?wait=61", "", same).status, 400);

  // A reload that changes Seoul's checks answers its parked poll at once.
  std::thread reload([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    write_config(
        "      - name: added\n        target: icmp://10.0.0.1\n"
        "        locations: [seoul-kt]\n");
    serve_->signal(SIGHUP);
  });
  started = std::chrono::steady_clock::now();
  HttpReply changed = http_request(port_, "GET", "/api/v1/agent/checks?wait=30", "", same);
  reload.join();
  EXPECT_EQ(changed.status, 200) << changed.body;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  EXPECT_NE(header(changed, "ETag"), etag);
  EXPECT_EQ(json::parse(changed.body)["checks"].size(), 3u);
}

TEST_F(AgentApiTest, EachBadBatchIsRefusedWithItsIndexAndField) {
  TimeUs now = SystemClock::instance().now_us();
  auto refused = [&](const json& body) {
    HttpReply r = post(kTokenA, body);
    return std::to_string(r.status) + " " + json::parse(r.body, nullptr, false).value("error", "");
  };
  EXPECT_EQ(
      http_request(port_, "POST", "/api/v1/agent/results", "{not json", bearer(kTokenA)).status,
      400);
  EXPECT_EQ(refused(json{{"batch", "b"}, {"location", "seoul-kt"}, {"results", json::array()}}),
            "400 sent_us: expected the agent's clock when it sent the batch, in microseconds since "
            "the epoch");
  json missing = result("web/home", now);
  missing.erase("outcome");
  EXPECT_EQ(refused(batch("b", {result("web/home", now), missing})),
            "400 results[1].outcome: expected up, degraded, down or unknown");
  EXPECT_EQ(refused(batch("b", {result("web/home", now), result("web/nope", now)})),
            "422 results[1].check: unknown check \"web/nope\"");
  EXPECT_EQ(refused(json{{"batch", "b"},
                         {"location", "busan-skb"},
                         {"sent_us", now},
                         {"results", json::array({result("web/seoul-only", now)})}})
                .substr(0, 3),
            "403");
  HttpReply not_assigned =
      http_request(port_, "POST", "/api/v1/agent/results",
                   json{{"batch", "b"},
                        {"location", "busan-skb"},
                        {"sent_us", now},
                        {"results", {result("web/home", now), result("web/seoul-only", now)}}}
                       .dump(),
                   bearer(kTokenB));
  EXPECT_EQ(not_assigned.status, 422);
  EXPECT_THAT(not_assigned.body,
              HasSubstr("results[1].check: \\\"web/seoul-only\\\" is not assigned to location "
                        "\\\"busan-skb\\\""));
  std::string future = refused(batch("b", json::array({result("web/home", now + 10 * kMinuteUs)})));
  EXPECT_THAT(future, HasSubstr("422 results[0].started_us: "));
  EXPECT_THAT(future, HasSubstr("ahead of the server's clock"));
  // Over the body limit.
  json big = batch("b", json::array());
  for (int i = 0; i < 9000; ++i) big["results"].push_back(result("web/home", now - i));
  EXPECT_EQ(post(kTokenA, big).status, 413);
  // Nothing of the refused batches was stored: the good results before a bad one neither.
  json page = get("/api/v1/checks/web%2Fhome/results?from=0&limit=100");
  EXPECT_EQ(page["results"].size(), 0u) << page;
}

TEST_F(AgentApiTest, ARetriedBatchIsStoredOnce) {
  TimeUs now = SystemClock::instance().now_us();
  json results = json::array();
  for (int i = 0; i < 20; ++i) results.push_back(result("web/home", now - (i + 1) * kSecondUs));
  json body = batch("seoul-kt:1:0", results);
  HttpReply first = post(kTokenA, body);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(json::parse(first.body)["stored"], 20);
  // The answer was lost (say): the agent sends the same batch again.
  HttpReply again = post(kTokenA, body);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(json::parse(again.body)["stored"], 0);
  EXPECT_EQ(json::parse(again.body)["duplicates"], 20);
  json page = get("/api/v1/checks/web%2Fhome/results?from=0&limit=100&location=seoul-kt");
  ASSERT_EQ(page["results"].size(), 20u) << page;
  EXPECT_EQ(page["results"][0]["location"], "seoul-kt");
  EXPECT_EQ(page["results"][0]["error"], "connection refused");
  EXPECT_EQ(page["results"][0]["timings_us"]["dns"], 10);
}

TEST_F(AgentApiTest, LocationHealthShowsContactAndClockOffset) {
  TimeUs now = SystemClock::instance().now_us();
  // Seoul's clock is 10 s behind the server's.
  ASSERT_EQ(post(kTokenA, batch("b", json::array({result("web/home", now - 11 * kSecondUs)}),
                                now - 10 * kSecondUs))
                .status,
            200);
  json locations = get("/api/v1/locations")["locations"];
  ASSERT_EQ(locations.size(), 3u) << locations;
  EXPECT_EQ(locations[0]["id"], "local");
  EXPECT_EQ(locations[0]["up"], true);
  EXPECT_EQ(locations[1]["id"], "seoul-kt");
  EXPECT_EQ(locations[1]["up"], true);
  EXPECT_NEAR(locations[1]["clock_offset_s"].get<double>(), 10, 1);
  EXPECT_EQ(locations[1]["clock_offset_flagged"], true);
  EXPECT_EQ(locations[1]["results_total"], 1);
  EXPECT_EQ(locations[2]["id"], "busan-skb");
  EXPECT_EQ(locations[2]["up"], false);
  EXPECT_TRUE(locations[2]["last_contact"].is_null());
  EXPECT_EQ(locations[2]["note"], "no contact since the server started");

  std::string metrics = http_request(port_, "GET", "/metrics").body;
  EXPECT_THAT(metrics, HasSubstr("leeway_location_up{location=\"seoul-kt\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("leeway_location_up{location=\"busan-skb\"} 0"));
  EXPECT_THAT(metrics, HasSubstr("leeway_location_clock_offset_seconds{location=\"seoul-kt\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("leeway_location_last_contact_seconds{location=\"seoul-kt\"} "));

  ProcessResult status = run_process(
      {LEEWAY_BINARY, "status", "--server", "http://127.0.0.1:" + std::to_string(port_)});
  EXPECT_THAT(status.out, HasSubstr("LOCATION"));
  EXPECT_THAT(status.out, ::testing::ContainsRegex("seoul-kt +agent +UP +- +10\\.[0-9]+s \\(!\\)"));
  EXPECT_THAT(status.out, ::testing::ContainsRegex("busan-skb +agent +DOWN +never"));
}

}  // namespace
}  // namespace leeway::testing
