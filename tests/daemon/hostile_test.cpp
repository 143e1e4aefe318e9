// Issue 12's hostile inputs thrown at a real `leeway serve`: raw bytes in paths and parameters,
// descriptors exhausted under a low `ulimit -n`, a FIFO in the config, a body that stalls
// backtracking regexes, writes without a token. After each, the daemon must be alive, /healthz
// must tell the truth, nothing false may be stored (the loopback target is healthy, so a `down`
// result could only be leeway's own failure, which must be `unknown`), and nothing stored before
// may be lost.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

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

// The API token of the tests' config, and its hash as the config keeps it (as in serve_test).
constexpr const char* kToken = "test-token-7f3a";
constexpr const char* kTokenHash =
    "sha256:8a454c264e18ea0c595ce62ad7ec5721a0c3e790498ac362022550b1c5a869ee";
const HttpHeaders kAuth = {{"Authorization", std::string("Bearer ") + kToken}};

// The first number after `name` in a Prometheus text page (labels included), or -1.
long metric(const std::string& page, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(page, m, std::regex(name + R"((\{[^}]*\})? (\d+))"))) return -1;
  return std::stol(m[2]);
}

class HostileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_test_dir("leeway-hostile");
    api_port_ = closed_port();
    write_config();
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  // web/ok against the healthy loopback target, then `more` (YAML lines, checks of web, then
  // any top-level keys).
  void write_config(const std::string& more = "") {
    std::ofstream(dir_ / "leeway.yaml")
        << "server:\n  listen: 127.0.0.1:" << api_port_
        << "\n  store: " << (dir_ / "leeway.db").string()
        << "\n  api_tokens:\n    - name: ops\n      hash: " << kTokenHash
        << "\ndefaults:\n  interval: 1s\n  timeout: 1s\n"
        << "services:\n  - id: web\n    checks:\n"
        << "      - name: ok\n        target: " << target_.url("/ok") << "\n"
        << more;
  }

  std::vector<std::string> serve_argv() {
    return {LEEWAY_BINARY, "serve", "-c", (dir_ / "leeway.yaml").string()};
  }

  // Starts `argv` (serve_argv() by default) and waits for /healthz and web/ok's first results.
  std::unique_ptr<ChildProcess> start(std::vector<std::string> argv = {}) {
    if (argv.empty()) argv = serve_argv();
    auto child = std::make_unique<ChildProcess>(argv, (dir_ / "serve.log").string());
    EXPECT_TRUE(wait_until([&] { return history("web%2Fok").size() >= 2; })) << log();
    stored_ = history("web%2Fok");
    return child;
  }

  json get(const std::string& target) {
    HttpReply r = http_request(api_port_, "GET", target);
    return json::parse(r.body.empty() ? "null" : r.body, nullptr, false);
  }

  // The stored results of a check: start time to the whole result.
  std::map<std::int64_t, json> history(const std::string& check) {
    json page = get("/api/v1/checks/" + check + "/results?limit=10000&from=0");
    std::map<std::int64_t, json> out;
    if (page.is_object())
      for (const auto& r : page["results"]) out[r["started_us"].get<std::int64_t>()] = r;
    return out;
  }

  // The promises that must hold after every hostile input.
  void expect_unharmed(const std::string& after) {
    SCOPED_TRACE("after " + after);
    HttpReply health = http_request(api_port_, "GET", "/healthz");
    EXPECT_EQ(health.status, 200) << "the daemon died or stopped answering\n" << log();
    EXPECT_EQ(health.body, R"({"status":"ok"})");
    // Results keep coming: the loop is not frozen, the store takes writes.
    const std::size_t seen = stored_.size();
    EXPECT_TRUE(wait_until([&] { return history("web%2Fok").size() > seen; })) << log();
    std::map<std::int64_t, json> now = history("web%2Fok");
    for (const auto& [started, result] : stored_)
      EXPECT_TRUE(now.count(started)) << "lost: " << result;
    for (const auto& [started, result] : now)
      EXPECT_NE(result["outcome"], "down") << "a false outage of a healthy target: " << result;
    std::string text = log();
    EXPECT_THAT(text, Not(HasSubstr("AddressSanitizer")));
    EXPECT_THAT(text, Not(HasSubstr("runtime error")));
    EXPECT_THAT(text, Not(HasSubstr("terminate called")));
    stored_ = std::move(now);
  }

  std::string log() { return read_file(dir_ / "serve.log"); }

  HttpServer target_;
  std::filesystem::path dir_;
  std::uint16_t api_port_ = 0;
  std::map<std::int64_t, json> stored_;  // web/ok's history at the last check
};

// Item 1 and 6: a raw byte in a path aborted the daemon (exit 134); percent-decoded ids and
// parameters that are not UTF-8 were 500s.
TEST_F(HostileTest, RawBytesInPathsAndParametersAreClearErrors) {
  auto serve = start();
  struct Case {
    std::string method, target;
    int status;  // 0: any status below 500
  };
  const std::vector<Case> cases = {
      {"GET", "/\xfe", 404},
      {"GET",
       "/\xff\xfe\x80/\xc2\x9b"
       "31m",
       404},
      {"GET", "/\x1b[31m", 400},  // a control character: not an HTTP target at all
      {"DELETE", "/api/v1/checks/\xfe/results", 405},
      {"POST", "/\xc0\xaf", 404},
      {"GET", "/api/v1/checks/%FF/results", 400},
      {"GET", "/api/v1/checks/%FE/minutes", 400},
      {"GET", "/api/v1/checks/web%2F%C0%AF/results", 400},  // an overlong '/'
      {"GET", "/api/v1/checks/%ED%A0%80/results", 400},     // a surrogate
      {"GET", "/api/v1/checks/web%2Fok/results?from=%FF", 400},
      {"GET", "/api/v1/checks/web%2Fok/results?location=%FF%FE", 400},
      {"GET", "/api/v1/checks/web%2Fok/minutes?location=%C0%AF", 400},
      {"GET", "/api/v1/checks/web%2Fok/results?cursor=%00%FF", 400},
      {"GET", "/api/v1/checks/web%2Fok/results?%FF=1", 0},
      {"GET", "/api/v1/checks/web%2Fok/results?\xfe=\xff", 0},
      {"GET", "/metrics?\xff", 0},
      {"GET", "/healthz?%FF", 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.method + " " + c.target);
    HttpReply r = http_request(api_port_, c.method, c.target);
    ASSERT_NE(r.status, 0) << "no answer: the daemon died\n" << log();
    if (c.status != 0)
      EXPECT_EQ(r.status, c.status) << r.body;
    else
      EXPECT_LT(r.status, 500) << r.body;
    // Every answer is JSON (or the metrics text) in valid UTF-8: nlohmann refuses anything else.
    if (r.status >= 400) {
      json body = json::parse(r.body, nullptr, false);
      EXPECT_TRUE(body.is_object() && body["error"].is_string()) << r.body;
    }
  }
  expect_unharmed("raw bytes in paths and parameters");
}

// Item 3: 1,100 idle connections against `ulimit -n 1024` spun the accept loop, made the API
// deaf, and stored every check as down ("Couldn't connect to server"). Here the limit is 64 and
// 200 idle connections take every descriptor the daemon has left.
TEST_F(HostileTest, DescriptorExhaustionIsUnknownNeverDownAndTheApiComesBack) {
  std::vector<std::string> argv = {"/usr/bin/prlimit", "--nofile=64:64", "--"};
  for (auto& arg : serve_argv()) argv.push_back(arg);
  auto serve = start(argv);

  std::vector<int> idle;
  sockaddr_in api{};
  api.sin_family = AF_INET;
  api.sin_port = htons(api_port_);
  api.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < 200; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&api), sizeof api), 0);
    idle.push_back(fd);
  }
  // Several runs of web/ok (every second) fall inside the exhaustion.
  std::this_thread::sleep_for(std::chrono::seconds(5));
  for (int fd : idle) ::close(fd);

  // The API answers again once the connections close (the server dropped the ones it accepted
  // and backs off rather than spins on the rest).
  ASSERT_TRUE(wait_until([&] { return http_request(api_port_, "GET", "/healthz").status == 200; }))
      << log();
  expect_unharmed("descriptor exhaustion");

  // The exhaustion was real, and the runs inside it were leeway's failures, said so.
  std::string metrics = http_request(api_port_, "GET", "/metrics").body;
  EXPECT_GT(metric(metrics, "leeway_http_accept_errors_total"), 0) << metrics;
  EXPECT_GT(metric(metrics, "leeway_check_unknown_runs_total"), 0) << metrics;
  int unknown = 0;
  for (const auto& [started, result] : stored_) {
    if (result["outcome"] != "unknown") continue;
    ++unknown;
    EXPECT_THAT(result["error"].get<std::string>(), HasSubstr("leeway cannot open sockets"));
  }
  EXPECT_GT(unknown, 0) << log();
}

// Item 5: an include of a FIFO froze the whole daemon (API and checks) until someone wrote to it.
TEST_F(HostileTest, AFifoIncludeIsRefusedAtStartAndOnReload) {
  ASSERT_EQ(::mkfifo((dir_ / "fifo.yaml").c_str(), 0600), 0);
  const std::string with_fifo = "include: [fifo.yaml]\n";

  // At start: exit 2 with the error, before opening the store. `timeout` turns a freeze into a
  // failure (exit 124) instead of a hung test.
  write_config(with_fifo);
  std::vector<std::string> argv = {"/usr/bin/timeout", "30"};
  for (auto& arg : serve_argv()) argv.push_back(arg);
  ProcessResult r = run_process(argv);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("include: cannot read \""));
  EXPECT_THAT(r.err, HasSubstr("\": not a regular file"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "leeway.db"));

  // On reload: refused, and the daemon keeps serving with the running config.
  write_config();
  auto serve = start();
  write_config(with_fifo);
  serve->signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return log().find("reload refused") != std::string::npos; }))
      << log();
  EXPECT_THAT(log(), HasSubstr("\": not a regular file"));
  expect_unharmed("a FIFO include on SIGHUP");

  HttpReply reload = http_request(api_port_, "POST", "/api/v1/reload", "", kAuth);
  EXPECT_EQ(reload.status, 400) << reload.body;
  EXPECT_THAT(reload.body, HasSubstr("not a regular file"));
  expect_unharmed("a FIFO include through the API");
}

// Item 2: with std::regex, `[0-9]+ results` took 7.6 s on 20,000 digits (on the loop: /healthz
// took 7-9 s) and overflowed the stack on 30,000 (SIGSEGV); `(a|b)*c` on 1 MB did the same.
TEST_F(HostileTest, ABodyHostileToRegexesIsJudgedPromptlyAndTheApiAnswersMeanwhile) {
  // A generous timeout under the sanitizers: the point is that it is met, not by how much.
  const std::string kSlow = "        interval: 3s\n        timeout: 3s\n";
  write_config("      - name: digits\n        target: " + target_.url("/digits/30000") +
               "\n        body_regex: \"[0-9]+ results\"\n" + kSlow +
               "      - name: letters\n        target: " + target_.url("/letters/1048576") +
               "\n        body_regex: \"(a|b)*c\"\n" + kSlow);
  auto serve = start();
  int healthz_failures = 0;
  ASSERT_TRUE(wait_until([&] {
    if (http_request(api_port_, "GET", "/healthz").status != 200) ++healthz_failures;
    return history("web%2Fdigits").size() >= 2 && history("web%2Fletters").size() >= 2;
  })) << log();
  EXPECT_EQ(healthz_failures, 0);

  // Judged on the body, within the check's timeout: not a timeout, not a late loop.
  for (const std::string check : {"web%2Fdigits", "web%2Fletters"})
    for (const auto& [started, result] : history(check)) {
      SCOPED_TRACE(check);
      EXPECT_EQ(result["outcome"], "down") << result;
      EXPECT_EQ(result["stage"], "body") << result;
      EXPECT_THAT(result["error"].get<std::string>(), HasSubstr("no match for /")) << result;
    }
  expect_unharmed("bodies hostile to regexes");
}

// Item 7: POST /api/v1/reload needed no token, and a cross-origin text/plain POST (what any web
// page can send) was accepted.
TEST_F(HostileTest, WritesWithoutATokenOrFromAPageAreRefused) {
  auto serve = start();
  // A config that a reload would apply: it must not be.
  write_config("      - name: teapot\n        target: " + target_.url("/status/418") + "\n");

  HttpReply none = http_request(api_port_, "POST", "/api/v1/reload");
  EXPECT_EQ(none.status, 401) << none.body;
  HttpReply page =
      http_request(api_port_, "POST", "/api/v1/reload", "{}",
                   {{"Content-Type", "text/plain"}, {"Origin", "http://evil.example"}});
  EXPECT_TRUE(page.status == 401 || page.status == 403) << page.status << " " << page.body;
  HttpHeaders with_token = kAuth;
  with_token.emplace_back("Content-Type", "text/plain");
  with_token.emplace_back("Origin", "http://evil.example");
  HttpReply forged = http_request(api_port_, "POST", "/api/v1/reload", "{}", with_token);
  EXPECT_TRUE(forged.status == 403 || forged.status == 415) << forged.status << " " << forged.body;

  EXPECT_EQ(get("/api/v1/checks")["checks"].size(), 1u) << "a refused write reloaded the config";
  EXPECT_THAT(log(), Not(HasSubstr("reload requested")));
  EXPECT_THAT(log(), Not(HasSubstr(kToken)));
  expect_unharmed("writes without a token");
}

}  // namespace
}  // namespace leeway::testing
