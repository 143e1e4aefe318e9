// The http(s) prober through ProbeEngine against real loopback servers: one test per outcome and
// stage, plus fresh connections, concurrency and a throughput figure.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include "core/clock.h"
#include "probe/probe.h"
#include "probe/probers.h"
#include "support/certs.h"
#include "support/http_server.h"
#include "support/peers.h"

namespace leeway::probe {
namespace {

using leeway::testing::HttpServer;
using leeway::testing::HttpServerOptions;

// What a timed-out run may take past its timeout: loop scheduling under sanitizers.
constexpr DurationUs kTimeoutSlackUs = 200 * kMillisecondUs;

class HttpProbeTest : public ::testing::Test {
 protected:
  CheckSpec spec_for(const std::string& url) {
    auto spec = parse_target(url);
    EXPECT_TRUE(spec) << spec.error().message;
    spec->timeout_us = 5 * kSecondUs;
    return *spec;
  }

  ProbeResult run(const CheckSpec& spec) {
    std::optional<ProbeResult> result;
    engine_.run(spec, [&](ProbeResult r) { result = std::move(r); });
    while (!result && io_.run_one()) {
    }
    EXPECT_TRUE(result.has_value());
    return result.value_or(ProbeResult{});
  }

  ProbeResult run(const std::string& url) { return run(spec_for(url)); }

  boost::asio::io_context io_;
  ProbeEngine engine_{io_, SystemClock::instance()};
};

// Certificates for the https tests, made once for the suite.
class HttpsProbeTest : public HttpProbeTest {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(std::filesystem::temp_directory_path() /
                           ("leeway_http_test_" + std::to_string(::getpid())));
    ca_ = new leeway::testing::TestCa(*dir_);
  }
  static void TearDownTestSuite() {
    delete ca_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static HttpServerOptions tls(const leeway::testing::CertFiles& files) {
    return {files.cert_pem_path, files.key_pem_path};
  }
  static inline std::string* dir_ = nullptr;
  static inline leeway::testing::TestCa* ca_ = nullptr;
};

// An http prober on a context of its own, so a test can move the trust stores' clock and count
// how often a CA source was parsed.
struct OwnProber {
  ProbeResult run(const CheckSpec& spec) {
    std::optional<ProbeResult> result;
    prober->start(spec, [&](ProbeResult r) { result = std::move(r); });
    while (!result && io.run_one()) {
    }
    EXPECT_TRUE(result.has_value());
    return result.value_or(ProbeResult{});
  }

  boost::asio::io_context io;
  ManualClock clock;
  Resolver resolver{io};
  TrustStores trust{clock};
  ProbeContext ctx{io, resolver, trust};
  std::unique_ptr<Prober> prober = make_http_prober(ctx);
};

// Puts `from`'s content at `to` as package managers do: a new file renamed over the old one.
void replace_file(const std::string& from, const std::string& to) {
  std::filesystem::copy_file(from, to + ".new", std::filesystem::copy_options::overwrite_existing);
  std::filesystem::rename(to + ".new", to);
}

// Puts `from`'s content at `to` by rewriting the same file, as an editor may.
void rewrite_file(const std::string& from, const std::string& to) {
  std::ifstream in(from);
  std::ofstream out(to, std::ios::trunc);
  out << in.rdbuf();
}

TEST_F(HttpProbeTest, UpWithStageTimings) {
  HttpServer server;
  auto r = run(server.url("/ok"));
  EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;
  EXPECT_EQ(r.stage, Stage::kNone);
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.remote_address, "127.0.0.1");
  EXPECT_EQ(r.timings.dns_us, -1);  // an address literal needs no lookup
  EXPECT_GE(r.timings.connect_us, 0);
  EXPECT_EQ(r.timings.tls_us, -1);
  EXPECT_GE(r.timings.first_byte_us, 0);
  EXPECT_GE(r.timings.total_us, r.timings.connect_us + r.timings.first_byte_us);
  EXPECT_TRUE(r.error.empty()) << r.error;
}

TEST_F(HttpProbeTest, StatusOutsideDefaultRangeIsDownAtStatus) {
  HttpServer server;
  auto r = run(server.url("/status/503"));
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kStatus);
  EXPECT_EQ(r.http_status, 503);
  EXPECT_EQ(r.error, "status 503 is not in the expected 200-399");
}

TEST_F(HttpProbeTest, CustomExpectedStatus) {
  HttpServer server;
  auto spec = spec_for(server.url("/status/404"));
  spec.http.expect_status = {{404, 404}, {410, 410}};
  EXPECT_EQ(run(spec).outcome, Outcome::kUp);

  spec = spec_for(server.url("/ok"));
  spec.http.expect_status = {{201, 204}, {404, 404}};
  auto r = run(spec);
  EXPECT_EQ(r.stage, Stage::kStatus);
  EXPECT_EQ(r.error, "status 200 is not in the expected 201-204, 404");
}

TEST_F(HttpProbeTest, BodyContains) {
  HttpServer server;
  auto spec = spec_for(server.url("/ok"));
  spec.http.body_contains = "ell";
  EXPECT_EQ(run(spec).outcome, Outcome::kUp);

  spec.http.body_contains = "goodbye";
  auto r = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kBody);
  EXPECT_EQ(r.error, "\"goodbye\" not found in the body");
}

TEST_F(HttpProbeTest, BodyRegex) {
  HttpServer server;
  auto spec = spec_for(server.url("/json"));
  spec.http.body_regex = R"("version":\s*[0-9]+)";
  EXPECT_EQ(run(spec).outcome, Outcome::kUp);

  spec.http.body_regex = R"("version":\s*"[a-z]+")";
  auto r = run(spec);
  EXPECT_EQ(r.stage, Stage::kBody);
  EXPECT_NE(r.error.find("no match for"), std::string::npos) << r.error;

  spec.http.body_regex = "([unclosed";
  r = run(spec);
  EXPECT_EQ(r.stage, Stage::kBody);
  EXPECT_EQ(r.error, "bad body_regex \"([unclosed\": missing ]: [unclosed") << r.error;
}

// Bodies that took a backtracking engine seconds (20,000 digits) or overflowed its stack (30,000
// digits; (a|b)*c on 1 MiB): RE2 answers in linear time, and the verdict is right.
TEST_F(HttpProbeTest, HostileBodiesDoNotStallTheRegex) {
  HttpServer server;
  auto spec = spec_for(server.url("/digits/30000"));
  spec.http.body_regex = "[0-9]+ results";
  auto r = run(spec);
  EXPECT_EQ(r.stage, Stage::kBody);
  EXPECT_EQ(r.error, "no match for /[0-9]+ results/ in the body");

  spec.http.body_regex = "^[0-9]+$";
  EXPECT_EQ(run(spec).outcome, Outcome::kUp);

  spec = spec_for(server.url("/letters/" + std::to_string(1 << 20)));
  spec.http.body_regex = "(a|b)*c";
  r = run(spec);
  EXPECT_EQ(r.stage, Stage::kBody);
  EXPECT_EQ(r.error, "no match for /(a|b)*c/ in the body");

  spec.http.body_regex = "(a|b)*a$";
  EXPECT_EQ(run(spec).outcome, Outcome::kUp);
}

TEST_F(HttpProbeTest, JsonPointerMatches) {
  HttpServer server;
  auto spec = spec_for(server.url("/json"));
  spec.http.json_pointer = "/checks/db";
  spec.http.json_equals = "ok";  // a bare string
  EXPECT_EQ(run(spec).outcome, Outcome::kUp);
  spec.http.json_equals = "\"ok\"";  // the same as JSON text
  EXPECT_EQ(run(spec).outcome, Outcome::kUp);
  spec.http.json_pointer = "/version";
  spec.http.json_equals = "3";
  EXPECT_EQ(run(spec).outcome, Outcome::kUp);
  spec.http.json_pointer = "/items/2";
  spec.http.json_equals.reset();  // present is enough
  EXPECT_EQ(run(spec).outcome, Outcome::kUp);
}

TEST_F(HttpProbeTest, JsonPointerValueDiffers) {
  HttpServer server;
  auto spec = spec_for(server.url("/json"));
  spec.http.json_pointer = "/checks/cache";
  spec.http.json_equals = "ok";
  auto r = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kBody);
  EXPECT_EQ(r.error, "JSON at /checks/cache is \"degraded\", expected ok");
}

TEST_F(HttpProbeTest, JsonPointerMissing) {
  HttpServer server;
  auto spec = spec_for(server.url("/json"));
  spec.http.json_pointer = "/checks/queue";
  auto r = run(spec);
  EXPECT_EQ(r.stage, Stage::kBody);
  EXPECT_EQ(r.error, "JSON has nothing at /checks/queue");

  spec.http.json_pointer = "no-leading-slash";
  r = run(spec);
  EXPECT_EQ(r.stage, Stage::kBody);
  EXPECT_NE(r.error.find("bad JSON pointer"), std::string::npos) << r.error;
}

TEST_F(HttpProbeTest, JsonPointerOnNonJsonBody) {
  HttpServer server;
  auto spec = spec_for(server.url("/ok"));
  spec.http.json_pointer = "/status";
  auto r = run(spec);
  EXPECT_EQ(r.stage, Stage::kBody);
  EXPECT_EQ(r.error, "body is not valid JSON");
}

TEST_F(HttpProbeTest, SlowerThanThresholdIsDegraded) {
  HttpServer server;
  auto spec = spec_for(server.url("/slow/150"));
  spec.degraded_after_us = 50 * kMillisecondUs;
  auto r = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kDegraded);
  EXPECT_EQ(r.stage, Stage::kNone);
  EXPECT_EQ(r.http_status, 200);
  EXPECT_GE(r.timings.first_byte_us, 150 * kMillisecondUs);
}

TEST_F(HttpProbeTest, RedirectFollowed) {
  HttpServer server;
  auto spec = spec_for(server.url("/redirect"));
  spec.http.body_contains = "hello";
  auto r = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(server.requests(), 2);
}

TEST_F(HttpProbeTest, RedirectNotFollowed) {
  HttpServer server;
  auto spec = spec_for(server.url("/redirect"));
  spec.http.follow_redirects = Redirects::kNone;
  auto r = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kUp);  // 302 is in the default 200-399
  EXPECT_EQ(r.http_status, 302);
  EXPECT_EQ(server.requests(), 1);

  spec.http.expect_status = {{200, 299}};
  r = run(spec);
  EXPECT_EQ(r.stage, Stage::kStatus);
  EXPECT_EQ(r.http_status, 302);
}

// 127.0.0.2 is another host on the same loopback interface.
TEST_F(HttpProbeTest, RedirectToAnotherHostOnlyWhenTheCheckSaysSo) {
  HttpServer first;
  HttpServer second(HttpServerOptions{.address = "127.0.0.2"});
  auto spec = spec_for(first.url("/redirect-to/" + second.url("/ok")));
  auto r = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kStatus);
  EXPECT_EQ(r.error,
            "redirect to " + second.url("/ok") +
                " not followed: it leaves 127.0.0.1 (follow_redirects: any would follow it)");
  EXPECT_EQ(second.connections(), 0);

  spec.http.follow_redirects = Redirects::kAny;
  spec.http.body_contains = "hello";
  r = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;
  EXPECT_EQ(r.remote_address, "127.0.0.2");
  EXPECT_EQ(second.requests(), 1);

  spec.http.follow_redirects = Redirects::kNone;
  spec.http.body_contains.clear();
  r = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kUp);  // the 302 itself
  EXPECT_EQ(r.http_status, 302);
  EXPECT_EQ(second.requests(), 1);
}

TEST_F(HttpProbeTest, RedirectToAnotherHostDropsCredentials) {
  HttpServer first;
  HttpServer second(HttpServerOptions{.address = "127.0.0.2"});
  auto spec = spec_for(first.url("/redirect-to/" + second.url("/echo")));
  spec.http.follow_redirects = Redirects::kAny;
  spec.http.headers = {{"Authorization", "Bearer secret"}, {"X-Leeway", "yes"}};
  spec.http.json_pointer = "/headers/x-leeway";
  EXPECT_EQ(run(spec).outcome, Outcome::kUp);
  spec.http.json_pointer = "/headers/authorization";
  EXPECT_EQ(run(spec).error, "JSON has nothing at /headers/authorization");
}

TEST_F(HttpProbeTest, RedirectAfterPostIsAGet) {
  HttpServer server;
  auto spec = spec_for(server.url("/redirect-to/" + server.url("/echo")));
  spec.http.method = "POST";
  spec.http.body = "payload";
  spec.http.json_pointer = "/method";
  spec.http.json_equals = "GET";
  auto r = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;
}

// Whatever its spelling, a link-local or metadata address is never a redirect's destination,
// even with follow_redirects: any; nothing connects to it.
TEST_F(HttpProbeTest, RedirectNeverReachesLinkLocalOrMetadata) {
  HttpServer server;
  for (auto [location, refusal] : {
           std::pair{"http://169.254.169.254/latest/meta-data/",
                     "169.254.169.254 is a link-local address"},
           std::pair{"http://[::ffff:169.254.169.254]/", "169.254.169.254 is a link-local address"},
           std::pair{"http://2852039166/", "169.254.169.254 is a link-local address"},
           std::pair{"http://0xa9fea9fe/", "169.254.169.254 is a link-local address"},
           std::pair{"http://[fe80::1]/", "fe80::1 is a link-local address"},
           std::pair{"http://100.100.100.200/", "100.100.100.200 is a cloud metadata address"},
           std::pair{"http://[fd00:ec2::254]/", "fd00:ec2::254 is a cloud metadata address"},
       }) {
    auto spec = spec_for(server.url("/redirect-to/") + location);
    spec.http.follow_redirects = Redirects::kAny;
    spec.timeout_us = 500 * kMillisecondUs;
    auto r = run(spec);
    EXPECT_EQ(r.stage, Stage::kStatus) << location;
    EXPECT_EQ(r.error.rfind("redirect to ", 0), 0u) << r.error;
    EXPECT_NE(r.error.find(std::string(" refused: ") + refusal), std::string::npos) << r.error;
    EXPECT_EQ(r.timings.connect_us, -1) << location;
  }
}

TEST_F(HttpProbeTest, MethodHeadersAndBodyReachTheServer) {
  HttpServer server;
  auto spec = spec_for(server.url("/echo"));
  spec.http.method = "PUT";
  spec.http.headers = {{"X-Leeway", "yes"}, {"Content-Type", "text/plain"}};
  spec.http.body = "payload";
  for (auto [pointer, expected] :
       {std::pair{"/method", "PUT"}, std::pair{"/headers/x-leeway", "yes"},
        std::pair{"/headers/content-type", "text/plain"}, std::pair{"/body", "payload"}}) {
    spec.http.json_pointer = pointer;
    spec.http.json_equals = expected;
    auto r = run(spec);
    EXPECT_EQ(r.outcome, Outcome::kUp) << pointer << ": " << r.error;
  }

  spec.http.method = "DELETE";
  spec.http.body.clear();
  spec.http.json_pointer = "/method";
  spec.http.json_equals = "DELETE";
  EXPECT_EQ(run(spec).outcome, Outcome::kUp);
}

TEST_F(HttpProbeTest, BodyReadIsCapped) {
  HttpServer server;
  auto spec = spec_for(server.url("/big"));
  EXPECT_EQ(run(spec).outcome, Outcome::kUp);

  spec.http.body_contains = "the end";  // past the first MiB
  auto r = run(spec);
  EXPECT_EQ(r.stage, Stage::kBody);
  EXPECT_EQ(r.error, "\"the end\" not found in the first 1 MiB of the body");
}

TEST_F(HttpProbeTest, ConnectionRefusedIsDownAtConnect) {
  auto port = leeway::testing::closed_port();
  auto r = run("http://127.0.0.1:" + std::to_string(port) + "/ok");
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kConnect);
  EXPECT_NE(r.error.find("onnect"), std::string::npos) << r.error;
}

TEST_F(HttpProbeTest, SilentPeerTimesOutWithinTheTimeout) {
  leeway::testing::SilentPeer peer;
  auto spec = spec_for("http://127.0.0.1:" + std::to_string(peer.port()) + "/ok");
  spec.timeout_us = 300 * kMillisecondUs;
  auto r = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kTimeout);
  EXPECT_NE(r.error.find("waiting for the response"), std::string::npos) << r.error;
  EXPECT_GE(r.timings.connect_us, 0);
  EXPECT_GE(r.timings.total_us, spec.timeout_us - 5 * kMillisecondUs);
  EXPECT_LE(r.timings.total_us, spec.timeout_us + kTimeoutSlackUs);
}

TEST_F(HttpProbeTest, TricklingPeerTimesOut) {
  leeway::testing::TricklePeer peer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
                                    50 * kMillisecondUs);
  auto spec = spec_for("http://127.0.0.1:" + std::to_string(peer.port()) + "/ok");
  spec.timeout_us = 400 * kMillisecondUs;
  auto r = run(spec);
  EXPECT_EQ(r.stage, Stage::kTimeout);
  EXPECT_NE(r.error.find("response headers"), std::string::npos) << r.error;
  EXPECT_LE(r.timings.total_us, spec.timeout_us + kTimeoutSlackUs);
}

TEST_F(HttpProbeTest, ResetAfterRequestIsDownAtStatus) {
  leeway::testing::ResetPeer peer(leeway::testing::ResetPeer::When::kAfterFirstRead);
  auto r = run("http://127.0.0.1:" + std::to_string(peer.port()) + "/ok");
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kStatus);
  EXPECT_FALSE(r.error.empty());
}

TEST_F(HttpProbeTest, IPv6Loopback) {
  std::unique_ptr<HttpServer> server;
  try {
    server = std::make_unique<HttpServer>(HttpServerOptions{.ipv6 = true});
  } catch (const std::exception& e) {
    GTEST_SKIP() << "no ::1 here: " << e.what();
  }
  auto spec = spec_for(server->url("/ok"));
  spec.family = IpFamily::kV6;
  auto r = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;
  EXPECT_EQ(r.remote_address, "::1");
}

TEST_F(HttpProbeTest, NameIsResolvedByTheResolver) {
  HttpServer server;
  auto spec = spec_for(server.url_with_host("localhost", "/ok"));
  spec.family = IpFamily::kV4;
  auto r = run(spec);
  if (r.stage == Stage::kDns && r.error.find("not implemented") != std::string::npos)
    GTEST_SKIP() << r.error;
  EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;
  EXPECT_GE(r.timings.dns_us, 0);
  EXPECT_EQ(r.remote_address, "127.0.0.1");
}

TEST_F(HttpProbeTest, EveryRunOpensAFreshConnection) {
  HttpServer server;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(run(server.url("/ok")).outcome, Outcome::kUp);
  EXPECT_EQ(server.requests(), 5);
  EXPECT_EQ(server.connections(), 5);
}

TEST_F(HttpProbeTest, ManyConcurrentRunsAreAllUp) {
  constexpr int kRuns = 500;
  HttpServer server;
  auto spec = spec_for(server.url("/ok"));
  spec.http.body_contains = "hello";
  int up = 0, finished = 0;
  std::string first_error;
  for (int i = 0; i < kRuns; ++i) {
    engine_.run(spec, [&](ProbeResult r) {
      ++finished;
      if (r.outcome == Outcome::kUp)
        ++up;
      else if (first_error.empty())
        first_error = r.error;
    });
  }
  while (finished < kRuns && io_.run_one()) {
  }
  EXPECT_EQ(up, kRuns) << first_error;
  EXPECT_EQ(server.connections(), kRuns);
}

// Prints fresh-connection runs per CPU-second of the probing thread (the server has its own
// thread). Runs under sanitizers here, so the figure is a floor; the bound is loose.
TEST_F(HttpProbeTest, Throughput) {
  constexpr int kRuns = 3000;
  constexpr int kInFlight = 50;
  HttpServer server;
  auto spec = spec_for(server.url("/ok"));
  int started = 0, finished = 0, up = 0;
  std::function<void()> start_one = [&] {
    ++started;
    engine_.run(spec, [&](ProbeResult r) {
      ++finished;
      if (r.outcome == Outcome::kUp) ++up;
      if (started < kRuns) start_one();
    });
  };
  auto cpu_us = [] {
    rusage usage{};
    getrusage(RUSAGE_THREAD, &usage);
    return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * kSecondUs + usage.ru_utime.tv_usec +
           usage.ru_stime.tv_usec;
  };
  auto wall_start = std::chrono::steady_clock::now();
  DurationUs cpu_start = cpu_us();
  for (int i = 0; i < kInFlight; ++i) start_one();
  while (finished < kRuns && io_.run_one()) {
  }
  DurationUs cpu = cpu_us() - cpu_start;
  auto wall = std::chrono::steady_clock::now() - wall_start;
  EXPECT_EQ(up, kRuns);
  double per_cpu_s = kRuns * double(kSecondUs) / double(std::max<DurationUs>(cpu, 1));
  double per_wall_s = kRuns / std::chrono::duration<double>(wall).count();
  std::printf("http probes: %d runs, %.0f per CPU-second of the probing thread, %.0f per second\n",
              kRuns, per_cpu_s, per_wall_s);
  RecordProperty("runs_per_cpu_second", static_cast<int>(per_cpu_s));
  EXPECT_GT(per_cpu_s, 300);
}

TEST_F(HttpsProbeTest, ValidCertificateWithCaFile) {
  HttpServer server(tls(ca_->issue("good", "127.0.0.1", -1, 30)));
  auto spec = spec_for(server.url("/ok"));
  spec.http.ca_file = ca_->ca_pem_path();
  auto r = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;
  EXPECT_GE(r.timings.connect_us, 0);
  EXPECT_GE(r.timings.tls_us, 0);
  EXPECT_GE(r.timings.first_byte_us, 0);
  EXPECT_GE(r.timings.total_us, r.timings.connect_us + r.timings.tls_us + r.timings.first_byte_us);
  ASSERT_TRUE(r.cert_days_left.has_value());
  EXPECT_GE(*r.cert_days_left, 29);
  EXPECT_LE(*r.cert_days_left, 30);
}

TEST_F(HttpsProbeTest, ExpiredCertificateIsDownAtTls) {
  HttpServer server(tls(ca_->issue("expired", "127.0.0.1", -30, -1)));
  auto spec = spec_for(server.url("/ok"));
  spec.http.ca_file = ca_->ca_pem_path();
  auto r = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kTls);
  EXPECT_NE(r.error.find("expired"), std::string::npos) << r.error;
}

TEST_F(HttpsProbeTest, WrongHostIsDownAtTls) {
  HttpServer server(tls(ca_->issue("wrong-host", "wrong.example", -1, 30)));
  auto spec = spec_for(server.url("/ok"));
  spec.http.ca_file = ca_->ca_pem_path();
  auto r = run(spec);
  EXPECT_EQ(r.stage, Stage::kTls);
  EXPECT_NE(r.error.find("host name"), std::string::npos) << r.error;
}

TEST_F(HttpsProbeTest, SelfSignedIsDownAtTls) {
  HttpServer server(tls(ca_->self_signed("self", "127.0.0.1")));
  auto spec = spec_for(server.url("/ok"));
  spec.http.ca_file = ca_->ca_pem_path();
  auto r = run(spec);
  EXPECT_EQ(r.stage, Stage::kTls);
  EXPECT_NE(r.error.find("self-signed"), std::string::npos) << r.error;
}

TEST_F(HttpsProbeTest, InsecureAcceptsSelfSigned) {
  HttpServer server(tls(ca_->self_signed("self-insecure", "127.0.0.1")));
  auto spec = spec_for(server.url("/ok"));
  spec.http.insecure = true;
  auto r = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;
  EXPECT_GE(r.timings.tls_us, 0);
}

TEST_F(HttpsProbeTest, SilentAfterHandshakeTimesOut) {
  HttpServer server(tls(ca_->issue("silent", "127.0.0.1", -1, 30)));
  auto spec = spec_for(server.url("/slow/5000"));
  spec.http.ca_file = ca_->ca_pem_path();
  spec.timeout_us = 300 * kMillisecondUs;
  auto r = run(spec);
  EXPECT_EQ(r.stage, Stage::kTimeout);
  EXPECT_GE(r.timings.tls_us, 0);
  EXPECT_NE(r.error.find("waiting for the response"), std::string::npos) << r.error;
  EXPECT_LE(r.timings.total_us, spec.timeout_us + kTimeoutSlackUs);
}

TEST_F(HttpsProbeTest, EveryRunDoesAFullHandshake) {
  HttpServer server(tls(ca_->issue("fresh", "127.0.0.1", -1, 30)));
  auto spec = spec_for(server.url("/ok"));
  spec.http.ca_file = ca_->ca_pem_path();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(run(spec).outcome, Outcome::kUp);
  EXPECT_EQ(server.connections(), 3);
}

TEST_F(HttpsProbeTest, CaFileReplacedOnDiskIsPickedUp) {
  leeway::testing::TestCa other(*dir_ + "/other");
  HttpServer server(tls(ca_->issue("replaced", "127.0.0.1", -1, 30)));
  std::string ca_file = *dir_ + "/replaced-ca.pem";
  replace_file(other.ca_pem_path(), ca_file);
  OwnProber p;
  auto spec = spec_for(server.url("/ok"));
  spec.http.ca_file = ca_file;
  auto r = p.run(spec);
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kTls) << r.error;

  // The right CA is written. The file is looked at again only after kRecheckUs, not per check.
  replace_file(ca_->ca_pem_path(), ca_file);
  EXPECT_EQ(p.run(spec).stage, Stage::kTls);
  p.clock.advance(TrustStores::kRecheckUs);
  r = p.run(spec);
  EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;

  // And the wrong one again, written in place this time.
  rewrite_file(other.ca_pem_path(), ca_file);
  p.clock.advance(TrustStores::kRecheckUs);
  r = p.run(spec);
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kTls) << r.error;
  EXPECT_EQ(p.trust.loads(), 3);
}

TEST_F(HttpsProbeTest, ManyChecksShareOneStoreAndEachVerifies) {
  HttpServer server(tls(ca_->issue("shared", "127.0.0.1", -1, 30)));
  HttpServer untrusted(tls(ca_->self_signed("shared-self", "127.0.0.1")));
  OwnProber p;
  constexpr int kRuns = 20;
  int up = 0, self_signed = 0, results = 0;
  for (int i = 0; i < kRuns; ++i) {
    auto spec = spec_for((i % 2 ? server : untrusted).url("/ok"));
    spec.http.ca_file = ca_->ca_pem_path();
    p.prober->start(spec, [&](ProbeResult r) {
      ++results;
      if (r.outcome == Outcome::kUp) ++up;
      if (r.stage == Stage::kTls && r.error.find("self-signed") != std::string::npos) ++self_signed;
    });
  }
  while (results < kRuns && p.io.run_one()) {
  }
  EXPECT_EQ(up, kRuns / 2);
  EXPECT_EQ(self_signed, kRuns / 2);
  EXPECT_EQ(p.trust.loads(), 1);  // one parse for twenty checks
  // Every check still did a handshake of its own.
  EXPECT_EQ(server.connections() + untrusted.connections(), kRuns);
}

TEST_F(HttpsProbeTest, SystemStoreWhenNoCaFile) {
  HttpServer server(tls(ca_->issue("system", "127.0.0.1", -1, 30)));
  auto spec = spec_for(server.url("/ok"));
  {
    // The test CA is not among the system's.
    OwnProber p;
    auto r = p.run(spec);
    EXPECT_EQ(r.stage, Stage::kTls);
    EXPECT_NE(r.error.find("unable to get local issuer certificate"), std::string::npos) << r.error;
  }
  // The system store is OpenSSL's default file, which SSL_CERT_FILE names.
  ::setenv("SSL_CERT_FILE", ca_->ca_pem_path().c_str(), 1);
  OwnProber p;
  auto r = p.run(spec);
  ::unsetenv("SSL_CERT_FILE");
  EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;
}

TEST_F(HttpsProbeTest, MissingCaFileIsAClearError) {
  HttpServer server(tls(ca_->issue("missing-ca", "127.0.0.1", -1, 30)));
  auto spec = spec_for(server.url("/ok"));
  spec.http.ca_file = "/nonexistent/ca.pem";
  auto r = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kTls);
  EXPECT_EQ(r.error, "cannot load CA file \"/nonexistent/ca.pem\": No such file or directory");
  EXPECT_EQ(server.connections(), 0);
}

}  // namespace
}  // namespace leeway::probe
