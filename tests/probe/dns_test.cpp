// dns:// probes through the engine against a real DNS responder on loopback. Every target names
// the test server: the system resolver would leave the machine.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>

#include "core/clock.h"
#include "probe/probe.h"
#include "support/dns_server.h"

namespace leeway::probe {
namespace {

using leeway::testing::DnsServer;
using leeway::testing::Loopback;

class DnsProbeTest : public ::testing::Test {
 protected:
  DnsProbeTest() : engine(io, SystemClock::instance()) {
    dns.add("example.test", "A", "192.0.2.1");
    dns.add("example.test", "A", "192.0.2.2");
    dns.add("example.test", "AAAA", "2001:db8::1");
    dns.add("example.test", "MX", "10 mx1.example.test");
    dns.add("example.test", "MX", "20 mx2.example.test");
    dns.add("example.test", "TXT", "v=spf1 -all");
    dns.add("example.test", "NS", "ns1.example.test");
    dns.add("www.example.test", "CNAME", "Example.Test");
  }

  CheckSpec spec(const std::string& name, const std::string& type,
                 DurationUs timeout_us = 2 * kSecondUs) {
    auto s = parse_target("dns://" + dns.address() + "/" + name + "?type=" + type);
    EXPECT_TRUE(s) << s.error().message;
    s->timeout_us = timeout_us;
    return *s;
  }

  ProbeResult run(const CheckSpec& s) {
    std::optional<ProbeResult> result;
    auto start = std::chrono::steady_clock::now();
    engine.run(s, [&](ProbeResult r) { result = std::move(r); });
    io.restart();
    while (!result && std::chrono::steady_clock::now() - start < std::chrono::seconds(10))
      io.run_for(std::chrono::milliseconds(5));
    took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start);
    EXPECT_TRUE(result) << "no result";
    return result.value_or(ProbeResult{});
  }

  DnsServer dns;
  boost::asio::io_context io;
  ProbeEngine engine;
  std::chrono::milliseconds took{0};
};

TEST_F(DnsProbeTest, EachRecordTypeIsUpWithItsAnswers) {
  struct Case {
    std::string name, type, answer;
  };
  for (const auto& c : std::vector<Case>{
           {"example.test", "A", "192.0.2.1, 192.0.2.2"},
           {"example.test", "AAAA", "2001:db8::1"},
           {"example.test", "MX", "10 mx1.example.test, 20 mx2.example.test"},
           {"example.test", "TXT", "v=spf1 -all"},
           {"example.test", "NS", "ns1.example.test"},
           {"www.example.test", "CNAME", "example.test"},
       }) {
    auto r = run(spec(c.name, c.type));
    EXPECT_EQ(r.outcome, Outcome::kUp) << c.type << ": " << r.error;
    EXPECT_EQ(r.stage, Stage::kNone) << c.type;
    EXPECT_EQ(r.answer, c.answer) << c.type;
    EXPECT_GE(r.timings.dns_us, 0) << c.type;
    EXPECT_EQ(r.remote_address, dns.address());
  }
}

// A TXT answer is the peer's bytes: whatever they are, the result's text is valid UTF-8 (it goes
// into JSON and the store); control characters are left for the terminal's escaping.
TEST_F(DnsProbeTest, HostileTxtAnswersAreValidUtf8) {
  dns.add("hostile.test", "TXT", "ok\xfe\xff\xc3");
  auto r = run(spec("hostile.test", "TXT"));
  EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;
  EXPECT_EQ(r.answer, "ok\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");

  auto s = spec("hostile.test", "TXT");
  s.dns.expect = "something else";
  r = run(s);
  EXPECT_EQ(r.error,
            "TXT hostile.test: expected \"something else\", got "
            "ok\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

TEST_F(DnsProbeTest, ExpectMatchesIgnoringCaseAndTrailingDot) {
  auto s = spec("www.example.test", "CNAME");
  s.dns.expect = "EXAMPLE.test.";
  auto r = run(s);
  EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;

  auto a = spec("example.test", "A");
  a.dns.expect = "192.0.2.2";
  EXPECT_EQ(run(a).outcome, Outcome::kUp);
}

TEST_F(DnsProbeTest, ExpectMismatchIsDownAndListsTheAnswers) {
  auto s = spec("example.test", "A");
  s.dns.expect = "192.0.2.99";
  auto r = run(s);
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kDns);
  EXPECT_EQ(r.error, "A example.test: expected \"192.0.2.99\", got 192.0.2.1, 192.0.2.2");
  EXPECT_EQ(r.answer, "192.0.2.1, 192.0.2.2");
}

TEST_F(DnsProbeTest, NxdomainIsDownAtDns) {
  auto r = run(spec("missing.test", "A"));
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kDns);
  EXPECT_EQ(r.error, "A missing.test: NXDOMAIN");
  EXPECT_GE(r.timings.dns_us, 0);
}

TEST_F(DnsProbeTest, ServfailIsDownAtDns) {
  dns.set_mode("broken.test", DnsServer::Mode::kServfail);
  auto r = run(spec("broken.test", "MX"));
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kDns);
  EXPECT_EQ(r.error, "MX broken.test: SERVFAIL");
}

TEST_F(DnsProbeTest, NoRecordsOfTheTypeIsDownAtDns) {
  dns.add("host.test", "A", "192.0.2.5");
  auto r = run(spec("host.test", "MX"));
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kDns);
  EXPECT_EQ(r.error, "MX host.test: no answer");
}

TEST_F(DnsProbeTest, SilentServerTimesOut) {
  dns.set_mode("slow.test", DnsServer::Mode::kSilent);
  auto r = run(spec("slow.test", "A", 300 * kMillisecondUs));
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kTimeout);
  EXPECT_EQ(r.error, "no answer to A slow.test within 300ms from " + dns.address());
  EXPECT_GE(took, std::chrono::milliseconds(295));
  EXPECT_LT(took, std::chrono::milliseconds(450));
}

TEST_F(DnsProbeTest, ServerOverIpv6OnACustomPort) {
  DnsServer v6(Loopback::kV6);
  v6.add("six.test", "AAAA", "2001:db8::6");
  auto s = parse_target("dns://" + v6.address() + "/six.test?type=AAAA");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->dns.resolver, v6.address());
  auto r = run(*s);
  EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;
  EXPECT_EQ(r.answer, "2001:db8::6");
  EXPECT_EQ(v6.queries(), 1);
}

TEST_F(DnsProbeTest, ManyRunsShareOneResolverPerServer) {
  for (int i = 0; i < 20; ++i) {
    auto r = run(spec("example.test", "TXT"));
    ASSERT_EQ(r.outcome, Outcome::kUp) << r.error;
  }
  EXPECT_EQ(dns.queries(), 20);
}

TEST_F(DnsProbeTest, ConcurrentRunsAllFinish) {
  int finished = 0;
  for (int i = 0; i < 30; ++i)
    engine.run(spec("example.test", i % 2 ? "A" : "MX"), [&](ProbeResult r) {
      EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;
      ++finished;
    });
  auto start = std::chrono::steady_clock::now();
  while (finished < 30 && std::chrono::steady_clock::now() - start < std::chrono::seconds(5))
    io.run_for(std::chrono::milliseconds(5));
  EXPECT_EQ(finished, 30);
}

}  // namespace
}  // namespace leeway::probe
