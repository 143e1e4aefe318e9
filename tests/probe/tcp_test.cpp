// tcp:// probes through the engine against real (and misbehaving) peers on loopback.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>

#include "core/clock.h"
#include "probe/probe.h"
#include "probe/probers.h"
#include "support/dns_server.h"
#include "support/peers.h"

namespace leeway::probe {
namespace {

using namespace leeway::testing;

CheckSpec tcp_spec(const std::string& host, std::uint16_t port,
                   DurationUs timeout_us = 2 * kSecondUs) {
  bool v6 = host.find(':') != std::string::npos;
  auto spec = parse_target("tcp://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port));
  EXPECT_TRUE(spec) << spec.error().message;
  spec->timeout_us = timeout_us;
  return *spec;
}

struct Timed {
  ProbeResult result;
  std::chrono::milliseconds took;
};

// Runs one probe through a ProbeEngine, as the scheduler and the CLI do.
Timed run(const CheckSpec& spec) {
  boost::asio::io_context io;
  ProbeEngine engine(io, SystemClock::instance());
  std::optional<ProbeResult> result;
  auto start = std::chrono::steady_clock::now();
  engine.run(spec, [&](ProbeResult r) { result = std::move(r); });
  while (!result && std::chrono::steady_clock::now() - start < std::chrono::seconds(10))
    io.run_for(std::chrono::milliseconds(5));
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  EXPECT_TRUE(result) << "no result";
  return {result.value_or(ProbeResult{}), took};
}

TEST(TcpProbe, UpWhenTheConnectionIsAccepted) {
  SilentPeer peer;
  auto [r, took] = run(tcp_spec("127.0.0.1", peer.port()));
  EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;
  EXPECT_EQ(r.stage, Stage::kNone);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.remote_address, "127.0.0.1");
  EXPECT_EQ(r.timings.dns_us, -1) << "no lookup for an address literal";
  EXPECT_GE(r.timings.connect_us, 0);
  EXPECT_EQ(r.timings.first_byte_us, -1);
  EXPECT_GT(r.timings.total_us, 0);
  EXPECT_LT(took, std::chrono::milliseconds(500));
}

TEST(TcpProbe, UpOverIpv6) {
  SilentPeer peer(Loopback::kV6);
  auto [r, took] = run(tcp_spec("::1", peer.port()));
  EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;
  EXPECT_EQ(r.remote_address, "::1");
}

TEST(TcpProbe, ResolvesLocalhostFromEtcHosts) {
  SilentPeer peer;
  auto spec = tcp_spec("localhost", peer.port());
  spec.family = IpFamily::kV4;
  auto [r, took] = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;
  EXPECT_EQ(r.remote_address, "127.0.0.1");
  EXPECT_GE(r.timings.dns_us, 0);
}

TEST(TcpProbe, UpWhenTheBannerHasTheExpectedText) {
  BannerPeer peer("SSH-2.0-leeway_test\r\n");
  auto spec = tcp_spec("127.0.0.1", peer.port());
  spec.tcp.expect = "SSH-2.0";
  auto [r, took] = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;
  EXPECT_EQ(r.answer, "SSH-2.0-leeway_test");
  EXPECT_GE(r.timings.first_byte_us, 0);
}

TEST(TcpProbe, SendsThenExpectsTheReply) {
  EchoPeer peer("+OK ");
  auto spec = tcp_spec("127.0.0.1", peer.port());
  spec.tcp.send = "PING\r\n";
  spec.tcp.expect = "+OK PING";
  auto [r, took] = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;
  EXPECT_EQ(r.answer, "+OK PING");
  EXPECT_GE(r.timings.first_byte_us, 0);
  EXPECT_EQ(peer.connections(), 1);
}

TEST(TcpProbe, RefusedIsAConnectFailure) {
  auto port = closed_port();
  auto [r, took] = run(tcp_spec("127.0.0.1", port));
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kConnect);
  EXPECT_EQ(r.error, "connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
  EXPECT_EQ(r.timings.connect_us, -1);
}

TEST(TcpProbe, SilentPeerTimesOutWaitingForTheExpectedText) {
  SilentPeer peer;
  auto spec = tcp_spec("127.0.0.1", peer.port(), 300 * kMillisecondUs);
  spec.tcp.expect = "220";
  auto [r, took] = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kTimeout);
  EXPECT_EQ(r.error, "timed out after 300ms during read: \"220\" not seen in 0 bytes received");
  EXPECT_GE(took, std::chrono::milliseconds(295));
  EXPECT_LT(took, std::chrono::milliseconds(450));
  EXPECT_GE(r.timings.connect_us, 0);
}

TEST(TcpProbe, TrickleWithoutTheExpectedTextTimesOut) {
  TricklePeer peer("hello, world\r\n", 100 * kMillisecondUs);
  auto spec = tcp_spec("127.0.0.1", peer.port(), 450 * kMillisecondUs);
  spec.tcp.expect = "goodbye";
  auto [r, took] = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kTimeout);
  EXPECT_NE(r.error.find("timed out after 450ms during read"), std::string::npos) << r.error;
  EXPECT_FALSE(r.answer.empty());
  EXPECT_EQ(std::string("hello, world").rfind(r.answer, 0), 0u) << r.answer;
  EXPECT_LT(took, std::chrono::milliseconds(600));
}

TEST(TcpProbe, ResetWhileReadingIsABodyFailure) {
  ResetPeer peer(ResetPeer::When::kAfterFirstRead);
  auto spec = tcp_spec("127.0.0.1", peer.port());
  spec.tcp.send = "HELLO\r\n";
  spec.tcp.expect = "WELCOME";
  auto [r, took] = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kBody);
  EXPECT_EQ(r.error, "read after 0 bytes: Connection reset by peer");
}

TEST(TcpProbe, ResetOnAcceptIsABodyOrConnectFailure) {
  ResetPeer peer;
  auto spec = tcp_spec("127.0.0.1", peer.port());
  spec.tcp.expect = "220";
  auto [r, took] = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kDown);
  // On loopback the RST can land before the loop sees the connect complete; then the kernel
  // reports it as the connect's error, and the probe says so.
  EXPECT_TRUE(r.stage == Stage::kBody || r.stage == Stage::kConnect) << to_string(r.stage);
  EXPECT_NE(r.error.find("reset by peer"), std::string::npos) << r.error;
}

TEST(TcpProbe, PeerClosingWithoutTheExpectedTextIsABodyFailure) {
  BannerPeer peer("220 wrong service\r\n", /*close_after_banner=*/true);
  auto spec = tcp_spec("127.0.0.1", peer.port());
  spec.tcp.expect = "SSH-";
  auto [r, took] = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kBody);
  EXPECT_EQ(r.error, "connection closed after 19 bytes without \"SSH-\"");
  EXPECT_EQ(r.answer, "220 wrong service");
}

TEST(TcpProbe, DegradedWhenSlowerThanTheThreshold) {
  TricklePeer peer("ok", 150 * kMillisecondUs);
  auto spec = tcp_spec("127.0.0.1", peer.port());
  spec.tcp.expect = "ok";
  spec.degraded_after_us = 50 * kMillisecondUs;
  auto [r, took] = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kDegraded) << r.error;
}

// The system resolver must not leave the machine, so name failures use a prober whose context
// resolves against the test DNS server.
TEST(TcpProbe, UnknownHostIsADnsFailure) {
  DnsServer dns;
  boost::asio::io_context io;
  Resolver resolver(io, dns.address());
  TrustStores trust(SystemClock::instance());
  ProbeContext ctx{io, resolver, trust};
  auto prober = make_tcp_prober(ctx);
  std::optional<ProbeResult> result;
  prober->start(tcp_spec("nothere.invalid", 80), [&](ProbeResult r) { result = std::move(r); });
  auto start = std::chrono::steady_clock::now();
  while (!result && std::chrono::steady_clock::now() - start < std::chrono::seconds(5))
    io.run_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(result);
  EXPECT_EQ(result->outcome, Outcome::kDown);
  EXPECT_EQ(result->stage, Stage::kDns);
  EXPECT_NE(result->error.find("cannot resolve \"nothere.invalid\""), std::string::npos)
      << result->error;
  EXPECT_GE(result->timings.dns_us, 0);
  EXPECT_EQ(dns.queries() > 0, true);
}

TEST(TcpProbe, SilentDnsServerTimesOutDuringDns) {
  DnsServer dns;
  dns.set_default(DnsServer::Mode::kSilent);
  boost::asio::io_context io;
  Resolver resolver(io, dns.address());
  TrustStores trust(SystemClock::instance());
  ProbeContext ctx{io, resolver, trust};
  auto prober = make_tcp_prober(ctx);
  std::optional<ProbeResult> result;
  prober->start(tcp_spec("slow.test", 80, 200 * kMillisecondUs),
                [&](ProbeResult r) { result = std::move(r); });
  auto start = std::chrono::steady_clock::now();
  while (!result && std::chrono::steady_clock::now() - start < std::chrono::seconds(5))
    io.run_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(result);
  EXPECT_EQ(result->stage, Stage::kTimeout);
  EXPECT_EQ(result->error, "timed out after 200ms during dns");
}

}  // namespace
}  // namespace leeway::probe
