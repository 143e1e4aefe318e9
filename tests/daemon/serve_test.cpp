// `leeway serve` as a real process against real loopback targets: results appear, the API
// answers, reload works and a bad reload is refused, kill -9 and SIGTERM keep the history. And
// the daemon's availability cache against a real SQLite store.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/clock.h"
#include "daemon/availability.h"
#include "store/store.h"
#include "support/fixtures.h"
#include "support/http_client.h"
#include "support/http_server.h"
#include "support/peers.h"
#include "support/process.h"

namespace leeway::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

// The API token of the tests' config, and its hash as the config keeps it.
constexpr const char* kToken = "test-token-7f3a";
constexpr const char* kTokenHash =
    "sha256:8a454c264e18ea0c595ce62ad7ec5721a0c3e790498ac362022550b1c5a869ee";
const HttpHeaders kAuth = {{"Authorization", std::string("Bearer ") + kToken}};

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_test_dir("leeway-serve");
    api_port_ = closed_port();
    write_config(checks_yaml("ok", "/ok"));
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string checks_yaml(const std::string& name, const std::string& path) {
    return "      - name: " + name +
           "\n        target: http://127.0.0.1:" + std::to_string(target_.port()) + path + "\n";
  }

  void write_config(const std::string& checks, bool with_token = true) {
    std::ofstream(dir_ / "leeway.yaml") << "server:\n  listen: 127.0.0.1:" << api_port_
                                        << "\n  store: " << (dir_ / "leeway.db").string()
                                        << (with_token ? "\n  api_tokens:\n    - name: ops\n"
                                                         "      hash: " +
                                                             std::string(kTokenHash)
                                                       : std::string())
                                        << "\ndefaults:\n  interval: 1s\n  timeout: 500ms\n"
                                        << "services:\n  - id: web\n    checks:\n"
                                        << checks;
  }

  std::unique_ptr<ChildProcess> start() {
    auto child = std::make_unique<ChildProcess>(
        std::vector<std::string>{LEEWAY_BINARY, "serve", "-c", (dir_ / "leeway.yaml").string()},
        (dir_ / "serve.log").string());
    EXPECT_TRUE(wait_until([&] {
      return http_request(api_port_, "GET", "/healthz").status == 200;
    })) << log();
    return child;
  }

  json get(const std::string& target) {
    HttpReply r = http_request(api_port_, "GET", target);
    return json::parse(r.body.empty() ? "null" : r.body, nullptr, false);
  }

  // Results of a check stored so far (up to 10,000), oldest first.
  std::vector<std::int64_t> result_times(const std::string& check) {
    json page = get("/api/v1/checks/" + check + "/results?order=asc&limit=10000&from=0");
    std::vector<std::int64_t> times;
    if (page.is_object())
      for (const auto& r : page["results"]) times.push_back(r["started_us"]);
    return times;
  }

  std::string log() { return read_file(dir_ / "serve.log"); }

  HttpServer target_;
  std::filesystem::path dir_;
  std::uint16_t api_port_ = 0;
};

TEST_F(ServeTest, ResultsAppearAndTheApiServesThem) {
  auto serve = start();
  ASSERT_TRUE(wait_until([&] { return result_times("web%2Fok").size() >= 2; })) << log();

  json checks = get("/api/v1/checks");
  ASSERT_EQ(checks["checks"].size(), 1u);
  EXPECT_EQ(checks["checks"][0]["id"], "web/ok");
  EXPECT_EQ(checks["checks"][0]["last"][0]["outcome"], "up");
  EXPECT_EQ(checks["checks"][0]["last"][0]["status"], 200);
  EXPECT_EQ(get("/api/v1/services")["services"][0]["checks"][0], "web/ok");
  // Availability comes from the cache, whose first pass runs at start-up.
  ASSERT_TRUE(wait_until(
      [&] { return get("/api/v1/checks")["checks"][0]["availability_24h"].is_object(); }));
  checks = get("/api/v1/checks");
  // The first pass may come before the first result: no ratio then.
  json day = checks["checks"][0]["availability_24h"];
  EXPECT_TRUE(day["ratio"].is_number() || (day["ratio"].is_null() && day["total"] == 0)) << day;
  EXPECT_TRUE(checks["checks"][0]["availability_24h"]["as_of"].is_string());
  EXPECT_TRUE(checks["checks"][0]["availability_30d"]["total"].is_number());

  json minutes = get("/api/v1/checks/web%2Fok/minutes");
  ASSERT_GE(minutes["minutes"].size(), 1u);
  EXPECT_GE(minutes["minutes"][0]["total"].get<int>(), 1);

  HttpReply metrics = http_request(api_port_, "GET", "/metrics");
  EXPECT_THAT(metrics.body, HasSubstr("leeway_check_up{check=\"web/ok\",location=\"local\"} 1"));
  EXPECT_THAT(
      metrics.body,
      HasSubstr("leeway_check_runs_total{check=\"web/ok\",location=\"local\",outcome=\"up\"} "));
  EXPECT_THAT(metrics.body, HasSubstr("leeway_store_queue_depth"));
  EXPECT_THAT(metrics.body, HasSubstr("leeway_results_written_total"));
  EXPECT_THAT(metrics.body, HasSubstr("leeway_store_up 1"));
  EXPECT_THAT(metrics.body, HasSubstr("# TYPE leeway_subscriber_delivered_total counter\n"
                                      "leeway_subscriber_delivered_total{subscriber=\"state\"} "));

  // Bad parameters are 400 with a message, not a crash.
  HttpReply bad = http_request(api_port_, "GET", "/api/v1/checks/web%2Fok/results?from=yesterday");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(
      bad.body,
      R"({"error":"from: expected a time like 2026-11-25T10:00:00Z or Unix seconds, got \"yesterday\""})");
  EXPECT_EQ(http_request(api_port_, "GET", "/api/v1/checks/web%2Fok/results?limit=0").status, 400);
  EXPECT_EQ(http_request(api_port_, "GET", "/api/v1/checks/web%2Fok/results?order=up").status, 400);
  EXPECT_EQ(http_request(api_port_, "GET", "/api/v1/checks/web%2Fok/minutes?from=20&to=10").status,
            400);
  EXPECT_EQ(http_request(api_port_, "GET", "/api/v1/nope").status, 404);
  EXPECT_EQ(http_request(api_port_, "GET", "/healthz").status, 200);
}

// /metrics is written in pieces of about 64 KB on the loop, a family over several of them: the
// text must still hold each family whole, after its header, with every series once.
TEST_F(ServeTest, MetricsOfManyChecksComeInPiecesWithEachFamilyWhole) {
  constexpr int kChecks = 150;  // about 250 KB of text
  std::string checks;
  for (int i = 0; i < kChecks; ++i) checks += checks_yaml("c" + std::to_string(i), "/ok");
  write_config(checks);
  auto serve = start();
  const auto count = [](const std::string& text, const std::string& what) {
    int n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  };
  std::string body;
  ASSERT_TRUE(wait_until([&] {
    body = http_request(api_port_, "GET", "/metrics").body;
    return count(body, "\nleeway_check_up{") == kChecks;
  })) << log();
  EXPECT_GT(body.size(), 3u * 64 * 1024);
  EXPECT_EQ(count(body, "\nleeway_check_duration_seconds_count{"), kChecks);
  EXPECT_EQ(count(body, "\nleeway_check_duration_seconds_bucket{"), kChecks * 12);
  EXPECT_EQ(count(body, "\nleeway_check_runs_total{"), kChecks * 3);
  // The families in the order met; none comes back once another began.
  std::vector<std::string> families;
  std::istringstream lines(body);
  for (std::string line; std::getline(lines, line);) {
    std::string family;
    if (line.rfind("# TYPE ", 0) == 0) {
      family = line.substr(7, line.find(' ', 7) - 7);
    } else if (line.rfind('#', 0) != 0) {
      family = line.substr(0, line.find_first_of("{ "));
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        if (family.starts_with("leeway_check_duration_seconds") && family.ends_with(suffix))
          family.resize(family.size() - std::string_view(suffix).size());
      }
    } else {
      continue;
    }
    if (families.empty() || families.back() != family) {
      EXPECT_EQ(std::count(families.begin(), families.end(), family), 0) << family;
      families.push_back(family);
    }
  }
  EXPECT_THAT(body, ::testing::EndsWith("\n"));
}

TEST_F(ServeTest, ReloadAppliesAGoodConfigAndRefusesABadOne) {
  auto serve = start();
  ASSERT_TRUE(wait_until([&] { return !result_times("web%2Fok").empty(); })) << log();

  write_config(checks_yaml("ok", "/ok") + checks_yaml("teapot", "/status/418"));
  HttpReply reload = http_request(api_port_, "POST", "/api/v1/reload", "", kAuth);
  EXPECT_EQ(reload.status, 200) << reload.body;
  ASSERT_TRUE(wait_until([&] { return !result_times("web%2Fteapot").empty(); })) << log();
  json teapot = get("/api/v1/checks/web%2Fteapot/results")["results"][0];
  EXPECT_EQ(teapot["outcome"], "down");
  EXPECT_TRUE(teapot.contains("cause") && teapot["cause"].is_null()) << teapot;  // reached it

  // A bad file is refused with its errors; the running checks go on.
  write_config(checks_yaml("ok", "/ok") + "        interval: 90x\n");
  reload = http_request(api_port_, "POST", "/api/v1/reload", "", kAuth);
  EXPECT_EQ(reload.status, 400);
  EXPECT_THAT(reload.body, HasSubstr("leeway.yaml:"));
  EXPECT_THAT(reload.body, HasSubstr("interval: expected a duration of at least 1s"));
  std::size_t before = result_times("web%2Fteapot").size();
  ASSERT_TRUE(wait_until([&] { return result_times("web%2Fteapot").size() > before; })) << log();

  // SIGHUP reloads too.
  write_config(checks_yaml("ok", "/ok"));
  serve->signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return get("/api/v1/checks")["checks"].size() == 1; })) << log();
}

TEST_F(ServeTest, KillNineThenRestartKeepsTheHistory) {
  auto serve = start();
  ASSERT_TRUE(wait_until([&] { return result_times("web%2Fok").size() >= 3; })) << log();
  std::vector<std::int64_t> before = result_times("web%2Fok");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // older than the last second
  serve->signal(SIGKILL);
  EXPECT_EQ(serve->wait(), 128 + SIGKILL);

  serve = start();
  ASSERT_TRUE(wait_until([&] { return result_times("web%2Fok").size() > before.size(); })) << log();
  std::vector<std::int64_t> after = result_times("web%2Fok");
  for (std::int64_t t : before)
    EXPECT_NE(std::find(after.begin(), after.end(), t), after.end()) << t;
}

TEST_F(ServeTest, SigtermWritesEveryPendingResult) {
  auto serve = start();
  ASSERT_TRUE(wait_until([&] { return result_times("web%2Fok").size() >= 2; })) << log();
  serve->signal(SIGTERM);
  EXPECT_EQ(serve->wait(), 0) << log();
  std::string text = log();
  auto at = text.find("stopped; ");
  ASSERT_NE(at, std::string::npos) << text;
  long written = std::stol(text.substr(at + 9));

  auto db = store::open_store((dir_ / "leeway.db").string());
  ASSERT_TRUE(db) << db.error().message;
  store::ResultQuery q;
  q.check = "web/ok";
  q.from_us = 0;
  q.to_us = std::numeric_limits<std::int64_t>::max();
  q.limit = 10000;
  auto page = (*db)->results(q);
  ASSERT_TRUE(page);
  EXPECT_EQ(static_cast<long>(page->results.size()), written);
}

// SIGTERM with hundreds of runs in flight against targets that never answer (each waits out a
// 9 s timeout): the daemon abandons them and exits within seconds, with 0 and what it stored.
TEST_F(ServeTest, SigtermWithManyRunsInFlightExitsPromptly) {
  constexpr int kPerTarget = 100;
  SilentPeer silent[4];
  std::ofstream config(dir_ / "leeway.yaml");
  config << "server:\n  listen: 127.0.0.1:" << api_port_
         << "\n  store: " << (dir_ / "leeway.db").string() << "\n  max_concurrent_per_host: 1000\n"
         << "defaults:\n  interval: 10s\n  timeout: 9s\nservices:\n  - id: web\n    checks:\n"
         << checks_yaml("ok", "/ok");
  for (const auto& peer : silent)
    for (int i = 0; i < kPerTarget; ++i)
      config << "      - name: silent-" << peer.port() << "-" << i
             << "\n        target: http://127.0.0.1:" << peer.port() << "/\n";
  config.close();
  auto serve = start();
  auto in_flight = [&] {
    int n = 0;
    for (const auto& peer : silent) n += peer.connections();
    return n;
  };
  // Every check runs once within its first 10 s, so half of them are waiting after 5 s.
  ASSERT_TRUE(wait_until([&] { return in_flight() >= 2 * kPerTarget; }, std::chrono::seconds(30)))
      << in_flight() << " runs in flight\n"
      << log();
  auto begun = std::chrono::steady_clock::now();
  serve->signal(SIGTERM);
  EXPECT_EQ(serve->wait(), 0) << log();
  EXPECT_LT(std::chrono::steady_clock::now() - begun, std::chrono::seconds(5)) << log();
  EXPECT_THAT(log(), HasSubstr("stopped; "));
}

TEST_F(ServeTest, BadConfigExitsTwoBeforeDoingAnything) {
  write_config(checks_yaml("ok", "/ok") + "        interval: 90x\n        bogus: 1\n");
  ProcessResult r = run_process({LEEWAY_BINARY, "serve", "-c", (dir_ / "leeway.yaml").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("leeway.yaml:"));
  EXPECT_THAT(r.err, HasSubstr("interval: expected a duration of at least 1s"));
  EXPECT_THAT(r.err, HasSubstr("bogus"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "leeway.db"));
}

TEST_F(ServeTest, StatusPrintsEveryCheckAndExitsWithTheWorstState) {
  write_config(checks_yaml("ok", "/ok") + checks_yaml("teapot", "/status/418"));
  auto serve = start();
  ASSERT_TRUE(wait_until([&] {
    return !result_times("web%2Fok").empty() && !result_times("web%2Fteapot").empty();
  })) << log();
  const std::string server = "http://127.0.0.1:" + std::to_string(api_port_);

  ProcessResult r = run_process({LEEWAY_BINARY, "status", "--server", server});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;  // one check is down: the plugin convention
  EXPECT_THAT(r.out, HasSubstr("STATE     CHECK"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("UP +web/ok +local"));
  // The error names its stage itself: no "status: status 418".
  EXPECT_THAT(r.out, ::testing::ContainsRegex("DOWN +web/teapot +local .*  status 418 is not in"));

  ProcessResult as_json = run_process({LEEWAY_BINARY, "status", "--server", server, "--json"});
  EXPECT_EQ(as_json.exit_code, 0);
  EXPECT_EQ(json::parse(as_json.out)["checks"].size(), 2u);

  // No daemon there: unknown (3), and the line says what could not be reached.
  const std::string nobody = "http://127.0.0.1:" + std::to_string(closed_port());
  ProcessResult gone = run_process({LEEWAY_BINARY, "status", "--server", nobody});
  EXPECT_EQ(gone.exit_code, 3);
  EXPECT_THAT(gone.err, HasSubstr("leeway status: cannot reach " + nobody + "/api/v1/checks"));
}

// Issue 12, items 1, 6 and 12 against the daemon: raw bytes in a path killed it, non-UTF-8
// parameters were 500s, an unknown check was an empty 200, and no data read as 100%.
TEST_F(ServeTest, HostileRequestsGetClearAnswersAndTheDaemonLives) {
  std::ofstream(dir_ / "leeway.yaml", std::ios::app)
      << "      - name: far\n        target: http://127.0.0.1:1/\n        locations: [far]\n"
      << "locations:\n  - id: far\n";
  auto serve = start();
  auto error = [&](const std::string& method, const std::string& target) {
    HttpReply r = http_request(api_port_, method, target);
    return std::to_string(r.status) + " " + r.body;
  };
  EXPECT_EQ(error("GET", "/\xfe"), "404 {\"error\":\"no such endpoint: /\xef\xbf\xbd\"}");
  EXPECT_EQ(error("DELETE", "/api/v1/checks/\xfe/results"),
            "405 {\"error\":\"method DELETE not allowed on /api/v1/checks/\xef\xbf\xbd/results\"}");
  EXPECT_EQ(error("GET", "/api/v1/checks/%FE/results"),
            R"(400 {"error":"id: not valid UTF-8 once percent-decoded"})");
  EXPECT_EQ(error("GET", "/api/v1/checks/web%2Fok/minutes?location=%FE"),
            R"(400 {"error":"location: not valid UTF-8 once percent-decoded"})");
  EXPECT_EQ(error("GET", "/api/v1/checks/web%2Fnope/results"),
            R"(404 {"error":"no such check: \"web/nope\""})");
  EXPECT_EQ(error("GET", "/api/v1/checks/nope/minutes"),
            R"(404 {"error":"no such check: \"nope\""})");

  // web/far runs at an agent that never reports: no data, so no ratio (the store says 1.0).
  json far;
  ASSERT_TRUE(wait_until([&] {
    far = get("/api/v1/checks")["checks"][1];
    return far["availability_24h"].is_object();
  }));
  EXPECT_EQ(far["id"], "web/far");
  EXPECT_TRUE(far["availability_24h"]["ratio"].is_null()) << far;
  EXPECT_EQ(far["availability_24h"]["total"], 0);
  EXPECT_EQ(http_request(api_port_, "GET", "/healthz").status, 200);
}

// Issue 12, item 7: any web page could make the daemon reload, and the API showed passwords.
TEST_F(ServeTest, WritesNeedATokenAndTargetsHideTheirPasswords) {
  write_config("      - name: secret\n        target: http://user:hunter2@127.0.0.1:" +
               std::to_string(target_.port()) + "/ok\n");
  auto serve = start();
  auto reload = [&](const HttpHeaders& headers, const std::string& body = "") {
    HttpReply r = http_request(api_port_, "POST", "/api/v1/reload", body, headers);
    std::string challenge;
    for (const auto& [name, value] : r.headers)
      if (name == "WWW-Authenticate") challenge = " (" + value + ")";
    return std::to_string(r.status) + " " + r.body + challenge;
  };
  EXPECT_EQ(reload({}),
            R"(401 {"error":"this route writes: it needs Authorization: Bearer <token>"})"
            R"( (Bearer realm="leeway"))");
  EXPECT_EQ(reload({{"Authorization", "Bearer not-it"}}),
            R"(401 {"error":"the API token is not valid"})"
            R"( (Bearer realm="leeway", error="invalid_token"))");
  EXPECT_EQ(reload({{"Authorization", kToken}}).substr(0, 4), "401 ");  // no scheme
  // What a web page can send: a form or text/plain POST, from its own origin.
  HttpHeaders page = kAuth;
  page.emplace_back("Content-Type", "text/plain");
  EXPECT_EQ(reload(page, "{}"), R"(415 {"error":"a write's body must be application/json"})");
  page = kAuth;
  page.emplace_back("Origin", "http://evil.example");
  EXPECT_EQ(reload(page), R"(403 {"error":"writes from another origin are refused"})");
  page = kAuth;
  page.emplace_back("Content-Type", "application/json; charset=utf-8");
  page.emplace_back("Origin", "http://127.0.0.1");  // the Host the client sends
  EXPECT_THAT(reload(page), HasSubstr("200 {\"checks\":1,\"status\":\"reloaded\"}"));
  EXPECT_THAT(log(), HasSubstr("reload requested through the API with the token of ops"));
  EXPECT_THAT(log(), Not(HasSubstr(kToken)));

  json checks = get("/api/v1/checks");
  EXPECT_EQ(checks["checks"][0]["target"],
            "http://user:***@127.0.0.1:" + std::to_string(target_.port()) + "/ok");
  EXPECT_THAT(checks.dump(), Not(HasSubstr("hunter2")));

  // Without tokens, writes are off, and the answer says how to turn them on.
  write_config(checks_yaml("ok", "/ok"), false);
  EXPECT_THAT(reload(kAuth), HasSubstr("200 "));
  EXPECT_EQ(reload(kAuth),
            R"x(403 {"error":"writes are off: no API token is configured; add one under )x"
            R"x(server.api_tokens (see Security in the README)"})x");
  EXPECT_THAT(log(), Not(HasSubstr("WARNING")));  // loopback only
}

// /api/v1/checks, results and minutes run on the HTTP server's worker threads, not the loop.
TEST_F(ServeTest, TheOffloadedRoutesAnswerTogetherAndKeepTheirErrors) {
  auto serve = start();
  ASSERT_TRUE(wait_until([&] { return !result_times("web%2Fok").empty(); })) << log();

  const std::vector<std::string> targets = {"/api/v1/checks", "/api/v1/checks/web%2Fok/results",
                                            "/api/v1/checks/web%2Fok/minutes", "/healthz"};
  std::atomic<int> good{0};
  std::vector<std::thread> clients;
  for (std::size_t i = 0; i < 4; ++i) {
    clients.emplace_back([&, i] {
      for (std::size_t n = 0; n < 10; ++n) {
        HttpReply r = http_request(api_port_, "GET", targets[(i + n) % targets.size()]);
        if (r.status == 200 && json::accept(r.body)) good++;
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(good, 40);

  auto error = [&](const std::string& target) {
    HttpReply r = http_request(api_port_, "GET", target);
    return std::to_string(r.status) + " " + r.body;
  };
  EXPECT_EQ(error("/api/v1/checks/web%2Fok/results?limit=0"),
            R"(400 {"error":"limit: expected a whole number from 1 to 10000, got \"0\""})");
  EXPECT_EQ(error("/api/v1/checks/web%2Fok/results?order=up"),
            R"(400 {"error":"order: expected asc or desc, got \"up\""})");
  EXPECT_EQ(
      error("/api/v1/checks/web%2Fok/results?cursor=nonsense"),
      R"(400 {"error":"cursor: expected the next_cursor of an earlier page, got \"nonsense\""})");
  EXPECT_EQ(error("/api/v1/checks/web%2Fok/minutes?from=20&to=10"),
            R"(400 {"error":"from must be before to"})");
  EXPECT_EQ(
      error("/api/v1/checks/web%2Fok/minutes?to=soon"),
      R"(400 {"error":"to: expected a time like 2026-11-25T10:00:00Z or Unix seconds, got \"soon\""})");
  std::string metrics = http_request(api_port_, "GET", "/metrics").body;
  EXPECT_THAT(metrics, HasSubstr("\nleeway_http_offloaded_requests 0\n"));
  EXPECT_THAT(metrics, ::testing::ContainsRegex("\nleeway_http_connections [1-9][0-9]*\n"));
  EXPECT_THAT(metrics, HasSubstr("\nleeway_http_connections_refused_total 0\n"));
  EXPECT_THAT(metrics, HasSubstr("\nleeway_http_accept_errors_total 0\n"));
}

// SIGTERM while clients keep the worker threads busy reading pages of 10,000 results: the daemon
// waits for the queries that run, and exits 0 with every result written (a use after free would
// make the sanitized binary fail).
TEST_F(ServeTest, SigtermWhileApiQueriesRunStopsCleanly) {
  {
    auto db = store::open_store((dir_ / "leeway.db").string());
    ASSERT_TRUE(db) << db.error().message;
    TimeUs now = SystemClock().now_us();
    std::vector<store::StoredResult> batch;
    for (int i = 0; i < 20'000; ++i) {
      store::StoredResult r;
      r.check = "web/ok";
      r.location = "local";
      r.started_us = now - kDayUs + i * kSecondUs;
      r.total_us = 1000;
      r.outcome = probe::Outcome::kUp;
      batch.push_back(r);
    }
    ASSERT_TRUE((*db)->write(batch));
  }
  auto serve = start();
  std::atomic<int> pages{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&] {
      for (;;) {
        HttpReply r =
            http_request(api_port_, "GET", "/api/v1/checks/web%2Fok/results?from=0&limit=10000");
        if (r.status == 0) return;  // the daemon is gone
        if (r.status == 200) pages++;
      }
    });
  }
  // Pages keep coming (an ASan build on a loaded machine reads a 10,000-result page in seconds).
  EXPECT_TRUE(wait_until([&] { return pages >= 2; }, std::chrono::seconds(90))) << log();
  serve->signal(SIGTERM);
  EXPECT_EQ(serve->wait(), 0) << log();
  for (auto& c : clients) c.join();
  EXPECT_THAT(log(), HasSubstr("stopped; "));
}

class AvailabilityCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("leeway-availability-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto db = store::open_store((dir_ / "leeway.db").string());
    ASSERT_TRUE(db) << db.error().message;
    store_ = std::move(*db);
  }

  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Writes `up` results that are up, then `down` that are down, one second apart from `from_us`.
  void write(const std::string& check, TimeUs from_us, int up, int down) {
    std::vector<store::StoredResult> batch;
    for (int i = 0; i < up + down; ++i) {
      store::StoredResult r;
      r.check = check;
      r.location = "local";
      r.started_us = from_us + i * kSecondUs;
      r.total_us = 1000;
      r.outcome = i < up ? probe::Outcome::kUp : probe::Outcome::kDown;
      batch.push_back(r);
    }
    ASSERT_TRUE(store_->write(batch));
  }

  static constexpr TimeUs kNow = 1'795'600'000 * kSecondUs;  // 2026-11-25T09:46:40Z
  ManualClock clock_{kNow};
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
};

daemon::AvailabilityCacheOptions manual() {
  daemon::AvailabilityCacheOptions o;
  o.refresh_interval_us = 0;  // no worker: the test calls refresh()
  return o;
}

TEST_F(AvailabilityCacheTest, RefreshComputesTheDayAndTheMonth) {
  write("web/a", kNow - kHourUs, 3, 1);
  write("web/a", kNow - 10 * kDayUs, 0, 4);
  daemon::AvailabilityCache cache(*store_, clock_, manual());
  cache.set_checks({"web/a", "web/b"});
  EXPECT_FALSE(cache.get("web/nope"));
  ASSERT_TRUE(cache.get("web/a"));
  EXPECT_FALSE(cache.get("web/a")->day);  // not computed yet

  cache.refresh();
  auto a = cache.get("web/a");
  ASSERT_TRUE(a && a->day && a->month);
  EXPECT_EQ(a->day->total, 4);
  EXPECT_DOUBLE_EQ(a->day->ratio(), 0.75);
  EXPECT_EQ(a->month->total, 8);
  EXPECT_DOUBLE_EQ(a->month->ratio(), 3.0 / 8);
  EXPECT_EQ(a->day_as_of_us, kNow);
  EXPECT_EQ(a->month_as_of_us, kNow);
  auto b = cache.get("web/b");
  ASSERT_TRUE(b && b->day);
  EXPECT_EQ(b->day->total, 0);
  EXPECT_DOUBLE_EQ(b->day->ratio(), 1.0);
}

TEST_F(AvailabilityCacheTest, TheMonthIsRecomputedOnlyWhenOlderThanItsMaxAge) {
  write("web/a", kNow - kHourUs, 1, 0);
  daemon::AvailabilityCache cache(*store_, clock_, manual());
  cache.set_checks({"web/a"});
  cache.refresh();
  ASSERT_EQ(cache.get("web/a")->month->total, 1);

  write("web/a", kNow - 30 * kMinuteUs, 0, 1);
  clock_.advance(kMinuteUs);
  cache.refresh();
  auto a = cache.get("web/a");
  EXPECT_EQ(a->day->total, 2);
  EXPECT_EQ(a->day_as_of_us, kNow + kMinuteUs);
  EXPECT_EQ(a->month->total, 1);  // still the value of a minute ago
  EXPECT_EQ(a->month_as_of_us, kNow);

  clock_.advance(manual().month_max_age_us);
  cache.refresh();
  EXPECT_EQ(cache.get("web/a")->month->total, 2);
}

TEST_F(AvailabilityCacheTest, SetChecksKeepsKnownValuesAndForgetsRemovedChecks) {
  write("web/a", kNow - kHourUs, 2, 0);
  daemon::AvailabilityCache cache(*store_, clock_, manual());
  cache.set_checks({"web/a"});
  cache.refresh();

  cache.set_checks({"web/a", "web/b"});
  ASSERT_TRUE(cache.get("web/a")->day);
  EXPECT_EQ(cache.get("web/a")->day->total, 2);
  EXPECT_FALSE(cache.get("web/b")->day);

  cache.set_checks({"web/b"});
  EXPECT_FALSE(cache.get("web/a"));
}

TEST_F(AvailabilityCacheTest, TheWorkerComputesNewChecksAtOnce) {
  write("web/a", kNow - kHourUs, 1, 1);
  daemon::AvailabilityCacheOptions options;
  options.refresh_interval_us = kHourUs;  // only set_checks() can wake it within the test
  daemon::AvailabilityCache cache(*store_, clock_, options);
  cache.set_checks({"web/a"});
  ASSERT_TRUE(wait_until([&] { return cache.get("web/a")->day.has_value(); }));
  EXPECT_DOUBLE_EQ(cache.get("web/a")->day->ratio(), 0.5);

  cache.set_checks({"web/a", "web/b"});
  ASSERT_TRUE(wait_until([&] { return cache.get("web/b")->day.has_value(); }));
  cache.stop();
  cache.stop();  // idempotent
}

}  // namespace
}  // namespace leeway::testing
