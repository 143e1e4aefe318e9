// `leeway agent` and `leeway serve` as real processes on loopback: the agent's results reach the
// server under its location; with the server away they wait in the spool and arrive when it is
// back, none lost and none twice; after kill -9 the agent resumes from its spool and its saved
// check list, even with the server still away; a full spool drops the oldest and says how many.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "core/clock.h"
#include "http/auth.h"
#include "store/store.h"
#include "support/certs.h"
#include "support/fixtures.h"
#include "support/http_client.h"
#include "support/http_server.h"
#include "support/peers.h"
#include "support/process.h"
#include "support/token_hash.h"

namespace leeway::testing {
namespace {

using nlohmann::json;

constexpr const char* kToken = "edge-token-5c2a";

class AgentProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_test_dir("leeway-agent");
    port_ = closed_port();
    std::ofstream(dir_ / "token") << kToken << "\n";
    write_config(1);
  }
  void TearDown() override {
    agent_.reset();
    serve_.reset();
    std::filesystem::remove_all(dir_);
  }

  // `checks` checks of the target, every second, run only by the agent's location `edge`.
  void write_config(int checks) {
    std::ofstream out(dir_ / "leeway.yaml");
    out << "server:\n  listen: 127.0.0.1:" << port_
        << "\n  store: " << (dir_ / "leeway.db").string()
        << "\nlocations:\n  - id: edge\n    kind: agent\n    token: " << token_hash_text(kToken)
        << "\ndefaults:\n  interval: 1s\n  timeout: 500ms\n  locations: [edge]\n"
        << "services:\n  - id: web\n    checks:\n";
    for (int i = 0; i < checks; ++i)
      out << "      - name: ok" << (i == 0 ? "" : std::to_string(i))
          << "\n        target: http://127.0.0.1:" << target_.port() << "/ok\n";
  }

  void start_serve() {
    serve_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{LEEWAY_BINARY, "serve", "-c", (dir_ / "leeway.yaml").string()},
        (dir_ / "serve.log").string());
    ASSERT_TRUE(wait_until([&] { return http_request(port_, "GET", "/healthz").status == 200; }))
        << logs();
  }
  void stop_serve() {
    serve_->signal(SIGTERM);
    EXPECT_EQ(serve_->wait(), 0) << logs();
    serve_.reset();
  }

  void start_agent(std::uint64_t spool_max_bytes = 64 << 20,
                   const std::vector<std::string>& more = {}) {
    std::vector<std::string> argv{LEEWAY_BINARY,       "agent",
                                  "--server",          server_url_ + std::to_string(port_),
                                  "--location",        "edge",
                                  "--token-file",      (dir_ / "token").string(),
                                  "--spool",           (dir_ / "spool").string(),
                                  "--spool-max-bytes", std::to_string(spool_max_bytes)};
    argv.insert(argv.end(), more.begin(), more.end());
    agent_ = std::make_unique<ChildProcess>(argv, (dir_ / "agent.log").string());
  }

  // Start times of web/ok's results at `edge`, oldest first.
  std::vector<std::int64_t> times() {
    HttpReply r = http_request(
        port_, "GET", "/api/v1/checks/web%2Fok/results?order=asc&limit=10000&from=0&location=edge");
    json page = json::parse(r.body.empty() ? "null" : r.body, nullptr, false);
    std::vector<std::int64_t> out;
    if (page.is_object())
      for (const auto& result : page["results"]) out.push_back(result["started_us"]);
    return out;
  }

  std::string logs() {
    return "serve:\n" + read_file(dir_ / "serve.log") + "agent:\n" + read_file(dir_ / "agent.log");
  }

  // Every slot from `from_us` to `to_us` has its one result: none missing, none twice.
  void expect_every_second(const std::vector<std::int64_t>& t, TimeUs from_us, TimeUs to_us) {
    EXPECT_EQ(std::set<std::int64_t>(t.begin(), t.end()).size(), t.size());
    std::vector<std::int64_t> inside;
    for (auto v : t)
      if (v >= from_us && v <= to_us) inside.push_back(v);
    ASSERT_GE(inside.size(), 2u);
    for (std::size_t i = 1; i < inside.size(); ++i)
      EXPECT_LT(inside[i] - inside[i - 1], 1'500'000) << "a gap before result " << i;
  }

  HttpServer target_;
  std::string server_url_ = "http://127.0.0.1:";
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> serve_;
  std::unique_ptr<ChildProcess> agent_;
};

TEST_F(AgentProcessTest, ResultsReachTheServerUnderTheAgentsLocation) {
  start_serve();
  start_agent();
  ASSERT_TRUE(wait_until([&] { return times().size() >= 3; })) << logs();
  HttpReply r = http_request(port_, "GET", "/api/v1/checks/web%2Fok/results?location=edge");
  json last = json::parse(r.body)["results"][0];
  EXPECT_EQ(last["location"], "edge");
  EXPECT_EQ(last["outcome"], "up");
  EXPECT_EQ(last["status"], 200);
  // Within about a second of the run.
  EXPECT_LT(SystemClock::instance().now_us() - last["started_us"].get<std::int64_t>(), 3'000'000);
  json locations = json::parse(http_request(port_, "GET", "/api/v1/locations").body);
  EXPECT_EQ(locations["locations"][1]["id"], "edge");
  EXPECT_EQ(locations["locations"][1]["up"], true);
  EXPECT_LT(std::abs(locations["locations"][1]["clock_offset_s"].get<double>()), 2.0);
}

TEST_F(AgentProcessTest, WithTheServerAwayResultsWaitInTheSpoolAndArriveOnce) {
  start_serve();
  start_agent();
  ASSERT_TRUE(wait_until([&] { return times().size() >= 2; })) << logs();
  TimeUs first = times().front();
  stop_serve();
  std::this_thread::sleep_for(std::chrono::seconds(4));
  TimeUs back_us = SystemClock::instance().now_us();
  start_serve();
  // The spool drains: the results of the time away arrive, with the new ones after them.
  ASSERT_TRUE(wait_until([&] {
    auto t = times();
    return !t.empty() && t.back() > back_us + kSecondUs;
  })) << logs();
  expect_every_second(times(), first, back_us);
  EXPECT_THAT(read_file(dir_ / "agent.log"), ::testing::HasSubstr("keeping them in the spool"));
}

TEST_F(AgentProcessTest, AfterKillNineTheAgentResumesFromItsSpoolAndSavedChecks) {
  start_serve();
  start_agent();
  ASSERT_TRUE(wait_until([&] { return times().size() >= 2; })) << logs();
  TimeUs first = times().front();
  stop_serve();
  std::this_thread::sleep_for(std::chrono::seconds(2));  // results pile up in the spool
  agent_->signal(SIGKILL);
  EXPECT_EQ(agent_->wait(), 128 + SIGKILL);
  // Restarted with the server still away: it has only its saved list to go on.
  const TimeUs restarted_us = SystemClock::instance().now_us();
  start_agent();
  std::this_thread::sleep_for(std::chrono::seconds(4));
  TimeUs back_us = SystemClock::instance().now_us();
  EXPECT_THAT(read_file(dir_ / "agent.log"), ::testing::HasSubstr("from the saved list"));
  start_serve();
  ASSERT_TRUE(wait_until([&] {
    auto t = times();
    return !t.empty() && t.back() > back_us + kSecondUs;
  })) << logs();
  std::vector<std::int64_t> t = times();
  // The restarted agent's results from while the server was away arrived (its start under a
  // sanitizer on a busy machine may take a second or two of the four)...
  EXPECT_GE(
      std::count_if(t.begin(), t.end(), [&](auto v) { return v > restarted_us && v < back_us; }),
      2);
  // ...and nothing before the kill was lost or doubled (the agent's own restart aside).
  EXPECT_EQ(std::set<std::int64_t>(t.begin(), t.end()).size(), t.size());
  expect_every_second(t, first, restarted_us - kSecondUs);
}

TEST_F(AgentProcessTest, AFullSpoolDropsTheOldestAndReportsHowMany) {
  write_config(20);  // 20 results a second
  start_serve();
  start_agent(8 << 10);  // two segments of 4 KiB: about fifty results
  ASSERT_TRUE(wait_until([&] { return !times().empty(); })) << logs();
  stop_serve();
  std::this_thread::sleep_for(std::chrono::seconds(5));
  start_serve();
  ASSERT_TRUE(wait_until([&] {
    json l = json::parse(http_request(port_, "GET", "/api/v1/locations").body, nullptr, false);
    return l.is_object() && l["locations"][1]["agent_dropped_total"].get<int>() > 0;
  })) << logs();
  EXPECT_THAT(http_request(port_, "GET", "/metrics").body,
              ::testing::ContainsRegex("leeway_location_agent_dropped_total\\{location=\"edge\"\\} "
                                       "[1-9]"));
}

// server.tls: the API speaks HTTPS only, and an agent trusting the private CA pushes through it.
TEST_F(AgentProcessTest, TheAgentPushesOverTlsTrustingItsCaFile) {
  TestCa ca((dir_ / "ca").string());
  CertFiles cert = ca.issue("server", "127.0.0.1", -1, 30);
  std::string text = read_file(dir_ / "leeway.yaml");
  text.replace(
      text.find("\nlocations:"), 0,
      "\n  tls:\n    cert_file: " + cert.cert_pem_path + "\n    key_file: " + cert.key_pem_path);
  std::ofstream(dir_ / "leeway.yaml") << text;
  serve_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{LEEWAY_BINARY, "serve", "-c", (dir_ / "leeway.yaml").string()},
      (dir_ / "serve.log").string());
  ASSERT_TRUE(wait_until([&] {
    return read_file(dir_ / "serve.log").find("listening on https://") != std::string::npos;
  })) << logs();
  // Plain HTTP gets no answer.
  EXPECT_EQ(http_request(port_, "GET", "/healthz").status, 0);

  // Without the CA the agent cannot push; with it, it does.
  server_url_ = "https://127.0.0.1:";
  start_agent();
  ASSERT_TRUE(wait_until([&] {
    return read_file(dir_ / "agent.log").find("cannot push results") != std::string::npos;
  })) << logs();
  agent_.reset();
  EXPECT_FALSE(std::filesystem::exists(dir_ / "spool" / "state.json"));
  start_agent(64 << 20, {"--ca-file", ca.ca_pem_path()});
  // The spool's state moves on when the server has committed a batch of results.
  ASSERT_TRUE(wait_until([&] {
    json state = json::parse(read_file(dir_ / "spool" / "state.json"), nullptr, false);
    return state.is_object() && state["offset"].get<int>() > 0;
  })) << logs();
  stop_serve();
  auto db = store::open_store((dir_ / "leeway.db").string());
  ASSERT_TRUE(db) << db.error().message;
  store::ResultQuery q{
      .check = "web/ok", .location = "edge", .to_us = SystemClock::instance().now_us()};
  auto page = (*db)->results(q);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_FALSE(page->results.empty()) << logs();
}

}  // namespace
}  // namespace leeway::testing
